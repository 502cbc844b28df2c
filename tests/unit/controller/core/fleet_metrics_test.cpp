#include "controller/core/fleet_metrics.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::controller::core {
namespace {

using namespace std::chrono_literals;

double sampleValue(const metrics::FamilySnapshot& family, const metrics::LabelPairs& labels) {
  for (const metrics::Sample& s : family.samples) {
    if (s.labels == labels) return s.value;
  }
  return -1;
}

store::AgentRecord agent(std::string id, store::Compliance c, store::Mode m,
                         std::string baseline = "hardening", bool revoked = false) {
  return {.id = std::move(id),
          .revoked = revoked,
          .baseline_name = std::move(baseline),
          .mode = m,
          .compliance = c};
}

TEST(FleetMetricsTest, AgentsByComplianceModeAndConnectionWithZeros) {
  std::vector<store::AgentRecord> agents{
      agent("a", store::Compliance::kCompliant, store::Mode::kEnforce),
      agent("b", store::Compliance::kCompliant, store::Mode::kEnforce),
      agent("c", store::Compliance::kDrifted, store::Mode::kDetect, "other"),
      agent("d", store::Compliance::kUnspecified, store::Mode::kUnspecified, ""),
      agent("e", store::Compliance::kCompliant, store::Mode::kEnforce, "hardening", true),
  };
  auto families = agentFamilies(agents, [](const std::string& id) { return id != "b"; });
  ASSERT_EQ(families.size(), 3u);
  const metrics::FamilySnapshot& states = families[0];
  EXPECT_EQ(states.name, "postwarden_agents");
  EXPECT_EQ(states.samples.size(), 7u * 3u * 2u) << "every combination, zeros included";
  EXPECT_EQ(
      sampleValue(states,
                  {{"compliance", "compliant"}, {"mode", "enforce"}, {"connection", "connected"}}),
      1);
  EXPECT_EQ(sampleValue(
                states,
                {{"compliance", "compliant"}, {"mode", "enforce"}, {"connection", "disconnected"}}),
            1);
  EXPECT_EQ(
      sampleValue(states,
                  {{"compliance", "drifted"}, {"mode", "detect"}, {"connection", "connected"}}),
      1);
  EXPECT_EQ(sampleValue(states,
                        {{"compliance", "unknown"}, {"mode", "none"}, {"connection", "connected"}}),
            1);
  EXPECT_EQ(
      sampleValue(states,
                  {{"compliance", "failing"}, {"mode", "enforce"}, {"connection", "connected"}}),
      0);
  double total = 0;
  for (const auto& s : states.samples) total += s.value;
  EXPECT_EQ(total, 4) << "the revoked agent is not counted";

  EXPECT_EQ(families[1].name, "postwarden_agents_by_baseline");
  EXPECT_EQ(sampleValue(families[1], {{"baseline", "hardening"}}), 2);
  EXPECT_EQ(sampleValue(families[1], {{"baseline", "other"}}), 1);
  EXPECT_EQ(sampleValue(families[1], {{"baseline", "none"}}), 1);
  EXPECT_EQ(families[2].name, "postwarden_agents_revoked");
  EXPECT_EQ(families[2].samples[0].value, 1);
}

TEST(FleetMetricsTest, BaselineSeriesAreBounded) {
  std::vector<store::AgentRecord> agents;
  for (size_t i = 0; i < kMaxBaselineSeries + 50; ++i) {
    agents.push_back(agent("a" + std::to_string(i), store::Compliance::kCompliant,
                           store::Mode::kEnforce, "b" + std::to_string(i)));
  }
  auto families = agentFamilies(agents, [](const std::string&) { return false; });
  EXPECT_EQ(families[1].samples.size(), kMaxBaselineSeries + 1);
  EXPECT_EQ(sampleValue(families[1], {{"baseline", "_overflow"}}), 50);
}

// The Fleet counts commit latency for every committed report and drift events only once,
// however often the agent redelivers.
TEST(FleetMetricsTest, FleetCountsCommitLatencyAndNewDriftEvents) {
  os::TempDir dir;
  Result<std::unique_ptr<store::SqliteStore>> store =
      store::SqliteStore::open(dir.file("controller.db"));
  ASSERT_TRUE(store.ok()) << store.status().toString();
  ASSERT_TRUE((*store)->registerSimulatedAgent("mx1", 1'700'000'000'000).ok());
  metrics::Registry registry;
  FleetOptions options;
  options.heartbeat_flush = 100ms;
  options.metrics = registerFleetMetrics(registry);
  Fleet fleet(**store, options);
  ASSERT_TRUE(fleet.start().ok());
  addFleetCollector(registry, fleet);

  v1::AgentMessage drift;
  drift.set_seq(1);
  drift.mutable_drift()->set_source(v1::DRIFT_SOURCE_CONFIG);
  v1::ParameterState* p = drift.mutable_drift()->add_parameters();
  p->set_file("main.cf");
  p->set_parameter("smtpd_tls_auth_only");
  p->set_expected("yes");
  p->set_actual("no");
  ASSERT_TRUE(fleet.report("mx1", drift).ok());
  ASSERT_TRUE(fleet.report("mx1", drift).ok());  // a redelivery
  metrics::Histogram::Snapshot latency{};
  for (int i = 0; i < 500 && latency.count < 2; ++i) {
    std::this_thread::sleep_for(10ms);
    latency = options.metrics.commit_latency->snapshot();
  }
  EXPECT_EQ(latency.count, 2u);
  EXPECT_GT(latency.sum, 0);
  EXPECT_LT(latency.sum, 10) << "seconds, not milliseconds";
  EXPECT_EQ(options.metrics.drift_events->value(), 1);

  std::string text = registry.renderText();
  EXPECT_NE(text.find("postwarden_reports_ingested_total{result=\"stored\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("postwarden_reports_ingested_total{result=\"duplicate\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("postwarden_drift_events_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("postwarden_report_commit_duration_seconds_count 2\n"), std::string::npos);
  fleet.stop();
}

}  // namespace
}  // namespace postwarden::controller::core
