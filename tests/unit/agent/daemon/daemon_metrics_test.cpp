#include "agent/daemon/daemon_metrics.h"

#include <gtest/gtest.h>

#include "agent/daemon/agent_config.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::daemon {
namespace {

using namespace std::chrono_literals;

constexpr char kFile[] = "/var/lib/prometheus/node-exporter/postwarden.prom";

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(DaemonMetricsTest, RendersEveryFamilyBeforeTheFirstCheck) {
  std::string text = renderDaemonMetrics({});
  EXPECT_TRUE(has(text, "# TYPE postwarden_agent_last_check_timestamp_seconds gauge"));
  EXPECT_EQ(text.find("\npostwarden_agent_last_check_timestamp_seconds "), std::string::npos)
      << "no sample before the first check";
  EXPECT_TRUE(has(text, "postwarden_agent_compliance{state=\"unknown\"} 1"));
  EXPECT_TRUE(has(text, "postwarden_agent_compliance{state=\"compliant\"} 0"));
  EXPECT_TRUE(has(text, "postwarden_agent_changes_total{outcome=\"repaired\"} 0"));
  EXPECT_EQ(text.find("\npostwarden_agent_last_change_outcome{"), std::string::npos);
  EXPECT_TRUE(has(text, "postwarden_agent_drift_events_total{source=\"config\"} 0"));
  EXPECT_TRUE(has(text, "postwarden_agent_outbox_depth 0"));
}

TEST(DaemonMetricsTest, OffWithoutAPath) {
  fakes::InMemoryFileSystem fs;
  fakes::FakeClock clock;
  DaemonMetrics metrics(fs, clock, "");
  { DaemonMetrics::CheckTimer timer(metrics); }
  metrics.write({});
  EXPECT_FALSE(metrics.enabled());
  EXPECT_EQ(metrics.values().checks, 0u);
  EXPECT_FALSE(fs.exists(kFile));
}

TEST(DaemonMetricsTest, CountsAndWritesTheTextfileAtomically) {
  fakes::InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/prometheus/node-exporter");
  fakes::FakeClock clock;
  DaemonMetrics metrics(fs, clock, kFile);
  {
    DaemonMetrics::CheckTimer timer(metrics);
    clock.advance(250ms);
    metrics.drifted(v1::DRIFT_SOURCE_CONFIG);
    metrics.changed(applier::Outcome::kRepaired);
    metrics.probed(1500ms);
  }
  metrics.write({.compliance = v1::COMPLIANCE_COMPLIANT,
                 .outbox_depth = 3,
                 .outbox_dropped = 1,
                 .baseline_name = "smtp-auth-hardening",
                 .baseline_version = "abc\"def",
                 .enforce = false});
  Result<std::string> text = fs.readFile(kFile);
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_EQ(*text, renderDaemonMetrics(metrics.values()));
  // FakeClock starts at 2024-01-01T00:00:00Z; the check ended 250 ms later.
  EXPECT_TRUE(has(*text, "postwarden_agent_last_check_timestamp_seconds 1704067200.25")) << *text;
  EXPECT_TRUE(has(*text, "postwarden_agent_last_check_duration_seconds 0.25"));
  EXPECT_TRUE(has(*text, "postwarden_agent_checks_total 1"));
  EXPECT_TRUE(has(*text, "postwarden_agent_compliance{state=\"compliant\"} 1"));
  EXPECT_TRUE(has(*text, "postwarden_agent_compliance{state=\"unknown\"} 0"));
  EXPECT_TRUE(has(*text, "postwarden_agent_last_change_outcome{outcome=\"repaired\"} 1"));
  EXPECT_TRUE(has(*text, "postwarden_agent_last_change_outcome{outcome=\"kept\"} 0"));
  EXPECT_TRUE(has(*text, "postwarden_agent_changes_total{outcome=\"repaired\"} 1"));
  EXPECT_TRUE(has(*text, "postwarden_agent_drift_events_total{source=\"config\"} 1"));
  EXPECT_TRUE(has(*text, "postwarden_agent_drift_events_total{source=\"service\"} 0"));
  EXPECT_TRUE(has(*text, "postwarden_agent_probe_duration_seconds 1.5"));
  EXPECT_TRUE(has(*text, "postwarden_agent_outbox_depth 3"));
  EXPECT_TRUE(has(*text, "postwarden_agent_outbox_dropped_total 1"));
  EXPECT_TRUE(has(*text,
                  "postwarden_agent_baseline_info{baseline=\"smtp-auth-hardening\","
                  "version=\"abc\\\"def\",mode=\"detect\"} 1"));
  Result<os::FileInfo> info = fs.stat(kFile);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, 0644u) << "node_exporter runs as another user";
}

TEST(DaemonMetricsTest, AFailedWriteLeavesTheOldFileAndTheDaemonGoesOn) {
  fakes::InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/prometheus/node-exporter");
  fakes::FakeClock clock;
  DaemonMetrics metrics(fs, clock, kFile);
  metrics.write({.outbox_depth = 1});
  fs.failWritesWith(ResourceExhaustedError("No space left on device"));
  metrics.write({.outbox_depth = 2});
  metrics.write({.outbox_depth = 3});
  Result<std::string> text = fs.readFile(kFile);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(has(*text, "postwarden_agent_outbox_depth 1")) << "old bytes, whole";
}

TEST(DaemonMetricsTest, CountsPostfixQueuesWithHashedSubdirectories) {
  fakes::InMemoryFileSystem fs;
  fs.addFile("/spool/incoming/4XyZ1abc", "");
  fs.addFile("/spool/active/4XyZ2abc", "");
  fs.addFile("/spool/active/4XyZ3abc", "");
  fs.addFile("/spool/deferred/A/4XyZ4abc", "");
  fs.addFile("/spool/deferred/A/4XyZ5abc", "");
  fs.addFile("/spool/deferred/F/4XyZ6abc", "");
  fs.addDirectory("/spool/hold");
  // maildrop and corrupt missing (or unreadable): left out.
  std::map<std::string, uint64_t> counts = countQueueMessages(fs, "/spool");
  EXPECT_EQ(counts, (std::map<std::string, uint64_t>{
                        {"active", 2}, {"deferred", 3}, {"hold", 0}, {"incoming", 1}}));

  fs.addDirectory("/metrics");
  fakes::FakeClock clock;
  DaemonMetrics metrics(fs, clock, "/metrics/pw.prom");
  metrics.postfixConfig("queue_directory = /spool\n");
  metrics.write({});
  Result<std::string> text = fs.readFile("/metrics/pw.prom");
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_TRUE(has(*text, "postwarden_agent_postfix_queue_messages{queue=\"deferred\"} 3")) << *text;
  EXPECT_TRUE(has(*text, "postwarden_agent_postfix_queue_messages{queue=\"hold\"} 0"));

  // An expansion is not followed: nothing counted rather than the wrong directory.
  DaemonMetrics fresh(fs, clock, "/metrics/fresh.prom");
  fresh.postfixConfig("queue_directory = $base/spool\n");
  fresh.write({});
  EXPECT_TRUE(fresh.values().queue_messages.empty());
}

TEST(DaemonMetricsTest, ConfigKeyTakesAPromFileRelativeToTheConfig) {
  const std::string base =
      "controller: controller.example.org:7443\nca_file: /etc/postwarden/ca.pem\n";
  Result<AgentConfig> unset = parseAgentConfig(base, "/etc/postwarden/agent.yaml", "mx1");
  ASSERT_TRUE(unset.ok()) << unset.status().toString();
  EXPECT_EQ(unset->metrics_textfile, "");
  Result<AgentConfig> set = parseAgentConfig(base + "metrics_textfile: " + kFile + "\n",
                                             "/etc/postwarden/agent.yaml", "mx1");
  ASSERT_TRUE(set.ok()) << set.status().toString();
  EXPECT_EQ(set->metrics_textfile, kFile);
  Result<AgentConfig> relative =
      parseAgentConfig(base + "metrics_textfile: m/pw.prom\n", "/etc/postwarden/agent.yaml", "mx1");
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->metrics_textfile, "/etc/postwarden/m/pw.prom");
  Result<AgentConfig> wrong = parseAgentConfig(base + "metrics_textfile: /tmp/pw.txt\n",
                                               "/etc/postwarden/agent.yaml", "mx1");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("must end in .prom"), std::string::npos)
      << wrong.status().message();
  EXPECT_NE(wrong.status().message().find("agent.yaml:3:"), std::string::npos)
      << wrong.status().message();
}

}  // namespace
}  // namespace postwarden::agent::daemon
