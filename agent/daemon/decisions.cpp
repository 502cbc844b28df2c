#include "agent/daemon/decisions.h"

#include <algorithm>

namespace postwarden::agent::daemon {
namespace {

bool someoneAsked(Trigger trigger) {
  return trigger == Trigger::kStartup || trigger == Trigger::kAssignment ||
         trigger == Trigger::kApplyCommand || trigger == Trigger::kVerifyCommand;
}

Decision outOfLine(const Finding& finding, const Memory& memory, Trigger trigger) {
  Decision decision{.force_report = someoneAsked(trigger), .drift_event = true};
  // Only an operator's `command apply` retries a change that failed; new files or a new
  // baseline are a new change.
  const bool retry_allowed = trigger == Trigger::kApplyCommand || !memory.failed ||
                             memory.failed->change != finding.change;
  if (!memory.enforce) {
    decision.action = Action::kReportDrifted;
  } else if (finding.verify_unreachable) {
    decision.action = Action::kReportRefused;  // it would only be applied and rolled back
  } else if (!retry_allowed) {
    decision.action = Action::kHold;
  } else if (!finding.repair_window_open && trigger != Trigger::kApplyCommand) {
    // An operator's `command apply` is a decision made now; everything else waits.
    decision.action = Action::kReportDrifted;
    decision.repair_waits = true;
  } else {
    decision.action = Action::kRepair;
    decision.drift_repairing = true;
  }
  return decision;
}

}  // namespace

Decision decide(const Finding& finding, const Memory& memory, Trigger trigger) {
  switch (finding.kind) {
    case Finding::Kind::kNoBaseline:
      return {};
    case Finding::Kind::kBaselineRefused:
    case Finding::Kind::kPlanFailed:
      return {.action = Action::kReportRefused, .force_report = someoneAsked(trigger)};
    case Finding::Kind::kOutOfLine:
      return outOfLine(finding, memory, trigger);
    case Finding::Kind::kCompliant:
      break;
  }
  // The daemon's own write, or an edit that left the files right, says nothing new about the
  // service; every other check probes it (an expired certificate, a dead smtpd).
  const bool probe = trigger != Trigger::kFileChange && trigger != Trigger::kRetry;
  return {.action = probe ? Action::kProbe : Action::kKeepProbe,
          .force_report = someoneAsked(trigger)};
}

Memory afterRepair(Memory memory, FailedChange attempt, bool failed) {
  memory.failed.reset();
  if (failed) memory.failed = std::move(attempt);
  return memory;
}

Schedule afterLockedRepair(Schedule schedule, std::chrono::steady_clock::time_point now,
                           const Timing& timing) {
  schedule.retry_at = now + timing.retry_locked;
  return schedule;
}

Wake nextWake(const Schedule& schedule) {
  if (schedule.retry_at && *schedule.retry_at < schedule.next_check) {
    return {Trigger::kRetry, *schedule.retry_at};
  }
  return {Trigger::kPeriodic, schedule.next_check};
}

Schedule afterWake(Schedule schedule, const Wake& wake, std::chrono::steady_clock::time_point now,
                   const Timing& timing, double splay_draw) {
  if (wake.trigger == Trigger::kRetry) {
    schedule.retry_at.reset();
    return schedule;
  }
  // A periodic check also covers a retry that was due at the same time.
  schedule.retry_at.reset();
  const auto splay = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max<int64_t>(timing.splay.count(), 0) * std::clamp(splay_draw, 0.0, 1.0) *
      std::chrono::milliseconds(1));
  schedule.next_check = now + timing.check_interval + splay;
  return schedule;
}

}  // namespace postwarden::agent::daemon
