#include "agent/fleet/agent_daemon.h"

#include <random>

#include "agent/applier/config_files.h"
#include "agent/applier/transaction.h"
#include "agent/cli/probe_targets.h"
#include "agent/daemon/outbox.h"
#include "agent/fleet/controller_link.h"
#include "agent/fleet/parameter_states.h"
#include "agent/os/file_lock.h"
#include "agent/params/parameter_catalog.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline_loader.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/service/service_control.h"
#include "common/logging.h"
#include "common/version.h"

namespace postwarden::agent::fleet {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("agent.daemon"); }

constexpr char kAssignmentFile[] = "/assignment.pb";

int64_t toMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

v1::Compliance complianceOf(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
    case applier::Outcome::kRepaired:
      return v1::COMPLIANCE_COMPLIANT;
    case applier::Outcome::kNeedsHuman:
      return v1::COMPLIANCE_NEEDS_HUMAN;
    case applier::Outcome::kRefused:
    case applier::Outcome::kRolledBack:
      break;
  }
  return v1::COMPLIANCE_REFUSED;
}

// A state report without what changes at every check, for "did anything change?". The
// outcome of a repair is news once: the check its own write triggers is the same state.
std::string essence(v1::StateReport state) {
  state.clear_observed_at_unix_ms();
  state.clear_probe_transcript();
  state.clear_outcome();
  return state.SerializeAsString();
}

}  // namespace

AgentDaemon::AgentDaemon(DaemonEnvironment env, daemon::AgentConfig config)
    : env_(env), config_(std::move(config)) {}

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
  PW_RETURN_IF_ERROR(env_.fs.createDirectories(config_.state_dir, 0700));
  PW_ASSIGN_OR_RETURN(std::string ca_pem, env_.fs.readFile(config_.ca_file));
  PW_RETURN_IF_ERROR(loadIdentity(env_.fs, config_.state_dir).status());
  // A new outbox (first start, or a reinstall with a wiped state directory) numbers from the
  // current time and gets a random epoch, so its reports are never taken for redeliveries of
  // what the controller stored from an earlier install (docs/fleet.md).
  const auto now_micros =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  std::random_device random;
  const uint64_t new_epoch = (uint64_t{random()} << 32) ^ random() ^ now_micros;
  PW_ASSIGN_OR_RETURN(std::unique_ptr<daemon::Outbox> outbox,
                      daemon::Outbox::open(env_.fs, config_.state_dir + "/outbox",
                                           config_.outbox_limit, now_micros, new_epoch));
  for (const std::string& w : outbox->warnings()) log()->warn("outbox: {}", w);
  PW_ASSIGN_OR_RETURN(watcher_,
                      daemon::ConfigWatcher::open(config_.postfix_dir, {"main.cf", "master.cf"}));
  Result<os::CommandResult> version =
      env_.commands.run({.argv = {"postconf", "-c", config_.postfix_dir, "-h", "mail_version"},
                         .timeout = std::chrono::seconds(10)});
  if (version.ok() && version->exit_code == 0) {
    postfix_version_ = version->stdout_data.substr(0, version->stdout_data.find('\n'));
  }
  link_ = std::make_unique<ControllerLink>(
      env_.fs, *outbox,
      LinkOptions{.channel = {.address = config_.controller_host + ":" +
                                         std::to_string(config_.controller_port),
                              .controller_name = config_.controller_name,
                              .ca_pem = ca_pem},
                  .state_dir = config_.state_dir,
                  .heartbeat_interval = config_.heartbeat_interval},
      LinkCallbacks{.hello = [this] { return hello(); },
                    .on_assignment =
                        [this](const v1::Assignment& a) {
                          {
                            std::lock_guard lock(inbox_mutex_);
                            inbox_.assignment = a;
                          }
                          watcher_->wake();
                        },
                    .on_command =
                        [this](const v1::Command& c) {
                          {
                            std::lock_guard lock(inbox_mutex_);
                            inbox_.commands.push_back(c);
                          }
                          watcher_->wake();
                        }});
  // The cached baseline is enforced at once, before the controller is reached (if ever).
  Status cached = loadCachedAssignment();
  if (!cached.ok()) log()->warn("cached baseline ignored: {}", cached.message());
  link_->start();
  recoverInterruptedChange();
  log()->info("agent {} watching {} (controller {}:{})", config_.agent_id, config_.postfix_dir,
              config_.controller_host, config_.controller_port);

  check(Trigger::kStartup);
  auto next_check = std::chrono::steady_clock::now() + nextCheckDelay();
  while (!stop_) {
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_check - std::chrono::steady_clock::now());
    Result<daemon::ConfigWatcher::Event> event =
        watcher_->wait(std::max(wait, std::chrono::milliseconds(0)));
    if (!event.ok()) {
      log()->error("watching {}: {}", config_.postfix_dir, event.status().message());
      link_->stop();
      return event.status();
    }
    if (stop_) break;
    switch (*event) {
      case daemon::ConfigWatcher::Event::kChanged:
        check(Trigger::kFileChange);
        break;
      case daemon::ConfigWatcher::Event::kWoken: {
        Inbox inbox;
        {
          std::lock_guard lock(inbox_mutex_);
          std::swap(inbox, inbox_);
        }
        if (inbox.assignment) adopt(*inbox.assignment);
        for (const v1::Command& c : inbox.commands) {
          check(c.kind() == v1::Command::KIND_APPLY_NOW ? Trigger::kApplyCommand
                                                        : Trigger::kVerifyCommand);
        }
        break;
      }
      case daemon::ConfigWatcher::Event::kTimeout:
        check(Trigger::kPeriodic);
        next_check = std::chrono::steady_clock::now() + nextCheckDelay();
        break;
    }
  }
  link_->stop();
  log()->info("agent stopped");
  return OkStatus();
}

std::chrono::milliseconds AgentDaemon::nextCheckDelay() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_int_distribution<int64_t> splay(0, std::max<int64_t>(config_.splay.count(), 0));
  return config_.check_interval + std::chrono::milliseconds(splay(random));
}

Status AgentDaemon::loadCachedAssignment() {
  Result<std::string> bytes = env_.fs.readFile(config_.state_dir + kAssignmentFile);
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
    Status saved = env_.fs.writeAtomic(config_.state_dir + kAssignmentFile,
                                       assignment.SerializeAsString(), {.mode = 0600});
    if (!saved.ok()) log()->warn("baseline not cached: {}", saved.message());
  }
  assignment_ = assignment;
  Result<policy::Baseline> baseline = policy::loadBaseline(
      assignment.content(), assignment.baseline_name() + "@" + assignment.baseline_version());
  if (baseline.ok()) {
    baseline_ = std::move(baseline).value();
    baseline_error_.clear();
  } else {
    baseline_.reset();
    baseline_error_ = baseline.status().message();
  }
  log()->info("baseline {}@{} ({}){}", assignment.baseline_name(), assignment.baseline_version(),
              assignment.mode() == v1::BASELINE_MODE_DETECT ? "detect only" : "enforce",
              baseline_ ? "" : " refused: " + baseline_error_);
  last_drift_.clear();
  if (check_now) check(Trigger::kAssignment);
}

int64_t AgentDaemon::configMtimeMs() {
  int64_t newest = 0;
  for (const char* name : {"/main.cf", "/master.cf"}) {
    Result<os::FileInfo> info = env_.fs.stat(config_.postfix_dir + name);
    if (info.ok()) newest = std::max(newest, toMs(info->modified));
  }
  return newest;
}

std::unique_ptr<service::ServiceControl> AgentDaemon::makeService(
    const planner::PostfixConfig& live) {
  service::ServiceOptions options{.timeout = config_.command_timeout};
  options.queue_directory = postfix::MainCfDocument::parse(live.main_cf)
                                .get("queue_directory")
                                .value_or("/var/spool/postfix");
  switch (config_.service.strategy) {
    case daemon::ServiceStrategy::kSystemd:
      return service::makeSystemdServiceControl(env_.commands, config_.service.systemd_unit,
                                                options);
    case daemon::ServiceStrategy::kCommand:
      return service::makeCommandServiceControl(
          env_.commands, {config_.service.reload_command, config_.service.restart_command},
          options);
    case daemon::ServiceStrategy::kPostfix:
      break;
  }
  return service::makePostfixServiceControl(env_.commands, config_.postfix_dir, options);
}

applier::TransactionOptions AgentDaemon::transactionOptions(
    const planner::PostfixConfig& live, std::vector<applier::ProbeCheck> probes,
    const cli::ProbeSettings& settings, const std::optional<cli::HostPort>& probe_address) {
  applier::TransactionOptions options;
  options.postfix_dir = config_.postfix_dir;
  options.state_dir = config_.state_dir;
  options.probes = std::move(probes);
  options.verify_deadline = config_.verify_deadline;
  options.check_timeout = config_.command_timeout;
  options.log_file = postfix::MainCfDocument::parse(live.main_cf).get("maillog_file").value_or("");
  options.health_checks = [settings, probe_address](const planner::PostfixConfig& restored) {
    auto health = cli::healthChecks(restored, probe_address, settings);
    return health.ok() ? *health : std::vector<applier::ProbeCheck>{};
  };
  return options;
}

void AgentDaemon::recoverInterruptedChange() {
  if (!env_.fs.stat(config_.state_dir + "/journal").ok()) return;
  Result<os::FileLock> lock = os::FileLock::acquire(config_.state_dir + "/lock");
  Result<planner::PostfixConfig> live = applier::ConfigFiles(env_.fs, config_.postfix_dir).read();
  if (!lock.ok() || !live.ok()) return;  // `postwarden-agent apply` holds it and recovers
  std::unique_ptr<service::ServiceControl> service = makeService(*live);
  applier::TransactionOptions options =
      transactionOptions(*live, {}, cli::ProbeSettings{.timeout = config_.probe.timeout}, {});
  options.probes = options.health_checks(*live);
  std::optional<applier::TransactionReport> recovered =
      applier::Transaction(env_.fs, env_.commands, *service, env_.prober, env_.clock, options)
          .recover();
  if (recovered) {
    log()->warn("finished an interrupted change: {}{}", applier::outcomeName(recovered->outcome),
                recovered->reason.empty() ? "" : " (" + recovered->reason + ")");
  }
}

cli::ProbeSettings AgentDaemon::probeSettings() {
  cli::ProbeSettings settings{.timeout = config_.probe.timeout};
  if (!config_.probe.login || !config_.probe.password_file) return settings;
  Result<std::string> secret = env_.fs.readFile(*config_.probe.password_file);
  if (!secret.ok()) {
    log()->warn("probe password file: {}", secret.status().message());
    return settings;
  }
  settings.login =
      verify::Credentials{*config_.probe.login, secret->substr(0, secret->find_first_of("\r\n"))};
  if (config_.probe.mail_to) {
    settings.message =
        verify::TestMessage{.mail_from = *config_.probe.login, .rcpt_to = {*config_.probe.mail_to}};
  }
  return settings;
}

std::optional<cli::HostPort> AgentDaemon::probeAddress() const {
  if (!config_.probe.address || !config_.probe.port) return std::nullopt;
  return cli::HostPort{*config_.probe.address, *config_.probe.port};
}

void AgentDaemon::check(Trigger trigger) {
  if (!assignment_) return;
  const bool force = trigger == Trigger::kAssignment || trigger == Trigger::kApplyCommand ||
                     trigger == Trigger::kVerifyCommand || trigger == Trigger::kStartup;
  const bool enforce = assignment_->mode() != v1::BASELINE_MODE_DETECT;
  v1::StateReport state;
  state.set_baseline_name(assignment_->baseline_name());
  state.set_baseline_version(assignment_->baseline_version());
  state.set_mode(enforce ? v1::BASELINE_MODE_ENFORCE : v1::BASELINE_MODE_DETECT);
  if (!baseline_) {
    state.set_compliance(v1::COMPLIANCE_REFUSED);
    state.set_detail("baseline refused: " + baseline_error_);
    report(std::move(state), force);
    return;
  }
  applier::ConfigFiles files(env_.fs, config_.postfix_dir);
  Result<planner::PostfixConfig> config = files.read();
  planner::PlanOptions plan_options;
  for (const auto& [role, port] : config_.probe.role_ports) {
    plan_options.role_ports.emplace(role, std::to_string(port));
  }
  // $config_directory names this instance's directory, not the default instance's.
  const params::ParameterCatalog catalog =
      params::ParameterCatalog::builtin().withConfigDirectory(config_.postfix_dir);
  Result<planner::Plan> plan = config.ok()
                                   ? planner::makePlan(*baseline_, *config, catalog, plan_options)
                                   : Result<planner::Plan>(config.status());
  if (!plan.ok()) {
    state.set_compliance(v1::COMPLIANCE_REFUSED);
    state.set_detail(plan.status().message());
    report(std::move(state), force);
    return;
  }
  std::vector<v1::ParameterState> states = parameterStates(*baseline_, *config, plan_options);
  alignWithPlan(states, *plan);

  const cli::ProbeSettings settings = probeSettings();
  const std::optional<cli::HostPort> probe_address = probeAddress();

  if (!plan->compliant()) {
    // A change that failed verification is not tried again on its own: retrying would reload
    // Postfix twice a minute for nothing. A new baseline, other files or an operator's
    // `command apply` try again.
    const std::string target =
        assignment_->baseline_version() + '\0' + plan->main_cf_after + '\0' + plan->master_cf_after;
    const bool retry_allowed = trigger == Trigger::kApplyCommand || target != failed_target_;
    v1::DriftEvent drift;
    drift.set_baseline_name(assignment_->baseline_name());
    drift.set_baseline_version(assignment_->baseline_version());
    drift.set_source(v1::DRIFT_SOURCE_CONFIG);
    for (const v1::ParameterState& s : outOfLineStates(states)) *drift.add_parameters() = s;
    drift.set_repairing(enforce && retry_allowed);
    drift.set_changed_at_unix_ms(configMtimeMs());
    drift.set_detected_at_unix_ms(toMs(env_.clock.now()));
    reportDrift(std::move(drift));
    if (!enforce) {
      state.set_compliance(v1::COMPLIANCE_DRIFTED);
    } else if (!retry_allowed) {
      state.set_compliance(v1::COMPLIANCE_REFUSED);
      state.set_outcome(failed_outcome_);
      state.set_detail(failed_reason_ + " (not retried; `postwardenctl command apply` retries)");
    } else {
      // The same lock as a manual `postwarden-agent apply`: never two transactions at once.
      Result<os::FileLock> lock = os::FileLock::acquire(config_.state_dir + "/lock");
      if (!lock.ok()) {
        log()->warn("repair postponed: {}", lock.status().message());
        state.set_compliance(v1::COMPLIANCE_DRIFTED);
        state.set_detail(lock.status().message());
        report(std::move(state), force);
        return;
      }
      Result<std::vector<applier::ProbeCheck>> checks =
          cli::probeChecks(*baseline_, {plan->main_cf_after, plan->master_cf_after}, plan_options,
                           probe_address, settings);
      if (!checks.ok()) {
        state.set_compliance(v1::COMPLIANCE_REFUSED);
        state.set_detail(checks.status().message());
        report(std::move(state), force);
        return;
      }
      std::unique_ptr<service::ServiceControl> service = makeService(*config);
      applier::Transaction transaction(
          env_.fs, env_.commands, *service, env_.prober, env_.clock,
          transactionOptions(*config, *checks, settings, probe_address));
      applier::TransactionReport result = transaction.apply(*plan);
      log()->info("repair of {} parameter(s): {}{}", plan->changes.size(),
                  applier::outcomeName(result.outcome),
                  result.reason.empty() ? "" : " (" + result.reason + ")");
      state.set_outcome(std::string(applier::outcomeName(result.outcome)));
      state.set_detail(result.reason);
      state.set_compliance(complianceOf(result.outcome));
      for (const applier::ProbeRecord& p : result.probes) {
        for (const std::string& line : p.result.transcript) state.add_probe_transcript(line);
      }
      Result<planner::PostfixConfig> after = files.read();
      if (after.ok()) {
        states = parameterStates(*baseline_, *after, plan_options);
        Result<planner::Plan> replan = planner::makePlan(*baseline_, *after, catalog, plan_options);
        if (replan.ok()) alignWithPlan(states, *replan);
      }
      if (result.outcome == applier::Outcome::kRepaired) last_drift_.clear();
      if (result.outcome == applier::Outcome::kRolledBack ||
          result.outcome == applier::Outcome::kNeedsHuman) {
        failed_target_ = target;
        failed_outcome_ = std::string(applier::outcomeName(result.outcome));
        failed_reason_ = result.reason;
      }
    }
  } else {
    last_drift_.clear();
    state.set_compliance(v1::COMPLIANCE_COMPLIANT);
    if (trigger != Trigger::kFileChange) {
      // The files are right; is the service? (an expired certificate, a dead smtpd)
      Result<std::vector<applier::ProbeCheck>> checks =
          cli::probeChecks(*baseline_, *config, plan_options, probe_address, settings);
      std::vector<std::string> failures;
      if (!checks.ok()) failures.push_back(checks.status().message());
      for (const applier::ProbeCheck& c :
           checks.ok() ? *checks : std::vector<applier::ProbeCheck>{}) {
        applier::ProbeRecord record = applier::runProbe(env_.prober, c);
        for (const std::string& line : record.result.transcript) state.add_probe_transcript(line);
        for (const std::string& f : record.verdict.failures)
          failures.push_back(record.target + ": " + f);
      }
      if (!failures.empty()) {
        state.set_compliance(v1::COMPLIANCE_FAILING);
        state.set_detail(failures.front());
        bool was_failing = last_state_ && last_state_->compliance() == v1::COMPLIANCE_FAILING;
        if (!was_failing) {
          v1::DriftEvent drift;
          drift.set_baseline_name(assignment_->baseline_name());
          drift.set_baseline_version(assignment_->baseline_version());
          drift.set_source(v1::DRIFT_SOURCE_SERVICE);
          for (const std::string& f : failures) drift.add_failures(f);
          drift.set_detected_at_unix_ms(toMs(env_.clock.now()));
          reportDrift(std::move(drift));
        }
      }
    } else if (last_state_) {
      *state.mutable_probe_transcript() = last_state_->probe_transcript();
    }
  }
  for (v1::ParameterState& s : states) *state.add_parameters() = std::move(s);
  report(std::move(state), force);
}

void AgentDaemon::report(v1::StateReport state, bool force) {
  state.set_observed_at_unix_ms(toMs(env_.clock.now()));
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
  last_state_.reset();  // the state after a drift event is news, even if it equals the last
  log()->warn("drift: {} parameter(s) out of line{}", drift.parameters_size(),
              drift.repairing() ? ", repairing" : " (detect only)");
  v1::AgentMessage message;
  *message.mutable_drift() = std::move(drift);
  Result<uint64_t> seq = link_->enqueue(std::move(message));
  if (!seq.ok()) log()->error("drift report not stored: {}", seq.status().message());
}

}  // namespace postwarden::agent::fleet
