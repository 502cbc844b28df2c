// Value formatting shared by postwardenctl's tables and JSON: timestamps (RFC 3339, relative
// "3m ago"), label maps, sizes. Pure functions of their arguments; the current time is passed
// in, never read here.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace postwarden::controller::ctl {

// RFC 3339 in UTC: "2024-05-01T12:00:03Z", or with milliseconds "2024-05-01T12:00:03.250Z".
std::string rfc3339(int64_t unix_ms, bool with_millis = false);

// The distance from `now_ms` to `unix_ms` in the largest whole unit: "3s ago", "5m ago",
// "2h ago", "4d ago" (hours up to 48h), "in 1h" for a future time, "just now" within a second.
std::string relativeTime(int64_t unix_ms, int64_t now_ms);

// "k=v,k=v" in key order; "-" for none.
std::string joinLabels(const std::map<std::string, std::string>& labels);

// "512 B", "3.4 KiB", "1.0 MiB".
std::string humanSize(int64_t bytes);

// `text` with every control character (including ESC, so a hostile value cannot drive the
// terminal) shown as "\xNN"; newlines and tabs included.
std::string printable(const std::string& text);

}  // namespace postwarden::controller::ctl
