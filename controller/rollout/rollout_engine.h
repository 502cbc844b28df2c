// The rollout state machine, pure: given the durable state, what the fleet reports now and the
// time, step() says what to do and returns the next state. The controller persists `next`,
// sends the dispatches and rollbacks, and calls step() again on new reports or at `wake_at`.
// Deterministic and idempotent: the same inputs give the same decisions, and job ids are
// derived from rollout, host and attempt, so a controller that restarted between sending a
// job and persisting `next` re-sends the same job, which the agent recognises.
#pragma once

#include <absl/time/time.h>

#include <string>
#include <vector>

#include "controller/rollout/rollout_state.h"

namespace postwarden::controller::rollout {

struct Decision {
  enum class Kind {
    kApproved,       // enough valid approvals: the rollout runs
    kStartWave,      // `wave` begins
    kDispatch,       // send `host` the change to `version` as `job_id`
    kStartSoak,      // `host` applied the change; its soak begins
    kMarkDone,       // `host` passed its soak
    kMarkFailed,     // `host` failed: `reason`
    kPause,          // no new host starts: `reason`; in-flight hosts finish
    kResume,         // a window opened again
    kHalt,           // the failure budget is exceeded: `reason` lists the hosts
    kStartRollback,  // the whole rollout goes back: `reason`
    kRollBack,       // send `host` its previous `version` as `job_id`
    kRolledBack,     // `host` is back on its previous version
    kComplete,       // every wave passed
    kAbort,          // the full rollback finished
  };
  Kind kind;
  std::string host;
  std::string version;
  std::string job_id;
  int wave = -1;
  std::string reason;
  friend bool operator==(const Decision&, const Decision&) = default;
};

struct Decisions {
  std::vector<Decision> actions;
  RolloutState next;
  // When to step again if no report arrives first (a soak ending, a report deadline, a window
  // opening); absl::InfiniteFuture() when nothing is scheduled.
  absl::Time wake_at = absl::InfiniteFuture();
};

Decisions step(const RolloutState& state, const FleetView& fleet, absl::Time now);

// Whether `host` may be changed at `now`: a window matching its labels is open, or no window
// matches it, the spec says `anytime: true` and the change does not restart Postfix.
bool mayChange(const RolloutSpec& spec, const HostProgress& host, absl::Time now);

std::string_view toString(Decision::Kind kind);

}  // namespace postwarden::controller::rollout
