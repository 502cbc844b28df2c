#include "controller/core/fleet_metrics.h"

#include <map>
#include <tuple>

namespace postwarden::controller::core {

using metrics::FamilySnapshot;
using metrics::MetricType;

namespace {

constexpr store::Compliance kCompliances[] = {
    store::Compliance::kUnspecified, store::Compliance::kCompliant, store::Compliance::kDrifted,
    store::Compliance::kFailing,     store::Compliance::kRefused,   store::Compliance::kNeedsHuman,
    store::Compliance::kRolledBack,
};
constexpr store::Mode kModes[] = {store::Mode::kUnspecified, store::Mode::kEnforce,
                                  store::Mode::kDetect};

}  // namespace

std::string_view complianceLabel(store::Compliance compliance) {
  switch (compliance) {
    case store::Compliance::kUnspecified:
      return "unknown";
    case store::Compliance::kCompliant:
      return "compliant";
    case store::Compliance::kDrifted:
      return "drifted";
    case store::Compliance::kFailing:
      return "failing";
    case store::Compliance::kRefused:
      return "refused";
    case store::Compliance::kNeedsHuman:
      return "needs_human";
    case store::Compliance::kRolledBack:
      return "rolled_back";
  }
  return "unknown";
}

std::string_view modeLabel(store::Mode mode) {
  switch (mode) {
    case store::Mode::kEnforce:
      return "enforce";
    case store::Mode::kDetect:
      return "detect";
    case store::Mode::kUnspecified:
      break;
  }
  return "none";
}

FleetMetrics registerFleetMetrics(metrics::Registry& registry) {
  FleetMetrics m;
  m.commit_latency =
      &registry
           .histogram("postwarden_report_commit_duration_seconds",
                      "Time from a durable agent report being queued to its commit in the store.",
                      metrics::exponentialBuckets(0.0005, 2, 14))
           .with({});
  m.drift_events =
      &registry.counter("postwarden_drift_events_total", "Drift events reported by agents.")
           .with({});
  return m;
}

std::vector<FamilySnapshot> agentFamilies(
    const std::vector<store::AgentRecord>& agents,
    const std::function<bool(const std::string&)>& connected) {
  std::map<std::tuple<store::Compliance, store::Mode, bool>, int> by_state;
  std::map<std::string, int> by_baseline;
  int revoked = 0;
  for (const store::AgentRecord& agent : agents) {
    if (agent.revoked) {
      ++revoked;
      continue;
    }
    ++by_state[{agent.compliance, agent.mode, connected(agent.id)}];
    std::string baseline = agent.baseline_name.empty() ? "none" : agent.baseline_name;
    if (!by_baseline.contains(baseline) && by_baseline.size() >= kMaxBaselineSeries) {
      baseline = metrics::kOverflowLabelValue;
    }
    ++by_baseline[baseline];
  }
  FamilySnapshot states{
      .name = "postwarden_agents",
      .help = "Enrolled agents (not revoked) by last reported compliance, mode and connection.",
      .type = MetricType::kGauge};
  for (store::Compliance c : kCompliances) {
    for (store::Mode m : kModes) {
      for (bool up : {true, false}) {
        auto it = by_state.find({c, m, up});
        states.samples.push_back(
            {.labels = {{"compliance", std::string(complianceLabel(c))},
                        {"mode", std::string(modeLabel(m))},
                        {"connection", up ? "connected" : "disconnected"}},
             .value = static_cast<double>(it == by_state.end() ? 0 : it->second)});
      }
    }
  }
  FamilySnapshot baselines{.name = "postwarden_agents_by_baseline",
                           .help = "Enrolled agents (not revoked) by last reported baseline.",
                           .type = MetricType::kGauge};
  for (const auto& [name, count] : by_baseline) {
    baselines.samples.push_back(
        {.labels = {{"baseline", name}}, .value = static_cast<double>(count)});
  }
  FamilySnapshot revoked_family{.name = "postwarden_agents_revoked",
                                .help = "Revoked agents.",
                                .type = MetricType::kGauge,
                                .samples = {{.value = static_cast<double>(revoked)}}};
  return {std::move(states), std::move(baselines), std::move(revoked_family)};
}

void addFleetCollector(metrics::Registry& registry, Fleet& fleet) {
  registry.addCollector([&fleet](std::vector<FamilySnapshot>& out) {
    Result<std::vector<store::AgentRecord>> agents = fleet.agents();
    if (agents.ok()) {
      for (FamilySnapshot& f :
           agentFamilies(*agents, [&](const std::string& id) { return fleet.connected(id); })) {
        out.push_back(std::move(f));
      }
    }
    out.push_back({.name = "postwarden_agents_connected",
                   .help = "Agent streams open now (simulated agents included).",
                   .type = MetricType::kGauge,
                   .samples = {{.value = static_cast<double>(fleet.connectedCount())}}});
    FleetStats stats = fleet.stats();
    out.push_back({.name = "postwarden_reports_ingested_total",
                   .help = "Durable agent reports committed to the store, by result (stored: "
                           "new; duplicate: a redelivery already stored).",
                   .type = MetricType::kCounter,
                   .samples = {{.labels = {{"result", "stored"}},
                                .value = static_cast<double>(stats.reports_stored)},
                               {.labels = {{"result", "duplicate"}},
                                .value = static_cast<double>(stats.reports_duplicate)}}});
    out.push_back({.name = "postwarden_report_batches_total",
                   .help = "Store transactions of the report writer (group commit).",
                   .type = MetricType::kCounter,
                   .samples = {{.value = static_cast<double>(stats.batches)}}});
    out.push_back({.name = "postwarden_heartbeats_total",
                   .help = "Agent heartbeats received.",
                   .type = MetricType::kCounter,
                   .samples = {{.value = static_cast<double>(stats.heartbeats)}}});
  });
}

}  // namespace postwarden::controller::core
