#include <gtest/gtest.h>

#include "common/os/clock.h"

namespace postwarden::os {
namespace {

using std::chrono::milliseconds;

TEST(SystemClockTest, SleepForWaitsAtLeastTheDuration) {
  SystemClock clock;
  const auto before = clock.steadyNow();

  clock.sleepFor(milliseconds(30));

  EXPECT_GE(clock.steadyNow() - before, milliseconds(30));
}

TEST(SystemClockTest, SleepForNonPositiveDurationReturnsAtOnce) {
  SystemClock clock;
  const auto before = clock.steadyNow();

  clock.sleepFor(milliseconds(-5000));
  clock.sleepFor(milliseconds(0));

  EXPECT_LT(clock.steadyNow() - before, milliseconds(1000));
}

TEST(SystemClockTest, NowIsWallTime) {
  SystemClock clock;

  const auto difference = clock.now() - std::chrono::system_clock::now();

  EXPECT_LT(std::chrono::abs(difference), std::chrono::seconds(5));
}

}  // namespace
}  // namespace postwarden::os
