// The mail traffic of an equally long period just before a rollout job's change, so the soak's
// counts (inbound connections, deliveries, SASL failures) are compared with like: a change at
// 03:00 is not held to the traffic of 14:00. Read once, at the change, from the log before the
// mark (at most kMaxLogRead bytes): each counted event of the period [since - length, since)
// goes into a time bucket, and each health report then counts those within
// [since - elapsed, since), elapsed being how long the soak has run. The period is unknown
// when the log does not reach back to since - length (more than kMaxLogRead bytes of it, or a
// log rotated since whose predecessor PATH.1 does not reach back either): then nothing is
// compared.
// countBefore and countWithin are pure; readBeforePeriod reads through the LogFiles seam.
#pragma once

#include <absl/time/time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/health/mail_log.h"
#include "common/status.h"

namespace postwarden::agent::health {

struct BeforePeriod {
  bool known = false;  // the log reaches back to since - length
  // Bucket i holds the events of [since - (i + 1) * bucket_ms, since - i * bucket_ms).
  int64_t bucket_ms = 1000;
  std::vector<int64_t> connections;
  std::vector<int64_t> deliveries;
  std::vector<int64_t> sasl;
  friend bool operator==(const BeforePeriod&, const BeforePeriod&) = default;
};

// At most this many buckets per figure (a 10-minute soak has 1-second buckets, a day 85 s).
inline constexpr int64_t kMaxBeforeBuckets = 1024;

// Counts the complete lines of `text`, the log just before the mark. `from_file_start`: `text`
// begins at the start of the file; otherwise its first line may be cut and is skipped.
// Traditional syslog times are read in `local`.
BeforePeriod countBefore(std::string_view text, bool from_file_start, absl::Time since,
                         absl::Duration length, absl::TimeZone local);

struct TrafficCounts {
  int64_t connections = 0;
  int64_t deliveries = 0;
  int64_t sasl = 0;
  friend bool operator==(const TrafficCounts&, const TrafficCounts&) = default;
};

// The events of [since - elapsed, since), to the nearest bucket (elapsed capped at the length).
TrafficCounts countWithin(const BeforePeriod& period, absl::Duration elapsed);

// Reads up to kMaxLogRead bytes before `mark` of `path` (the file the mark was taken of) and
// counts them; when `path` begins inside the period, the end of PATH.1 (its rotated
// predecessor) is read before it.
Result<BeforePeriod> readBeforePeriod(LogFiles& files, const std::string& path, const LogMark& mark,
                                      absl::Time since, absl::Duration length,
                                      absl::TimeZone local);

}  // namespace postwarden::agent::health
