#include "common/schedule/maintenance_window.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::schedule {
namespace {

using ::testing::HasSubstr;

absl::Time utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

Window window(std::string_view text) {
  Result<Window> w = parseWindow(text);
  EXPECT_TRUE(w.ok()) << w.status().toString();
  return w.ok() ? *w : Window{};
}

TEST(MaintenanceWindowTest, UtcEdgesAreHalfOpen) {
  const Window w = window("Mon 10:00-11:00 UTC");
  EXPECT_FALSE(isOpen(w, utc(2026, 11, 30, 9, 59, 59)));
  EXPECT_TRUE(isOpen(w, utc(2026, 11, 30, 10, 0)));
  EXPECT_TRUE(isOpen(w, utc(2026, 11, 30, 10, 59, 59)));
  EXPECT_FALSE(isOpen(w, utc(2026, 11, 30, 11, 0)));
  EXPECT_FALSE(isOpen(w, utc(2026, 12, 1, 10, 30)));  // Tuesday
  EXPECT_EQ(current(w, utc(2026, 11, 30, 10, 30)),
            (Interval{utc(2026, 11, 30, 10, 0), utc(2026, 11, 30, 11, 0)}));
}

TEST(MaintenanceWindowTest, WindowCrossingMidnightBelongsToItsStartDay) {
  const Window w = window("Sat 22:00-02:00 UTC");
  EXPECT_TRUE(isOpen(w, utc(2026, 12, 5, 22, 0)));    // Saturday
  EXPECT_TRUE(isOpen(w, utc(2026, 12, 6, 1, 59)));    // early Sunday: Saturday's window
  EXPECT_FALSE(isOpen(w, utc(2026, 12, 6, 2, 0)));    // its end
  EXPECT_FALSE(isOpen(w, utc(2026, 12, 6, 22, 30)));  // Sunday evening: not listed
  EXPECT_FALSE(isOpen(w, utc(2026, 12, 5, 1, 0)));    // early Saturday would be Friday's
  EXPECT_EQ(current(w, utc(2026, 12, 6, 1, 0)),
            (Interval{utc(2026, 12, 5, 22, 0), utc(2026, 12, 6, 2, 0)}));
}

TEST(MaintenanceWindowTest, NextOpening) {
  const Window w = window("Sat 22:00-02:00 UTC");
  EXPECT_EQ(nextOpening(w, utc(2026, 11, 30, 12, 0)), utc(2026, 12, 5, 22, 0));
  EXPECT_EQ(nextOpening(w, utc(2026, 12, 5, 23, 0)), utc(2026, 12, 5, 23, 0));  // open: now
  EXPECT_EQ(nextOpening(w, utc(2026, 12, 6, 2, 0)), utc(2026, 12, 12, 22, 0));
  const Window daily = window("daily 00:00-24:00 UTC");
  EXPECT_TRUE(isOpen(daily, utc(2026, 12, 6, 23, 59, 59)));
  EXPECT_TRUE(isOpen(daily, utc(2026, 12, 7, 0, 0)));
}

TEST(MaintenanceWindowTest, BerlinFollowsTheLocalClockInWinterAndSummer) {
  const Window w = window("Sun 02:30-04:00 Europe/Berlin");
  EXPECT_TRUE(isOpen(w, utc(2026, 3, 22, 1, 30)));  // CET: 02:30 local
  EXPECT_FALSE(isOpen(w, utc(2026, 3, 22, 1, 29)));
  EXPECT_TRUE(isOpen(w, utc(2026, 4, 5, 0, 30)));  // CEST: 02:30 local
  EXPECT_FALSE(isOpen(w, utc(2026, 4, 5, 2, 0)));  // 04:00 CEST
}

// 2026-03-29 02:00 CET becomes 03:00 CEST (01:00 UTC): 02:30 does not exist that night.
TEST(MaintenanceWindowTest, BerlinSpringForwardMovesASkippedStartToTheTransition) {
  const Window w = window("Sun 02:30-04:00 Europe/Berlin");
  EXPECT_EQ(current(w, utc(2026, 3, 29, 1, 0)),
            (Interval{utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)}));  // 03:00-04:00 CEST
  EXPECT_FALSE(isOpen(w, utc(2026, 3, 29, 0, 59)));
  EXPECT_EQ(nextOpening(w, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
}

TEST(MaintenanceWindowTest, BerlinWindowInsideTheSkippedHourDoesNotOpenThatDay) {
  const Window w = window("Sun 02:15-02:45 Europe/Berlin");
  EXPECT_EQ(intervalOn(w, absl::CivilDay(2026, 3, 29)), std::nullopt);
  EXPECT_FALSE(isOpen(w, utc(2026, 3, 29, 1, 0)));
  EXPECT_EQ(nextOpening(w, utc(2026, 3, 28, 12, 0)), utc(2026, 4, 5, 0, 15));
}

// 2026-10-25 03:00 CEST becomes 02:00 CET (01:00 UTC): 02:00-03:00 happens twice.
TEST(MaintenanceWindowTest, BerlinFallBackUsesTheFirstOccurrence) {
  const Window wide = window("Sun 02:00-04:00 Europe/Berlin");
  // 02:00 CEST (00:00 UTC) to 04:00 CET (03:00 UTC): three hours of real time that night.
  EXPECT_EQ(current(wide, utc(2026, 10, 25, 2, 30)),
            (Interval{utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 3, 0)}));
  const Window narrow = window("Sun 02:30-02:45 Europe/Berlin");
  EXPECT_TRUE(isOpen(narrow, utc(2026, 10, 25, 0, 30)));   // 02:30 CEST
  EXPECT_FALSE(isOpen(narrow, utc(2026, 10, 25, 1, 30)));  // 02:30 CET, the second time
}

TEST(MaintenanceWindowTest, NewYorkWindowEndingInTheSkippedHour) {
  // 2026-03-08 02:00 EST becomes 03:00 EDT (07:00 UTC).
  const Window w = window("Sat 22:00-02:00 America/New_York");
  EXPECT_EQ(current(w, utc(2026, 3, 8, 5, 0)),
            (Interval{utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 7, 0)}));
  const Window summer = window("Wed 09:00-10:00 America/New_York");
  EXPECT_TRUE(isOpen(summer, utc(2026, 7, 1, 13, 0)));   // EDT, UTC-4
  EXPECT_TRUE(isOpen(summer, utc(2026, 12, 2, 14, 0)));  // EST, UTC-5
  EXPECT_FALSE(isOpen(summer, utc(2026, 12, 2, 13, 0)));
}

TEST(MaintenanceWindowTest, RefusesUnknownTimeZonesAndBadFields) {
  EXPECT_THAT(parseWindow("Sat 02:00-04:00 Europe/Berlinn").status().message(),
              HasSubstr("unknown time zone 'Europe/Berlinn'"));
  EXPECT_THAT(parseWindow("Sat 02:00-04:00 ../../etc/passwd").status().message(),
              HasSubstr("unknown time zone"));
  EXPECT_THAT(parseWindow("Sam 02:00-04:00 UTC").status().message(),
              HasSubstr("unknown day 'Sam'"));
  EXPECT_THAT(parseWindow("Sat 2:00-04:00 UTC").status().message(), HasSubstr("HH:MM"));
  EXPECT_THAT(parseWindow("Sat 04:00-04:00 UTC").status().message(),
              HasSubstr("must not be empty"));
  EXPECT_THAT(parseWindow("Sat 24:00-04:00 UTC").status().message(), HasSubstr("window start"));
  EXPECT_THAT(parseWindow("Sat 02:00 UTC").status().message(), HasSubstr("DAYS HH:MM-HH:MM ZONE"));
}

TEST(MaintenanceWindowTest, MakeWindowAndToString) {
  Result<Window> w = makeWindow({"sat", "Sun"}, "02:00", "04:00", "Europe/Berlin");
  ASSERT_TRUE(w.ok()) << w.status().toString();
  EXPECT_EQ(toString(*w), "Sat,Sun 02:00-04:00 Europe/Berlin");
  EXPECT_EQ(toString(window("daily 22:00-24:00 UTC")), "daily 22:00-24:00 UTC");
}

}  // namespace
}  // namespace postwarden::schedule
