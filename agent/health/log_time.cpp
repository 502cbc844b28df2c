#include "agent/health/log_time.h"

#include <array>
#include <cstdint>
#include <string>

namespace postwarden::agent::health {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

// Two digits at `at` (the first may be a space when `padded`), as a number; -1 otherwise.
int twoDigits(std::string_view s, size_t at, bool padded = false) {
  if (at + 2 > s.size() || !digit(s[at + 1])) return -1;
  if (padded && s[at] == ' ') return s[at + 1] - '0';
  if (!digit(s[at])) return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// "Dec  5 07:15:57 ", "Dec 05 07:15:57 " (Postfix 3.7's postlogd), "Dec 15 07:15:57.123456 ".
std::optional<absl::Time> traditional(std::string_view line, absl::Time reference,
                                      absl::TimeZone local) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  size_t end = 15;  // after the seconds, and their fraction if the logger writes one
  if (line.size() > end && line[end] == '.') {
    while (++end < line.size() && digit(line[end])) {
    }
  }
  if (line.size() <= end || line[3] != ' ' || line[6] != ' ' || line[9] != ':' || line[12] != ':' ||
      line[end] != ' ') {
    return std::nullopt;
  }
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (line.substr(0, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  const int day = twoDigits(line, 4, /*padded=*/true);
  const int hour = twoDigits(line, 7);
  const int minute = twoDigits(line, 10);
  const int second = twoDigits(line, 13);
  if (month == 0 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 ||
      second > 60) {
    return std::nullopt;
  }
  const int64_t year = absl::ToCivilYear(reference, local).year();
  std::optional<absl::Time> best;
  // The reference year first: a line within half a year of the reference is in it.
  for (int64_t y : {year, year - 1, year + 1}) {
    const absl::CivilSecond civil(y, month, day, hour, minute, second);
    if (civil.month() != month || civil.day() != day) continue;  // Feb 29 of another year
    const absl::Time t = absl::FromCivil(civil, local);
    if (!best || absl::AbsDuration(t - reference) < absl::AbsDuration(*best - reference)) best = t;
    if (y == year && absl::AbsDuration(t - reference) < absl::Hours(24 * 182)) break;
  }
  return best;
}

// "2026-12-05T07:15:57.123456+00:00 " (or ...Z, or without fraction).
std::optional<absl::Time> rfc3339(std::string_view line) {
  if (line.size() < 20 || line[4] != '-' || line[10] != 'T') return std::nullopt;
  const size_t end = line.find(' ');
  const std::string token(line.substr(0, end));
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, token, &t, &error)) return std::nullopt;
  return t;
}

}  // namespace

std::optional<absl::Time> lineTime(std::string_view line, absl::Time reference,
                                   absl::TimeZone local) {
  if (!line.empty() && digit(line[0])) return rfc3339(line);
  return traditional(line, reference, local);
}

}  // namespace postwarden::agent::health
