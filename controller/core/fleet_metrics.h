// The fleet's metrics for the controller's /metrics: what Fleet counts as it goes (report
// commit latency, drift events: FleetMetrics) and what is read at scrape time (agents by
// compliance, mode and connection; by reported baseline; reports and heartbeats from
// FleetStats). Labels are bounded: never one series per agent. agentFamilies() is pure.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/metrics/registry.h"
#include "controller/core/fleet.h"
#include "controller/store/store.h"

namespace postwarden::controller::core {

// Registers the families Fleet updates itself; the result goes into FleetOptions::metrics.
FleetMetrics registerFleetMetrics(metrics::Registry& registry);

// Adds the scrape-time families over `fleet`, which must outlive `registry`'s scrapes.
void addFleetCollector(metrics::Registry& registry, Fleet& fleet);

// postwarden_agents{compliance,mode,connection} (every combination, zeros included, so that
// alerts see a series go up from 0), postwarden_agents_revoked and
// postwarden_agents_by_baseline{baseline} (at most kMaxBaselineSeries baselines, the rest
// as "_overflow"; "none" for an agent that reported none). Revoked agents count only in
// postwarden_agents_revoked.
inline constexpr size_t kMaxBaselineSeries = 200;
std::vector<metrics::FamilySnapshot> agentFamilies(
    const std::vector<store::AgentRecord>& agents,
    const std::function<bool(const std::string&)>& connected);

std::string_view complianceLabel(store::Compliance compliance);
std::string_view modeLabel(store::Mode mode);

}  // namespace postwarden::controller::core
