#include "tests/fakes/fake_clock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::fakes {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;

TEST(FakeClockTest, StartsAtTheGivenTime) {
  FakeClock clock;
  EXPECT_EQ(clock.now(), FakeClock::kDefaultStart);

  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(42));
  EXPECT_EQ(FakeClock(start).now(), start);
}

TEST(FakeClockTest, SleepForAdvancesBothClocksAndIsRecorded) {
  FakeClock clock;
  const auto wall = clock.now();
  const auto steady = clock.steadyNow();

  clock.sleepFor(milliseconds(1500));
  clock.sleepFor(milliseconds(250));

  EXPECT_EQ(clock.now() - wall, milliseconds(1750));
  EXPECT_EQ(clock.steadyNow() - steady, milliseconds(1750));
  EXPECT_THAT(clock.sleeps(), ElementsAre(milliseconds(1500), milliseconds(250)));
}

TEST(FakeClockTest, NegativeSleepIsRecordedButDoesNotMoveTime) {
  FakeClock clock;
  const auto wall = clock.now();

  clock.sleepFor(milliseconds(-5));

  EXPECT_EQ(clock.now(), wall);
  EXPECT_THAT(clock.sleeps(), ElementsAre(milliseconds(-5)));
}

TEST(FakeClockTest, AdvanceMovesBothClocksWithoutRecordingASleep) {
  FakeClock clock;
  const auto steady = clock.steadyNow();

  clock.advance(std::chrono::seconds(3));

  EXPECT_EQ(clock.now(), FakeClock::kDefaultStart + std::chrono::seconds(3));
  EXPECT_EQ(clock.steadyNow() - steady, std::chrono::seconds(3));
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(FakeClockTest, SetNowMovesOnlyTheWallClock) {
  FakeClock clock;
  const auto steady = clock.steadyNow();

  clock.setNow(FakeClock::kDefaultStart - std::chrono::hours(1));

  EXPECT_EQ(clock.now(), FakeClock::kDefaultStart - std::chrono::hours(1));
  EXPECT_EQ(clock.steadyNow(), steady);
}

}  // namespace
}  // namespace postwarden::fakes
