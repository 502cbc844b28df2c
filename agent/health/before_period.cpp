#include "agent/health/before_period.h"

#include <algorithm>
#include <string>

#include "agent/health/log_time.h"

namespace postwarden::agent::health {
namespace {

int64_t bucketFor(absl::Duration length) {
  const int64_t ms = absl::ToInt64Milliseconds(length);
  return std::max<int64_t>(1000, (ms + kMaxBeforeBuckets - 1) / kMaxBeforeBuckets);
}

}  // namespace

BeforePeriod countBefore(std::string_view text, bool from_file_start, absl::Time since,
                         absl::Duration length, absl::TimeZone local) {
  BeforePeriod period{.bucket_ms = bucketFor(length)};
  const int64_t length_ms = absl::ToInt64Milliseconds(length);
  const size_t buckets = static_cast<size_t>((length_ms + period.bucket_ms - 1) / period.bucket_ms);
  period.connections.assign(buckets, 0);
  period.deliveries.assign(buckets, 0);
  period.sasl.assign(buckets, 0);
  if (!from_file_start) {
    const size_t eol = text.find('\n');
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  const absl::Time from = since - length;
  bool dated = false;  // a dated line was seen: the first one says how far the log reaches back
  for (size_t eol; (eol = text.find('\n')) != std::string_view::npos; text.remove_prefix(eol + 1)) {
    const std::string_view line = text.substr(0, eol);
    LogCounts counts;
    countLine(line, counts);
    // Only the first dated line and the counted ones need their time (64 MiB are many lines).
    if (dated && counts.connections + counts.delivered + counts.sasl == 0) continue;
    const std::optional<absl::Time> at = lineTime(line, since, local);
    if (!at) continue;
    if (!dated) period.known = *at <= from;  // the earliest line read is old enough
    dated = true;
    if (*at < from || *at >= since) continue;
    const int64_t ago = absl::ToInt64Milliseconds(since - *at);  // 1..length_ms
    const size_t i = static_cast<size_t>(std::max<int64_t>(0, ago - 1) / period.bucket_ms);
    if (i >= buckets) continue;
    period.connections[i] += counts.connections;
    period.deliveries[i] += counts.delivered;
    period.sasl[i] += counts.sasl;
  }
  return period;
}

TrafficCounts countWithin(const BeforePeriod& period, absl::Duration elapsed) {
  TrafficCounts counts;
  const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(elapsed));
  const size_t n = std::min(
      period.connections.size(),
      static_cast<size_t>((ms + period.bucket_ms / 2) / std::max<int64_t>(1, period.bucket_ms)));
  for (size_t i = 0; i < n; ++i) {
    counts.connections += period.connections[i];
    if (i < period.deliveries.size()) counts.deliveries += period.deliveries[i];
    if (i < period.sasl.size()) counts.sasl += period.sasl[i];
  }
  return counts;
}

Result<BeforePeriod> readBeforePeriod(LogFiles& files, const std::string& path, const LogMark& mark,
                                      absl::Time since, absl::Duration length,
                                      absl::TimeZone local) {
  PW_ASSIGN_OR_RETURN(LogSlice slice, files.readBefore(path, mark, kMaxLogRead));
  BeforePeriod period = countBefore(slice.bytes, slice.start == 0, since, length, local);
  if (period.known || slice.start != 0) return period;
  // The file begins inside the period: it was rotated since. Its predecessor (logrotate's
  // PATH.1, left uncompressed by Debian's delaycompress) holds the lines just before.
  const std::string rotated = path + ".1";
  Result<LogMark> rotated_end = files.end(rotated);
  if (!rotated_end.ok()) return period;  // none, or unreadable: the period stays unknown
  Result<LogSlice> older = files.readBefore(
      rotated, *rotated_end, kMaxLogRead - std::min(kMaxLogRead, slice.bytes.size()));
  if (!older.ok() || older->bytes.empty()) return period;
  if (older->bytes.back() != '\n') older->bytes += '\n';
  return countBefore(older->bytes + slice.bytes, older->start == 0, since, length, local);
}

}  // namespace postwarden::agent::health
