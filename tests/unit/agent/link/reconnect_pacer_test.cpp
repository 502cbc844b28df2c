// ReconnectPacer (agent/link/reconnect_pacer.h): over several controller addresses a failed
// one is left promptly, and the backoff grows only once a whole round has failed.
#include "agent/link/reconnect_pacer.h"

#include <gtest/gtest.h>

#include <vector>

namespace postwarden::agent::link {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kBase{1000};
constexpr milliseconds kCap{60000};
const SessionOutcome kUnavailable{.unavailable = true};

TEST(ReconnectPacerTest, AFailedAddressIsLeftForTheNextAfterASmallJitterOnly) {
  ReconnectPacer pacer(3, kBase, kCap, 1);
  for (int round = 0; round < 6; ++round) {
    for (int address = 0; address < 2; ++address) {
      const ReconnectWait wait = pacer.afterSession(kUnavailable);
      EXPECT_EQ(wait.reason, ReconnectReason::kNextAddress) << round << "/" << address;
      EXPECT_GE(wait.delay.count(), 0);
      EXPECT_LE(wait.delay.count(), kBase.count() / Backoff::kAddressJitterDivisor);
    }
    const int attempts = pacer.backoffAttempts();
    EXPECT_EQ(pacer.afterSession(kUnavailable).reason, ReconnectReason::kBackoff) << round;
    EXPECT_EQ(pacer.backoffAttempts(), attempts + 1) << "one growth per failed round";
    EXPECT_EQ(pacer.failedInRound(), 0u);
  }
}

TEST(ReconnectPacerTest, TheBackoffGrowsPerRoundAsBackoffWouldPerAttempt) {
  // Over two addresses the round-ending waits follow Backoff's windows, one doubling per round
  // (the jitter draws in between come from the same generator, so compare windows, not values).
  ReconnectPacer pacer(2, kBase, kCap, 7);
  for (int round = 0; round < 10; ++round) {
    EXPECT_EQ(pacer.afterSession(kUnavailable).reason, ReconnectReason::kNextAddress);
    const ReconnectWait wait = pacer.afterSession(kUnavailable);
    ASSERT_EQ(wait.reason, ReconnectReason::kBackoff);
    const int64_t window = std::min<int64_t>(kCap.count(), kBase.count() << round);
    EXPECT_LE(wait.delay.count(), window) << "round " << round;
    if (round > 0) {
      EXPECT_GE(wait.delay.count(), window / 2) << "round " << round;
    }
  }
}

TEST(ReconnectPacerTest, OneAddressWaitsExactlyAsTheBackoffDoes) {
  ReconnectPacer pacer(1, kBase, kCap, 42);
  Backoff backoff(kBase, kCap, 42);
  for (int i = 0; i < 12; ++i) {
    const ReconnectWait wait = pacer.afterSession(kUnavailable);
    EXPECT_EQ(wait.reason, ReconnectReason::kBackoff);
    EXPECT_EQ(wait.delay, backoff.next()) << "attempt " << i;
  }
}

TEST(ReconnectPacerTest, ARetryHintKeepsItsMeaningAndLeavesTheRoundAlone) {
  ReconnectPacer pacer(2, kBase, kCap, 3);
  EXPECT_EQ(pacer.afterSession(kUnavailable).reason, ReconnectReason::kNextAddress);
  const ReconnectWait shed =
      pacer.afterSession({.unavailable = false, .retry_after = milliseconds(5000)});
  EXPECT_EQ(shed.reason, ReconnectReason::kHint);
  EXPECT_GE(shed.delay.count(), 5000);
  EXPECT_LE(shed.delay.count(), 5000 + kBase.count());
  EXPECT_EQ(pacer.failedInRound(), 1u);
  EXPECT_EQ(pacer.backoffAttempts(), 0);
  EXPECT_EQ(pacer.afterSession(kUnavailable).reason, ReconnectReason::kBackoff);
}

TEST(ReconnectPacerTest, AStoreDownHintTriesTheOtherAddressesThenWaitsTheHintNotTheBackoff) {
  // Every replica's store is down: each ends the stream UNAVAILABLE with a hint. The agent
  // still tries the next address promptly (that one may have its store), and when the round
  // has failed it waits the hint, round after round, without the backoff growing.
  const SessionOutcome store_down{.unavailable = true, .retry_after = milliseconds(3000)};
  ReconnectPacer pacer(2, kBase, kCap, 13);
  const ReconnectWait lost =
      pacer.afterSession({.lived = true, .unavailable = true, .retry_after = milliseconds(3000)});
  EXPECT_EQ(lost.reason, ReconnectReason::kNextAddress);
  for (int round = 0; round < 10; ++round) {
    const ReconnectWait wait = pacer.afterSession(store_down);
    EXPECT_EQ(wait.reason, ReconnectReason::kHint) << "round " << round;
    EXPECT_GE(wait.delay.count(), 3000);
    EXPECT_LE(wait.delay.count(), 3000 + kBase.count());
    EXPECT_EQ(pacer.afterSession(store_down).reason, ReconnectReason::kNextAddress);
  }
  EXPECT_EQ(pacer.backoffAttempts(), 0);
  // One address: every failure ends the round, so the hint is every wait.
  ReconnectPacer one(1, kBase, kCap, 13);
  EXPECT_EQ(one.afterSession(store_down).reason, ReconnectReason::kHint);
  EXPECT_EQ(one.afterSession(store_down).reason, ReconnectReason::kHint);
  EXPECT_EQ(one.backoffAttempts(), 0);
}

TEST(ReconnectPacerTest, OtherFailuresWaitTheBackoffAsBefore) {
  // Not UNAVAILABLE (a refusal of another kind, no identity): no prompt move on.
  ReconnectPacer pacer(3, kBase, kCap, 5);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(pacer.afterSession({}).reason, ReconnectReason::kBackoff);
  }
  EXPECT_EQ(pacer.backoffAttempts(), 4);
}

TEST(ReconnectPacerTest, AStreamThatLivedStartsAFreshRoundWithFullJitter) {
  ReconnectPacer pacer(2, kBase, kCap, 9);
  for (int i = 0; i < 8; ++i) (void)pacer.afterSession(kUnavailable);
  EXPECT_EQ(pacer.backoffAttempts(), 4);
  const ReconnectWait lost = pacer.afterSession({.lived = true, .unavailable = true});
  EXPECT_EQ(lost.reason, ReconnectReason::kBackoff);
  EXPECT_LE(lost.delay.count(), kBase.count());
  EXPECT_EQ(pacer.backoffAttempts(), 1);
  EXPECT_EQ(pacer.failedInRound(), 0u);
  EXPECT_EQ(pacer.afterSession(kUnavailable).reason, ReconnectReason::kNextAddress);
}

TEST(ReconnectPacerTest, SameSeedSameWaits) {
  ReconnectPacer a(2, kBase, kCap, 11);
  ReconnectPacer b(2, kBase, kCap, 11);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(a.afterSession(kUnavailable).delay, b.afterSession(kUnavailable).delay);
  }
}

}  // namespace
}  // namespace postwarden::agent::link
