#include "common/duration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace postwarden {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr milliseconds kWeek = std::chrono::hours(24 * 7);

TEST(DurationTest, ParsesEveryUnitAndBareSeconds) {
  EXPECT_EQ(parseDuration("500ms").value(), milliseconds(500));
  EXPECT_EQ(parseDuration("30s").value(), milliseconds(30000));
  EXPECT_EQ(parseDuration("5m").value(), milliseconds(300000));
  EXPECT_EQ(parseDuration("1h").value(), milliseconds(3600000));
  EXPECT_EQ(parseDuration("7d").value(), kWeek);
  EXPECT_EQ(parseDuration("60").value(), milliseconds(60000));
  EXPECT_EQ(parseDuration("0").value(), milliseconds(0));
  EXPECT_EQ(parseDuration("007s").value(), milliseconds(7000));
}

TEST(DurationTest, RefusesAnythingElse) {
  for (const char* bad : {"", "s", "ms", "1.5s", "-1", "+5", "5 s", " 5s", "5s ", "1S", "1sec",
                          "1h30m", "1w", "0x10", "1e3"}) {
    Result<milliseconds> parsed = parseDuration(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(parsed.status().message(),
              "expected a duration such as 500ms, 30s, 5m, 1h or a number of seconds, not '" +
                  std::string(bad) + "'");
  }
}

TEST(DurationTest, StopsAtTheLimitWithoutOverflowing) {
  EXPECT_EQ(parseDuration("168h", kWeek).value(), kWeek);
  EXPECT_EQ(parseDuration("604800000ms", kWeek).value(), kWeek);
  EXPECT_EQ(parseDuration("169h", kWeek).status().message(),
            "'169h' is longer than the limit of 7 days");
  EXPECT_EQ(parseDuration("604800001ms", kWeek).status().code(), StatusCode::kInvalidArgument);
  for (const char* huge :
       {"99999999999999999999999999ms", "18446744073709551616", "9223372036854775807d"}) {
    EXPECT_THAT(parseDuration(huge, kWeek).status().message(), HasSubstr("7 days")) << huge;
    EXPECT_EQ(parseDuration(huge).status().code(), StatusCode::kInvalidArgument) << huge;
  }
  EXPECT_EQ(parseDuration("9223372036854775807ms").value(), milliseconds::max());
  EXPECT_EQ(parseDuration("2s", milliseconds(1500)).status().message(),
            "'2s' is longer than the limit of 1500 milliseconds");
  EXPECT_EQ(parseDuration("2h", std::chrono::minutes(90)).status().message(),
            "'2h' is longer than the limit of 90 minutes");
  EXPECT_EQ(parseDuration("2d", std::chrono::hours(24)).status().message(),
            "'2d' is longer than the limit of 1 day");
}

}  // namespace
}  // namespace postwarden
