#include "agent/link/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace postwarden::agent::link {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, EachWaitIsWithinTheDoublingWindow) {
  Backoff backoff(milliseconds(100), milliseconds(10000), 1);
  for (int n = 0; n < 20; ++n) {
    const int64_t window = std::min<int64_t>(10000, int64_t{100} << n);
    for (int i = 0; i < 1; ++i) {
      const milliseconds wait = backoff.next();
      EXPECT_GE(wait.count(), 0) << "attempt " << n;
      EXPECT_LE(wait.count(), window) << "attempt " << n;
    }
  }
  EXPECT_EQ(backoff.attempts(), 20);
}

TEST(BackoffTest, WindowGrowsThenStaysAtTheCap) {
  // The largest of many draws approaches the window: grows with n, then stops at the cap.
  auto max_wait = [](int attempt) {
    int64_t largest = 0;
    for (uint64_t seed = 0; seed < 300; ++seed) {
      Backoff b(milliseconds(100), milliseconds(5000), seed);
      milliseconds wait{0};
      for (int i = 0; i <= attempt; ++i) wait = b.next();
      largest = std::max<int64_t>(largest, wait.count());
    }
    return largest;
  };
  EXPECT_LE(max_wait(0), 100);
  EXPECT_GT(max_wait(0), 80);
  EXPECT_LE(max_wait(2), 400);
  EXPECT_GT(max_wait(2), 300);
  EXPECT_LE(max_wait(10), 5000);
  EXPECT_GT(max_wait(10), 4500);
}

TEST(BackoffTest, SameSeedSameSequenceOtherSeedOtherSequence) {
  Backoff a(milliseconds(50), milliseconds(60000), 42);
  Backoff b(milliseconds(50), milliseconds(60000), 42);
  Backoff c(milliseconds(50), milliseconds(60000), 43);
  std::vector<int64_t> sa, sb, sc;
  for (int i = 0; i < 16; ++i) {
    sa.push_back(a.next().count());
    sb.push_back(b.next().count());
    sc.push_back(c.next().count());
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(BackoffTest, ResetStartsAgainAtTheBaseWindow) {
  Backoff backoff(milliseconds(10), milliseconds(100000), 7);
  for (int i = 0; i < 12; ++i) (void)backoff.next();
  EXPECT_EQ(backoff.attempts(), 12);
  backoff.reset();
  EXPECT_EQ(backoff.attempts(), 0);
  for (int i = 0; i < 50; ++i) {
    EXPECT_LE(backoff.next().count(), 10);
    backoff.reset();
  }
}

TEST(BackoffTest, HundredsOfAttemptsDoNotOverflow) {
  Backoff backoff(milliseconds(1000), milliseconds(300000), 3);
  for (int i = 0; i < 1000; ++i) {
    const milliseconds wait = backoff.next();
    ASSERT_GE(wait.count(), 0) << "attempt " << i;
    ASSERT_LE(wait.count(), 300000) << "attempt " << i;
  }
  EXPECT_EQ(backoff.attempts(), 1000);

  // A huge base and cap: base * 2^100 would overflow any integer type.
  const milliseconds big = milliseconds::max() / 2;
  Backoff huge(big, milliseconds::max(), 5);
  for (int i = 0; i < 100; ++i) ASSERT_GE(huge.next().count(), 0);
}

TEST(BackoffTest, FirstWaitIsFullJitterOverTheBaseWindow) {
  // Over many seeds the first waits cover [0, base]: some near zero, some near base.
  int64_t smallest = 1000, largest = 0;
  for (uint64_t seed = 0; seed < 500; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(60000), seed);
    const int64_t wait = b.next().count();
    smallest = std::min(smallest, wait);
    largest = std::max(largest, wait);
  }
  EXPECT_LT(smallest, 50);
  EXPECT_GT(largest, 950);
}

TEST(BackoffTest, RetriesAfterAFailureStayInTheUpperHalfOfTheWindow) {
  // A retry drawn near zero would meet the same outage again; each retry waits at least half
  // its window, so a fleet that failed once is back within two base windows, not four.
  for (uint64_t seed = 0; seed < 200; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(60000), seed);
    (void)b.next();  // the first attempt, which failed
    for (int n = 1; n < 10; ++n) {
      const int64_t window = std::min<int64_t>(60000, int64_t{1000} << n);
      const int64_t wait = b.next().count();
      ASSERT_GE(wait, window / 2) << "seed " << seed << " attempt " << n;
      ASSERT_LE(wait, window) << "seed " << seed << " attempt " << n;
    }
  }
}

TEST(BackoffTest, AHintIsWaitedAtLeastPlusJitterUpToTheBase) {
  int64_t smallest = 1 << 30, largest = 0;
  for (uint64_t seed = 0; seed < 300; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(60000), seed);
    const int64_t wait = b.nextAfterHint(milliseconds(7000)).count();
    ASSERT_GE(wait, 7000);
    ASSERT_LE(wait, 8000);
    smallest = std::min(smallest, wait);
    largest = std::max(largest, wait);
  }
  EXPECT_LT(smallest, 7100);  // jittered, not a fixed offset
  EXPECT_GT(largest, 7900);
}

TEST(BackoffTest, AShortHintGetsJitterNoLongerThanItself) {
  // Refused callers are handed slots 1 ms apart at 1,000/s: jitter of a whole base second
  // would undo the controller's spacing.
  for (uint64_t seed = 0; seed < 100; ++seed) {
    Backoff b(milliseconds(1000), milliseconds(60000), seed);
    const int64_t wait = b.nextAfterHint(milliseconds(40)).count();
    ASSERT_GE(wait, 40);
    ASSERT_LE(wait, 80);
  }
}

TEST(BackoffTest, AHintDoesNotGrowTheWindow) {
  Backoff b(milliseconds(100), milliseconds(60000), 9);
  for (int i = 0; i < 10; ++i) (void)b.nextAfterHint(milliseconds(500));
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_LE(b.next().count(), 100);  // still the first, full-jitter wait
}

TEST(BackoffTest, AHintBeyondTheCapIsTakenAsTheCap) {
  Backoff b(milliseconds(1000), milliseconds(30000), 4);
  const int64_t wait = b.nextAfterHint(milliseconds(86400000)).count();
  EXPECT_GE(wait, 30000);
  EXPECT_LE(wait, 31000);
  Backoff huge(milliseconds(1000), milliseconds::max(), 4);
  EXPECT_GE(huge.nextAfterHint(milliseconds::max()).count(), 0);  // saturates, no wrap
}

TEST(BackoffTest, NoHintFallsBackToTheBackoff) {
  Backoff b(milliseconds(100), milliseconds(60000), 2);
  EXPECT_LE(b.nextAfterHint(milliseconds(0)).count(), 100);
  EXPECT_EQ(b.attempts(), 1);
}

TEST(RetryAfterTest, ParsesWholeMillisecondsOnly) {
  EXPECT_EQ(parseRetryAfterMs("1500"), milliseconds(1500));
  EXPECT_EQ(parseRetryAfterMs("1"), milliseconds(1));
  EXPECT_EQ(parseRetryAfterMs(""), std::nullopt);
  EXPECT_EQ(parseRetryAfterMs("0"), std::nullopt);
  EXPECT_EQ(parseRetryAfterMs("-5"), std::nullopt);
  EXPECT_EQ(parseRetryAfterMs("12ms"), std::nullopt);
  EXPECT_EQ(parseRetryAfterMs(" 12"), std::nullopt);
  EXPECT_EQ(parseRetryAfterMs("99999999999999999999"), std::nullopt);  // no overflow
}

TEST(BackoffTest, DegenerateArgumentsAreClamped) {
  Backoff zero(milliseconds(0), milliseconds(0), 1);
  EXPECT_EQ(zero.next().count(), 0);
  Backoff cap_below_base(milliseconds(500), milliseconds(100), 1);  // cap becomes 500
  for (int i = 0; i < 20; ++i) EXPECT_LE(cap_below_base.next().count(), 500);
  Backoff negative(milliseconds(-5), milliseconds(-1), 1);
  EXPECT_EQ(negative.next().count(), 0);
}

}  // namespace
}  // namespace postwarden::agent::link
