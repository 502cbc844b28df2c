#include "agent/cli/cli.h"

#include <cstdio>
#include <ostream>

#include "agent/applier/config_files.h"
#include "agent/applier/needs_human.h"
#include "agent/applier/transaction.h"
#include "agent/cli/arguments.h"
#include "agent/cli/probe_targets.h"
#include "agent/os/file_lock.h"
#include "agent/planner/unified_diff.h"
#include "agent/policy/baseline_loader.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/report/json_report.h"
#include "agent/service/service_control.h"
#include "agent/verify/scan.h"

namespace postwarden::agent::cli {
namespace {

using applier::Outcome;

struct Planned {
  policy::Baseline baseline;
  planner::Plan plan;
  // Ways a non-root user could change main.cf/master.cf (also in plan.warnings): apply
  // refuses to write over them.
  std::vector<std::string> non_root_writers;
};

void printError(Environment& env, const Status& status) {
  // Multi-line messages (several findings) keep one finding per line.
  const std::string& message = status.message();
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    env.err << "postwarden-agent: error: " << message.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

// An error before any report exists: the text on stderr, and with --format json also an
// ErrorReport on stdout, so that a script can parse every outcome.
int fail(Environment& env, const Status& status, OutputFormat format) {
  printError(env, status);
  if (format == OutputFormat::kJson) env.out << report::errorToJson(status) << "\n";
  return kExitError;
}

// The built-in catalog knows Postfix 3.7. A name it does not know may still exist in a newer
// installed Postfix, so only then is `postconf -d` asked (it costs a process start; the
// common case stays within the 5 ms plan budget).
params::ParameterCatalog catalogFor(const policy::Baseline& baseline, Environment& env) {
  params::ParameterCatalog builtin = params::ParameterCatalog::builtin();
  auto known = [&](const std::vector<policy::Setting>& settings) {
    for (const policy::Setting& s : settings) {
      if (!builtin.isKnown(s.name)) return false;
    }
    return true;
  };
  bool all_known = known(baseline.main_cf_set);
  for (const policy::ServiceOverride& o : baseline.master_cf)
    all_known = all_known && known(o.options);
  if (all_known) return builtin;
  Result<os::CommandResult> defaults =
      env.commands.run({.argv = {"postconf", "-d"}, .timeout = std::chrono::seconds(10)});
  if (!defaults.ok() || defaults->exit_code != 0) return builtin;
  Result<params::ParameterCatalog> installed =
      params::ParameterCatalog::fromPostconfDefaults(defaults->stdout_data);
  return installed.ok() ? std::move(installed).value() : builtin;
}

Result<policy::Baseline> loadPolicy(const std::string& path, Environment& env) {
  Result<std::string> text = env.fs.readFile(path);
  if (!text.ok()) return text.status().withContext("reading policy");
  return policy::loadBaseline(*text, path);
}

Result<planner::PostfixConfig> readConfig(const std::string& postfix_dir, Environment& env) {
  Result<planner::PostfixConfig> config = applier::ConfigFiles(env.fs, postfix_dir).read();
  if (!config.ok()) return config.status().withContext("reading Postfix configuration");
  return config;
}

// Plans against `config` when the caller has just read it, else against the files on disk.
Result<Planned> loadAndPlan(const TargetOptions& target, Environment& env,
                            std::optional<planner::PostfixConfig> config = std::nullopt) {
  PW_ASSIGN_OR_RETURN(policy::Baseline baseline, loadPolicy(target.policy, env));
  if (!config) {
    PW_ASSIGN_OR_RETURN(config, readConfig(target.postfix_dir, env));
  }
  // $config_directory names this instance's directory, not the default instance's.
  params::ParameterCatalog catalog =
      catalogFor(baseline, env).withConfigDirectory(target.postfix_dir);
  PW_ASSIGN_OR_RETURN(planner::Plan plan,
                      planner::makePlan(baseline, *config, catalog,
                                        planner::PlanOptions{.role_ports = target.role_ports}));
  // A security finding of its own, like `postfix check`'s "group or other writable".
  Result<std::vector<std::string>> writers =
      applier::ConfigFiles(env.fs, target.postfix_dir).nonRootWriters();
  std::vector<std::string> non_root_writers;
  if (!writers.ok()) {
    plan.warnings.push_back("cannot check who may change main.cf and master.cf: " +
                            writers.status().message());
  } else {
    non_root_writers = std::move(writers).value();
    for (const std::string& w : non_root_writers) plan.warnings.push_back(w);
  }
  return Planned{std::move(baseline), std::move(plan), std::move(non_root_writers)};
}

// apply refuses to write files a non-root user could change, so the plan of a change over
// them says so (exit 1). A compliant host only gets the warnings: nothing would be written.
Status checkOnlyRootWrites(const Planned& planned) {
  if (planned.plan.compliant() || planned.non_root_writers.empty()) return OkStatus();
  std::string message =
      "apply would refuse to write: a user other than root could change main.cf or "
      "master.cf, which Postfix reads as root:";
  for (const std::string& w : planned.non_root_writers) message += "\n" + w;
  return FailedPreconditionError(message);
}

// plan agrees with verify: a change whose own probe cannot pass (as the configuration it
// produces already shows) is refused before anything is written, not applied and rolled back.
Status checkVerifyIsReachable(const Planned& planned, const TargetOptions& target) {
  std::vector<std::string> failures = predictedProbeFailures(
      planned.baseline, {planned.plan.main_cf_after, planned.plan.master_cf_after},
      {.role_ports = target.role_ports});
  if (failures.empty()) return OkStatus();
  std::string message = "the baseline's verify cannot pass on this host after the change:";
  for (const std::string& f : failures) message += "\n" + f;
  return FailedPreconditionError(message);
}

bool useColor(bool wanted, const Environment& env) {
  return wanted && env.out_is_terminal && std::getenv("NO_COLOR") == nullptr;
}

const char* modeName(params::ApplyMode mode) {
  return mode == params::ApplyMode::kRestart ? "restart" : "reload";
}

std::string plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void printPlanText(const planner::Plan& plan, const TargetOptions& target, Environment& env) {
  env.out << "baseline " << plan.baseline_name << " (version " << plan.baseline_version
          << ") against " << target.postfix_dir << "\n";
  for (const std::string& w : plan.warnings) env.out << "  warning: " << w << "\n";
  if (plan.compliant()) {
    env.out << "compliant: no changes\n";
    return;
  }
  for (const planner::Change& c : plan.changes) {
    env.out << "  ~ " << c.describe() << "  [" << modeName(c.mode) << "]\n";
  }
  for (const planner::AffectedService& a : plan.also_affected) {
    env.out << "  also affected (not governed by the baseline): " << a.describe() << "\n";
  }
  std::string diff = planner::unifiedDiff(plan.main_cf_before, plan.main_cf_after, "main.cf") +
                     planner::unifiedDiff(plan.master_cf_before, plan.master_cf_after, "master.cf");
  env.out << "\n" << (useColor(target.color, env) ? planner::colorizeDiff(diff) : diff) << "\n";
  env.out << plural(plan.changes.size(), "change") << " pending; Postfix needs a "
          << modeName(plan.applyMode()) << " to pick them up\n";
}

report::PlanContext context(const TargetOptions& target, Environment& env) {
  return {target.postfix_dir, env.clock.now()};
}

int runPlan(const PlanArgs& args, Environment& env) {
  Result<Planned> planned = loadAndPlan(args.target, env);
  if (!planned.ok()) return fail(env, planned.status(), args.target.format);
  if (Status reachable = checkVerifyIsReachable(*planned, args.target); !reachable.ok()) {
    return fail(env, reachable, args.target.format);
  }
  Status only_root = checkOnlyRootWrites(*planned);
  if (args.target.format == OutputFormat::kJson) {
    if (!only_root.ok()) return fail(env, only_root, args.target.format);
    env.out << report::planToJson(planned->plan, context(args.target, env)) << "\n";
  } else {
    printPlanText(planned->plan, args.target, env);
    if (!only_root.ok()) return fail(env, only_root, args.target.format);
  }
  return planned->plan.compliant() ? kExitOk : kExitPending;
}

Result<ProbeSettings> probeSettings(const ProbeOptions& options, Environment& env) {
  ProbeSettings settings;
  settings.timeout = options.timeout;
  if (options.login_user) {
    Result<std::string> secret = env.fs.readFile(*options.password_file);
    if (!secret.ok()) return secret.status().withContext("reading the probe password file");
    std::string password = secret->substr(0, secret->find_first_of("\r\n"));
    if (password.empty()) return InvalidArgumentError("the probe password file is empty");
    settings.login = verify::Credentials{*options.login_user, std::move(password)};
  }
  if (options.mail_to) {
    settings.message =
        verify::TestMessage{.mail_from = *options.login_user, .rcpt_to = {*options.mail_to}};
  }
  return settings;
}

void printProbe(const applier::ProbeRecord& probe, Environment& env) {
  const verify::ProbeResult& r = probe.result;
  auto mechanisms = [](const std::vector<std::string>& list) {
    std::string out;
    for (const std::string& m : list) out += (out.empty() ? "" : " ") + m;
    return out.empty() ? std::string("(none)") : out;
  };
  env.out << "  probe " << probe.target << ": " << (probe.verdict.passed ? "pass" : "FAIL") << " ("
          << r.elapsed.count() << " ms)\n";
  if (r.connected) {
    env.out << "    AUTH before TLS: " << mechanisms(r.before_tls.auth_mechanisms) << "\n"
            << "    STARTTLS: "
            << (!r.starttls_offered ? "not offered"
                : r.tls_established ? "handshake ok, " + r.tls_version
                                    : "FAILED: " + r.tls_error)
            << "\n";
    if (r.tls_established) {
      env.out << "    AUTH after TLS: " << mechanisms(r.after_tls.auth_mechanisms) << "\n";
    }
    if (r.login_succeeded) {
      env.out << "    login after TLS: " << (*r.login_succeeded ? "ok" : "FAILED") << "\n";
    }
    if (r.message_accepted) {
      env.out << "    test message: " << (*r.message_accepted ? "accepted" : "NOT accepted")
              << "\n";
    }
  }
  for (const std::string& f : probe.verdict.failures) env.out << "    failed: " << f << "\n";
}

void printTranscript(const applier::ProbeRecord& probe, Environment& env) {
  env.out << "  transcript of " << probe.target << ":\n";
  for (const std::string& line : probe.result.transcript) env.out << "    " << line << "\n";
}

int exitFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kKept:
    case Outcome::kRepaired:
      return kExitOk;
    case Outcome::kRefused:
      return kExitError;
    case Outcome::kRolledBack:
      return kExitRolledBack;
    case Outcome::kNeedsHuman:
      return kExitNeedsHuman;
  }
  return kExitError;
}

std::unique_ptr<service::ServiceControl> makeService(const ApplyArgs& args,
                                                     const planner::PostfixConfig& config,
                                                     Environment& env) {
  service::ServiceOptions options;
  options.timeout = args.command_timeout;
  // The master's pid file lives in queue_directory (Debian's default below).
  options.queue_directory = postfix::MainCfDocument::parse(config.main_cf)
                                .get("queue_directory")
                                .value_or("/var/spool/postfix");
  switch (args.service) {
    case ServiceStrategy::kSystemd:
      return service::makeSystemdServiceControl(env.commands, args.systemd_unit, options);
    case ServiceStrategy::kCommand:
      return service::makeCommandServiceControl(
          env.commands, {args.reload_command, args.restart_command}, options);
    case ServiceStrategy::kPostfix:
      break;
  }
  return service::makePostfixServiceControl(env.commands, args.target.postfix_dir, options);
}

int runApply(const ApplyArgs& args, Environment& env) {
  const bool text = args.target.format == OutputFormat::kText;
  // One transaction per host at a time; the kernel drops the lock of a dead holder. A dry
  // run changes nothing, not even the state directory.
  std::optional<os::FileLock> lock;
  if (!args.dry_run) {
    Status created = env.fs.createDirectories(args.state_dir, 0700);
    if (!created.ok()) return fail(env, created.withContext("state directory"), args.target.format);
    Result<os::FileLock> acquired = os::FileLock::acquire(args.state_dir + "/lock");
    if (!acquired.ok()) return fail(env, acquired.status(), args.target.format);
    lock.emplace(std::move(acquired).value());
  }

  auto on_step = [&](const applier::StepRecord& step) {
    if (!text) return;
    char timing[32];
    std::snprintf(timing, sizeof timing, "%6lld ms", static_cast<long long>(step.elapsed.count()));
    env.out << "  [" << timing << "] " << step.name << ": " << (step.ok ? "ok" : "FAILED")
            << (step.detail.empty() ? "" : " - " + step.detail) << "\n";
    env.out.flush();
  };

  // --offline (a stopped Postfix) runs the same transaction without the status step, the
  // reload and the probe, so it needs no probe settings or targets.
  ProbeSettings settings;
  if (!args.offline) {
    Result<ProbeSettings> read = probeSettings(args.probe, env);
    if (!read.ok()) return fail(env, read.status(), args.target.format);
    settings = std::move(read).value();
  }
  Result<planner::PostfixConfig> live = readConfig(args.target.postfix_dir, env);
  if (!live.ok()) return fail(env, live.status(), args.target.format);
  std::unique_ptr<service::ServiceControl> service = makeService(args, *live, env);
  applier::TransactionOptions options;
  options.postfix_dir = args.target.postfix_dir;
  options.state_dir = args.state_dir;
  options.verify_deadline = args.verify_deadline;
  options.check_timeout = args.command_timeout;
  options.log_file = postfix::MainCfDocument::parse(live->main_cf).get("maillog_file").value_or("");
  options.crash_point = env.crash_point;
  options.offline = args.offline;
  if (!args.offline) {
    options.health_checks = [&](const planner::PostfixConfig& config) {
      Result<std::vector<applier::ProbeCheck>> checks =
          healthChecks(config, args.probe.probe, settings);
      return checks.ok() ? *checks : std::vector<applier::ProbeCheck>{};
    };
  }

  // A change an earlier agent left half-done comes first; the plan is made from what is on
  // disk after it.
  std::optional<applier::TransactionReport> recovered;
  if (args.dry_run) {
    if (env.fs.stat(args.state_dir + "/journal").ok() && text) {
      env.out << "an interrupted change is in " << args.state_dir
              << "/journal; a real run would finish or undo it first\n";
    }
  } else {
    recovered = applier::Transaction(env.fs, env.commands, *service, env.prober, env.clock, options,
                                     on_step)
                    .recover();
  }
  if (recovered) {
    if (text) {
      env.out << "recovered an interrupted change: " << applier::outcomeName(recovered->outcome)
              << (recovered->reason.empty() ? "" : " (" + recovered->reason + ")") << "\n";
      for (const std::string& w : recovered->warnings) env.out << "warning: " << w << "\n";
    }
    if (recovered->outcome == Outcome::kNeedsHuman) {
      fail(env, InternalError(recovered->reason), args.target.format);
      return kExitNeedsHuman;
    }
  }

  Result<Planned> planned = loadAndPlan(args.target, env);
  if (!planned.ok()) return fail(env, planned.status(), args.target.format);
  if (!args.offline) {
    if (Status reachable = checkVerifyIsReachable(*planned, args.target); !reachable.ok()) {
      return fail(env, reachable, args.target.format);
    }
    Result<std::vector<applier::ProbeCheck>> probes =
        probeChecks(planned->baseline, {planned->plan.main_cf_after, planned->plan.master_cf_after},
                    {.role_ports = args.target.role_ports}, args.probe.probe, settings);
    if (!probes.ok()) return fail(env, probes.status(), args.target.format);
    options.probes = *probes;
  }
  applier::Transaction transaction(env.fs, env.commands, *service, env.prober, env.clock, options,
                                   on_step);
  const planner::Plan& plan = planned->plan;
  if (text) printPlanText(plan, args.target, env);
  if (args.dry_run) {
    if (text && args.offline) {
      env.out << "dry run: would "
              << (plan.compliant() ? "keep it" : "check and write the files offline (no reload)")
              << "; nothing written\n";
    } else if (text) {
      env.out << "dry run: would "
              << (plan.compliant() ? "verify"
                                   : "apply, then " + std::string(modeName(plan.applyMode())) +
                                         " with " + service->describe() + " and verify")
              << " " << plural(options.probes.size(), "listener") << "; nothing changed\n";
    } else {
      env.out << report::planToJson(plan, context(args.target, env)) << "\n";
    }
    return kExitOk;
  }
  if (text && !plan.compliant()) env.out << "\napplying:\n";
  applier::TransactionReport report = transaction.apply(plan);
  if (text) {
    for (const applier::ProbeRecord& p : report.probes) printProbe(p, env);
    bool failed = report.outcome == Outcome::kRolledBack || report.outcome == Outcome::kNeedsHuman;
    if (failed) {
      for (const applier::ProbeRecord& p : report.probes) printTranscript(p, env);
      if (!report.log_lines.empty()) {
        env.out << "  Postfix log:\n";
        for (const std::string& line : report.log_lines) env.out << "    " << line << "\n";
      }
    }
    for (const std::string& warning : report.warnings) env.out << "warning: " << warning << "\n";
    env.out << "result: " << applier::outcomeName(report.outcome)
            << (report.reason.empty() ? "" : ": " + report.reason) << "\n";
  } else {
    env.out << report::applyToJson(plan, report, context(args.target, env)) << "\n";
  }
  if (report.outcome == Outcome::kRefused || report.outcome == Outcome::kNeedsHuman) {
    printError(env, report.outcome == Outcome::kNeedsHuman
                        ? InternalError(report.reason)
                        : FailedPreconditionError(report.reason));
  }
  return exitFor(report.outcome);
}

int runVerify(const VerifyArgs& args, Environment& env) {
  Result<policy::Baseline> baseline = loadPolicy(args.target.policy, env);
  if (!baseline.ok()) return fail(env, baseline.status(), args.target.format);
  Result<ProbeSettings> settings = probeSettings(args.probe, env);
  if (!settings.ok()) return fail(env, settings.status(), args.target.format);
  planner::PostfixConfig config;
  if (!args.probe.probe) {
    Result<planner::PostfixConfig> read = readConfig(args.target.postfix_dir, env);
    if (!read.ok()) return fail(env, read.status(), args.target.format);
    config = *read;
  }
  Result<std::vector<applier::ProbeCheck>> checks = probeChecks(
      *baseline, config, {.role_ports = args.target.role_ports}, args.probe.probe, *settings);
  if (!checks.ok()) return fail(env, checks.status(), args.target.format);
  std::vector<applier::ProbeRecord> records;
  bool passed = true;
  for (const applier::ProbeCheck& check : *checks) {
    records.push_back(applier::runProbe(env.prober, check));
    passed = passed && records.back().verdict.passed;
  }
  if (args.target.format == OutputFormat::kJson) {
    env.out << report::verifyToJson(records) << "\n";
  } else {
    env.out << "verify " << baseline->name << " (version " << baseline->version << ")\n";
    for (const applier::ProbeRecord& r : records) printProbe(r, env);
    for (const applier::ProbeRecord& r : records) {
      if (!r.verdict.passed) printTranscript(r, env);
    }
    env.out << "result: " << (passed ? "pass" : "FAIL") << "\n";
  }
  return passed ? kExitOk : kExitPending;
}

int runScan(const ScanArgs& args, Environment& env) {
  verify::ProbeTarget target;
  target.host = args.address.host;
  target.port = args.address.port;
  target.timeout = args.timeout;
  target.expected_certificate_name = args.expected_name;
  applier::ProbeRecord record{
      args.address.host + ":" + std::to_string(args.address.port), env.prober.probe(target), {}};
  std::vector<verify::ScanFinding> findings = verify::scanFindings(record.result, env.clock.now());
  record.verdict.passed = true;
  for (const verify::ScanFinding& f : findings) {
    if (f.verdict == verify::ScanFinding::Verdict::kFail) {
      record.verdict.passed = false;
      record.verdict.failures.push_back(f.title);
    }
  }
  if (args.format == OutputFormat::kJson) {
    env.out << report::scanToJson(record, findings) << "\n";
  } else {
    env.out << "scan " << record.target << " (" << record.result.elapsed.count() << " ms)\n";
    for (const verify::ScanFinding& f : findings) {
      std::string verdict(verify::verdictName(f.verdict));
      for (char& c : verdict) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      env.out << "  " << verdict << std::string(verdict.size() < 5 ? 5 - verdict.size() : 0, ' ')
              << " " << f.title << "\n";
      if (!f.detail.empty()) env.out << "        " << f.detail << "\n";
    }
    env.out << "result: " << (record.verdict.passed ? "no finding failed" : "FAIL") << "\n";
  }
  return record.verdict.passed ? kExitOk : kExitPending;
}

int runClear(const ClearArgs& args, Environment& env) {
  if (!env.fs.stat(args.state_dir).ok()) {
    env.out << "nothing to clear: " << args.state_dir << " does not exist\n";
    return kExitOk;
  }
  // Not while an apply runs: it could be writing the journal being ended.
  Result<os::FileLock> lock = os::FileLock::acquire(args.state_dir + "/lock");
  if (!lock.ok()) {
    printError(env, lock.status());
    return kExitError;
  }
  Result<applier::ClearedState> cleared =
      applier::clearNeedsHuman(env.fs, args.state_dir, env.clock.now());
  if (!cleared.ok()) {
    printError(env, cleared.status().withContext("clear failed, the host still needs a human"));
    return kExitError;
  }
  if (!cleared->reason && cleared->journal_kept_at.empty()) {
    env.out << "nothing to clear: the host is not in the needs-human state and no change is "
               "in flight\n";
    return kExitOk;
  }
  if (cleared->reason) {
    std::string reason = *cleared->reason;
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    env.out << "cleared the needs-human state (it was: " << reason << ")\n";
  }
  if (cleared->ended) {
    env.out << "ended the interrupted change " << cleared->ended->id << " at step '"
            << applier::journalStepName(cleared->ended->step)
            << "' for good: it will not be resumed or rolled back; previous bytes in "
            << cleared->ended->backup_dir << ", its journal kept as " << cleared->journal_kept_at
            << "\n";
  } else if (cleared->unreadable_journal) {
    env.out << "ended an interrupted change whose journal could not be read; kept as "
            << cleared->journal_kept_at << "\n";
  }
  env.out << "apply may change this host again\n";
  return kExitOk;
}

}  // namespace

int run(const std::vector<std::string>& args, Environment& env) {
  Result<Arguments> parsed = parseArguments(args, env.working_dir);
  if (!parsed.ok()) {
    printError(env, parsed.status());
    return kExitError;
  }
  return std::visit(
      [&](const auto& command) -> int {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, HelpArgs>) {
          env.out << command.text;
          return kExitOk;
        } else if constexpr (std::is_same_v<T, PlanArgs>) {
          return runPlan(command, env);
        } else if constexpr (std::is_same_v<T, ApplyArgs>) {
          return runApply(command, env);
        } else if constexpr (std::is_same_v<T, VerifyArgs>) {
          return runVerify(command, env);
        } else if constexpr (std::is_same_v<T, ScanArgs>) {
          return runScan(command, env);
        } else {
          return runClear(command, env);
        }
      },
      *parsed);
}

}  // namespace postwarden::agent::cli
