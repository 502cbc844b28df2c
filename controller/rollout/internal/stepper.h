// The engine's single step as an object: a working copy of the state, the fleet view, the time
// and the decisions made so far. Internal to controller/rollout: rollout_engine.cpp drives the
// waves, the budget and the rollbacks; stepper_hosts.cpp watches each in-flight host.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "controller/rollout/rollout_engine.h"

namespace postwarden::controller::rollout::internal {

inline bool inFlight(const HostProgress& h) {
  return h.phase == HostPhase::kDispatched || h.phase == HostPhase::kSoaking ||
         h.phase == HostPhase::kRollingBack;
}

// Changed by this rollout and not (yet) back on its previous version.
inline bool changedByRollout(const HostProgress& h) {
  if (h.wave < 0) return false;
  if (h.phase == HostPhase::kDone || h.phase == HostPhase::kSoaking) return true;
  return h.phase == HostPhase::kFailed && h.needs_rollback && !h.rollback_failed;
}

// "2026-03-29 01:00 UTC", or "never" for the infinite future.
std::string timeText(absl::Time t);

class Stepper {
 public:
  using Kind = Decision::Kind;

  Stepper(const RolloutState& state, const FleetView& fleet, absl::Time now)
      : s_(state), fleet_(fleet), now_(now), heard_until_(std::min(now, fleet.stored_through)) {}
  Decisions run();

 private:
  const RolloutSpec& spec() const { return s_.spec; }
  absl::Duration deadline() const {
    return spec().health.report_interval * spec().health.missed_reports;
  }
  // When the job of a host dispatched (or rolled back) at `since` was sent (FleetView::sent_at).
  absl::Time sentAt(absl::Time since) const {
    auto it = fleet_.sent_at.find(since);
    return it == fleet_.sent_at.end() ? since : std::max(since, it->second);
  }
  const HostReport* report(const HostProgress& h) const {
    auto it = fleet_.hosts.find(h.id);
    return it == fleet_.hosts.end() ? nullptr : &it->second;
  }
  // A decision about `h` (or the rollout, when null); dispatches carry `version` and the job.
  void emit(Kind kind, const HostProgress* h, std::string reason = {}, std::string version = {}) {
    const bool job = h != nullptr && !version.empty();
    actions_.push_back(Decision{.kind = kind,
                                .host = h ? h->id : "",
                                .version = std::move(version),
                                .job_id = job ? h->job_id : "",
                                .wave = h ? h->wave : -1,
                                .reason = std::move(reason)});
  }
  void wakeAt(absl::Time t) { wake_ = std::min(wake_, t); }

  void observe(HostProgress& h);
  void observeResult(HostProgress& h, const HostReport& r);
  void observeSoak(HostProgress& h, const HostReport* r);
  void observeRollback(HostProgress& h, const HostReport* r);
  void waitForResult(HostProgress& h, bool rollback);
  void fail(HostProgress& h, std::string reason, bool needs_rollback);
  void rollbackFailed(HostProgress& h, const std::string& why);
  void failUnschedulable();
  void checkBudget();
  bool checkApprovals();
  void rollBackFailed();
  void advance();
  bool runWave(size_t wave);
  void windowClosed(size_t wave, const std::vector<HostProgress*>& pending, bool started);
  void startRollback(std::string reason);
  void continueRollback();
  bool mayRollBack(const HostProgress& h);
  void dispatch(HostProgress& h);
  void sendRollback(HostProgress& h);
  absl::Time nextChance(const HostProgress& h) const;

  RolloutState s_;
  const FleetView& fleet_;
  absl::Time now_;
  absl::Time heard_until_;  // what silence is judged at (FleetView::stored_through)
  std::vector<Decision> actions_;
  absl::Time wake_ = absl::InfiniteFuture();
};

}  // namespace postwarden::controller::rollout::internal
