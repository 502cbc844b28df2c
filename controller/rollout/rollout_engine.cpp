#include "controller/rollout/rollout_engine.h"

#include <algorithm>

#include "controller/rollout/internal/stepper.h"

namespace postwarden::controller::rollout {
namespace internal {

Decisions Stepper::run() {
  if (s_.phase != RolloutPhase::kCompleted && s_.phase != RolloutPhase::kAborted) {
    for (HostProgress& h : s_.hosts) observe(h);
    failUnschedulable();
    checkBudget();
    if (s_.phase != RolloutPhase::kRollingBack) rollBackFailed();
    switch (s_.phase) {
      case RolloutPhase::kAwaitingApproval:
      case RolloutPhase::kRunning:
      case RolloutPhase::kPaused:
        if (checkApprovals()) advance();
        break;
      case RolloutPhase::kRollingBack:
        continueRollback();
        break;
      default:
        break;
    }
  }
  return Decisions{.actions = std::move(actions_), .next = std::move(s_), .wake_at = wake_};
}

void Stepper::checkBudget() {
  const RolloutPhase p = s_.phase;
  if (p == RolloutPhase::kRollingBack || p == RolloutPhase::kAwaitingApproval) return;
  int failures = 0;
  int total = 0;
  std::string canary;
  for (const HostProgress& h : s_.hosts) {
    if (h.wave < 0) continue;
    ++total;
    if (h.failure.empty()) continue;
    ++failures;
    if (s_.canary_waves[static_cast<size_t>(h.wave)] && canary.empty()) canary = h.id;
  }
  std::vector<std::string> reasons;
  for (const HostProgress& h : s_.hosts) {
    if (!h.failure.empty()) reasons.push_back(h.id + ": " + h.failure);
  }
  if (p == RolloutPhase::kHalted) {
    s_.reasons = std::move(reasons);  // in-flight hosts that fail later are counted too
    return;
  }
  const int allowed = spec().max_failures.allowed(total);
  if (failures <= allowed && canary.empty()) return;
  s_.phase = RolloutPhase::kHalted;
  s_.reasons = std::move(reasons);
  emit(Kind::kHalt, nullptr,
       canary.empty()
           ? std::to_string(failures) + " of " + std::to_string(total) +
                 " hosts failed, more than max_failures allows (" + std::to_string(allowed) + ")"
           : "canary host '" + canary + "' failed");
}

bool Stepper::checkApprovals() {
  const int valid = validApprovals(s_);
  const bool enough = valid >= spec().approvals;
  if (s_.phase == RolloutPhase::kAwaitingApproval) {
    if (!enough) return false;
    s_.phase = RolloutPhase::kRunning;
    s_.reasons.clear();
    if (spec().approvals > 0) emit(Kind::kApproved, nullptr);
    return true;
  }
  if (enough) return true;
  s_.phase = RolloutPhase::kAwaitingApproval;
  s_.reasons = {"approvals no longer match the target version and spec: " + std::to_string(valid) +
                " of " + std::to_string(spec().approvals) + " valid"};
  emit(Kind::kPause, nullptr, s_.reasons.front());
  return false;
}

void Stepper::rollBackFailed() {
  for (HostProgress& h : s_.hosts) {
    if (h.phase != HostPhase::kFailed || !h.needs_rollback || h.rollback_failed) continue;
    if (mayRollBack(h)) {
      sendRollback(h);
    } else {
      wakeAt(nextChance(h));
    }
  }
}

void Stepper::advance() {
  while (s_.current_wave < s_.waves.size()) {
    const size_t w = s_.current_wave;
    if (s_.waves[w] == WaveStatus::kWaiting) {
      s_.waves[w] = WaveStatus::kRunning;
      actions_.push_back(Decision{.kind = Kind::kStartWave, .wave = static_cast<int>(w)});
    }
    if (!runWave(w)) return;
    s_.waves[w] = WaveStatus::kPassed;
    ++s_.current_wave;
  }
  s_.phase = RolloutPhase::kCompleted;
  s_.reasons.clear();
  emit(Kind::kComplete, nullptr);
}

// Starts what may start in wave `w`; true when every host of it is settled.
bool Stepper::runWave(size_t w) {
  std::vector<HostProgress*> pending;
  std::vector<HostProgress*> ready;
  bool started = false;  // the rollout has changed (or tried to change) some host
  bool busy = false;
  int wave_hosts = 0;
  int changing = 0;  // dispatched or soaking: what max_in_flight bounds
  for (HostProgress& h : s_.hosts) {
    started = started || (h.wave >= 0 && h.phase != HostPhase::kPending);
    if (h.wave != static_cast<int>(w)) continue;
    ++wave_hosts;
    if (h.phase == HostPhase::kPending) {
      pending.push_back(&h);
      if (mayChange(spec(), h, now_)) ready.push_back(&h);
    } else {
      busy = busy || inFlight(h);
      changing += h.phase == HostPhase::kDispatched || h.phase == HostPhase::kSoaking;
    }
  }
  if (!pending.empty() && ready.empty()) {
    windowClosed(w, pending, started);
    return false;
  }
  if (!s_.paused_by.empty()) {  // held by an operator: in-flight hosts finish, none starts
    const std::string why = "paused by " + s_.paused_by;
    if (s_.phase != RolloutPhase::kPaused || s_.reasons != std::vector<std::string>{why}) {
      s_.phase = RolloutPhase::kPaused;
      s_.reasons = {why};
      emit(Kind::kPause, nullptr, why);
    }
    return pending.empty() && !busy;
  }
  if (s_.phase == RolloutPhase::kPaused) {
    s_.phase = RolloutPhase::kRunning;
    s_.reasons.clear();
    emit(Kind::kResume, nullptr);
  }
  // The rest of the ready hosts start as in-flight ones settle (their reports step again).
  const int room = std::max(0, spec().max_in_flight.allowed(wave_hosts) - changing);
  const size_t starting = std::min(ready.size(), static_cast<size_t>(room));
  for (size_t i = 0; i < starting; ++i) dispatch(*ready[i]);
  return pending.empty() && !busy;
}

void Stepper::windowClosed(size_t w, const std::vector<HostProgress*>& pending, bool started) {
  absl::Time next = absl::InfiniteFuture();
  for (const HostProgress* h : pending) next = std::min(next, nextChance(*h));
  wakeAt(next);
  const std::string hosts =
      std::to_string(pending.size()) + " pending host(s) of wave " + std::to_string(w + 1);
  if (started && spec().on_window_end == OnWindowEnd::kRollback &&
      s_.phase == RolloutPhase::kRunning) {
    return startRollback("the maintenance window closed with " + hosts + " not started");
  }
  if (s_.phase == RolloutPhase::kPaused) return;
  s_.phase = RolloutPhase::kPaused;
  s_.reasons = {"no maintenance window is open for the " + hosts + "; next opening " +
                timeText(next)};
  emit(Kind::kPause, nullptr, s_.reasons.front());
}

void Stepper::startRollback(std::string reason) {
  s_.phase = RolloutPhase::kRollingBack;
  s_.reasons = {reason};
  emit(Kind::kStartRollback, nullptr, std::move(reason));
  continueRollback();
}

// Rolls back the highest wave that still has changed hosts; lower waves wait for it.
void Stepper::continueRollback() {
  int top = -1;
  for (const HostProgress& h : s_.hosts) {
    const bool busy = h.phase == HostPhase::kDispatched || h.phase == HostPhase::kRollingBack;
    if (h.wave >= 0 && (busy || changedByRollout(h))) top = std::max(top, h.wave);
  }
  if (top < 0) {
    s_.phase = RolloutPhase::kAborted;
    std::string reason = "rolled back";
    if (!s_.reasons.empty()) reason += ": " + s_.reasons.front();
    return emit(Kind::kAbort, nullptr, std::move(reason));
  }
  for (HostProgress& h : s_.hosts) {
    if (h.wave != top || !changedByRollout(h)) continue;
    if (mayRollBack(h)) {
      sendRollback(h);
    } else {
      wakeAt(nextChance(h));
    }
  }
}

bool Stepper::mayRollBack(const HostProgress& h) {
  return spec().rollback == RollbackTiming::kImmediately || mayChange(spec(), h, now_);
}

void Stepper::dispatch(HostProgress& h) {
  h.attempt += 1;
  h.phase = HostPhase::kDispatched;
  h.since = now_;
  h.job_id = jobId(s_, h, false);
  emit(Kind::kDispatch, &h, "", spec().baseline.version);
  wakeAt(now_ + deadline());
}

void Stepper::sendRollback(HostProgress& h) {
  h.phase = HostPhase::kRollingBack;
  h.since = now_;
  h.job_id = jobId(s_, h, true);
  emit(Kind::kRollBack, &h, h.failure, h.previous_version);
  wakeAt(now_ + deadline());
}

absl::Time Stepper::nextChance(const HostProgress& h) const {
  absl::Time next = absl::InfiniteFuture();
  for (size_t i : windowsFor(spec(), h.labels)) {
    next = std::min(next, schedule::nextOpening(spec().windows[i].window, now_));
  }
  return next;
}

}  // namespace internal

Decisions step(const RolloutState& state, const FleetView& fleet, absl::Time now) {
  return internal::Stepper(state, fleet, now).run();
}

bool mayChange(const RolloutSpec& spec, const HostProgress& host, absl::Time now) {
  const std::vector<size_t> windows = windowsFor(spec, host.labels);
  if (windows.empty()) return spec.anytime && !host.restart_required;
  return std::any_of(windows.begin(), windows.end(),
                     [&](size_t i) { return schedule::isOpen(spec.windows[i].window, now); });
}

std::string_view toString(Decision::Kind kind) {
  using K = Decision::Kind;
  switch (kind) {
    case K::kApproved:
      return "approved";
    case K::kStartWave:
      return "start_wave";
    case K::kDispatch:
      return "dispatch";
    case K::kStartSoak:
      return "start_soak";
    case K::kMarkDone:
      return "mark_done";
    case K::kMarkFailed:
      return "mark_failed";
    case K::kPause:
      return "pause";
    case K::kResume:
      return "resume";
    case K::kHalt:
      return "halt";
    case K::kStartRollback:
      return "start_rollback";
    case K::kRollBack:
      return "roll_back";
    case K::kRolledBack:
      return "rolled_back";
    case K::kComplete:
      return "complete";
    case K::kAbort:
      return "abort";
  }
  return "?";
}

}  // namespace postwarden::controller::rollout
