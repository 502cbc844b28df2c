#include "controller/rollout/rollout_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/unit/controller/rollout/rollout_sim.h"

namespace postwarden::controller::rollout {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using testing::find;
using testing::has;
using ::testing::HasSubstr;
using testing::hostsOf;
using ::testing::IsEmpty;
using testing::Kind;
using testing::Sim;
using testing::utc;

constexpr char kCanaryThenAll[] =
    "waves: [{canary: 1, soak: 10m}, {percent: 100}]\nsoak: 5m\nanytime: true\n";

TEST(RolloutEngineTest, SecondWaveWaitsForTheCanaryProbeAndSoak) {
  Sim sim(kCanaryThenAll, 4);
  std::vector<Decision> a = sim.step();
  EXPECT_EQ(a.at(0), (Decision{.kind = Kind::kStartWave, .wave = 0}));
  EXPECT_EQ(a.at(1), (Decision{.kind = Kind::kDispatch,
                               .host = "h01",
                               .version = "v2",
                               .job_id = "r1/h01/change/1",
                               .wave = 0}));
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), IsEmpty());  // no result yet
  sim.now += absl::Seconds(40);
  sim.result("h01", ChangeResult::kRepaired, "v2");  // its probe passed
  EXPECT_THAT(hostsOf(sim.step(), Kind::kStartSoak), ElementsAre("h01"));
  EXPECT_EQ(sim.wake_at, sim.now + absl::Minutes(10));
  sim.run(absl::Minutes(9));
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01"));  // still soaking
  sim.run(absl::Minutes(1));
  EXPECT_THAT(hostsOf(sim.log, Kind::kMarkDone), ElementsAre("h01"));
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03", "h04"));
  for (const char* h : {"h02", "h03", "h04"}) sim.result(h, ChangeResult::kKept, "v2");
  sim.step();
  sim.run(absl::Minutes(5));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kCompleted);
  EXPECT_TRUE(has(sim.log, Kind::kComplete));
}

TEST(RolloutEngineTest, AnOperatorPauseLetsInFlightHostsFinishAndStartsNoneUntilResumed) {
  Sim sim("waves: [{canary: 1, soak: 1m}, {percent: 100}]\nanytime: true\n", 3);
  sim.step();
  ASSERT_EQ(pause(sim.state, "").value().paused_by, "an operator");
  sim.state = pause(sim.state, "bob").value();
  EXPECT_EQ(pause(sim.state, "carol").status().code(), StatusCode::kFailedPrecondition);
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(5));
  EXPECT_THAT(hostsOf(sim.log, Kind::kMarkDone), ElementsAre("h01"));  // the canary finished
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01"));  // nothing new started
  EXPECT_EQ(sim.state.phase, RolloutPhase::kPaused);
  EXPECT_THAT(sim.state.reasons, ElementsAre("paused by bob"));
  sim.state = resume(sim.state).value();
  EXPECT_EQ(resume(sim.state).status().code(), StatusCode::kFailedPrecondition);
  sim.step();
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03"));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kRunning);
}

TEST(RolloutEngineTest, AFailedCanaryHaltsWhateverTheBudget) {
  Sim sim("waves: [{canary: 1}, {percent: 100}]\nmax_failures: 5\nanytime: true\n", 4);
  sim.step();
  sim.result("h01", ChangeResult::kRefused, "v1");
  std::vector<Decision> a = sim.step();
  ASSERT_NE(find(a, Kind::kHalt), nullptr);
  EXPECT_EQ(find(a, Kind::kHalt)->reason, "canary host 'h01' failed");
  EXPECT_FALSE(has(a, Kind::kRollBack));  // refused: nothing was changed
  sim.run(absl::Hours(1));
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01"));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kHalted);
  EXPECT_THAT(sim.state.reasons,
              ElementsAre("h01: job 'r1/h01/change/1': the agent refused the change"));
}

TEST(RolloutEngineTest, NothingIsDispatchedOutsideAHostsWindow) {
  Sim sim(
      "waves: [{percent: 100}]\nwindows:\n"
      "  - {days: [Sat], start: \"02:00\", end: \"04:00\", time_zone: UTC, selector: site=fra1}\n"
      "  - {days: [Sun], start: \"02:00\", end: \"04:00\", time_zone: UTC, selector: site=ams1}\n",
      4);
  std::vector<Decision> a = sim.step();  // Friday noon
  EXPECT_THAT(hostsOf(a, Kind::kDispatch), IsEmpty());
  ASSERT_NE(find(a, Kind::kPause), nullptr);
  EXPECT_THAT(find(a, Kind::kPause)->reason, HasSubstr("next opening 2026-12-05 02:00 UTC"));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kPaused);
  EXPECT_EQ(sim.wake_at, utc(2026, 12, 5, 2, 0));
  sim.now = utc(2026, 12, 5, 1, 59);
  EXPECT_THAT(sim.step(), IsEmpty());
  sim.now = utc(2026, 12, 5, 2, 0);
  a = sim.step();
  EXPECT_TRUE(has(a, Kind::kResume));
  EXPECT_THAT(hostsOf(a, Kind::kDispatch), ElementsAre("h01", "h03"));  // fra1 only
  for (const char* h : {"h01", "h03"}) sim.result(h, ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(10));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kPaused);  // ams1's window is tomorrow
  sim.now = utc(2026, 12, 6, 2, 0);
  sim.heartbeatAll();
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), ElementsAre("h02", "h04"));
}

// max_failures: 1; two of ten hosts fail in wave 2 while a third is still soaking.
TEST(RolloutEngineTest, BudgetExceededHaltsAndRollsBackTheFailedHosts) {
  Sim sim("waves: [{canary: 1}, {percent: 30}, {percent: 100}]\nmax_failures: 1\nanytime: true\n",
          10);
  sim.step();
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(10));
  ASSERT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03", "h04"));
  sim.result("h02", ChangeResult::kRefused, "v1");
  sim.result("h03", ChangeResult::kRepaired, "v2");
  sim.result("h04", ChangeResult::kRepaired, "v2");
  std::vector<Decision> a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kMarkFailed), ElementsAre("h02"));  // 1 failure: within budget
  EXPECT_EQ(sim.state.phase, RolloutPhase::kRunning);
  sim.run(absl::Minutes(2));
  sim.gates("h03", GateFigures{.fatal_lines = 2});
  a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kMarkFailed), ElementsAre("h03"));
  ASSERT_NE(find(a, Kind::kHalt), nullptr);
  EXPECT_EQ(find(a, Kind::kHalt)->reason,
            "2 of 10 hosts failed, more than max_failures allows (1)");
  const Decision* rollback = find(a, Kind::kRollBack);
  ASSERT_NE(rollback, nullptr);
  EXPECT_EQ(rollback->host, "h03");  // h02 was refused and never changed
  EXPECT_EQ(rollback->version, "v1");
  EXPECT_EQ(rollback->job_id, "r1/h03/rollback/1");
  sim.result("h03", ChangeResult::kRepaired, "v1");
  sim.run(absl::Minutes(10));  // h04 is in flight: it finishes its soak
  EXPECT_EQ(sim.host("h04").phase, HostPhase::kDone);
  EXPECT_EQ(sim.host("h03").phase, HostPhase::kRolledBack);
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03", "h04"));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kHalted);
  EXPECT_THAT(sim.state.reasons,
              ElementsAre(HasSubstr("h02: job 'r1/h02/change/1': the agent refused"),
                          "h03: health gate while soaking: fatal lines 2 > 0"));
}

TEST(RolloutEngineTest, InFlightHostsThatFailAfterTheHaltAreCounted) {
  Sim sim("waves: [{percent: 100}]\nmax_failures: 0\nanytime: true\n", 3);
  sim.step();
  sim.result("h01", ChangeResult::kRolledBack, "v1");
  sim.step();
  EXPECT_EQ(sim.state.phase, RolloutPhase::kHalted);
  sim.result("h02", ChangeResult::kNeedsHuman, "v2");
  sim.step();
  EXPECT_EQ(sim.state.reasons.size(), 2u);
  EXPECT_THAT(sim.state.reasons,
              Contains(HasSubstr("h02: job 'r1/h02/change/1': the agent needs a human")));
  EXPECT_FALSE(has(sim.log, Kind::kRollBack));  // neither runs the target: nothing to undo
}

TEST(RolloutEngineTest, MissedReportsCountAsFailures) {
  Sim sim(
      "waves: [{percent: 100}]\nmax_failures: 5\nanytime: true\n"
      "health: {missed_reports: 3, report_interval: 1m}\n",
      2);
  sim.step();
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.now += absl::Minutes(2);
  sim.heartbeat("h01");
  EXPECT_THAT(hostsOf(sim.step(), Kind::kMarkFailed), IsEmpty());
  sim.now += absl::Minutes(1);  // h02: 3 minutes without a result for its job
  std::vector<Decision> a = sim.step();
  ASSERT_THAT(hostsOf(a, Kind::kMarkFailed), ElementsAre("h02"));
  EXPECT_THAT(a.front().reason, HasSubstr("no result for job 'r1/h02/change/1' within 3"));
  EXPECT_THAT(hostsOf(a, Kind::kRollBack), ElementsAre("h02"));  // it may still apply it
  sim.now += absl::Minutes(3);                                   // h01 falls silent while soaking
  a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kMarkFailed), Contains("h01"));
  EXPECT_THAT(sim.host("h01").failure, HasSubstr("no report for 3 report intervals"));
}

TEST(RolloutEngineTest, SilenceIsJudgedAsOfWhatTheControllerHasStored) {
  Sim sim(
      "waves: [{percent: 100}]\nmax_failures: 5\nanytime: true\n"
      "health: {missed_reports: 3, report_interval: 1m}\n",
      2);
  sim.step();
  // Four minutes on, but the controller's write queue still holds what arrived after the
  // first two: the results may be in it, so nobody is failed yet.
  sim.fleet.stored_through = sim.now + absl::Minutes(2);
  sim.now += absl::Minutes(4);
  EXPECT_THAT(hostsOf(sim.step(), Kind::kMarkFailed), IsEmpty());
  // h01's result is stored; the queue has caught up: h02 was silent for three intervals.
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.fleet.stored_through = absl::InfiniteFuture();
  EXPECT_THAT(hostsOf(sim.step(), Kind::kMarkFailed), ElementsAre("h02"));
  EXPECT_EQ(sim.host("h01").phase, HostPhase::kSoaking);
}

TEST(RolloutEngineTest, AResultIsAwaitedFromWhenItsJobWasSent) {
  Sim sim(
      "waves: [{percent: 100}]\nmax_failures: 5\nanytime: true\n"
      "health: {missed_reports: 3, report_interval: 1m}\n",
      1);
  const absl::Time decided = sim.now;
  sim.step();
  // Storing the step took 2 minutes (a large wave on a busy disk): the job left then.
  sim.fleet.sent_at[decided] = decided + absl::Minutes(2);
  sim.now += absl::Minutes(4);  // 4 minutes after the decision, 2 after the job was sent
  EXPECT_THAT(hostsOf(sim.step(), Kind::kMarkFailed), IsEmpty());
  sim.now += absl::Minutes(1);  // 3 intervals after it was sent
  EXPECT_THAT(hostsOf(sim.step(), Kind::kMarkFailed), ElementsAre("h01"));
}

constexpr char kOneWindow[] =
    "waves: [{canary: 1, soak: 90m}, {percent: 100}]\nwindows: [\"Sat 02:00-03:00 UTC\"]\n";

TEST(RolloutEngineTest, WindowClosingMidRolloutPauses) {
  Sim sim(std::string(kOneWindow) + "on_window_end: pause\n", 3);
  sim.now = utc(2026, 12, 5, 2, 0);
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), ElementsAre("h01"));
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(90));  // the canary soaks past the window's end
  EXPECT_EQ(sim.host("h01").phase, HostPhase::kDone);
  EXPECT_EQ(sim.state.phase, RolloutPhase::kPaused);
  EXPECT_THAT(sim.state.reasons.at(0), HasSubstr("next opening 2026-12-12 02:00 UTC"));
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01"));
  sim.now = utc(2026, 12, 12, 2, 0);
  std::vector<Decision> a = sim.step();
  EXPECT_TRUE(has(a, Kind::kResume));
  EXPECT_THAT(hostsOf(a, Kind::kDispatch), ElementsAre("h02", "h03"));
}

TEST(RolloutEngineTest, WindowClosingMidRolloutRollsBackWhenTheSpecSaysSo) {
  Sim sim(std::string(kOneWindow) + "on_window_end: rollback\nrollback: in_window\n", 3);
  sim.now = utc(2026, 12, 5, 2, 0);
  sim.step();
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(90));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kRollingBack);
  EXPECT_THAT(sim.state.reasons.at(0), HasSubstr("window closed with 2 pending host(s) of wave 2"));
  EXPECT_FALSE(has(sim.log, Kind::kRollBack));  // rollback: in_window waits for the next one
  EXPECT_EQ(sim.wake_at, utc(2026, 12, 12, 2, 0));
  sim.now = utc(2026, 12, 12, 2, 0);
  sim.heartbeatAll();
  EXPECT_THAT(hostsOf(sim.step(), Kind::kRollBack), ElementsAre("h01"));
  sim.result("h01", ChangeResult::kRepaired, "v1");
  std::vector<Decision> a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kRolledBack), ElementsAre("h01"));
  EXPECT_TRUE(has(a, Kind::kAbort));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kAborted);
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01"));
}

TEST(RolloutEngineTest, RollbackGoesWaveByWaveInReverse) {
  Sim sim("waves: [{canary: 1}, {percent: 100}]\nsoak: 1m\nanytime: true\n", 3);
  sim.step();
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.run(absl::Minutes(1));
  for (const char* h : {"h02", "h03"}) sim.result(h, ChangeResult::kRepaired, "v2");
  sim.step();
  sim.state = requestRollback(sim.state, "operator: bad TLS settings");
  std::vector<Decision> a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kRollBack), ElementsAre("h02", "h03"));  // wave 2 first
  sim.result("h02", ChangeResult::kRepaired, "v1");
  EXPECT_THAT(hostsOf(sim.step(), Kind::kRollBack), IsEmpty());  // h03 still rolling back
  sim.result("h03", ChangeResult::kRepaired, "v1");
  EXPECT_THAT(hostsOf(sim.step(), Kind::kRollBack), ElementsAre("h01"));
  sim.result("h01", ChangeResult::kRepaired, "v1");
  a = sim.step();
  ASSERT_NE(find(a, Kind::kAbort), nullptr);
  EXPECT_EQ(find(a, Kind::kAbort)->reason, "rolled back: operator: bad TLS settings");
}

TEST(RolloutEngineTest, ApprovalsNeedDistinctApproversOtherThanTheCreator) {
  Sim sim("waves: [{percent: 100}]\napprovals: 2\nanytime: true\n", 2, "alice");
  EXPECT_EQ(approve(sim.state, "alice").status().code(), StatusCode::kPermissionDenied);
  sim.state = *approve(sim.state, "bob");
  EXPECT_EQ(approve(sim.state, "bob").status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(sim.step(), IsEmpty());
  EXPECT_EQ(sim.state.phase, RolloutPhase::kAwaitingApproval);
  sim.state = *approve(sim.state, "carol");
  std::vector<Decision> a = sim.step();
  EXPECT_TRUE(has(a, Kind::kApproved));
  EXPECT_THAT(hostsOf(a, Kind::kDispatch), ElementsAre("h01", "h02"));
}

TEST(RolloutEngineTest, AChangedSpecOrTargetVoidsApprovals) {
  Sim sim("waves: [{canary: 1}, {percent: 100}]\napprovals: 1\nanytime: true\n", 3);
  sim.state = *approve(sim.state, "bob");
  sim.step();
  sim.state.spec_digest = "spec-digest-2";  // the spec was edited
  std::vector<Decision> a = sim.step();
  ASSERT_NE(find(a, Kind::kPause), nullptr);
  EXPECT_THAT(find(a, Kind::kPause)->reason, HasSubstr("0 of 1 valid"));
  EXPECT_EQ(sim.state.phase, RolloutPhase::kAwaitingApproval);
  sim.state = *approve(sim.state, "bob");  // approving the new spec
  sim.state.spec.baseline.version = "v3";  // and then the target changes
  sim.step();
  EXPECT_EQ(sim.state.phase, RolloutPhase::kAwaitingApproval);
  EXPECT_EQ(validApprovals(sim.state), 0);
}

TEST(RolloutEngineTest, SteppingIsIdempotentAcrossAControllerRestart) {
  Sim sim(kCanaryThenAll, 3);
  const RolloutState before = sim.state;
  const Decisions first = step(before, sim.fleet, sim.now);
  const Decisions again = step(before, sim.fleet, sim.now);  // restarted before persisting
  EXPECT_EQ(first.actions, again.actions);
  EXPECT_EQ(first.actions.at(1).job_id, "r1/h01/change/1");
  const Decisions after = step(first.next, sim.fleet, sim.now);  // persisted: nothing new
  EXPECT_FALSE(has(after.actions, Kind::kDispatch));
  EXPECT_THAT(step(first.next, sim.fleet, sim.now + absl::Seconds(30)).actions, IsEmpty());
}

TEST(RolloutEngineTest, RestartingChangesWaitForAWindowEvenWithAnytime) {
  Sim sim(
      "waves: [{percent: 100}]\nmax_failures: 5\nanytime: true\nwindows:\n"
      "  - {days: [Sat], start: \"02:00\", end: \"04:00\", time_zone: UTC, selector: site=fra1}\n",
      4);
  for (const char* h : {"h01", "h02"}) {
    for (HostProgress& p : sim.state.hosts) {
      if (p.id == h) p.restart_required = true;
    }
  }
  std::vector<Decision> a = sim.step();  // Friday: h01 (fra1) waits, h02 (ams1) has no window
  EXPECT_THAT(hostsOf(a, Kind::kDispatch), ElementsAre("h04"));  // h03's window is closed
  EXPECT_THAT(hostsOf(a, Kind::kMarkFailed), ElementsAre("h02"));
  EXPECT_THAT(sim.host("h02").failure, HasSubstr("restarts Postfix and no maintenance window"));
  sim.now = utc(2026, 12, 5, 2, 0);
  sim.heartbeatAll();
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), ElementsAre("h01", "h03"));
}

// The worst case: every host the rollout changes fails, one report at a time. With at most 2
// in flight, the failure that exceeds the budget finds at most one other host still changing.
TEST(RolloutEngineTest, MaxInFlightBoundsTheOvershootOfTheFailureBudget) {
  Sim unlimited("waves: [{percent: 100}]\nmax_failures: 1\nanytime: true\n", 10);
  EXPECT_EQ(hostsOf(unlimited.step(), Kind::kDispatch).size(), 10u);  // the default: all at once

  Sim sim("waves: [{percent: 100}]\nmax_failures: 1\nmax_in_flight: 2\nanytime: true\n", 10);
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), ElementsAre("h01", "h02"));
  for (int i = 0; i < 20; ++i) {
    auto dispatched =
        std::find_if(sim.state.hosts.begin(), sim.state.hosts.end(),
                     [](const HostProgress& h) { return h.phase == HostPhase::kDispatched; });
    if (dispatched == sim.state.hosts.end()) break;
    sim.result(dispatched->id, ChangeResult::kRefused, "v1");
    sim.step();
  }
  EXPECT_EQ(sim.state.phase, RolloutPhase::kHalted);
  const std::vector<std::string> failed = hostsOf(sim.log, Kind::kMarkFailed);
  EXPECT_THAT(failed, ElementsAre("h01", "h02", "h03"));  // max_failures 1 + at most 2 beyond
  EXPECT_LE(failed.size(), 1u + 2u);
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03"));
}

TEST(RolloutEngineTest, MaxInFlightAsAPercentStartsTheNextHostWhenOneIsDone) {
  Sim sim("waves: [{percent: 100}]\nsoak: 2m\nmax_in_flight: 25%\nanytime: true\n", 8);
  EXPECT_THAT(hostsOf(sim.step(), Kind::kDispatch), ElementsAre("h01", "h02"));  // 25% of 8
  sim.result("h01", ChangeResult::kRepaired, "v2");
  std::vector<Decision> a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kStartSoak), ElementsAre("h01"));
  EXPECT_FALSE(has(a, Kind::kDispatch));  // soaking hosts are in flight too
  sim.run(absl::Minutes(2));
  EXPECT_EQ(sim.host("h01").phase, HostPhase::kDone);
  EXPECT_THAT(hostsOf(sim.log, Kind::kDispatch), ElementsAre("h01", "h02", "h03"));
}

TEST(RolloutEngineTest, ADeliveryDropWhileSoakingFailsTheHostWithTheFigures) {
  Sim sim("waves: [{percent: 100}]\nsoak: 10m\nmax_failures: 5\nanytime: true\n", 2);
  sim.step();
  sim.result("h01", ChangeResult::kRepaired, "v2");
  sim.result("h02", ChangeResult::kRepaired, "v2");
  sim.step();
  sim.now += absl::Minutes(1);
  const GateFigures steady{.connections = 40,
                           .deliveries = 30,
                           .connections_before = 40,
                           .deliveries_before = 30,
                           .before_known = true};
  GateFigures dropped = steady;
  dropped.deliveries = 2;
  sim.gates("h01", steady);
  sim.gates("h02", dropped);
  std::vector<Decision> a = sim.step();
  EXPECT_THAT(hostsOf(a, Kind::kMarkFailed), ElementsAre("h02"));
  EXPECT_EQ(sim.host("h02").failure,
            "health gate while soaking: deliveries 2 < 50% of 30 in the same period before the "
            "change");
  EXPECT_THAT(hostsOf(a, Kind::kRollBack), ElementsAre("h02"));
}

}  // namespace
}  // namespace postwarden::controller::rollout
