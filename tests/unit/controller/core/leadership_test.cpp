// Leadership (controller/core/leadership.h): the decision rule, and the class driven by hand
// over a fake lease. The real advisory lock is tested against PostgreSQL in
// tests/unit/controller/store/postgres_coordination_test.cpp.
#include "controller/core/leadership.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace postwarden::controller::core {
namespace {

// A lease whose answers the test sets; counts releases.
class FakeLease : public store::Lease {
 public:
  Result<bool> tryAcquire() override { return acquire; }
  Result<bool> stillHeld() override { return held; }
  void release() override { ++releases; }

  Result<bool> acquire = false;
  Result<bool> held = true;
  int releases = 0;
};

TEST(LeadershipStepTest, TakesTheLeadOnlyWhenTheLeaseIsGranted) {
  EXPECT_TRUE(leadershipStep(false, true).leader);
  EXPECT_FALSE(leadershipStep(false, false).leader);
  EXPECT_FALSE(leadershipStep(false, false).release);  // kept for the next try
  EXPECT_FALSE(leadershipStep(false, UnavailableError("down")).leader);
  EXPECT_TRUE(leadershipStep(false, UnavailableError("down")).release);
}

TEST(LeadershipStepTest, ALeaderThatCannotProveItsLeaseStepsDownAndLetsGo) {
  EXPECT_TRUE(leadershipStep(true, true).leader);
  EXPECT_FALSE(leadershipStep(true, true).release);
  for (const Result<bool>& answer : {Result<bool>(false), Result<bool>(UnavailableError("x")),
                                     Result<bool>(DeadlineExceededError("slow"))}) {
    const LeadershipDecision d = leadershipStep(true, answer);
    EXPECT_FALSE(d.leader);
    EXPECT_TRUE(d.release);
  }
}

TEST(LeadershipTest, WithoutALeaseAlwaysLeads) {
  Leadership alone(nullptr);
  EXPECT_TRUE(alone.isLeader());
  alone.check();
  EXPECT_TRUE(alone.isLeader());
}

TEST(LeadershipTest, LeadsWhileTheLeaseHoldsAndReportsEveryChange) {
  FakeLease lease;
  std::vector<bool> changes;
  Leadership leadership(&lease, {.on_change = [&](bool leader) { changes.push_back(leader); }});
  EXPECT_FALSE(leadership.isLeader());
  leadership.check();  // another replica holds it
  EXPECT_FALSE(leadership.isLeader());
  lease.acquire = true;  // the holder died: its session freed the lock
  leadership.check();
  EXPECT_TRUE(leadership.isLeader());
  leadership.check();  // still held: no change
  lease.held = UnavailableError("connection lost");
  leadership.check();
  EXPECT_FALSE(leadership.isLeader());
  EXPECT_EQ(lease.releases, 1);
  EXPECT_EQ(changes, (std::vector<bool>{true, false}));
}

TEST(LeadershipTest, TheThreadTakesTheLeadAndStopGivesItUp) {
  FakeLease lease;
  lease.acquire = true;
  Leadership leadership(&lease, {.check_interval = std::chrono::milliseconds(10)});
  leadership.start();
  for (int i = 0; i < 500 && !leadership.isLeader(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(leadership.isLeader());
  leadership.stop();
  EXPECT_FALSE(leadership.isLeader());
  EXPECT_GE(lease.releases, 1);
}

}  // namespace
}  // namespace postwarden::controller::core
