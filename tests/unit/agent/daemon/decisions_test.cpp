#include "agent/daemon/decisions.h"

#include <gtest/gtest.h>

namespace postwarden::agent::daemon {
namespace {

using std::chrono::milliseconds;
using Kind = Finding::Kind;
using TimePoint = std::chrono::steady_clock::time_point;

constexpr Trigger kAllTriggers[] = {
    Trigger::kStartup,    Trigger::kFileChange,   Trigger::kPeriodic,     Trigger::kRetry,
    Trigger::kAssignment, Trigger::kApplyCommand, Trigger::kVerifyCommand};

Finding outOfLine(std::string change = "v1\0main\0master") {
  return {.kind = Kind::kOutOfLine, .change = std::move(change)};
}

Memory failedBefore(std::string change) {
  return {.failed = FailedChange{std::move(change), "rolled_back", "probe failed"}};
}

TEST(DecideTest, NothingToDoWithoutABaseline) {
  for (Trigger t : kAllTriggers) {
    Decision d = decide({.kind = Kind::kNoBaseline}, {}, t);
    EXPECT_EQ(d.action, Action::kNothing);
    EXPECT_FALSE(d.drift_event);
  }
}

TEST(DecideTest, ARefusedBaselineOrPlanIsReportedAsRefusedWithoutDrift) {
  for (Kind kind : {Kind::kBaselineRefused, Kind::kPlanFailed}) {
    Decision d = decide({.kind = kind}, {}, Trigger::kPeriodic);
    EXPECT_EQ(d.action, Action::kReportRefused);
    EXPECT_FALSE(d.drift_event);
    EXPECT_FALSE(d.force_report) << "a periodic check only reports what changed";
  }
}

TEST(DecideTest, ReportsAreForcedOnlyWhenSomeoneAsked) {
  for (Trigger t : kAllTriggers) {
    const bool asked = t == Trigger::kStartup || t == Trigger::kAssignment ||
                       t == Trigger::kApplyCommand || t == Trigger::kVerifyCommand;
    EXPECT_EQ(decide({.kind = Kind::kCompliant}, {}, t).force_report, asked);
    EXPECT_EQ(decide(outOfLine(), {}, t).force_report, asked);
  }
}

TEST(DecideTest, DriftIsRepairedInEnforceModeAndTheEventSaysSo) {
  Decision d = decide(outOfLine(), {.enforce = true}, Trigger::kFileChange);
  EXPECT_EQ(d.action, Action::kRepair);
  EXPECT_TRUE(d.drift_event);
  EXPECT_TRUE(d.drift_repairing);
}

TEST(DecideTest, DetectOnlyReportsDriftAndChangesNothing) {
  for (Trigger t : kAllTriggers) {
    Decision d = decide(outOfLine(), {.enforce = false}, t);
    EXPECT_EQ(d.action, Action::kReportDrifted);
    EXPECT_TRUE(d.drift_event);
    EXPECT_FALSE(d.drift_repairing);
  }
}

TEST(DecideTest, OutsideItsRepairWindowsDriftWaitsUnlessAnOperatorApplies) {
  Finding closed = outOfLine();
  closed.repair_window_open = false;
  for (Trigger t : kAllTriggers) {
    Decision d = decide(closed, {.enforce = true}, t);
    if (t == Trigger::kApplyCommand) {
      EXPECT_EQ(d.action, Action::kRepair);
      EXPECT_FALSE(d.repair_waits);
      continue;
    }
    EXPECT_EQ(d.action, Action::kReportDrifted);
    EXPECT_TRUE(d.repair_waits);
    EXPECT_TRUE(d.drift_event);
    EXPECT_FALSE(d.drift_repairing);
  }
  // Detect only says nothing of waiting: it never repairs.
  EXPECT_FALSE(decide(closed, {.enforce = false}, Trigger::kPeriodic).repair_waits);
  // Open again: the next check repairs.
  EXPECT_EQ(decide(outOfLine(), {.enforce = true}, Trigger::kPeriodic).action, Action::kRepair);
}

TEST(DecideTest, AChangeWhoseVerifyCannotPassIsRefusedNotApplied) {
  Finding finding = outOfLine();
  finding.verify_unreachable = true;
  for (Trigger t : kAllTriggers) {
    Decision d = decide(finding, {}, t);
    EXPECT_EQ(d.action, Action::kReportRefused);
    EXPECT_TRUE(d.drift_event) << "the files are still out of line";
    EXPECT_FALSE(d.drift_repairing);
  }
}

TEST(DecideTest, AChangeThatFailedIsHeldUntilAnOperatorAsks) {
  const Memory memory = failedBefore("same");
  for (Trigger t : kAllTriggers) {
    Decision d = decide(outOfLine("same"), memory, t);
    if (t == Trigger::kApplyCommand) {
      EXPECT_EQ(d.action, Action::kRepair) << "`command apply` retries";
    } else {
      EXPECT_EQ(d.action, Action::kHold);
      EXPECT_FALSE(d.drift_repairing);
    }
  }
}

TEST(DecideTest, ADifferentChangeIsTriedEvenAfterAFailure) {
  EXPECT_EQ(decide(outOfLine("other"), failedBefore("same"), Trigger::kPeriodic).action,
            Action::kRepair);
}

TEST(DecideTest, CompliantFilesProbeTheServiceExceptAfterAFileEventOrRetry) {
  for (Trigger t : kAllTriggers) {
    const bool keeps = t == Trigger::kFileChange || t == Trigger::kRetry;
    EXPECT_EQ(decide({.kind = Kind::kCompliant}, {}, t).action,
              keeps ? Action::kKeepProbe : Action::kProbe);
    EXPECT_FALSE(decide({.kind = Kind::kCompliant}, {}, t).drift_event);
  }
}

TEST(AfterRepairTest, RemembersAFailedChangeAndForgetsItOnSuccess) {
  Memory memory = afterRepair({}, {"c1", "rolled_back", "AUTH offered before TLS"}, true);
  ASSERT_TRUE(memory.failed);
  EXPECT_EQ(memory.failed->change, "c1");
  EXPECT_EQ(memory.failed->reason, "AUTH offered before TLS");
  EXPECT_TRUE(memory.enforce) << "the mode is kept";
  memory = afterRepair(memory, {"c2", "repaired", ""}, false);
  EXPECT_FALSE(memory.failed);
}

// The schedule, with explicit times standing in for the steady clock.
const TimePoint kStart{std::chrono::hours(1)};
const Timing kTiming{.check_interval = milliseconds(60000),
                     .splay = milliseconds(6000),
                     .retry_locked = milliseconds(2000)};

TEST(ScheduleTest, ThePeriodicCheckComesAfterTheIntervalPlusItsShareOfTheSplay) {
  Schedule s = afterWake({}, {Trigger::kPeriodic, kStart}, kStart, kTiming, 0.0);
  EXPECT_EQ(nextWake(s).trigger, Trigger::kPeriodic);
  EXPECT_EQ(nextWake(s).at, kStart + milliseconds(60000));
  s = afterWake({}, {Trigger::kPeriodic, kStart}, kStart, kTiming, 0.5);
  EXPECT_EQ(nextWake(s).at, kStart + milliseconds(63000));
  s = afterWake({}, {Trigger::kPeriodic, kStart}, kStart, kTiming, 7.0);
  EXPECT_EQ(nextWake(s).at, kStart + milliseconds(66000)) << "a draw is clamped to [0, 1]";
}

TEST(ScheduleTest, ALockedRepairIsRetriedSoonThenThePeriodicCheckResumes) {
  Schedule s = afterWake({}, {Trigger::kPeriodic, kStart}, kStart, kTiming, 0.0);
  const TimePoint locked_at = kStart + milliseconds(10000);
  s = afterLockedRepair(s, locked_at, kTiming);
  Wake wake = nextWake(s);
  EXPECT_EQ(wake.trigger, Trigger::kRetry);
  EXPECT_EQ(wake.at, locked_at + milliseconds(2000));
  s = afterWake(s, wake, wake.at, kTiming, 0.0);
  EXPECT_EQ(nextWake(s).trigger, Trigger::kPeriodic);
  EXPECT_EQ(nextWake(s).at, kStart + milliseconds(60000)) << "a retry does not move the period";
}

TEST(ScheduleTest, ARetryDueAfterThePeriodicCheckIsCoveredByIt) {
  Schedule s = afterWake({}, {Trigger::kPeriodic, kStart}, kStart, kTiming, 0.0);
  s = afterLockedRepair(s, kStart + milliseconds(59000), kTiming);  // due at 61 s
  Wake wake = nextWake(s);
  EXPECT_EQ(wake.trigger, Trigger::kPeriodic);
  s = afterWake(s, wake, wake.at, kTiming, 0.0);
  EXPECT_FALSE(s.retry_at);
  EXPECT_EQ(nextWake(s).at, kStart + milliseconds(120000));
}

}  // namespace
}  // namespace postwarden::agent::daemon
