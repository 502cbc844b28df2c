#include "controller/core/rollout_summary.h"

#include <algorithm>

namespace postwarden::controller::core {

void countPhases(v1::RolloutRecord& record) {
  for (v1::RolloutWave& wave : *record.mutable_waves()) wave.clear_phase_counts();
  for (const v1::RolloutHost& h : record.hosts()) {
    if (h.wave() < 0 || h.wave() >= record.waves_size()) continue;
    ++(*record.mutable_waves(h.wave())->mutable_phase_counts())[h.phase()];
  }
}

bool needsAttention(const v1::RolloutHost& h) {
  const std::string& p = h.phase();
  return !h.failure().empty() || h.needs_rollback() || p == "failed" || p == "dispatched" ||
         p == "soaking" || p == "rolling_back";
}

void summarize(v1::RolloutRecord& record) {
  countPhases(record);
  auto* hosts = record.mutable_hosts();
  hosts->erase(std::remove_if(hosts->begin(), hosts->end(),
                              [](const v1::RolloutHost& h) { return !needsAttention(h); }),
               hosts->end());
}

}  // namespace postwarden::controller::core
