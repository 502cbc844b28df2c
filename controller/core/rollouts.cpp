// Over 400 lines: the operator calls on rollouts and the stepping loop share one lock and
// one store transaction per step; the engine itself is pure, in controller/rollout.
#include "controller/core/rollouts.h"

#include <absl/time/clock.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>
#include <time.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "agent/planner/unified_diff.h"
#include "common/logging.h"
#include "common/sha256.h"
#include "controller/core/rollout_record.h"
#include "controller/core/rollout_summary.h"
#include "controller/rollout/rollout_engine.h"
#include "controller/rollout/wave_plan.h"

namespace postwarden::controller::core {
namespace {

using google::protobuf::util::TimeUtil;

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.rollouts"); }

constexpr char kController[] = "controller";

store::UnixMs unixMs(absl::Time t) { return absl::ToUnixMillis(t); }

// CPU time the calling thread has used: what a step costs the machine, without the time it
// waited for the store's lock or the disk.
absl::Duration threadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

// The version an agent runs, as a rollout of baseline `name` names it: the version alone for
// that baseline, NAME@DIGEST for another one, "" for none.
template <typename Agent>  // store::AgentRecord or store::AgentProgress
std::string versionFor(const Agent& agent, const std::string& name) {
  if (agent.baseline_version.empty()) return "";
  if (agent.baseline_name == name) return agent.baseline_version;
  return agent.baseline_name + "@" + agent.baseline_version;
}

// A rollback target back to name and version (see versionFor).
std::pair<std::string, std::string> splitVersion(const std::string& version,
                                                 const std::string& name) {
  const size_t at = version.find('@');
  if (at == std::string::npos) return {name, version};
  return {version.substr(0, at), version.substr(at + 1)};
}

rollout::ChangeResult resultOf(v1::Outcome outcome) {
  using R = rollout::ChangeResult;
  switch (outcome) {
    case v1::OUTCOME_KEPT:
      return R::kKept;
    case v1::OUTCOME_REPAIRED:
      return R::kRepaired;
    case v1::OUTCOME_REFUSED:
      return R::kRefused;
    case v1::OUTCOME_ROLLED_BACK:
      return R::kRolledBack;
    case v1::OUTCOME_NEEDS_HUMAN:
      return R::kNeedsHuman;
    case v1::OUTCOME_OUTSIDE_WINDOW:
      return R::kOutsideWindow;
    default:
      return R::kNone;
  }
}

rollout::GateFigures gateFigures(const v1::HealthFigures& h) {
  return rollout::GateFigures{.deferred_growth = h.deferred_growth(),
                              .fatal_lines = h.fatal_lines(),
                              .tls_failures = h.tls_failures(),
                              .sasl_failures = h.sasl_failures(),
                              .connections = h.connections(),
                              .deliveries = h.deliveries(),
                              .sasl_failures_before = h.sasl_failures_before(),
                              .connections_before = h.connections_before(),
                              .deliveries_before = h.deliveries_before(),
                              .before_known = h.log_readable() && h.before_known()};
}

// What the engine reads of one agent: when it was last heard of, the version it runs, the job
// and result of its last job report, and the health figures of its last report if they belong
// to that job.
rollout::HostReport hostReport(const store::AgentProgress& agent, const std::string& name) {
  rollout::HostReport report{.last_report = absl::FromUnixMillis(agent.last_seen),
                             .version = versionFor(agent, name)};
  v1::StateReport job;
  if (agent.last_job_state.empty() || !job.ParseFromString(agent.last_job_state)) return report;
  report.job_id = job.job_id();
  report.result = resultOf(job.outcome());
  v1::StateReport last;
  if (last.ParseFromString(agent.last_state) && last.job_id() == report.job_id &&
      last.has_health()) {
    report.gates = gateFigures(last.health());
  }
  return report;
}

rollout::Labels labelsOf(const store::Labels& labels) { return {labels.begin(), labels.end()}; }

std::vector<rollout::FleetHost> fleetHosts(const std::vector<store::AgentRecord>& agents,
                                           const std::string& name) {
  std::vector<rollout::FleetHost> hosts;
  for (const store::AgentRecord& agent : agents) {
    if (agent.revoked) continue;
    hosts.push_back(rollout::FleetHost{
        .id = agent.id, .labels = labelsOf(agent.labels), .version = versionFor(agent, name)});
  }
  return hosts;
}

// The job that goes with a dispatch or a rollback of `host`.
v1::RolloutJob jobFor(const rollout::RolloutState& state, const rollout::HostProgress& host,
                      const rollout::Decision& decision) {
  v1::RolloutJob job;
  job.set_job_id(decision.job_id);
  job.set_rollout_id(state.id);
  const bool rollback = decision.kind == rollout::Decision::Kind::kRollBack;
  job.set_rollback(rollback);
  if (rollback && state.spec.rollback == rollout::RollbackTiming::kImmediately) {
    job.set_anytime(true);  // back to known-good at once
    return job;
  }
  for (size_t i : rollout::windowsFor(state.spec, host.labels)) {
    job.add_windows(schedule::toString(state.spec.windows[i].window));
  }
  job.set_anytime(state.spec.anytime);
  if (!rollback && host.wave >= 0 && size_t(host.wave) < state.wave_soaks.size()) {
    *job.mutable_soak() = TimeUtil::NanosecondsToDuration(
        absl::ToInt64Nanoseconds(state.wave_soaks[size_t(host.wave)]));
  }
  return job;
}

std::string auditDetail(const rollout::Decision& d) {
  std::string detail = d.reason;
  auto add = [&](const std::string& text) {
    if (!detail.empty()) detail += "; ";
    detail += text;
  };
  if (!d.version.empty()) add("version " + d.version);
  if (!d.job_id.empty()) add("job " + d.job_id);
  if (d.wave >= 0 && d.host.empty()) add("wave " + std::to_string(d.wave + 1));
  return detail;
}

// What a step stores besides the record: an audit row per decision, and a pin (with its job)
// per host that a decision sends a job to.
struct StepWrites {
  std::vector<store::PinRow> pins;
  std::vector<store::AuditRow> audit;
};

StepWrites stepWrites(const rollout::Decisions& decisions, absl::Time now) {
  const rollout::RolloutState& state = decisions.next;
  std::map<std::string, const rollout::HostProgress*> hosts;
  for (const rollout::HostProgress& h : state.hosts) hosts[h.id] = &h;
  StepWrites out;
  for (const rollout::Decision& d : decisions.actions) {
    out.audit.push_back(store::AuditRow{.at = unixMs(now),
                                        .actor = kController,
                                        .rollout_id = state.id,
                                        .action = std::string(rollout::toString(d.kind)),
                                        .host = d.host,
                                        .detail = auditDetail(d)});
    const bool sends = d.kind == rollout::Decision::Kind::kDispatch ||
                       d.kind == rollout::Decision::Kind::kRollBack;
    if (!sends || !hosts.contains(d.host)) continue;
    auto [name, version] = splitVersion(d.version, state.spec.baseline.name);
    out.pins.push_back(
        store::PinRow{.agent_id = d.host,
                      .baseline_name = name,
                      .baseline_version = version,
                      .rollout_id = state.id,
                      .job = jobFor(state, *hosts.at(d.host), d).SerializeAsString()});
  }
  return out;
}

bool sameRecord(v1::RolloutRecord a, v1::RolloutRecord b) {
  a.clear_updated_at();
  b.clear_updated_at();
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

struct Rollouts::Prepared {
  rollout::RolloutSpec spec;
  rollout::WavePlan plan;
  std::vector<rollout::FleetHost> hosts;
  store::BaselineRecord target;
};

Rollouts::Rollouts(store::Store& store, store::RolloutStore& rollouts, Fleet& fleet,
                   RolloutsOptions options)
    : store_(store), rollouts_(rollouts), fleet_(fleet), options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return absl::Now(); };
}

Rollouts::~Rollouts() { stop(); }

Status Rollouts::start() {
  PW_ASSIGN_OR_RETURN(std::vector<store::PinRow> pins, rollouts_.listPins());
  fleet_.setPins(pins);
  fleet_.onStateStored([this] { step_requested_ = true; });
  loop_ = std::thread([this] { loop(); });
  return OkStatus();
}

void Rollouts::stop() {
  {
    std::lock_guard lock(loop_mutex_);
    stopping_ = true;
  }
  loop_cv_.notify_all();
  if (loop_.joinable()) loop_.join();
  fleet_.onStateStored(nullptr);  // the fleet may outlive this
}

absl::Duration restAfterStep(absl::Duration step_cpu, const RolloutsOptions& options) {
  return std::clamp(step_cpu * options.step_rest_factor, options.step_interval,
                    std::max(options.step_interval, options.idle_step_interval));
}

void Rollouts::loop() {
  std::unique_lock lock(loop_mutex_);
  while (!stopping_) {
    lock.unlock();
    absl::Duration pause = options_.step_interval;
    // A follower neither reads the store nor consumes a step request: its new leader does.
    if (maybe_active_ && (!options_.leads || options_.leads()) && stepDue()) {
      const absl::Duration cpu_before = threadCpuTime();
      const absl::Time started = absl::Now();
      stepAll();
      const absl::Duration cpu = threadCpuTime() - cpu_before;
      const absl::Duration took = absl::Now() - started;
      pause = restAfterStep(cpu, options_);
      if (took >= absl::Seconds(1)) {
        log()->info("rollout step took {} ms ({} ms of CPU); the next in {} ms",
                    absl::ToInt64Milliseconds(took), absl::ToInt64Milliseconds(cpu),
                    absl::ToInt64Milliseconds(pause));
      }
    }
    lock.lock();
    loop_cv_.wait_for(lock, absl::ToChronoMilliseconds(pause), [this] { return stopping_; });
  }
}

void Rollouts::wake() { requestStep(); }

void Rollouts::requestStep() {
  maybe_active_ = true;
  step_requested_ = true;
  loop_cv_.notify_all();
}

bool Rollouts::stepDue() {
  if (step_requested_.exchange(false)) return true;
  std::lock_guard lock(wake_mutex_);
  return options_.now() >= next_step_;
}

Result<Rollouts::Prepared> Rollouts::prepare(const std::string& spec_yaml,
                                             const std::string& file) {
  Prepared p;
  PW_ASSIGN_OR_RETURN(p.spec, rollout::parseRolloutSpec(spec_yaml, file));
  PW_ASSIGN_OR_RETURN(p.target, store_.getBaseline(p.spec.baseline.name, p.spec.baseline.version));
  p.spec.baseline.version = p.target.version;  // a prefix resolved to the full digest
  PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, store_.listAgents());
  p.hosts = fleetHosts(agents, p.spec.baseline.name);
  PW_ASSIGN_OR_RETURN(p.plan, rollout::planWaves(p.spec, p.hosts));
  return p;
}

Result<v1::RolloutPlan> Rollouts::plan(const std::string& spec_yaml, const std::string& file) {
  PW_ASSIGN_OR_RETURN(Prepared p, prepare(spec_yaml, file));
  const absl::Time now = options_.now();
  std::map<std::string, const rollout::FleetHost*> by_id;
  for (const rollout::FleetHost& h : p.hosts) by_id[h.id] = &h;
  v1::RolloutPlan out;
  out.set_baseline_name(p.spec.baseline.name);
  out.set_target_digest(p.target.version);
  std::set<std::string> from_versions;
  for (const rollout::PlannedWave& wave : p.plan.waves) {
    v1::PlannedRolloutWave* w = out.add_waves();
    w->set_description(wave.description);
    w->set_canary(wave.canary);
    *w->mutable_soak() = TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(wave.soak));
    absl::Time next = absl::InfiniteFuture();
    for (const std::string& id : wave.hosts) {
      w->add_hosts(id);
      const rollout::FleetHost& host = *by_id.at(id);
      from_versions.insert(host.version);
      for (size_t i : rollout::windowsFor(p.spec, host.labels)) {
        next = std::min(next, schedule::nextOpening(p.spec.windows[i].window, now));
      }
    }
    if (next != absl::InfiniteFuture()) *w->mutable_next_window() = toTimestamp(next);
  }
  for (const std::string& id : p.plan.already_done) out.add_already_done(id);
  for (const rollout::ScopedWindow& window : p.spec.windows) {
    out.add_windows(rollout::toString(window));
  }
  for (const std::string& from : from_versions) {
    std::string text = (from.empty() ? "(none)" : from) + " -> " + p.target.version + "\n";
    if (!from.empty()) {
      auto [name, version] = splitVersion(from, p.spec.baseline.name);
      Result<store::BaselineRecord> before = store_.getBaseline(name, version);
      if (before.ok()) {
        text +=
            agent::planner::unifiedDiff(before->content, p.target.content, p.spec.baseline.name);
      }
    }
    out.add_baseline_diffs(text);
  }
  return out;
}

Result<v1::RolloutRecord> Rollouts::create(const std::string& spec_yaml, const std::string& file,
                                           const std::string& creator) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Prepared p, prepare(spec_yaml, file));
  std::vector<std::string> without_baseline;
  std::map<std::string, const rollout::FleetHost*> by_id;
  for (const rollout::FleetHost& h : p.hosts) by_id[h.id] = &h;
  std::set<std::string> changing;
  for (const rollout::PlannedWave& wave : p.plan.waves) {
    for (const std::string& id : wave.hosts) {
      changing.insert(id);
      if (by_id.at(id)->version.empty()) without_baseline.push_back(id);
    }
  }
  if (!without_baseline.empty()) {
    return FailedPreconditionError(
        std::to_string(without_baseline.size()) +
        " selected host(s) run no baseline, so a rollback would have nothing known-good to "
        "return to: " +
        without_baseline.front() + (without_baseline.size() > 1 ? ", ..." : "") +
        " (assign them a baseline first: postwardenctl baseline assign)");
  }
  PW_ASSIGN_OR_RETURN(std::vector<store::RolloutRow> active, rollouts_.listRollouts(true));
  int same_name = 0;
  for (const store::RolloutRow& row : active) {
    v1::RolloutRecord other;
    if (!other.ParseFromString(row.record)) continue;
    for (const v1::RolloutHost& h : other.hosts()) {
      if (changing.contains(h.id())) {
        return FailedPreconditionError("host '" + h.id() + "' is already in active rollout '" +
                                       other.id() + "' (abort or finish it first)");
      }
    }
  }
  PW_ASSIGN_OR_RETURN(std::vector<store::RolloutRow> all, rollouts_.listRollouts(false));
  for (const store::RolloutRow& row : all) {
    if (row.id.rfind(p.spec.name + "-", 0) == 0) ++same_name;
  }
  const std::string id = p.spec.name + "-" + std::to_string(same_name + 1);
  const std::string digest = sha256Hex(spec_yaml);
  const absl::Time now = options_.now();
  rollout::RolloutState state = rollout::newRollout(id, creator, digest, p.spec, p.plan, p.hosts);
  v1::RolloutRecord record = newRolloutRecord(state, p.plan, spec_yaml, file, now);
  const store::AuditRow audit{.at = unixMs(now),
                              .actor = creator,
                              .rollout_id = id,
                              .action = "create",
                              .detail = "target " + p.spec.baseline.name + "@" + p.target.version +
                                        ", spec sha256 " + digest + ", " +
                                        std::to_string(changing.size()) + " host(s) to change"};
  PW_RETURN_IF_ERROR(rollouts_.createRollout(store::RolloutRow{.id = id,
                                                               .record = record.SerializeAsString(),
                                                               .active = true,
                                                               .created_at = unixMs(now),
                                                               .updated_at = unixMs(now)},
                                             std::span(&audit, 1)));
  log()->info("rollout {} created by {}: {}@{} to {} host(s)", id, creator, p.spec.baseline.name,
              p.target.version, changing.size());
  requestStep();
  return record;
}

Result<std::vector<v1::RolloutRecord>> Rollouts::list() {
  PW_ASSIGN_OR_RETURN(std::vector<store::RolloutRow> rows, rollouts_.listRollouts(false));
  std::vector<v1::RolloutRecord> out;
  for (const store::RolloutRow& row : rows) {
    v1::RolloutRecord record;
    if (!record.ParseFromString(row.record)) {
      return DataLossError("stored rollout '" + row.id + "' is unreadable");
    }
    out.push_back(std::move(record));
  }
  return out;
}

Result<v1::RolloutRecord> Rollouts::get(const std::string& id, bool summary) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(v1::RolloutRecord record, loadLocked(id));
  if (summary) {
    summarize(record);
  } else {
    countPhases(record);
  }
  return record;
}

Result<v1::RolloutRecord> Rollouts::loadLocked(const std::string& id, int64_t* revision) {
  PW_ASSIGN_OR_RETURN(store::RolloutRow row, rollouts_.getRollout(id));
  v1::RolloutRecord record;
  if (!record.ParseFromString(row.record)) {
    return DataLossError("stored rollout '" + id + "' is unreadable");
  }
  if (revision != nullptr) *revision = row.revision;
  return record;
}

Status Rollouts::saveOperatorChange(v1::RolloutRecord record, int64_t revision,
                                    const rollout::RolloutState& next, store::AuditRow audit) {
  const absl::Time now = options_.now();
  updateRecord(next, now, absl::InfiniteFuture(), record);
  audit.at = unixMs(now);
  audit.rollout_id = record.id();
  PW_RETURN_IF_ERROR(rollouts_.saveRollout(store::RolloutRow{.id = record.id(),
                                                             .record = record.SerializeAsString(),
                                                             .active = isActive(next.phase),
                                                             .updated_at = unixMs(now),
                                                             .revision = revision},
                                           {}, std::span(&audit, 1)));
  requestStep();
  return OkStatus();
}

Result<v1::RolloutRecord> Rollouts::changeLocked(const std::string& id,
                                                 const DecideChange& decide) {
  Status saved;
  for (int attempt = 1; attempt <= kOperatorAttempts; ++attempt) {
    // Decided anew on every read: what another controller stored meanwhile may refuse it.
    int64_t revision = 0;
    PW_ASSIGN_OR_RETURN(v1::RolloutRecord record, loadLocked(id, &revision));
    PW_ASSIGN_OR_RETURN(rollout::RolloutState state, rolloutStateOf(record));
    PW_ASSIGN_OR_RETURN(OperatorChange change, decide(record, state));
    saved = saveOperatorChange(std::move(record), revision, change.next, std::move(change.audit));
    if (saved.ok()) return loadLocked(id);
    if (saved.code() != StatusCode::kAborted) return saved;
    log()->info("rollout {} changed elsewhere while an operator call decided (attempt {} of {})",
                id, attempt, kOperatorAttempts);
  }
  return saved.withContext(
      "nothing stored: another controller changed the rollout during each of " +
      std::to_string(kOperatorAttempts) + " attempts");
}

Result<v1::RolloutRecord> Rollouts::approve(const std::string& id, const std::string& approver) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(
      v1::RolloutRecord approved,
      changeLocked(
          id,
          [&](const v1::RolloutRecord& record,
              const rollout::RolloutState& state) -> Result<OperatorChange> {
            PW_ASSIGN_OR_RETURN(rollout::RolloutState next, rollout::approve(state, approver));
            const std::string detail = "target " + record.baseline_name() + "@" +
                                       record.target_digest() + ", spec sha256 " +
                                       record.spec_digest() + " (" +
                                       std::to_string(rollout::validApprovals(next)) + " of " +
                                       std::to_string(next.spec.approvals) + " approvals)";
            return OperatorChange{std::move(next),
                                  {.actor = approver, .action = "approve", .detail = detail}};
          }));
  log()->info("rollout {} approved by {}", id, approver);
  return approved;
}

Result<v1::RolloutRecord> Rollouts::rollback(const std::string& id, const std::string& actor,
                                             const std::string& reason) {
  std::lock_guard lock(mu_);
  const std::string why = "rollback requested by " + actor + (reason.empty() ? "" : ": " + reason);
  PW_ASSIGN_OR_RETURN(
      v1::RolloutRecord rolled,
      changeLocked(id,
                   [&](const v1::RolloutRecord&,
                       const rollout::RolloutState& state) -> Result<OperatorChange> {
                     if (state.phase == rollout::RolloutPhase::kAborted) {
                       return FailedPreconditionError("rollout '" + id +
                                                      "' is already rolled back (aborted)");
                     }
                     return OperatorChange{
                         rollout::requestRollback(state, why),
                         {.actor = actor, .action = "request_rollback", .detail = reason}};
                   }));
  log()->warn("rollout {}: {}", id, why);
  return rolled;
}

Result<v1::RolloutRecord> Rollouts::pause(const std::string& id, const std::string& actor) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(
      v1::RolloutRecord paused,
      changeLocked(id,
                   [&](const v1::RolloutRecord&,
                       const rollout::RolloutState& state) -> Result<OperatorChange> {
                     PW_ASSIGN_OR_RETURN(rollout::RolloutState next, rollout::pause(state, actor));
                     return OperatorChange{std::move(next), {.actor = actor, .action = "pause"}};
                   }));
  log()->warn("rollout {} paused by {}", id, actor);
  return paused;
}

Result<v1::RolloutRecord> Rollouts::resume(const std::string& id, const std::string& actor) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(
      v1::RolloutRecord resumed,
      changeLocked(id,
                   [&](const v1::RolloutRecord&,
                       const rollout::RolloutState& state) -> Result<OperatorChange> {
                     PW_ASSIGN_OR_RETURN(rollout::RolloutState next, rollout::resume(state));
                     return OperatorChange{std::move(next), {.actor = actor, .action = "resume"}};
                   }));
  log()->info("rollout {} resumed by {}", id, actor);
  return resumed;
}

Result<std::vector<store::AuditRow>> Rollouts::audit(const std::string& rollout_id,
                                                     store::UnixMs since, int limit) {
  return rollouts_.audit(rollout_id, since, limit > 0 ? limit : 1000);
}

void Rollouts::recordAction(const std::string& actor, const std::string& action,
                            const std::string& detail) {
  Status added = rollouts_.addAudit(
      {.at = unixMs(options_.now()), .actor = actor, .action = action, .detail = detail});
  if (!added.ok()) log()->error("audit row not stored: {}", added.message());
}

void Rollouts::stepAll() {
  std::lock_guard lock(mu_);
  Result<std::vector<store::RolloutRow>> active = rollouts_.listRollouts(true);
  if (!active.ok()) {
    log()->error("cannot read active rollouts: {}", active.status().message());
    return;
  }
  maybe_active_ = !active->empty();
  const absl::Time now = options_.now();
  absl::Time wake = now + options_.idle_step_interval;
  for (const store::RolloutRow& row : *active) {
    Status stepped = stepLocked(row, now, wake);
    if (!stepped.ok()) log()->error("rollout {}: {}", row.id, stepped.message());
  }
  std::lock_guard wake_lock(wake_mutex_);
  next_step_ = wake;
}

Status Rollouts::stepLocked(const store::RolloutRow& row, absl::Time now, absl::Time& wake) {
  v1::RolloutRecord record;
  if (!record.ParseFromString(row.record)) return DataLossError("stored record is unreadable");
  PW_ASSIGN_OR_RETURN(rollout::RolloutState state, rolloutStateOf(record));
  rollout::FleetView view;
  // Read before the agents: every report received before `stored_through` is stored by now,
  // so it is in `agents` (later ones may be too).
  view.stored_through = absl::FromUnixMillis(fleet_.storedThrough());
  if (auto sent = sent_at_.find(row.id); sent != sent_at_.end()) view.sent_at = sent->second;
  PW_ASSIGN_OR_RETURN(std::vector<store::AgentProgress> agents, store_.listAgentProgress());
  std::set<std::string> in_rollout;
  for (const rollout::HostProgress& h : state.hosts) in_rollout.insert(h.id);
  for (const store::AgentProgress& agent : agents) {
    if (agent.revoked || !in_rollout.contains(agent.id)) continue;  // silent: counts as failed
    view.hosts.emplace(agent.id, hostReport(agent, state.spec.baseline.name));
  }
  const rollout::Decisions decisions = rollout::step(state, view, now);
  wake = std::min(wake, decisions.wake_at);
  v1::RolloutRecord next = record;
  updateRecord(decisions.next, now, decisions.wake_at, next);
  if (decisions.actions.empty() && sameRecord(record, next)) return OkStatus();

  const StepWrites writes = stepWrites(decisions, now);
  Status saved = rollouts_.saveRollout(store::RolloutRow{.id = row.id,
                                                         .record = next.SerializeAsString(),
                                                         .active = isActive(decisions.next.phase),
                                                         .updated_at = unixMs(now),
                                                         .revision = row.revision},
                                       writes.pins, writes.audit);
  if (saved.code() == StatusCode::kAborted) {
    // Another controller saved this rollout since it was read (an operator call on another
    // replica, or a leader that has not yet noticed it lost the lease). Nothing of this step was
    // stored and nothing is sent: the next turn decides again from the stored record.
    log()->info("rollout {}: not stepped, it changed since it was read ({}); stepping again",
                row.id, saved.message());
    step_requested_ = true;
    return OkStatus();
  }
  PW_RETURN_IF_ERROR(saved);
  for (const store::AuditRow& a : writes.audit) {
    log()->info("rollout {}: {} {} {}", a.rollout_id, a.action, a.host, a.detail);
  }
  // Sent only once stored: a controller that dies here re-derives the same jobs on restart.
  for (const store::PinRow& pin : writes.pins) fleet_.pin(pin);
  noteSent(row.id, decisions.next, now, !writes.pins.empty());
  return OkStatus();
}

void Rollouts::noteSent(const std::string& id, const rollout::RolloutState& next, absl::Time now,
                        bool sent) {
  if (!isActive(next.phase)) {
    sent_at_.erase(id);
    return;
  }
  if (sent) sent_at_[id][now] = options_.now();
  auto it = sent_at_.find(id);
  if (it == sent_at_.end()) return;  // nothing recorded: no walk over the hosts
  std::map<absl::Time, absl::Time>& sent_at = it->second;
  // Kept only while a host still waits for the result of a job decided then.
  std::set<absl::Time> waiting;
  for (const rollout::HostProgress& h : next.hosts) {
    if (h.phase == rollout::HostPhase::kDispatched || h.phase == rollout::HostPhase::kRollingBack) {
      waiting.insert(h.since);
    }
  }
  std::erase_if(sent_at, [&](const auto& entry) { return !waiting.contains(entry.first); });
  if (sent_at.empty()) sent_at_.erase(it);
}

}  // namespace postwarden::controller::core
