#include "controller/core/admission.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"

namespace postwarden::controller::core {
namespace {

using std::chrono::milliseconds;

int admitted(ConnectAdmission& admission, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += admission.admit().admitted ? 1 : 0;
  return n;
}

TEST(ConnectAdmissionTest, BurstIsAFiftiethOfASecondsWorthByDefault) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 1000}, clock);
  EXPECT_DOUBLE_EQ(admission.burst(), 20);
  EXPECT_EQ(admitted(admission, 500), 20);  // a storm at one instant: only the burst
  ConnectAdmission slow({.per_second = 5}, clock);
  EXPECT_DOUBLE_EQ(slow.burst(), 1);  // never below one
}

TEST(ConnectAdmissionTest, AdmitsAtTheConfiguredRateUnderASustainedStorm) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 1000, .burst = 50}, clock);
  int total = admitted(admission, 1000);
  EXPECT_EQ(total, 50);
  // Ten new callers every millisecond for two seconds: 1,000/s get in, not 10,000/s.
  for (int ms = 0; ms < 2000; ++ms) {
    clock.advance(milliseconds(1));
    total += admitted(admission, 10);
  }
  EXPECT_GE(total, 50 + 2000 - 1);
  EXPECT_LE(total, 50 + 2000 + 1);
}

TEST(ConnectAdmissionTest, NoHundredMillisecondsAdmitsMoreThanTwiceItsShare) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 2000}, clock);
  int worst = 0;
  for (int bucket = 0; bucket < 30; ++bucket) {
    int n = 0;
    for (int ms = 0; ms < 100; ++ms) {
      n += admitted(admission, 100);
      clock.advance(milliseconds(1));
    }
    worst = std::max(worst, n);
  }
  EXPECT_LE(worst, 200 + 40);  // the 200 the rate refills plus the bucket's 40
}

TEST(ConnectAdmissionTest, AStallDoesNotSaveUpMoreThanTheBurst) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 1000, .burst = 20}, clock);
  (void)admitted(admission, 100);
  clock.advance(std::chrono::seconds(5));  // nobody came (or the controller was busy)
  EXPECT_EQ(admitted(admission, 1000), 20);
}

TEST(ConnectAdmissionTest, RefusedCallersGetConsecutiveSlotsAtTheAdmittedRate) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 100, .burst = 1}, clock);
  ASSERT_TRUE(admission.admit().admitted);
  std::vector<int64_t> hints;
  for (int i = 0; i < 5; ++i) {
    AdmissionDecision d = admission.admit();
    ASSERT_FALSE(d.admitted);
    hints.push_back(d.retry_after.count());
  }
  // 100/s: one slot every 10 ms; the first when the next token is due.
  EXPECT_EQ(hints, (std::vector<int64_t>{10, 20, 30, 40, 50}));
}

TEST(ConnectAdmissionTest, RefusedCallersComingBackAtTheirHintAreAdmitted) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 100, .burst = 1}, clock);
  ASSERT_TRUE(admission.admit().admitted);
  std::vector<milliseconds> hints;
  for (int i = 0; i < 20; ++i) hints.push_back(admission.admit().retry_after);
  milliseconds elapsed{0};
  for (milliseconds hint : hints) {  // each returns at its slot, in order
    clock.advance(hint - elapsed);
    elapsed = hint;
    EXPECT_TRUE(admission.admit().admitted) << "hint " << hint.count() << " ms";
  }
}

TEST(ConnectAdmissionTest, TheQueueDrainsSoLaterHintsAreShortAgain) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 10, .burst = 1}, clock);
  (void)admitted(admission, 50);  // 49 refused: slots up to 4.9 s ahead
  clock.advance(std::chrono::seconds(10));
  ASSERT_TRUE(admission.admit().admitted);
  AdmissionDecision d = admission.admit();
  ASSERT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after, milliseconds(100));
}

TEST(ConnectAdmissionTest, HintsAreCappedAtMaxRetryAfter) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 1, .burst = 1, .max_retry_after = milliseconds(3000)},
                             clock);
  ASSERT_TRUE(admission.admit().admitted);
  std::vector<int64_t> hints;
  for (int i = 0; i < 6; ++i) hints.push_back(admission.admit().retry_after.count());
  EXPECT_EQ(hints, (std::vector<int64_t>{1000, 2000, 3000, 3000, 3000, 3000}));
}

TEST(ConnectAdmissionTest, ZeroRateMeansNoLimit) {
  fakes::FakeClock clock;
  ConnectAdmission admission({.per_second = 0}, clock);
  EXPECT_FALSE(admission.limited());
  EXPECT_EQ(admitted(admission, 100000), 100000);
}

TEST(ConnectAdmissionTest, ConcurrentCallersNeverGetMoreThanTheBucket) {
  fakes::FakeClock clock;  // time stands still: exactly the burst is admitted
  ConnectAdmission admission({.per_second = 1000, .burst = 64}, clock);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] { total += admitted(admission, 1000); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(total.load(), 64);
}

}  // namespace
}  // namespace postwarden::controller::core
