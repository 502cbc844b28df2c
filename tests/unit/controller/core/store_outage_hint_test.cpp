#include "controller/core/store_outage_hint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace postwarden::controller::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const StoreOutageHintOptions kDefaults;

TEST(StoreOutageHintTest, AFewAgentsAtTheStartOfAnOutagePollWithinTheMinimumWindow) {
  EXPECT_EQ(storeOutageWindow(2, milliseconds(0), kDefaults), milliseconds(2000));
  EXPECT_EQ(storeOutageRetryAfter(2, milliseconds(0), 0.0, kDefaults), milliseconds(1000));
  EXPECT_EQ(storeOutageRetryAfter(2, milliseconds(0), 0.5, kDefaults), milliseconds(1500));
  EXPECT_LE(storeOutageRetryAfter(2, milliseconds(0), 0.999999, kDefaults), milliseconds(2000));
}

TEST(StoreOutageHintTest, TheWindowGrowsWithTheOutageUpToTheBackoffCap) {
  EXPECT_EQ(storeOutageWindow(1, seconds(60), kDefaults), milliseconds(8000));
  EXPECT_EQ(storeOutageWindow(1, seconds(300), kDefaults), milliseconds(32000));
  EXPECT_EQ(storeOutageWindow(1, seconds(3600), kDefaults), milliseconds(60000));
}

TEST(StoreOutageHintTest, TheWindowHoldsTheReplicasAgentsAtTheAdmittedRate) {
  // 10,000 agents at 1,000/s: they come back over 10 s, not in one wave.
  EXPECT_EQ(storeOutageWindow(10000, seconds(0), kDefaults), milliseconds(10000));
  StoreOutageHintOptions slow{.returns_per_second = 200};
  EXPECT_EQ(storeOutageWindow(10000, seconds(0), slow), milliseconds(50000));
  EXPECT_EQ(storeOutageWindow(100000, seconds(0), kDefaults), milliseconds(60000));  // capped
  StoreOutageHintOptions unlimited{.returns_per_second = 0};  // admission off: the default rate
  EXPECT_EQ(storeOutageWindow(10000, seconds(0), unlimited), milliseconds(10000));
}

TEST(StoreOutageHintTest, HintsAreNeverZeroNorBeyondTheCap) {
  StoreOutageHintOptions tiny{.min_window = milliseconds(0), .max_window = milliseconds(0)};
  EXPECT_EQ(storeOutageRetryAfter(0, milliseconds(0), 0.0, tiny), milliseconds(1));
  EXPECT_EQ(storeOutageRetryAfter(1000000, seconds(100000), 1.0, kDefaults), milliseconds(60000));
  EXPECT_EQ(storeOutageRetryAfter(0, milliseconds(-5), -3.0, kDefaults), milliseconds(1000));
}

TEST(StoreOutageHintsTest, TheOutageRunsFromTheFirstHintUntilTheStoreAnswers) {
  fakes::FakeClock clock;
  StoreOutageHints hints({}, clock, 7);
  EXPECT_FALSE(hints.outage());
  milliseconds first = hints.retryAfter(1);
  EXPECT_TRUE(hints.outage());
  EXPECT_GE(first, milliseconds(1000));
  EXPECT_LE(first, milliseconds(2000));
  clock.advance(seconds(60));
  milliseconds later = hints.retryAfter(1);  // a minute in: the 8 s window's upper half
  EXPECT_GE(later, milliseconds(4000));
  EXPECT_LE(later, milliseconds(8000));
  hints.storeAnswered();
  EXPECT_FALSE(hints.outage());
  clock.advance(seconds(5));
  milliseconds next_outage = hints.retryAfter(1);  // a new outage starts small again
  EXPECT_LE(next_outage, milliseconds(2000));
}

TEST(StoreOutageHintsTest, ThePeakOfAgentsHeldSetsTheWindowWhileTheReplicaEmpties) {
  fakes::FakeClock clock;
  StoreOutageHints hints({}, clock, 7);
  EXPECT_GE(hints.retryAfter(10000), milliseconds(5000));  // 10 s window
  EXPECT_GE(hints.retryAfter(3), milliseconds(5000));      // still the 10,000 it held
  hints.storeAnswered();
  EXPECT_LE(hints.retryAfter(3), milliseconds(2000));
}

TEST(StoreOutageHintsTest, HintsSpreadOverTheWindowsUpperHalf) {
  fakes::FakeClock clock;
  StoreOutageHints hints({}, clock, 42);
  std::vector<milliseconds> drawn;
  for (int i = 0; i < 1000; ++i) drawn.push_back(hints.retryAfter(10000));
  auto [low, high] = std::minmax_element(drawn.begin(), drawn.end());
  EXPECT_GE(*low, milliseconds(5000));
  EXPECT_LE(*high, milliseconds(10000));
  EXPECT_LT(*low, milliseconds(5100));  // spread: not one value for everyone
  EXPECT_GT(*high, milliseconds(9900));
}

}  // namespace
}  // namespace postwarden::controller::core
