#include "controller/core/rollout_metrics.h"

#include <map>
#include <string>

#include "controller/rollout/rollout_state.h"

namespace postwarden::controller::core {

using metrics::FamilySnapshot;
using metrics::MetricType;

std::vector<FamilySnapshot> rolloutFamilies(const std::vector<v1::RolloutRecord>& rollouts) {
  std::map<std::string, int> phases;
  std::map<std::string, int> hosts;
  for (int i = 0; i < 7; ++i) {
    phases[std::string(rollout::toString(static_cast<rollout::RolloutPhase>(i)))] = 0;
    hosts[std::string(rollout::toString(static_cast<rollout::HostPhase>(i)))] = 0;
  }
  for (const v1::RolloutRecord& r : rollouts) {
    ++phases[r.phase()];
    if (r.phase() == "completed" || r.phase() == "aborted") continue;
    for (const v1::RolloutHost& h : r.hosts()) ++hosts[h.phase()];
  }
  FamilySnapshot by_phase{.name = "postwarden_rollouts",
                          .help = "Rollouts by phase (docs/rollouts.md).",
                          .type = MetricType::kGauge};
  for (const auto& [phase, n] : phases) {
    by_phase.samples.push_back({.labels = {{"phase", phase}}, .value = double(n)});
  }
  FamilySnapshot host_phases{.name = "postwarden_rollout_hosts",
                             .help = "Hosts of active rollouts by their phase in the rollout.",
                             .type = MetricType::kGauge};
  for (const auto& [phase, n] : hosts) {
    host_phases.samples.push_back({.labels = {{"phase", phase}}, .value = double(n)});
  }
  return {std::move(by_phase), std::move(host_phases)};
}

void addRolloutCollector(metrics::Registry& registry, Rollouts& rollouts) {
  registry.addCollector([&rollouts](std::vector<FamilySnapshot>& out) {
    Result<std::vector<v1::RolloutRecord>> all = rollouts.list();
    if (!all.ok()) return;
    for (FamilySnapshot& f : rolloutFamilies(*all)) out.push_back(std::move(f));
  });
}

}  // namespace postwarden::controller::core
