// A rollout's durable record (postwarden.v1.RolloutRecord, rollout.proto) and the engine's
// plain RolloutState, each made from the other. The record keeps what the engine does not
// (the spec as written, wave descriptions, times); the state is re-derived from it on every
// step, so what is stored is exactly what the next step reads. Pure.
#pragma once

#include <absl/time/time.h>

#include <string>

#include "common/status.h"
#include "controller/rollout/rollout_state.h"
#include "controller/rollout/wave_plan.h"
#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::core {

// A new record for `state`, made from `spec_yaml` (named `spec_file`) and its wave plan.
v1::RolloutRecord newRolloutRecord(const rollout::RolloutState& state,
                                   const rollout::WavePlan& plan, const std::string& spec_yaml,
                                   const std::string& spec_file, absl::Time now);

// The engine's state from a stored record: the spec is parsed again and its version replaced
// by the resolved target. DataLoss when the record does not read back.
Result<rollout::RolloutState> rolloutStateOf(const v1::RolloutRecord& record);

// Writes what the engine changes (phase, reasons, waves, hosts, approvals) into `record`.
void updateRecord(const rollout::RolloutState& state, absl::Time now, absl::Time wake_at,
                  v1::RolloutRecord& record);

// An absl::Time as a protobuf Timestamp (for the record and the plan).
google::protobuf::Timestamp toTimestamp(absl::Time t);

// Whether the engine still has work: not completed or aborted.
bool isActive(rollout::RolloutPhase phase);

}  // namespace postwarden::controller::core
