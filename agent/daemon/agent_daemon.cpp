// Over 400 lines: the daemon's loop and its wiring of check, repair, link and reports. Its
// decisions (decisions.cpp), rollout jobs (agent_daemon_jobs.cpp) and parameter states live
// apart already; the status and metrics writing is the next to move out.
#include "agent/daemon/agent_daemon.h"

#include <algorithm>

#include "agent/applier/transaction.h"
#include "agent/daemon/daemon_metrics.h"
#include "agent/daemon/parameter_states.h"
#include "agent/daemon/status_file.h"
#include "agent/link/controller_link.h"
#include "agent/link/outbox.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline_loader.h"
#include "common/logging.h"
#include "common/os/file_lock.h"
#include "common/proto_time.h"
#include "common/version.h"

namespace postwarden::agent::daemon {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("agent.daemon"); }

constexpr char kAssignmentFile[] = "/assignment.pb";

v1::Compliance complianceOf(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
    case applier::Outcome::kRepaired:
      return v1::COMPLIANCE_COMPLIANT;
    case applier::Outcome::kNeedsHuman:
      return v1::COMPLIANCE_NEEDS_HUMAN;
    case applier::Outcome::kRolledBack:
      return v1::COMPLIANCE_ROLLED_BACK;
    case applier::Outcome::kRefused:
      break;
  }
  return v1::COMPLIANCE_REFUSED;
}

v1::Outcome outcomeOf(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
      return v1::OUTCOME_KEPT;
    case applier::Outcome::kRepaired:
      return v1::OUTCOME_REPAIRED;
    case applier::Outcome::kRefused:
      return v1::OUTCOME_REFUSED;
    case applier::Outcome::kRolledBack:
      return v1::OUTCOME_ROLLED_BACK;
    case applier::Outcome::kNeedsHuman:
      return v1::OUTCOME_NEEDS_HUMAN;
  }
  return v1::OUTCOME_UNSPECIFIED;
}

// A state report without what changes at every check, for "did anything change?". The
// outcome of a repair is news once: the check its own write triggers is the same state.
std::string essence(v1::StateReport state) {
  state.clear_observed_at();
  state.clear_probe_transcript();
  state.clear_outcome();
  state.clear_health();
  return state.SerializeAsString();
}

}  // namespace

namespace {

run::HostSettings hostSettings(const AgentConfig& config) {
  run::HostSettings host{.postfix_dir = config.postfix_dir,
                         .state_dir = config.state_dir,
                         .service = config.service,
                         .probe_timeout = config.probe.timeout,
                         .verify_deadline = config.verify_deadline,
                         .command_timeout = config.command_timeout,
                         .backup_keep = config.backup_keep};
  for (const auto& [role, port] : config.probe.role_ports) {
    host.role_ports.emplace(role, std::to_string(port));
  }
  if (config.probe.address && config.probe.port) {
    host.probe_address = run::HostPort{*config.probe.address, *config.probe.port};
  }
  if (config.probe.login && config.probe.password_file) {
    host.probe_login =
        run::ProbeLogin{*config.probe.login, *config.probe.password_file, config.probe.mail_to};
  }
  return host;
}

}  // namespace

AgentDaemon::AgentDaemon(DaemonEnvironment env, AgentConfig config)
    : env_(env),
      config_(std::move(config)),
      run_({env.os, env.prober, {}}, hostSettings(config_)),
      timing_{.check_interval = config_.check_interval, .splay = config_.splay},
      log_files_(env.log_files ? *env.log_files : posix_log_files_) {}

AgentDaemon::~AgentDaemon() = default;

void AgentDaemon::requestStop() {
  stop_ = true;
  if (watcher_) watcher_->wake();
}

v1::Hello AgentDaemon::hello() {
  v1::Hello hello;
  hello.set_agent_version(postwarden::kVersion);
  hello.set_postfix_version(postfix_version_);
  hello.set_hostname(config_.agent_id);
  hello.mutable_labels()->insert(config_.labels.begin(), config_.labels.end());
  hello.set_compliance(static_cast<v1::Compliance>(compliance_.load()));
  return hello;
}

Status AgentDaemon::run() {
  PW_RETURN_IF_ERROR(start());
  Status status = loop();
  link_->stop();
  if (status.ok()) log()->info("agent stopped");
  return status;
}

Status AgentDaemon::start() {
  PW_RETURN_IF_ERROR(env_.os.fs.createDirectories(config_.state_dir, 0700));
  PW_ASSIGN_OR_RETURN(std::string ca_pem, env_.os.fs.readFile(config_.ca_file));
  PW_RETURN_IF_ERROR(link::loadIdentity(env_.os.fs, config_.state_dir).status());
  // A new outbox (first start, or a reinstall with a wiped state directory) numbers from the
  // current time and gets a random epoch, so its reports are never taken for redeliveries of
  // what the controller stored from an earlier install (docs/fleet.md).
  const auto now_micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(env_.os.clock.now().time_since_epoch())
          .count());
  const uint64_t new_epoch = env_.os.random.next() ^ now_micros;
  PW_ASSIGN_OR_RETURN(outbox_, link::Outbox::open(env_.os.fs, config_.state_dir + "/outbox",
                                                  config_.outbox_limit, now_micros, new_epoch));
  for (const std::string& w : outbox_->warnings()) log()->warn("outbox: {}", w);
  PW_ASSIGN_OR_RETURN(watcher_,
                      env_.os.watchers.watch(config_.postfix_dir, {"main.cf", "master.cf"}));
  Result<os::CommandResult> version =
      env_.os.commands.run({.argv = {"postconf", "-c", config_.postfix_dir, "-h", "mail_version"},
                            .timeout = std::chrono::seconds(10)});
  if (version.ok() && version->exit_code == 0) {
    postfix_version_ = version->stdout_data.substr(0, version->stdout_data.find('\n'));
  }
  loadJobRecord();
  link_ = makeLink(ca_pem);
  // The cached baseline is enforced at once, before the controller is reached (if ever).
  Status cached = loadCachedAssignment();
  if (!cached.ok()) log()->warn("cached baseline ignored: {}", cached.message());
  link_->start();
  recoverInterruptedChange();
  log()->info("agent {} watching {} (controller {}:{})", config_.agent_id, config_.postfix_dir,
              config_.controller_host, config_.controller_port);
  return OkStatus();
}

std::unique_ptr<link::ControllerLink> AgentDaemon::makeLink(const std::string& ca_pem) {
  // What the controller sends is queued for the loop's thread, which the watcher wakes.
  auto queue = [this](auto add) {
    {
      std::lock_guard lock(inbox_mutex_);
      add(inbox_);
    }
    watcher_->wake();
  };
  return std::make_unique<link::ControllerLink>(
      env_.os, *outbox_,
      link::LinkOptions{.channel = {.address = config_.controller_host + ":" +
                                               std::to_string(config_.controller_port),
                                    .controller_name = config_.controller_name,
                                    .ca_pem = ca_pem},
                        .addresses = config_.controllers,
                        .state_dir = config_.state_dir,
                        .heartbeat_interval = config_.heartbeat_interval},
      link::LinkCallbacks{.hello = [this] { return hello(); },
                          .on_assignment =
                              [queue](const v1::Assignment& a) {
                                queue([&](Inbox& inbox) { inbox.assignment = a; });
                              },
                          .on_command =
                              [queue](const v1::Command& c) {
                                queue([&](Inbox& inbox) { inbox.commands.push_back(c); });
                              },
                          .on_link_state =
                              [recorder = std::make_shared<LinkStatusRecorder>(
                                   env_.os.fs, config_.state_dir)](const link::LinkState& s) {
                                recorder->note(s.connected, s.error, s.revoked, s.at);
                              }});
}

Status AgentDaemon::loop() {
  check(Trigger::kStartup);
  writeMetrics();
  if (env_.alive) env_.alive();
  const auto started = env_.os.clock.steadyNow();
  schedule_ = afterWake({}, {Trigger::kPeriodic, started}, started, timing_, splayDraw());
  while (!stop_) {
    const Wake wake = nextWake(schedule_);
    auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(wake.at - env_.os.clock.steadyNow());
    // A soaking job's next health report may come before the next check.
    if (job_) {
      const auto soak_at = nextSoakStep(*job_, timing_.check_interval);
      if (soak_at != std::chrono::system_clock::time_point::max()) {
        wait = std::min(
            wait, std::chrono::ceil<std::chrono::milliseconds>(soak_at - env_.os.clock.now()));
      }
    }
    if (env_.alive_interval.count() > 0) wait = std::min(wait, env_.alive_interval);
    Result<os::FileWatcher::Event> event =
        watcher_->wait(std::max(wait, std::chrono::milliseconds(0)));
    if (!event.ok()) {
      log()->error("watching {}: {}", config_.postfix_dir, event.status().message());
      return event.status();
    }
    if (stop_) break;
    soakTick();  // a soaking job's health report, when one is due
    switch (*event) {
      case os::FileWatcher::Event::kChanged:
        check(Trigger::kFileChange);
        break;
      case os::FileWatcher::Event::kWoken:
        handleInbox();
        break;
      case os::FileWatcher::Event::kTimeout:
        if (env_.os.clock.steadyNow() < wake.at) break;  // woken for the soak only
        // The schedule moves on first: the check may postpone a repair (a new retry).
        schedule_ = afterWake(schedule_, wake, env_.os.clock.steadyNow(), timing_, splayDraw());
        check(wake.trigger);
        break;
    }
    writeMetrics();
    if (env_.alive) env_.alive();
  }
  return OkStatus();
}

void AgentDaemon::handleInbox() {
  Inbox inbox;
  {
    std::lock_guard lock(inbox_mutex_);
    std::swap(inbox, inbox_);
  }
  if (inbox.assignment) {
    if (inbox.assignment->has_job() && !inbox.assignment->job().job_id().empty()) {
      takeJob(*inbox.assignment);
    } else {
      adopt(*inbox.assignment);
    }
  }
  for (const v1::Command& c : inbox.commands) {
    check(c.kind() == v1::Command::KIND_APPLY_NOW ? Trigger::kApplyCommand
                                                  : Trigger::kVerifyCommand);
  }
}

double AgentDaemon::splayDraw() { return env_.os.random.unit(); }

Status AgentDaemon::loadCachedAssignment() {
  Result<std::string> bytes = env_.os.fs.readFile(config_.state_dir + kAssignmentFile);
  if (!bytes.ok()) {
    return bytes.status().code() == StatusCode::kNotFound ? OkStatus() : bytes.status();
  }
  v1::Assignment assignment;
  if (!assignment.ParseFromString(*bytes)) return DataLossError("unreadable cached assignment");
  adopt(assignment, /*check_now=*/false);  // run() checks next
  return OkStatus();
}

void AgentDaemon::adopt(const v1::Assignment& assignment, bool check_now) {
  bool same = assignment_ && assignment_->SerializeAsString() == assignment.SerializeAsString();
  if (!same) {
    Status saved = env_.os.fs.writeAtomic(config_.state_dir + kAssignmentFile,
                                          assignment.SerializeAsString(), {.mode = 0600});
    if (!saved.ok()) log()->warn("baseline not cached: {}", saved.message());
  }
  assignment_ = assignment;
  Result<policy::Baseline> baseline = policy::loadBaseline(
      assignment.content(), assignment.baseline_name() + "@" + assignment.baseline_digest());
  if (baseline.ok()) {
    baseline_ = std::move(baseline).value();
    baseline_error_.clear();
    if (assignment.job().rollback()) restorePriorValues(assignment.job(), *baseline_);
  } else {
    baseline_.reset();
    baseline_error_ = baseline.status().message();
  }
  log()->info("baseline {}@{} ({}){}", assignment.baseline_name(), assignment.baseline_digest(),
              assignment.mode() == v1::BASELINE_MODE_DETECT ? "detect only" : "enforce",
              baseline_ ? "" : " refused: " + baseline_error_);
  memory_.enforce = assignment.mode() != v1::BASELINE_MODE_DETECT;
  last_drift_.clear();
  if (check_now) check(Trigger::kAssignment);
}

int64_t AgentDaemon::configMtimeMs() {
  int64_t newest = 0;
  for (const char* name : {"/main.cf", "/master.cf"}) {
    Result<os::FileInfo> info = env_.os.fs.stat(config_.postfix_dir + name);
    if (info.ok()) newest = std::max(newest, toUnixMs(info->modified));
  }
  return newest;
}

void AgentDaemon::recoverInterruptedChange() {
  if (!env_.os.fs.stat(config_.state_dir + "/journal").ok()) return;
  Result<os::FileLock> lock = run_.lock();
  Result<planner::PostfixConfig> live = run_.readConfig();
  if (!lock.ok() || !live.ok()) return;  // `postwarden-agent apply` holds it and recovers
  std::optional<applier::TransactionReport> recovered =
      run_.recover(*live, probeSettings(), /*offline=*/false);
  if (recovered) {
    log()->warn("finished an interrupted change: {}{}", applier::outcomeName(recovered->outcome),
                recovered->reason.empty() ? "" : " (" + recovered->reason + ")");
  }
}

run::ProbeSettings AgentDaemon::probeSettings() {
  Result<run::ProbeSettings> settings = run_.probeSettings();
  if (settings.ok()) return *settings;
  // A rotated or missing password is reported, and the probe goes on without the login.
  log()->warn("probe login: {}", settings.status().message());
  return run::ProbeSettings{.timeout = config_.probe.timeout};
}

AgentDaemon::Look AgentDaemon::lookAtHost() {
  Look look;
  if (!assignment_) return look;
  if (!baseline_) {
    look.finding.kind = Finding::Kind::kBaselineRefused;
    look.refusal = "baseline refused: " + baseline_error_;
    return look;
  }
  Result<planner::PostfixConfig> config = run_.readConfig();
  Result<run::Planned> planned =
      config.ok() ? run_.plan(*baseline_, *config) : Result<run::Planned>(config.status());
  if (!planned.ok()) {
    look.finding.kind = Finding::Kind::kPlanFailed;
    look.refusal = planned.status().message();
    return look;
  }
  look.states = parameterStates(*baseline_, *config, planOptions());
  alignWithPlan(look.states, planned->plan);
  const planner::Plan& plan = planned->plan;
  if (plan.compliant()) {
    look.finding.kind = Finding::Kind::kCompliant;
  } else {
    look.finding.kind = Finding::Kind::kOutOfLine;
    look.finding.change =
        assignment_->baseline_digest() + '\0' + plan.main_cf_after + '\0' + plan.master_cf_after;
    Status unreachable = run::predictedVerifyRefusal(*planned);
    look.finding.verify_unreachable = !unreachable.ok();
    look.refusal = unreachable.message();
    // A drift repair restores what was approved, so the rollback rule fits: any time unless
    // the assignment names windows, then only inside one.
    const JobVerdict window = mayStartJob(
        {.rollback = true,
         .windows = {assignment_->repair_windows().begin(), assignment_->repair_windows().end()}},
        /*needs_restart=*/false, env_.os.clock.now());
    look.finding.repair_window_open = window.start;
    if (!window.start) {
      // Without the instant `why` carries: the report stays the same from check to check.
      look.repair_wait = "repair waits for a repair window:";
      for (const std::string& w : assignment_->repair_windows()) look.repair_wait += " " + w + ";";
      look.repair_wait.pop_back();
    }
  }
  look.config = std::move(config).value();
  look.planned = std::move(planned).value();
  return look;
}

planner::PlanOptions AgentDaemon::planOptions() const {
  return {.role_ports = run_.host().role_ports};
}

void AgentDaemon::check(Trigger trigger) {
  DaemonMetrics::CheckTimer timer(metrics_);
  Look look = lookAtHost();
  if (look.config) metrics_.postfixConfig(look.config->main_cf);
  const Decision decision = decide(look.finding, memory_, trigger);
  if (decision.action == Action::kNothing) return;
  if (decision.drift_event) reportConfigDrift(look.states, decision.drift_repairing);
  v1::StateReport state;
  state.set_baseline_name(assignment_->baseline_name());
  state.set_baseline_digest(assignment_->baseline_digest());
  state.set_mode(memory_.enforce ? v1::BASELINE_MODE_ENFORCE : v1::BASELINE_MODE_DETECT);
  switch (decision.action) {
    case Action::kNothing:
      return;
    case Action::kReportRefused:
      if (!last_state_ || last_state_->detail() != look.refusal) {
        log()->warn("refused: {}", look.refusal);  // once, not at every check
      }
      state.set_compliance(v1::COMPLIANCE_REFUSED);
      state.set_detail(look.refusal);
      break;
    case Action::kReportDrifted:
      state.set_compliance(v1::COMPLIANCE_DRIFTED);
      if (decision.repair_waits) {
        if (!last_state_ || last_state_->detail() != look.repair_wait) {
          log()->info("drift: {}", look.repair_wait);  // once, not at every check
        }
        state.set_detail(look.repair_wait);
      }
      break;
    case Action::kHold: {
      // The failed change is still what the host would need: it stays rolled back (or needs
      // a human) until something differs or an operator retries.
      const bool needs_human =
          memory_.failed->outcome == applier::outcomeName(applier::Outcome::kNeedsHuman);
      state.set_compliance(needs_human ? v1::COMPLIANCE_NEEDS_HUMAN : v1::COMPLIANCE_ROLLED_BACK);
      state.set_outcome(needs_human ? v1::OUTCOME_NEEDS_HUMAN : v1::OUTCOME_ROLLED_BACK);
      state.set_detail(memory_.failed->reason +
                       " (not retried; `postwardenctl command apply` retries)");
      break;
    }
    case Action::kRepair:
      repair(look, state);
      break;
    case Action::kProbe:
      last_drift_.clear();
      state.set_compliance(v1::COMPLIANCE_COMPLIANT);
      probeService(*look.config, state);
      break;
    case Action::kKeepProbe:
      last_drift_.clear();
      state.set_compliance(v1::COMPLIANCE_COMPLIANT);
      if (last_state_) *state.mutable_probe_transcript() = last_state_->probe_transcript();
      break;
  }
  for (v1::ParameterState& s : look.states) *state.add_parameters() = std::move(s);
  report(std::move(state), decision.force_report);
}

void AgentDaemon::repair(Look& look, v1::StateReport& state) {
  // The same lock as a manual `postwarden-agent apply`: never two transactions at once.
  Result<os::FileLock> lock = run_.lock();
  if (!lock.ok()) {
    log()->warn("repair postponed: {}", lock.status().message());
    schedule_ = afterLockedRepair(schedule_, env_.os.clock.steadyNow(), timing_);
    state.set_compliance(v1::COMPLIANCE_DRIFTED);
    state.set_detail(lock.status().message());
    return;
  }
  Result<run::PreparedChange> change =
      run_.prepare(*baseline_, *look.planned, *look.config, probeSettings(), /*offline=*/false);
  if (!change.ok()) {
    state.set_compliance(v1::COMPLIANCE_REFUSED);
    state.set_detail(change.status().message());
    return;
  }
  applier::TransactionReport result = run_.apply(*change, look.planned->plan);
  metrics_.changed(result.outcome);
  log()->info("repair of {} parameter(s): {}{}", look.planned->plan.changes.size(),
              applier::outcomeName(result.outcome),
              result.reason.empty() ? "" : " (" + result.reason + ")");
  const std::string outcome(applier::outcomeName(result.outcome));
  state.set_outcome(outcomeOf(result.outcome));
  state.set_detail(result.reason);
  state.set_compliance(complianceOf(result.outcome));
  for (const applier::ProbeRecord& p : result.probes) {
    for (const std::string& line : p.result.transcript) state.add_probe_transcript(line);
  }
  memory_ = afterRepair(memory_, {look.finding.change, outcome, result.reason},
                        result.outcome == applier::Outcome::kRolledBack ||
                            result.outcome == applier::Outcome::kNeedsHuman);
  if (result.outcome == applier::Outcome::kRepaired) last_drift_.clear();
  // The parameters as they are now, after the change or its rollback.
  Result<planner::PostfixConfig> after = run_.readConfig();
  if (!after.ok()) return;
  look.states = parameterStates(*baseline_, *after, planOptions());
  Result<run::Planned> replan = run_.plan(*baseline_, *after);
  if (replan.ok()) alignWithPlan(look.states, replan->plan);
}

// The files are right; is the service? (an expired certificate, a dead smtpd)
void AgentDaemon::probeService(const planner::PostfixConfig& config, v1::StateReport& state) {
  const auto probe_started = env_.os.clock.steadyNow();
  Result<std::vector<applier::ProbeRecord>> records =
      run_.verify(*baseline_, config, probeSettings());
  metrics_.probed(env_.os.clock.steadyNow() - probe_started);
  std::vector<std::string> failures;
  if (!records.ok()) failures.push_back(records.status().message());
  for (const applier::ProbeRecord& record :
       records.ok() ? *records : std::vector<applier::ProbeRecord>{}) {
    for (const std::string& line : record.result.transcript) state.add_probe_transcript(line);
    for (const std::string& f : record.verdict.failures)
      failures.push_back(record.target + ": " + f);
  }
  if (failures.empty()) return;
  state.set_compliance(v1::COMPLIANCE_FAILING);
  state.set_detail(failures.front());
  const bool was_failing = last_state_ && last_state_->compliance() == v1::COMPLIANCE_FAILING;
  if (was_failing) return;
  v1::DriftEvent drift;
  drift.set_baseline_name(assignment_->baseline_name());
  drift.set_baseline_digest(assignment_->baseline_digest());
  drift.set_source(v1::DRIFT_SOURCE_SERVICE);
  for (const std::string& f : failures) drift.add_failures(f);
  *drift.mutable_detected_at() = toTimestamp(env_.os.clock.now());
  reportDrift(std::move(drift));
}

void AgentDaemon::reportConfigDrift(const std::vector<v1::ParameterState>& states, bool repairing) {
  v1::DriftEvent drift;
  drift.set_baseline_name(assignment_->baseline_name());
  drift.set_baseline_digest(assignment_->baseline_digest());
  drift.set_source(v1::DRIFT_SOURCE_CONFIG);
  for (const v1::ParameterState& s : outOfLineStates(states)) *drift.add_parameters() = s;
  drift.set_repairing(repairing);
  if (int64_t changed = configMtimeMs(); changed != 0) {
    *drift.mutable_changed_at() = timestampFromUnixMs(changed);
  }
  *drift.mutable_detected_at() = toTimestamp(env_.os.clock.now());
  reportDrift(std::move(drift));
}

void AgentDaemon::report(v1::StateReport state, bool force) {
  *state.mutable_observed_at() = toTimestamp(env_.os.clock.now());
  if (running_job_ && running_job_->report.empty()) {
    // The report of the job's own check: its result.
    state.set_job_id(running_job_->job_id);
    if (state.outcome() == v1::OUTCOME_UNSPECIFIED) {
      // No transaction ran: the files already said it (a probe may still fail), or the
      // baseline or its change was refused before anything was written.
      if (state.compliance() == v1::COMPLIANCE_COMPLIANT ||
          state.compliance() == v1::COMPLIANCE_FAILING) {
        state.set_outcome(v1::OUTCOME_KEPT);
      } else if (state.compliance() == v1::COMPLIANCE_REFUSED) {
        state.set_outcome(v1::OUTCOME_REFUSED);
      }
    }
    running_job_->report = state.SerializeAsString();
    force = true;
  } else if (state.job_id().empty() && soaking()) {
    state.set_job_id(job_->job_id);  // every report while the job soaks names it
  }
  compliance_ = state.compliance();
  if (!force && last_state_ && essence(*last_state_) == essence(state)) return;
  last_state_ = state;
  v1::AgentMessage message;
  *message.mutable_state() = std::move(state);
  Result<uint64_t> seq = link_->enqueue(std::move(message));
  if (!seq.ok()) log()->error("state report not stored: {}", seq.status().message());
}

void AgentDaemon::reportDrift(v1::DriftEvent drift) {
  std::string key = std::to_string(drift.source());
  for (const v1::ParameterState& p : drift.parameters()) key += p.SerializeAsString();
  if (key == last_drift_) return;  // the same drift seen again (a second event of one edit)
  last_drift_ = key;
  metrics_.drifted(drift.source());
  last_state_.reset();  // the state after a drift event is news, even if it equals the last
  log()->warn("drift: {} parameter(s) out of line{}", drift.parameters_size(),
              drift.repairing() ? ", repairing" : " (detect only)");
  v1::AgentMessage message;
  *message.mutable_drift() = std::move(drift);
  Result<uint64_t> seq = link_->enqueue(std::move(message));
  if (!seq.ok()) log()->error("drift report not stored: {}", seq.status().message());
}

void AgentDaemon::writeMetrics() {
  writeDaemonStatus();
  if (!metrics_.enabled()) return;
  metrics_.write({.compliance = static_cast<v1::Compliance>(compliance_.load()),
                  .outbox_depth = outbox_ ? outbox_->size() : 0,
                  .outbox_dropped = outbox_ ? outbox_->dropped() : 0,
                  .baseline_name = assignment_ ? assignment_->baseline_name() : "",
                  .baseline_version = assignment_ ? assignment_->baseline_digest() : "",
                  .enforce = memory_.enforce});
}

// For `postwarden-agent status` (status_file.h); best effort, like the metrics.
void AgentDaemon::writeDaemonStatus() {
  StatusFields fields{
      {"pid", std::to_string(env_.os.processes.selfPid())},
      {"agent_id", config_.agent_id},
      {"controller", config_.controller_host + ":" + std::to_string(config_.controller_port)},
      {"compliance", v1::Compliance_Name(static_cast<v1::Compliance>(compliance_.load()))},
      {"updated_unix_ms", unixMsText(env_.os.clock.now())}};
  if (assignment_) {
    fields["baseline_name"] = assignment_->baseline_name();
    fields["baseline_digest"] = assignment_->baseline_digest();
    fields["mode"] = memory_.enforce ? "enforce" : "detect";
  }
  if (last_state_) {
    fields["last_report_unix_ms"] = std::to_string(unixMs(last_state_->observed_at()));
    fields["last_outcome"] = v1::Outcome_Name(last_state_->outcome());
    fields["last_detail"] = last_state_->detail();
  }
  (void)writeStatusFile(env_.os.fs, daemonStatusPath(config_.state_dir), fields);
}

// ---------------------------------------------------------------------------------------
// Rollout jobs

}  // namespace postwarden::agent::daemon
