#include "agent/daemon/daemon_metrics.h"

#include "agent/postfix/main_cf_document.h"
#include "common/logging.h"
#include "common/metrics/exposition.h"

namespace postwarden::agent::daemon {

using metrics::FamilySnapshot;
using metrics::MetricType;

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("agent.metrics"); }

constexpr std::pair<v1::Compliance, const char*> kCompliances[] = {
    {v1::COMPLIANCE_UNSPECIFIED, "unknown"},     {v1::COMPLIANCE_COMPLIANT, "compliant"},
    {v1::COMPLIANCE_DRIFTED, "drifted"},         {v1::COMPLIANCE_FAILING, "failing"},
    {v1::COMPLIANCE_REFUSED, "refused"},         {v1::COMPLIANCE_NEEDS_HUMAN, "needs_human"},
    {v1::COMPLIANCE_ROLLED_BACK, "rolled_back"},
};
constexpr std::pair<applier::Outcome, const char*> kOutcomes[] = {
    {applier::Outcome::kKept, "kept"},
    {applier::Outcome::kRepaired, "repaired"},
    {applier::Outcome::kRefused, "refused"},
    {applier::Outcome::kRolledBack, "rolled_back"},
    {applier::Outcome::kNeedsHuman, "needs_human"},
};
constexpr std::pair<v1::DriftSource, const char*> kSources[] = {
    {v1::DRIFT_SOURCE_CONFIG, "config"},
    {v1::DRIFT_SOURCE_SERVICE, "service"},
};

template <typename Map, typename Key>
double countOf(const Map& map, Key key) {
  auto it = map.find(key);
  return it == map.end() ? 0 : static_cast<double>(it->second);
}

FamilySnapshot single(std::string name, std::string help, MetricType type,
                      std::optional<double> value) {
  FamilySnapshot f{.name = std::move(name), .help = std::move(help), .type = type};
  if (value) f.samples.push_back({.value = *value});
  return f;
}

}  // namespace

std::string renderDaemonMetrics(const DaemonMetricsValues& v) {
  std::vector<FamilySnapshot> families;
  families.push_back(single("postwarden_agent_last_check_timestamp_seconds",
                            "When the agent's last check of the host ended (unix time).",
                            MetricType::kGauge, v.last_check_seconds));
  families.push_back(
      single("postwarden_agent_last_check_duration_seconds",
             "How long the agent's last check of the host took.", MetricType::kGauge,
             v.last_check_seconds ? std::optional(v.last_check_duration_seconds) : std::nullopt));
  families.push_back(single("postwarden_agent_checks_total",
                            "Checks of the host since the agent started.", MetricType::kCounter,
                            static_cast<double>(v.checks)));
  FamilySnapshot compliance{.name = "postwarden_agent_compliance",
                            .help =
                                "The host's compliance as last reported (1 for the current "
                                "state, 0 for the others).",
                            .type = MetricType::kGauge};
  for (auto [state, name] : kCompliances) {
    compliance.samples.push_back(
        {.labels = {{"state", name}}, .value = state == v.compliance ? 1.0 : 0.0});
  }
  families.push_back(std::move(compliance));
  families.push_back(single("postwarden_agent_last_change_timestamp_seconds",
                            "When the agent's last change transaction ended (unix time).",
                            MetricType::kGauge, v.last_change_seconds));
  FamilySnapshot last_outcome{.name = "postwarden_agent_last_change_outcome",
                              .help =
                                  "Outcome of the agent's last change transaction (1 for "
                                  "it, 0 for the others; absent before the first change).",
                              .type = MetricType::kGauge};
  FamilySnapshot changes{.name = "postwarden_agent_changes_total",
                         .help = "Change transactions since the agent started, by outcome.",
                         .type = MetricType::kCounter};
  for (auto [outcome, name] : kOutcomes) {
    if (v.last_change_outcome) {
      last_outcome.samples.push_back(
          {.labels = {{"outcome", name}}, .value = outcome == *v.last_change_outcome ? 1.0 : 0.0});
    }
    changes.samples.push_back(
        {.labels = {{"outcome", name}}, .value = countOf(v.changes, outcome)});
  }
  families.push_back(std::move(last_outcome));
  families.push_back(std::move(changes));
  FamilySnapshot drift{.name = "postwarden_agent_drift_events_total",
                       .help = "Drift events the agent reported since it started, by source.",
                       .type = MetricType::kCounter};
  for (auto [source, name] : kSources) {
    drift.samples.push_back(
        {.labels = {{"source", name}}, .value = countOf(v.drift_events, source)});
  }
  families.push_back(std::move(drift));
  families.push_back(single("postwarden_agent_probe_duration_seconds",
                            "How long the last probe of the live service took.", MetricType::kGauge,
                            v.last_probe_duration_seconds));
  families.push_back(single("postwarden_agent_outbox_depth",
                            "Reports waiting in the outbox for the controller's ack.",
                            MetricType::kGauge, static_cast<double>(v.outbox_depth)));
  families.push_back(single("postwarden_agent_outbox_dropped_total",
                            "Reports dropped by the outbox limit since the agent started.",
                            MetricType::kCounter, static_cast<double>(v.outbox_dropped)));
  FamilySnapshot baseline{.name = "postwarden_agent_baseline_info",
                          .help = "The baseline assigned to this host (value 1).",
                          .type = MetricType::kGauge};
  if (!v.baseline_name.empty()) {
    baseline.samples.push_back({.labels = {{"baseline", v.baseline_name},
                                           {"version", v.baseline_version},
                                           {"mode", v.enforce ? "enforce" : "detect"}},
                                .value = 1});
  }
  families.push_back(std::move(baseline));
  FamilySnapshot queues{.name = "postwarden_agent_postfix_queue_messages",
                        .help = "Messages in Postfix's queues (files in queue_directory).",
                        .type = MetricType::kGauge};
  for (const auto& [queue, count] : v.queue_messages) {
    queues.samples.push_back({.labels = {{"queue", queue}}, .value = static_cast<double>(count)});
  }
  families.push_back(std::move(queues));
  return metrics::renderText(families);
}

std::map<std::string, uint64_t> countQueueMessages(os::FileSystem& fs,
                                                   const std::string& queue_directory) {
  std::map<std::string, uint64_t> counts;
  for (const char* queue : kPostfixQueues) {
    const std::string dir = queue_directory + "/" + queue;
    Result<std::vector<std::string>> entries = fs.listDirectory(dir);
    if (!entries.ok()) continue;
    uint64_t n = 0;
    for (const std::string& entry : *entries) {
      if (entry.size() != 1) {
        ++n;
        continue;
      }
      Result<std::vector<std::string>> hashed = fs.listDirectory(dir + "/" + entry);
      n += hashed.ok() ? hashed->size() : 0;
    }
    counts[queue] = n;
  }
  return counts;
}

DaemonMetrics::DaemonMetrics(os::FileSystem& fs, const os::Clock& clock, std::string path)
    : fs_(fs), clock_(clock), path_(std::move(path)) {}

double DaemonMetrics::unixNow() const {
  // Whole milliseconds first: nanoseconds since 1970 do not fit a double's 53 bits.
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch());
  return static_cast<double>(ms.count()) / 1000.0;
}

DaemonMetrics::CheckTimer::CheckTimer(DaemonMetrics& metrics)
    : metrics_(metrics), started_(metrics.clock_.steadyNow()) {}

DaemonMetrics::CheckTimer::~CheckTimer() {
  if (!metrics_.enabled()) return;
  DaemonMetricsValues& v = metrics_.values_;
  v.last_check_duration_seconds =
      std::chrono::duration<double>(metrics_.clock_.steadyNow() - started_).count();
  v.last_check_seconds = metrics_.unixNow();
  ++v.checks;
}

void DaemonMetrics::changed(applier::Outcome outcome) {
  if (!enabled()) return;
  values_.last_change_outcome = outcome;
  values_.last_change_seconds = unixNow();
  ++values_.changes[outcome];
}

void DaemonMetrics::drifted(v1::DriftSource source) {
  if (enabled()) ++values_.drift_events[source];
}

void DaemonMetrics::probed(std::chrono::steady_clock::duration elapsed) {
  if (enabled())
    values_.last_probe_duration_seconds = std::chrono::duration<double>(elapsed).count();
}

void DaemonMetrics::postfixConfig(const std::string& main_cf) {
  if (!enabled()) return;
  std::string dir =
      postfix::MainCfDocument::parse(main_cf).get("queue_directory").value_or("/var/spool/postfix");
  queue_directory_ = dir.starts_with("/") && dir.find('$') == std::string::npos ? dir : "";
}

void DaemonMetrics::write(const Now& now) {
  if (!enabled()) return;
  if (!queue_directory_.empty()) values_.queue_messages = countQueueMessages(fs_, queue_directory_);
  values_.compliance = now.compliance;
  values_.outbox_depth = now.outbox_depth;
  values_.outbox_dropped = now.outbox_dropped;
  values_.baseline_name = now.baseline_name;
  values_.baseline_version = now.baseline_version;
  values_.enforce = now.enforce;
  Status written = fs_.writeAtomic(path_, renderDaemonMetrics(values_), {.mode = 0644});
  if (written.ok() || os::isNotDurable(written)) {  // node_exporter reads it either way
    if (failing_) log()->info("metrics textfile '{}' written again", path_);
    failing_ = false;
    return;
  }
  if (!failing_) log()->warn("metrics textfile not written: {}", written.message());
  failing_ = true;
}

}  // namespace postwarden::agent::daemon
