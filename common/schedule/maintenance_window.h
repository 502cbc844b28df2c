// Recurring maintenance windows ("Sat,Sun 02:00-04:00 Europe/Berlin"), evaluated against the
// real time-zone database through Abseil (absl::LoadTimeZone, civil times), so daylight-saving
// changes move the window with the local wall clock. Pure apart from reading zoneinfo when a
// window is made; the time is always passed in.
//
// Semantics:
// - A window belongs to the day it starts on: "Sat 22:00-02:00" is open from Saturday 22:00 to
//   Sunday 02:00 local time. "24:00" as the end means the next midnight. Start == end is refused.
// - Each edge is the first instant at which the local wall clock reads that time (absl::FromCivil):
//   a start or end in the hour skipped when clocks spring forward moves to the transition (in
//   Europe/Berlin on 2026-03-29, 02:30 becomes 03:00 CEST); a time that happens twice when
//   clocks fall back is its first occurrence (02:30 CEST on 2026-10-25). A window that lies
//   wholly inside the skipped hour does not open that day.
// - An interval is half-open: open at its start, closed at its end.
#pragma once

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::schedule {

struct Window {
  std::array<bool, 7> days{};  // indexed by absl::Weekday (monday = 0 ... sunday = 6)
  int start_minute = 0;        // minutes after local midnight, 0..1439
  int end_minute = 0;          // 1..1440; <= start_minute means the next day
  std::string time_zone_name;  // as written, e.g. "Europe/Berlin"
  absl::TimeZone zone;
};

struct Interval {
  absl::Time start;  // open from here...
  absl::Time end;    // ...until just before here
  friend bool operator==(const Interval&, const Interval&) = default;
};

// The fields of a window as a spec writes them. Days are Mon..Sun (any case) or "daily"; times
// are HH:MM. An unknown time zone is refused here, so a spec never carries one.
Result<Window> makeWindow(const std::vector<std::string>& days, std::string_view start,
                          std::string_view end, std::string_view time_zone);
// The short form "DAYS HH:MM-HH:MM ZONE", e.g. "Sat,Sun 02:00-04:00 Europe/Berlin".
Result<Window> parseWindow(std::string_view text);
// The short form back: "daily" when every day is listed.
std::string toString(const Window& window);

// The interval of the window that starts on local day `day`, if the window is on that day and
// the interval is not empty (see the DST rules above).
std::optional<Interval> intervalOn(const Window& window, absl::CivilDay day);
// The interval that contains `now`, if any.
std::optional<Interval> current(const Window& window, absl::Time now);
bool isOpen(const Window& window, absl::Time now);
// The earliest instant at or after `now` when the window is open: `now` itself if it is open,
// otherwise the next start within 8 days; absl::InfiniteFuture() if there is none.
absl::Time nextOpening(const Window& window, absl::Time now);

}  // namespace postwarden::schedule
