#include "agent/run/agent_run.h"

#include "agent/applier/config_files.h"
#include "agent/params/parameter_catalog.h"
#include "agent/policy/applicability.h"
#include "agent/postfix/main_cf_document.h"

namespace postwarden::agent::run {
namespace {

bool allKnown(const params::ParameterCatalog& catalog, const policy::Baseline& baseline) {
  auto known = [&](const std::vector<policy::Setting>& settings) {
    for (const policy::Setting& s : settings) {
      if (!catalog.isKnown(s.name)) return false;
    }
    return true;
  };
  bool all = known(baseline.main_cf_set);
  for (const policy::ServiceOverride& o : baseline.master_cf) all = all && known(o.options);
  return all;
}

std::string mainCfValue(const planner::PostfixConfig& config, std::string_view name,
                        std::string fallback) {
  return postfix::MainCfDocument::parse(config.main_cf).get(name).value_or(std::move(fallback));
}

Status refusal(std::string heading, const std::vector<std::string>& findings) {
  if (findings.empty()) return OkStatus();
  for (const std::string& f : findings) heading += "\n" + f;
  return FailedPreconditionError(heading);
}

}  // namespace

Status predictedVerifyRefusal(const Planned& planned) {
  return refusal("the baseline's verify cannot pass on this host after the change:",
                 planned.predicted_probe_failures);
}

Status nonRootWriterRefusal(const Planned& planned) {
  if (planned.plan.compliant()) return OkStatus();
  return refusal(
      "apply would refuse to write: a user other than root could change main.cf or "
      "master.cf, which Postfix reads as root:",
      planned.non_root_writers);
}

AgentRun::AgentRun(RunEnvironment env, HostSettings host)
    : env_(std::move(env)), host_(std::move(host)) {}

planner::PlanOptions AgentRun::planOptions() const {
  return planner::PlanOptions{.role_ports = host_.role_ports};
}

Result<planner::PostfixConfig> AgentRun::readConfig() const {
  Result<planner::PostfixConfig> config =
      applier::ConfigFiles(env_.os.fs, host_.postfix_dir).read();
  if (!config.ok()) return config.status().withContext("reading Postfix configuration");
  return config;
}

Result<Planned> AgentRun::plan(const policy::Baseline& baseline,
                               const planner::PostfixConfig& config) const {
  // The built-in catalog keeps the common case within the plan budget; `postconf -d` costs a
  // process start and is asked only for a name the catalog does not know.
  params::ParameterCatalog catalog = params::ParameterCatalog::builtin();
  // A baseline that depends on the Postfix version needs the installed one's mail_version,
  // not the built-in table's.
  if (!allKnown(catalog, baseline) || policy::hasVersionConditions(baseline)) {
    if (const params::ParameterCatalog* installed = installedCatalog()) catalog = *installed;
  }
  // $config_directory names this instance's directory, not the default instance's.
  catalog = catalog.withConfigDirectory(host_.postfix_dir);
  PW_ASSIGN_OR_RETURN(planner::Plan plan,
                      planner::makePlan(baseline, config, catalog, planOptions()));
  Planned planned{.plan = std::move(plan)};
  // A security finding of its own, like `postfix check`'s "group or other writable".
  Result<std::vector<std::string>> writers =
      applier::ConfigFiles(env_.os.fs, host_.postfix_dir).nonRootWriters();
  if (!writers.ok()) {
    planned.plan.warnings.push_back("cannot check who may change main.cf and master.cf: " +
                                    writers.status().message());
  } else {
    planned.non_root_writers = std::move(writers).value();
    for (const std::string& w : planned.non_root_writers) planned.plan.warnings.push_back(w);
  }
  planned.predicted_probe_failures = predictedProbeFailures(
      baseline, {planned.plan.main_cf_after, planned.plan.master_cf_after}, planOptions());
  return planned;
}

const params::ParameterCatalog* AgentRun::installedCatalog() const {
  // Asked once: the daemon plans at every check, and the installed Postfix does not change
  // under a running agent (an upgrade restarts it through the package's unit).
  if (!installed_catalog_) {
    installed_catalog_.emplace();
    Result<os::CommandResult> defaults =
        env_.os.commands.run({.argv = {"postconf", "-d"}, .timeout = std::chrono::seconds(10)});
    if (defaults.ok() && defaults->exit_code == 0) {
      Result<params::ParameterCatalog> installed =
          params::ParameterCatalog::fromPostconfDefaults(defaults->stdout_data);
      if (installed.ok()) *installed_catalog_ = std::move(installed).value();
    }
  }
  return installed_catalog_->has_value() ? &**installed_catalog_ : nullptr;
}

Result<os::FileLock> AgentRun::lock() const {
  Status created = env_.os.fs.createDirectories(host_.state_dir, 0700);
  if (!created.ok()) return created.withContext("state directory");
  return env_.os.locks.acquire(host_.state_dir + "/lock");
}

Result<ProbeSettings> AgentRun::probeSettings() const {
  ProbeSettings settings{.timeout = host_.probe_timeout};
  if (!host_.probe_login) return settings;
  const ProbeLogin& login = *host_.probe_login;
  Result<std::string> secret = env_.os.fs.readFile(login.password_file);
  if (!secret.ok()) return secret.status().withContext("reading the probe password file");
  std::string password = secret->substr(0, secret->find_first_of("\r\n"));
  if (password.empty()) return InvalidArgumentError("the probe password file is empty");
  settings.login = verify::Credentials{login.user, std::move(password)};
  if (login.mail_to) {
    settings.message = verify::TestMessage{.mail_from = login.user, .rcpt_to = {*login.mail_to}};
  }
  return settings;
}

applier::TransactionOptions AgentRun::transactionOptions(const planner::PostfixConfig& live,
                                                         const ProbeSettings& settings,
                                                         bool offline) const {
  applier::TransactionOptions options;
  options.postfix_dir = host_.postfix_dir;
  options.state_dir = host_.state_dir;
  options.verify_deadline = host_.verify_deadline;
  options.check_timeout = host_.command_timeout;
  options.backup_keep = host_.backup_keep;
  options.log_file = mainCfValue(live, "maillog_file", "");
  options.crash_point = env_.crash_point;
  options.pid = env_.os.processes.selfPid();
  options.offline = offline;
  if (!offline) {
    // What "the service works again" means after a rollback: the restored configuration's
    // listeners, which may differ from the new one's.
    options.health_checks = [settings, address = host_.probe_address](
                                const planner::PostfixConfig& restored) {
      Result<std::vector<applier::ProbeCheck>> checks = healthChecks(restored, address, settings);
      return checks.ok() ? *checks : std::vector<applier::ProbeCheck>{};
    };
  }
  return options;
}

namespace {

std::unique_ptr<service::ServiceControl> serviceFor(const os::Env& env, const HostSettings& host,
                                                    const planner::PostfixConfig& live) {
  service::ServiceOptions options{.timeout = host.command_timeout};
  // The master's pid file lives in queue_directory (Debian's default below).
  options.queue_directory = mainCfValue(live, "queue_directory", "/var/spool/postfix");
  return service::makeServiceControl(env, host.service, host.postfix_dir, options);
}

}  // namespace

std::optional<applier::TransactionReport> AgentRun::recover(const planner::PostfixConfig& live,
                                                            const ProbeSettings& settings,
                                                            bool offline,
                                                            const StepObserver& on_step) const {
  std::unique_ptr<service::ServiceControl> service = serviceFor(env_.os, host_, live);
  return applier::Transaction(env_.os.fs, env_.os.commands, *service, env_.prober, env_.os.clock,
                              transactionOptions(live, settings, offline), on_step)
      .recover();
}

Result<PreparedChange> AgentRun::prepare(const policy::Baseline& baseline, const Planned& planned,
                                         const planner::PostfixConfig& live,
                                         const ProbeSettings& settings, bool offline) const {
  PreparedChange change{.service = serviceFor(env_.os, host_, live),
                        .options = transactionOptions(live, settings, offline)};
  if (!offline) {
    PW_ASSIGN_OR_RETURN(
        change.options.probes,
        probeChecks(baseline, {planned.plan.main_cf_after, planned.plan.master_cf_after},
                    planOptions(), host_.probe_address, settings));
  }
  return change;
}

applier::TransactionReport AgentRun::apply(PreparedChange& change, const planner::Plan& plan,
                                           const StepObserver& on_step) const {
  return applier::Transaction(env_.os.fs, env_.os.commands, *change.service, env_.prober,
                              env_.os.clock, change.options, on_step)
      .apply(plan);
}

Result<std::vector<applier::ProbeRecord>> AgentRun::verify(const policy::Baseline& baseline,
                                                           const planner::PostfixConfig& config,
                                                           const ProbeSettings& settings) const {
  PW_ASSIGN_OR_RETURN(std::vector<applier::ProbeCheck> checks,
                      probeChecks(baseline, config, planOptions(), host_.probe_address, settings));
  std::vector<applier::ProbeRecord> records;
  for (const applier::ProbeCheck& check : checks) {
    records.push_back(applier::runProbe(env_.prober, check));
  }
  return records;
}

}  // namespace postwarden::agent::run
