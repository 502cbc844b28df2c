#include <algorithm>

#include "controller/rollout/health_gates.h"
#include "controller/rollout/internal/stepper.h"

namespace postwarden::controller::rollout::internal {

std::string timeText(absl::Time t) {
  if (t == absl::InfiniteFuture()) return "never";
  return absl::FormatTime("%Y-%m-%d %H:%M UTC", t, absl::UTCTimeZone());
}

void Stepper::observe(HostProgress& h) {
  const HostReport* r = report(h);
  if (h.phase == HostPhase::kDispatched) {
    if (r && r->job_id == h.job_id && r->result != ChangeResult::kNone) return observeResult(h, *r);
    return waitForResult(h, false);
  }
  if (h.phase == HostPhase::kSoaking) return observeSoak(h, r);
  if (h.phase == HostPhase::kRollingBack) return observeRollback(h, r);
}

void Stepper::observeResult(HostProgress& h, const HostReport& r) {
  const std::string job = "job '" + h.job_id + "'";
  switch (r.result) {
    case ChangeResult::kRepaired:
    case ChangeResult::kKept:
      if (r.version != spec().baseline.version) {
        return fail(h,
                    job + " reported '" + std::string(toString(r.result)) +
                        "' but the host runs version '" + r.version + "'",
                    true);
      }
      h.phase = HostPhase::kSoaking;
      h.since = now_;
      emit(Kind::kStartSoak, &h);
      return wakeAt(now_ + s_.wave_soaks[static_cast<size_t>(h.wave)]);
    case ChangeResult::kRolledBack:
      return fail(h, job + ": the agent rolled the change back (its checks failed)", false);
    case ChangeResult::kRefused:
      return fail(h, job + ": the agent refused the change", false);
    case ChangeResult::kNeedsHuman:
      return fail(h, job + ": the agent needs a human (the change could not be undone)", false);
    case ChangeResult::kOutsideWindow:
      return fail(h,
                  job +
                      ": the agent would not start it outside its maintenance windows by its "
                      "own clock (check the clocks of controller and host)",
                  false);
    case ChangeResult::kNone:
      break;
  }
}

void Stepper::waitForResult(HostProgress& h, bool rollback) {
  const absl::Time sent = sentAt(h.since);
  if (heard_until_ - sent < deadline()) return wakeAt(sent + deadline());
  const std::string why = "no result for job '" + h.job_id + "' within " +
                          std::to_string(spec().health.missed_reports) + " report intervals";
  if (rollback) return rollbackFailed(h, why);
  fail(h, why, true);  // the agent may still apply it: roll back to be sure
}

void Stepper::observeSoak(HostProgress& h, const HostReport* r) {
  const HealthGate& gate = spec().health;
  if (r && r->last_report >= h.since) {
    std::string exceeded = exceededGates(gate, r->gates);
    if (!exceeded.empty()) return fail(h, "health gate while soaking: " + exceeded, true);
  }
  const absl::Time last = r ? std::max(r->last_report, h.since) : h.since;
  if (heard_until_ - last >= deadline()) {
    return fail(h,
                "no report for " + std::to_string(gate.missed_reports) +
                    " report intervals (since " + timeText(last) + ")",
                true);
  }
  const absl::Time end = h.since + s_.wave_soaks[static_cast<size_t>(h.wave)];
  if (now_ >= end) {
    h.phase = HostPhase::kDone;
    return emit(Kind::kMarkDone, &h);
  }
  wakeAt(std::min(end, last + deadline()));
}

void Stepper::observeRollback(HostProgress& h, const HostReport* r) {
  if (!r || r->job_id != h.job_id || r->result == ChangeResult::kNone) {
    return waitForResult(h, true);
  }
  const bool ok = r->result == ChangeResult::kRepaired || r->result == ChangeResult::kKept;
  if (ok && r->version == h.previous_version) {
    h.phase = HostPhase::kRolledBack;
    h.needs_rollback = false;
    return emit(Kind::kRolledBack, &h);
  }
  rollbackFailed(h, "the agent reported '" + std::string(toString(r->result)) + "' on version '" +
                        r->version + "'");
}

void Stepper::fail(HostProgress& h, std::string reason, bool needs_rollback) {
  h.phase = HostPhase::kFailed;
  h.failure = std::move(reason);
  h.needs_rollback = needs_rollback;
  emit(Kind::kMarkFailed, &h, h.failure);
}

void Stepper::rollbackFailed(HostProgress& h, const std::string& why) {
  h.phase = HostPhase::kFailed;
  h.rollback_failed = true;
  h.failure += (h.failure.empty() ? "" : "; ") + ("rollback failed: " + why);
  emit(Kind::kMarkFailed, &h, h.failure);
}

void Stepper::failUnschedulable() {
  if (s_.phase != RolloutPhase::kRunning && s_.phase != RolloutPhase::kPaused) return;
  for (HostProgress& h : s_.hosts) {
    if (h.phase == HostPhase::kPending && h.wave >= 0 && h.restart_required &&
        windowsFor(spec(), h.labels).empty()) {
      fail(h, "the change restarts Postfix and no maintenance window matches this host", false);
    }
  }
}

}  // namespace postwarden::controller::rollout::internal
