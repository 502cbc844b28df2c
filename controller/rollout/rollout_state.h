// The durable progress of one rollout (what the controller stores and hands to the engine each
// step) and what the fleet's reports say now. Plain values: the engine (rollout_engine.h)
// reads both and returns the next state; the operator's actions (approve, roll back) are pure
// functions here. The phases are described in docs/rollouts.md.
#pragma once

#include <absl/time/time.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/rollout/rollout_spec.h"
#include "controller/rollout/wave_plan.h"

namespace postwarden::controller::rollout {

enum class HostPhase {
  kPending,      // not started
  kDispatched,   // the change was sent (job_id); waiting for the agent's result
  kSoaking,      // the change succeeded; health gates watched until the wave's soak ends
  kDone,         // on the target version and through its soak (or on it from the start)
  kFailed,       // see `failure`
  kRollingBack,  // the rollback to previous_version was sent (job_id)
  kRolledBack,   // back on previous_version
};

struct HostProgress {
  std::string id;
  Labels labels;
  int wave = -1;  // index into the plan; -1: on the target from the start
  HostPhase phase = HostPhase::kPending;
  std::string previous_version;             // what it ran before this rollout
  bool restart_required = false;            // the change restarts Postfix: only inside a window
  int attempt = 0;                          // change dispatches so far
  std::string job_id;                       // the current change or rollback job
  absl::Time since = absl::InfinitePast();  // when the current phase began
  std::string failure;                      // why it failed (kept when it is rolled back)
  bool needs_rollback = false;              // it failed and may run the target version
  bool rollback_failed = false;             // its rollback did not succeed: left to a human
};

enum class WaveStatus { kWaiting, kRunning, kPassed };

enum class RolloutPhase {
  kAwaitingApproval,  // fewer valid approvals than the spec asks for
  kRunning,
  kPaused,       // no pending host of the current wave may start now (window closed)
  kHalted,       // the failure budget was exceeded: nothing new starts; failed hosts roll back
  kRollingBack,  // every host this rollout changed goes back, wave by wave in reverse
  kCompleted,
  kAborted,  // ended after a full rollback
};

// An approval counts only for the target version and spec it was given for.
struct Approval {
  std::string approver;
  std::string target_version;
  std::string spec_digest;
};

struct RolloutState {
  std::string id;
  std::string creator;
  std::string spec_digest;  // of the spec text; a changed spec voids approvals
  RolloutSpec spec;
  RolloutPhase phase = RolloutPhase::kAwaitingApproval;
  std::vector<std::string> reasons;  // why paused, halted, rolling back or aborted
  std::vector<WaveStatus> waves;
  std::vector<absl::Duration> wave_soaks;
  std::vector<bool> canary_waves;
  size_t current_wave = 0;
  std::vector<HostProgress> hosts;  // sorted by id
  std::vector<Approval> approvals;
  std::string paused_by;  // an operator holds the rollout: nothing new starts until resumed
};

// The outcome of a job as the agent reports it (agent/applier's results).
enum class ChangeResult {
  kNone,
  kRepaired,
  kKept,
  kRolledBack,
  kRefused,
  kNeedsHuman,
  kOutsideWindow,  // the agent would not start it: outside its windows by its own clock
};

// A soaking host's last HealthFigures, as the gates read them (health_gates.h).
struct GateFigures {
  int64_t deferred_growth = 0;
  int64_t fatal_lines = 0;
  int64_t tls_failures = 0;
  // Since the change, and over an equally long period just before it (when before_known).
  int64_t sasl_failures = 0;
  int64_t connections = 0;
  int64_t deliveries = 0;
  int64_t sasl_failures_before = 0;
  int64_t connections_before = 0;
  int64_t deliveries_before = 0;
  bool before_known = false;
};

struct HostReport {
  absl::Time last_report = absl::InfinitePast();
  std::string version;  // the baseline version it runs
  std::string job_id;   // the job `result` belongs to
  ChangeResult result = ChangeResult::kNone;
  GateFigures gates;
};

struct FleetView {
  std::map<std::string, HostReport, std::less<>> hosts;  // by host id; a missing host: silent
  // Every report the controller received before this instant is stored, hence in `hosts`.
  // Silence is judged as of this instant, not `now`: a result still in the controller's
  // write queue (a backlog at tens of thousands of hosts) does not fail its host.
  absl::Time stored_through = absl::InfiniteFuture();
  // When the jobs decided at a step went out, by the step's time (a dispatched host's
  // `since`). A step's record, pins and audit rows are stored before its jobs are sent, which
  // for a wave of tens of thousands of hosts on a busy disk takes many seconds; a result is
  // awaited from when its job was sent. A time not in the map: sent when decided.
  std::map<absl::Time, absl::Time> sent_at;
};

// A new rollout over `plan`, waiting for approvals when the spec asks for some.
RolloutState newRollout(std::string id, std::string creator, std::string spec_digest,
                        RolloutSpec spec, const WavePlan& plan,
                        const std::vector<FleetHost>& fleet);

// Records an approval of the current target and spec. Refused: the creator approving their own
// rollout, the same approver twice, a rollout no longer awaiting or running.
Result<RolloutState> approve(const RolloutState& state, std::string_view approver);
// Distinct approvers other than the creator whose approval matches the current digests.
int validApprovals(const RolloutState& state);
// The operator's hold: no new host starts (in-flight hosts finish) until resume(). Refused for
// a rollout that has ended or is rolling back, or one already held.
Result<RolloutState> pause(const RolloutState& state, std::string_view operator_name);
Result<RolloutState> resume(const RolloutState& state);
// The operator's "roll back": every host this rollout changed goes back (the engine does it).
RolloutState requestRollback(const RolloutState& state, std::string reason);

// The job id of a change or rollback: the same for the same rollout, host and attempt, so a
// controller that restarts and dispatches again is deduplicated by the agent.
std::string jobId(const RolloutState& state, const HostProgress& host, bool rollback);

std::string_view toString(HostPhase phase);
std::string_view toString(RolloutPhase phase);
std::string_view toString(WaveStatus status);
std::string_view toString(ChangeResult result);

}  // namespace postwarden::controller::rollout
