// Rollouts on the controller's /metrics, read at scrape time: postwarden_rollouts{phase}
// (every phase, zeros included) and postwarden_rollout_hosts{phase} (the hosts of active
// rollouts by their phase in them). Bounded labels: phases only, never a rollout or a host.
// rolloutFamilies() is pure.
#pragma once

#include <vector>

#include "common/metrics/registry.h"
#include "controller/core/rollouts.h"
#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::core {

std::vector<metrics::FamilySnapshot> rolloutFamilies(
    const std::vector<v1::RolloutRecord>& rollouts);

// Adds the scrape-time families over `rollouts`, which must outlive `registry`'s scrapes.
void addRolloutCollector(metrics::Registry& registry, Rollouts& rollouts);

}  // namespace postwarden::controller::core
