// What GetRollout answers besides the stored record: each wave's hosts counted by phase
// (RolloutWave.phase_counts, in every reply), and for `summary: true` only the hosts an
// operator must see (failed, needing a rollback, or in flight), so `rollout show --watch` on a
// 50,000-host rollout polls a few kilobytes instead of the whole record. Pure.
#pragma once

#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::core {

// Sets every wave's phase_counts from the record's hosts (phases as rollout_state.h names
// them: "pending", "done", ...). Hosts outside any wave (on the target from the start) are not
// counted.
void countPhases(v1::RolloutRecord& record);

// Whether a host stays in a summary: it failed (also when rolled back since), needs a
// rollback, or is dispatched, soaking or rolling back.
bool needsAttention(const v1::RolloutHost& host);

// countPhases, then drops every host that does not need attention.
void summarize(v1::RolloutRecord& record);

}  // namespace postwarden::controller::core
