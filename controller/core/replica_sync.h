// Controller replicas on one store (docs/fleet.md "Scaling out"): what one replica changes
// reaches the agents connected to the others. The store announces each committed change
// (controller/store/coordination.h); every replica's listener hands the payload to
// onReplicaChange, which resyncs the Fleet's targets, wakes the rollout loop, or delivers a
// relayed command. Commands travel as announcements because they are not stored.
#pragma once

#include <string>

#include "common/status.h"
#include "controller/core/fleet.h"
#include "controller/core/rollouts.h"
#include "controller/store/coordination.h"
#include "controller/store/rollout_store.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::core {

// "command AGENT_ID BASE64(serialized Command)"; agent ids hold no space.
std::string commandAnnouncement(const std::string& agent_id, const v1::Command& command);
// The agent id and command of such a payload; false for any other payload.
bool parseCommandAnnouncement(const std::string& payload, std::string* agent_id,
                              v1::Command* command);

// One announcement (empty: the listener reconnected, anything may have changed). `rollout_store`
// and `rollouts` may be null (no rollouts on this store).
void onReplicaChange(const std::string& payload, Fleet& fleet, store::RolloutStore* rollout_store,
                     Rollouts* rollouts);

}  // namespace postwarden::controller::core
