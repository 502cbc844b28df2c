// Which hosts fall in which wave of a rollout, for `postwardenctl rollout plan` and as the
// rollout's fixed assignment once it starts. Deterministic: hosts are taken in id order; a host
// is in one wave only; hosts already on the target version are done from the start; named
// canaries are reserved before any other wave takes hosts. Pure.
#pragma once

#include <absl/time/time.h>

#include <string>
#include <vector>

#include "common/status.h"
#include "controller/rollout/rollout_spec.h"

namespace postwarden::controller::rollout {

// A host as the controller knows it when the rollout is planned.
struct FleetHost {
  std::string id;
  Labels labels;
  std::string version;  // the baseline version it runs now ("" if none or unknown)
};

struct PlannedWave {
  std::string description;         // "canary [mx1]", "percent 50", "labels site=fra1"
  bool canary = false;             // a failure in a canary wave halts the rollout
  std::vector<std::string> hosts;  // sorted by id; may be empty
  absl::Duration soak;
};

struct WavePlan {
  std::vector<PlannedWave> waves;
  std::vector<std::string> already_done;  // selected hosts already on the target version
};

// Assigns the hosts `spec.selector` matches to the waves, in order:
// - canary: N takes the first N hosts still unassigned; canary: [names] takes those hosts;
// - percent: P takes ceil(P% of the hosts that need the change), from those still unassigned;
// - labels: {k: v} takes every unassigned host with those labels.
// Errors: a named canary not selected (or not in the fleet), duplicate host ids, hosts left in
// no wave (end with `percent: 100` to take the rest), and hosts no window matches while the
// spec does not say `anytime: true`.
Result<WavePlan> planWaves(const RolloutSpec& spec, const std::vector<FleetHost>& fleet);

// The indexes in spec.windows of the windows whose selector matches `labels`.
std::vector<size_t> windowsFor(const RolloutSpec& spec, const Labels& labels);

}  // namespace postwarden::controller::rollout
