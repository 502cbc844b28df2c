#include "common/duration.h"

#include <cstdint>
#include <string>

namespace postwarden {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t ms;
  std::string_view name;  // for the limit in messages
};

constexpr Unit kUnits[] = {{"d", 24 * 3600 * 1000, "day"},
                           {"h", 3600 * 1000, "hour"},
                           {"m", 60 * 1000, "minute"},
                           {"s", 1000, "second"},
                           {"ms", 1, "millisecond"}};

// "7 days", "90 minutes": `ms` in the largest unit that divides it.
std::string describeLimit(uint64_t ms) {
  for (const Unit& unit : kUnits) {
    if (ms % unit.ms == 0) {
      const uint64_t count = ms / unit.ms;
      return std::to_string(count) + " " + std::string(unit.name) + (count == 1 ? "" : "s");
    }
  }
  return std::to_string(ms) + " milliseconds";  // not reached: the last unit divides anything
}

}  // namespace

Result<std::chrono::milliseconds> parseDuration(std::string_view text,
                                                std::chrono::milliseconds max) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view number = text.substr(0, digits);
  const std::string_view suffix = text.substr(digits);
  uint64_t unit_ms = suffix.empty() ? 1000 : 0;  // a bare number counts seconds
  for (const Unit& unit : kUnits) {
    if (suffix == unit.suffix) unit_ms = unit.ms;
  }
  if (number.empty() || unit_ms == 0) {
    return InvalidArgumentError(
        "expected a duration such as 500ms, 30s, 5m, 1h or a number of seconds, not '" +
        std::string(text) + "'");
  }
  const uint64_t max_ms = max.count() < 0 ? 0 : static_cast<uint64_t>(max.count());
  // Bounded by the limit before multiplying, so no input can overflow.
  const uint64_t max_count = max_ms / unit_ms;
  uint64_t count = 0;
  for (char c : number) {
    const auto digit = static_cast<uint64_t>(c - '0');
    if (digit > max_count || count > (max_count - digit) / 10) {
      return InvalidArgumentError("'" + std::string(text) + "' is longer than the limit of " +
                                  describeLimit(max_ms));
    }
    count = count * 10 + digit;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(count * unit_ms));
}

}  // namespace postwarden
