#include "common/schedule/maintenance_window.h"

#include <algorithm>
#include <cctype>

namespace postwarden::schedule {
namespace {

constexpr std::array<std::string_view, 7> kDayNames = {"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Status addDay(std::string_view name, std::array<bool, 7>& days) {
  if (equalsIgnoreCase(name, "daily")) {
    days.fill(true);
    return OkStatus();
  }
  for (size_t i = 0; i < kDayNames.size(); ++i) {
    if (equalsIgnoreCase(name, kDayNames[i])) {
      days[i] = true;
      return OkStatus();
    }
  }
  return InvalidArgumentError("unknown day '" + std::string(name) +
                              "': expected Mon, Tue, Wed, Thu, Fri, Sat, Sun or daily");
}

// "HH:MM" to minutes after midnight; "24:00" only where `allow_24` (an end).
Result<int> parseClock(std::string_view text, bool allow_24) {
  const Status bad = InvalidArgumentError("expected a time of day HH:MM (00:00 to 23:59" +
                                          std::string(allow_24 ? ", or 24:00 as an end" : "") +
                                          "), not '" + std::string(text) + "'");
  if (text.size() != 5 || text[2] != ':') return bad;
  const auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(text[i])); };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) return bad;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && (!allow_24 || m != 0))) return bad;
  return h * 60 + m;
}

bool isZoneNameText(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

std::string clockText(int minute) {
  const std::string h = std::to_string(minute / 60);
  const std::string m = std::to_string(minute % 60);
  return (h.size() < 2 ? "0" : "") + h + ":" + (m.size() < 2 ? "0" : "") + m;
}

}  // namespace

Result<Window> makeWindow(const std::vector<std::string>& days, std::string_view start,
                          std::string_view end, std::string_view time_zone) {
  Window w;
  if (days.empty()) return InvalidArgumentError("a window needs at least one day");
  for (const std::string& day : days) PW_RETURN_IF_ERROR(addDay(day, w.days));
  Result<int> s = parseClock(start, false);
  if (!s.ok()) return s.status().withContext("window start");
  Result<int> e = parseClock(end, true);
  if (!e.ok()) return e.status().withContext("window end");
  if (*s == *e) {
    return InvalidArgumentError("window start and end are both " + std::string(start) +
                                ": a window must not be empty (use 00:00-24:00 for a whole day)");
  }
  w.start_minute = *s;
  w.end_minute = *e;
  if (!isZoneNameText(time_zone) || !absl::LoadTimeZone(std::string(time_zone), &w.zone)) {
    return InvalidArgumentError("unknown time zone '" + std::string(time_zone) +
                                "': expected a tz database name such as Europe/Berlin or UTC");
  }
  w.time_zone_name = std::string(time_zone);
  return w;
}

Result<Window> parseWindow(std::string_view text) {
  const Status bad = InvalidArgumentError(
      "expected a window as \"DAYS HH:MM-HH:MM ZONE\" (e.g. \"Sat,Sun 02:00-04:00 "
      "Europe/Berlin\"), not '" +
      std::string(text) + "'");
  std::vector<std::string_view> words;
  for (size_t i = 0; i < text.size();) {
    const size_t next = std::min(text.find(' ', i), text.size());
    if (next > i) words.push_back(text.substr(i, next - i));
    i = next + 1;
  }
  if (words.size() != 3) return bad;
  const size_t dash = words[1].find('-');
  if (dash == std::string_view::npos) return bad;
  std::vector<std::string> days;
  for (size_t i = 0; i <= words[0].size();) {
    const size_t comma = std::min(words[0].find(',', i), words[0].size());
    days.emplace_back(words[0].substr(i, comma - i));
    i = comma + 1;
  }
  return makeWindow(days, words[1].substr(0, dash), words[1].substr(dash + 1), words[2]);
}

std::string toString(const Window& window) {
  std::string days;
  if (std::all_of(window.days.begin(), window.days.end(), [](bool b) { return b; })) {
    days = "daily";
  } else {
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (!window.days[i]) continue;
      if (!days.empty()) days += ",";
      days += kDayNames[i];
    }
  }
  return days + " " + clockText(window.start_minute) + "-" + clockText(window.end_minute) + " " +
         window.time_zone_name;
}

std::optional<Interval> intervalOn(const Window& window, absl::CivilDay day) {
  if (!window.days[static_cast<size_t>(absl::GetWeekday(day))]) return std::nullopt;
  const absl::CivilMinute start = absl::CivilMinute(day) + window.start_minute;
  const absl::CivilDay end_day = window.end_minute <= window.start_minute ? day + 1 : day;
  const absl::CivilMinute end = absl::CivilMinute(end_day) + window.end_minute;
  Interval interval{absl::FromCivil(start, window.zone), absl::FromCivil(end, window.zone)};
  if (interval.end <= interval.start) return std::nullopt;
  return interval;
}

std::optional<Interval> current(const Window& window, absl::Time now) {
  const absl::CivilDay today = absl::ToCivilDay(now, window.zone);
  for (absl::CivilDay day : {today - 1, today}) {
    std::optional<Interval> interval = intervalOn(window, day);
    if (interval && interval->start <= now && now < interval->end) return interval;
  }
  return std::nullopt;
}

bool isOpen(const Window& window, absl::Time now) { return current(window, now).has_value(); }

absl::Time nextOpening(const Window& window, absl::Time now) {
  if (isOpen(window, now)) return now;
  const absl::CivilDay today = absl::ToCivilDay(now, window.zone);
  for (int i = 0; i <= 8; ++i) {
    std::optional<Interval> interval = intervalOn(window, today + i);
    if (interval && interval->start >= now) return interval->start;
  }
  return absl::InfiniteFuture();
}

}  // namespace postwarden::schedule
