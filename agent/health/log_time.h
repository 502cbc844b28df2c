// When a mail-log line was written, read from its syslog prefix. Two formats:
// - traditional syslog, "Dec  5 07:15:57 host ..." (or "Dec 05", as Postfix's own postlogd
//   writes it, with or without a fraction of a second): local time without a year; the year is
//   the one that puts the line closest to `reference` (a log read on 1 January still has
//   December's lines from the year before);
// - RFC 3339, "2026-12-05T07:15:57.123456+00:00 host ..." (Debian's rsyslog with
//   RSYSLOG_FileFormat, Postfix's own postlogd): a complete instant.
// Pure: the local time zone and the reference instant are passed in.
#pragma once

#include <absl/time/time.h>

#include <optional>
#include <string_view>

namespace postwarden::agent::health {

// The instant `line` starts with; nullopt when it starts with neither format (or an impossible
// date such as "Feb 30").
std::optional<absl::Time> lineTime(std::string_view line, absl::Time reference,
                                   absl::TimeZone local);

}  // namespace postwarden::agent::health
