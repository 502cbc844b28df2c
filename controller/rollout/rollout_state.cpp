#include "controller/rollout/rollout_state.h"

#include <algorithm>
#include <set>

namespace postwarden::controller::rollout {

RolloutState newRollout(std::string id, std::string creator, std::string spec_digest,
                        RolloutSpec spec, const WavePlan& plan,
                        const std::vector<FleetHost>& fleet) {
  RolloutState state{.id = std::move(id),
                     .creator = std::move(creator),
                     .spec_digest = std::move(spec_digest),
                     .spec = std::move(spec)};
  std::map<std::string, int> wave_of;
  for (size_t w = 0; w < plan.waves.size(); ++w) {
    for (const std::string& host : plan.waves[w].hosts) wave_of[host] = static_cast<int>(w);
    state.waves.push_back(WaveStatus::kWaiting);
    state.wave_soaks.push_back(plan.waves[w].soak);
    state.canary_waves.push_back(plan.waves[w].canary);
  }
  std::set<std::string> done(plan.already_done.begin(), plan.already_done.end());
  for (const FleetHost& host : fleet) {
    auto it = wave_of.find(host.id);
    if (it == wave_of.end() && !done.contains(host.id)) continue;
    HostProgress p{.id = host.id, .labels = host.labels, .previous_version = host.version};
    if (it != wave_of.end()) p.wave = it->second;
    if (it == wave_of.end()) p.phase = HostPhase::kDone;
    state.hosts.push_back(std::move(p));
  }
  std::sort(state.hosts.begin(), state.hosts.end(),
            [](const HostProgress& a, const HostProgress& b) { return a.id < b.id; });
  state.phase = state.spec.approvals > 0 ? RolloutPhase::kAwaitingApproval : RolloutPhase::kRunning;
  return state;
}

int validApprovals(const RolloutState& state) {
  std::set<std::string> approvers;
  for (const Approval& a : state.approvals) {
    if (a.approver != state.creator && a.target_version == state.spec.baseline.version &&
        a.spec_digest == state.spec_digest) {
      approvers.insert(a.approver);
    }
  }
  return static_cast<int>(approvers.size());
}

Result<RolloutState> approve(const RolloutState& state, std::string_view approver) {
  if (approver.empty()) return InvalidArgumentError("an approval needs the approver's name");
  if (approver == state.creator) {
    return PermissionDeniedError("'" + std::string(approver) + "' created rollout '" + state.id +
                                 "' and cannot approve it");
  }
  if (state.phase != RolloutPhase::kAwaitingApproval && state.phase != RolloutPhase::kRunning &&
      state.phase != RolloutPhase::kPaused) {
    return FailedPreconditionError("rollout '" + state.id + "' is " +
                                   std::string(toString(state.phase)) + ": nothing to approve");
  }
  for (const Approval& a : state.approvals) {
    if (a.approver == approver && a.target_version == state.spec.baseline.version &&
        a.spec_digest == state.spec_digest) {
      return AlreadyExistsError("'" + std::string(approver) + "' already approved rollout '" +
                                state.id + "'");
    }
  }
  RolloutState next = state;
  next.approvals.push_back(Approval{.approver = std::string(approver),
                                    .target_version = state.spec.baseline.version,
                                    .spec_digest = state.spec_digest});
  return next;
}

Result<RolloutState> pause(const RolloutState& state, std::string_view operator_name) {
  if (state.phase == RolloutPhase::kCompleted || state.phase == RolloutPhase::kAborted ||
      state.phase == RolloutPhase::kRollingBack) {
    return FailedPreconditionError("rollout '" + state.id + "' is " +
                                   std::string(toString(state.phase)) + ": nothing to pause");
  }
  if (!state.paused_by.empty()) {
    return FailedPreconditionError("rollout '" + state.id + "' is already paused by " +
                                   state.paused_by);
  }
  RolloutState next = state;
  next.paused_by = operator_name.empty() ? "an operator" : std::string(operator_name);
  return next;
}

Result<RolloutState> resume(const RolloutState& state) {
  if (state.paused_by.empty()) {
    return FailedPreconditionError("rollout '" + state.id + "' is not paused by an operator");
  }
  RolloutState next = state;
  next.paused_by.clear();
  return next;
}

RolloutState requestRollback(const RolloutState& state, std::string reason) {
  RolloutState next = state;
  if (next.phase == RolloutPhase::kAborted) return next;
  next.phase = RolloutPhase::kRollingBack;
  next.reasons = {std::move(reason)};
  return next;
}

std::string jobId(const RolloutState& state, const HostProgress& host, bool rollback) {
  return state.id + "/" + host.id + (rollback ? "/rollback/" : "/change/") +
         std::to_string(host.attempt);
}

std::string_view toString(HostPhase phase) {
  switch (phase) {
    case HostPhase::kPending:
      return "pending";
    case HostPhase::kDispatched:
      return "dispatched";
    case HostPhase::kSoaking:
      return "soaking";
    case HostPhase::kDone:
      return "done";
    case HostPhase::kFailed:
      return "failed";
    case HostPhase::kRollingBack:
      return "rolling_back";
    case HostPhase::kRolledBack:
      return "rolled_back";
  }
  return "?";
}

std::string_view toString(RolloutPhase phase) {
  switch (phase) {
    case RolloutPhase::kAwaitingApproval:
      return "awaiting_approval";
    case RolloutPhase::kRunning:
      return "running";
    case RolloutPhase::kPaused:
      return "paused";
    case RolloutPhase::kHalted:
      return "halted";
    case RolloutPhase::kRollingBack:
      return "rolling_back";
    case RolloutPhase::kCompleted:
      return "completed";
    case RolloutPhase::kAborted:
      return "aborted";
  }
  return "?";
}

std::string_view toString(WaveStatus status) {
  switch (status) {
    case WaveStatus::kWaiting:
      return "waiting";
    case WaveStatus::kRunning:
      return "running";
    case WaveStatus::kPassed:
      return "passed";
  }
  return "?";
}

std::string_view toString(ChangeResult result) {
  switch (result) {
    case ChangeResult::kNone:
      return "none";
    case ChangeResult::kRepaired:
      return "repaired";
    case ChangeResult::kKept:
      return "kept";
    case ChangeResult::kRolledBack:
      return "rolled_back";
    case ChangeResult::kRefused:
      return "refused";
    case ChangeResult::kNeedsHuman:
      return "needs_human";
    case ChangeResult::kOutsideWindow:
      return "outside_window";
  }
  return "?";
}

}  // namespace postwarden::controller::rollout
