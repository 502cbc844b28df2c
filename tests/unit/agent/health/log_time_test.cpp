#include "agent/health/log_time.h"

#include <gtest/gtest.h>

namespace postwarden::agent::health {
namespace {

absl::Time utc(int y, int mo, int d, int h, int mi, int s) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

absl::TimeZone zone(const char* name) {
  absl::TimeZone tz;
  EXPECT_TRUE(absl::LoadTimeZone(name, &tz)) << name;
  return tz;
}

const absl::Time kRef = utc(2026, 12, 5, 7, 20, 0);

TEST(LogTimeTest, TraditionalSyslogIsLocalTimeInTheReferenceYear) {
  EXPECT_EQ(
      lineTime("Dec  5 07:15:57 mx1 postfix/smtpd[1]: connect from x", kRef, absl::UTCTimeZone()),
      utc(2026, 12, 5, 7, 15, 57));
  EXPECT_EQ(lineTime("Nov 30 23:59:59 mx1 postfix/qmgr[2]: x", kRef, absl::UTCTimeZone()),
            utc(2026, 11, 30, 23, 59, 59));
  // Postfix 3.7's postlogd pads the day with a zero; some loggers add a fraction.
  EXPECT_EQ(lineTime("Dec 05 07:33:17 sandbox postfix/master[9033]: daemon started", kRef,
                     absl::UTCTimeZone()),
            utc(2026, 12, 5, 7, 33, 17));
  EXPECT_EQ(lineTime("Dec  5 07:15:57.123456 mx1 x", kRef, absl::UTCTimeZone()),
            utc(2026, 12, 5, 7, 15, 57));
  // Europe/Berlin is UTC+1 in December.
  EXPECT_EQ(lineTime("Dec  5 08:15:57 mx1 x", kRef, zone("Europe/Berlin")),
            utc(2026, 12, 5, 7, 15, 57));
}

TEST(LogTimeTest, TheYearBoundaryTakesTheYearClosestToTheReference) {
  const absl::Time new_year = utc(2027, 1, 1, 0, 5, 0);
  EXPECT_EQ(lineTime("Dec 31 23:58:00 mx1 x", new_year, absl::UTCTimeZone()),
            utc(2026, 12, 31, 23, 58, 0));
  EXPECT_EQ(lineTime("Jan  1 00:01:00 mx1 x", new_year, absl::UTCTimeZone()),
            utc(2027, 1, 1, 0, 1, 0));
  // A host whose clock is a little behind the log's: still the next year, not last January.
  EXPECT_EQ(lineTime("Jan  1 00:00:10 mx1 x", utc(2026, 12, 31, 23, 59, 50), absl::UTCTimeZone()),
            utc(2027, 1, 1, 0, 0, 10));
}

TEST(LogTimeTest, February29thOnlyInALeapYear) {
  EXPECT_EQ(lineTime("Feb 29 12:00:00 mx1 x", utc(2028, 3, 1, 0, 0, 0), absl::UTCTimeZone()),
            utc(2028, 2, 29, 12, 0, 0));
  EXPECT_EQ(lineTime("Feb 29 12:00:00 mx1 x", utc(2029, 3, 1, 0, 0, 0), absl::UTCTimeZone()),
            utc(2028, 2, 29, 12, 0, 0));  // the closest year that has one
  EXPECT_EQ(lineTime("Feb 30 12:00:00 mx1 x", kRef, absl::UTCTimeZone()), std::nullopt);
}

TEST(LogTimeTest, Rfc3339WithFractionAndOffset) {
  const absl::Time expected = utc(2026, 12, 5, 7, 15, 57) + absl::Microseconds(123456);
  EXPECT_EQ(lineTime("2026-12-05T07:15:57.123456+00:00 mx1 postfix/smtpd[1]: x", kRef,
                     zone("Europe/Berlin")),
            expected);
  EXPECT_EQ(lineTime("2026-12-05T08:15:57.123456+01:00 mx1 x", kRef, absl::UTCTimeZone()),
            expected);
  EXPECT_EQ(lineTime("2026-12-05T07:15:57Z mx1 x", kRef, absl::UTCTimeZone()),
            utc(2026, 12, 5, 7, 15, 57));
}

TEST(LogTimeTest, GarbageHasNoTime) {
  for (const char* line :
       {"", "hello", "Dex  5 07:15:57 mx1 x", "Dec  5 7:15:57 mx1 x", "Dec  5 25:15:57 mx1 x",
        "Dec  0 07:15:57 mx1 x", "Dec 32 07:15:57 mx1 x", "Dec  5 07:61:57 mx1 x", "Dec  5",
        "Dec  5 07:15:57x mx1", "Dec  5 07:15:57.12x mx1", "2026-12-05 07:15:57 mx1 x",
        "2026-13-05T07:15:57Z mx1 x", "2026-12-05T07:15:57 mx1", "2026-12-05T07:15:57+0 x",
        "12345"}) {
    EXPECT_EQ(lineTime(line, kRef, absl::UTCTimeZone()), std::nullopt) << line;
  }
}

}  // namespace
}  // namespace postwarden::agent::health
