// Over 400 lines: one short function per postwarden-agent command with its text output;
// the run itself is agent/run. Split per command if it grows.
#include "agent/cli/cli.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <ostream>

#include "agent/applier/needs_human.h"
#include "agent/applier/transaction.h"
#include "agent/cli/arguments.h"
#include "agent/cli/host_commands.h"
#include "agent/cli/restore_command.h"
#include "agent/cli/step_output.h"
#include "agent/planner/unified_diff.h"
#include "agent/policy/baseline_loader.h"
#include "agent/report/json_report.h"
#include "agent/run/agent_run.h"
#include "agent/verify/scan.h"
#include "common/os/file_lock.h"

namespace postwarden::agent::cli {
namespace {

using applier::Outcome;

// An error before any report exists: the text on stderr, and with --format json also an
// ErrorReport on stdout, so that a script can parse every outcome.
int fail(Environment& env, const Status& status, OutputFormat format) {
  printError(env, status);
  if (format == OutputFormat::kJson) env.out << report::errorToJson(status) << "\n";
  return kExitError;
}

Result<policy::Baseline> loadPolicy(const std::string& path, Environment& env) {
  Result<std::string> text = env.os.fs.readFile(path);
  if (!text.ok()) return text.status().withContext("reading policy");
  return policy::loadBaseline(*text, path);
}

run::HostSettings hostSettings(const TargetOptions& target) {
  return {.postfix_dir = target.postfix_dir, .role_ports = target.role_ports};
}

run::HostSettings hostSettings(const TargetOptions& target, const ProbeOptions& probe) {
  run::HostSettings host = hostSettings(target);
  host.probe_address = probe.probe;
  host.probe_timeout = probe.timeout;
  if (probe.login_user) {
    host.probe_login =
        run::ProbeLogin{*probe.login_user, probe.password_file.value_or(""), probe.mail_to};
  }
  return host;
}

run::HostSettings hostSettings(const ApplyArgs& args) {
  run::HostSettings host = hostSettings(args.target, args.probe);
  host.state_dir = args.state_dir;
  host.service = args.service;
  host.verify_deadline = args.verify_deadline;
  host.command_timeout = args.command_timeout;
  return host;
}

run::AgentRun agentRun(run::HostSettings host, Environment& env) {
  return run::AgentRun({env.os, env.prober, env.crash_point}, std::move(host));
}

// The baseline and its plan against the files on disk.
struct Planned {
  policy::Baseline baseline;
  run::Planned planned;
};

Result<Planned> loadAndPlan(const run::AgentRun& run, const std::string& policy, Environment& env) {
  PW_ASSIGN_OR_RETURN(policy::Baseline baseline, loadPolicy(policy, env));
  PW_ASSIGN_OR_RETURN(planner::PostfixConfig config, run.readConfig());
  PW_ASSIGN_OR_RETURN(run::Planned planned, run.plan(baseline, config));
  return Planned{std::move(baseline), std::move(planned)};
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
  for (const std::string& a : plan.applicability) env.out << "  note: " << a << "\n";
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
  return {target.postfix_dir, env.os.clock.now()};
}

int runPlan(const PlanArgs& args, Environment& env) {
  const run::AgentRun run = agentRun(hostSettings(args.target), env);
  Result<Planned> loaded = loadAndPlan(run, args.target.policy, env);
  if (!loaded.ok()) return fail(env, loaded.status(), args.target.format);
  const run::Planned& planned = loaded->planned;
  if (Status refused = run::predictedVerifyRefusal(planned); !refused.ok()) {
    return fail(env, refused, args.target.format);
  }
  Status only_root = run::nonRootWriterRefusal(planned);
  if (args.target.format == OutputFormat::kJson) {
    if (!only_root.ok()) return fail(env, only_root, args.target.format);
    env.out << report::planToJson(planned.plan, context(args.target, env)) << "\n";
  } else {
    printPlanText(planned.plan, args.target, env);
    if (!only_root.ok()) return fail(env, only_root, args.target.format);
  }
  return planned.plan.compliant() ? kExitOk : kExitPending;
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

std::string seconds(std::chrono::milliseconds ms) {
  return std::to_string((ms.count() + 999) / 1000) + " s";
}

// "probing 1 listener for up to 20 s (each probe up to 5 s)": a failing probe is retried
// that long. "" when nothing is probed (--offline).
std::string waitingText(const planner::Plan& plan, const applier::TransactionOptions& options) {
  if (options.offline || options.probes.empty()) return "";
  const std::chrono::milliseconds window =
      plan.compliant() ? applier::compliantProbeWindow(options) : options.verify_deadline;
  std::chrono::milliseconds each{0};
  for (const applier::ProbeCheck& check : options.probes) {
    each = std::max(each, check.target.timeout);
  }
  return "probing " + plural(options.probes.size(), "listener") + " for up to " + seconds(window) +
         " (each probe up to " + seconds(each) + ")";
}

// Prints the steps live. A failed step is held back until the next one comes: when it ends
// the transaction as a refusal, its reason is printed once, as the error on stderr, and the
// step line only says FAILED. Before a probe that may be retried it says how long it may wait.
class StepPrinter {
 public:
  explicit StepPrinter(Environment& env) : env_(env) {}

  // What the verify step of the coming transaction waits for ("" when there is no probe).
  void expectVerify(std::string waiting) { waiting_ = std::move(waiting); }

  void operator()(const applier::StepRecord& step) {
    flush(true);
    if (!step.ok) {
      held_ = step;
      return;
    }
    printStep(step, true, env_);
    if (step.name == "reload" || step.name == "restart") announceVerify();
  }

  // Before a verify step that was not preceded by a reload (a compliant host).
  void announceVerify() {
    if (waiting_.empty()) return;
    env_.out << "  verifying: " << waiting_ << " ...\n";
    env_.out.flush();
  }

  // The held step, with its detail unless the transaction was refused for it.
  void finish(Outcome outcome) { flush(outcome != Outcome::kRefused); }

 private:
  void flush(bool with_detail) {
    if (held_) printStep(*held_, with_detail, env_);
    held_.reset();
  }

  Environment& env_;
  std::string waiting_;
  std::optional<applier::StepRecord> held_;
};

// What a dry run would do, in text; JSON gets the plan.
void printDryRun(const ApplyArgs& args, const planner::Plan& plan,
                 const run::PreparedChange& change, Environment& env) {
  if (args.offline) {
    env.out << "dry run: would "
            << (plan.compliant() ? "keep it" : "check and write the files offline (no reload)")
            << "; nothing written\n";
    return;
  }
  env.out << "dry run: would "
          << (plan.compliant() ? "verify"
                               : "apply, then " + std::string(modeName(plan.applyMode())) +
                                     " with " + change.service->describe() + " and verify")
          << " " << plural(change.options.probes.size(), "listener") << "; nothing changed\n";
}

void printApplyResult(const applier::TransactionReport& report, Environment& env) {
  for (const applier::ProbeRecord& p : report.probes) printProbe(p, env);
  if (report.outcome == Outcome::kRolledBack || report.outcome == Outcome::kNeedsHuman) {
    for (const applier::ProbeRecord& p : report.probes) printTranscript(p, env);
    if (!report.log_lines.empty()) {
      env.out << "  Postfix log:\n";
      for (const std::string& line : report.log_lines) env.out << "    " << line << "\n";
    }
  }
  for (const std::string& warning : report.warnings) env.out << "warning: " << warning << "\n";
  // A refusal's reason goes to stderr only (runApply), so that it is printed once.
  const bool refused = report.outcome == Outcome::kRefused;
  env.out << "result: " << applier::outcomeName(report.outcome)
          << (report.reason.empty() || refused ? "" : ": " + report.reason) << "\n";
}

// A change an earlier agent left half-done comes first; the plan is made from what is on disk
// after it. kExitOk to go on, else the exit code.
int recoverFirst(const ApplyArgs& args, const run::AgentRun& run,
                 const run::ProbeSettings& settings, const run::StepObserver& on_step,
                 Environment& env) {
  const bool text = args.target.format == OutputFormat::kText;
  if (args.dry_run) {
    if (env.os.fs.stat(args.state_dir + "/journal").ok() && text) {
      env.out << "an interrupted change is in " << args.state_dir
              << "/journal; a real run would finish or undo it first\n";
    }
    return kExitOk;
  }
  Result<planner::PostfixConfig> live = run.readConfig();
  if (!live.ok()) return fail(env, live.status(), args.target.format);
  std::optional<applier::TransactionReport> recovered =
      run.recover(*live, settings, args.offline, on_step);
  if (!recovered) return kExitOk;
  if (text) {
    env.out << "recovered an interrupted change: " << applier::outcomeName(recovered->outcome)
            << (recovered->reason.empty() ? "" : " (" + recovered->reason + ")") << "\n";
    for (const std::string& w : recovered->warnings) env.out << "warning: " << w << "\n";
  }
  if (recovered->outcome != Outcome::kNeedsHuman) return kExitOk;
  fail(env, InternalError(recovered->reason), args.target.format);
  return kExitNeedsHuman;
}

int runApply(const ApplyArgs& args, Environment& env) {
  const bool text = args.target.format == OutputFormat::kText;
  const run::AgentRun run = agentRun(hostSettings(args), env);
  // A dry run changes nothing, not even the state directory.
  std::optional<os::FileLock> lock;
  if (!args.dry_run) {
    Result<os::FileLock> acquired = run.lock();
    if (!acquired.ok()) return fail(env, acquired.status(), args.target.format);
    lock.emplace(std::move(acquired).value());
  }
  StepPrinter printer(env);
  run::StepObserver on_step;
  if (text) on_step = [&](const applier::StepRecord& step) { printer(step); };
  // --offline (a stopped Postfix) runs the same transaction without the status step, the
  // reload and the probe, so it needs no probe settings.
  run::ProbeSettings settings;
  if (!args.offline) {
    Result<run::ProbeSettings> read = run.probeSettings();
    if (!read.ok()) return fail(env, read.status(), args.target.format);
    settings = std::move(read).value();
  }
  const int recovered = recoverFirst(args, run, settings, on_step, env);
  printer.finish(Outcome::kRepaired);  // a step of the recovery, with its detail
  if (recovered != kExitOk) return recovered;

  Result<policy::Baseline> baseline = loadPolicy(args.target.policy, env);
  if (!baseline.ok()) return fail(env, baseline.status(), args.target.format);
  Result<planner::PostfixConfig> live = run.readConfig();
  if (!live.ok()) return fail(env, live.status(), args.target.format);
  Result<run::Planned> planned = run.plan(*baseline, *live);
  if (!planned.ok()) return fail(env, planned.status(), args.target.format);
  if (!args.offline) {
    if (Status refused = run::predictedVerifyRefusal(*planned); !refused.ok()) {
      return fail(env, refused, args.target.format);
    }
  }
  Result<run::PreparedChange> change =
      run.prepare(*baseline, *planned, *live, settings, args.offline);
  if (!change.ok()) return fail(env, change.status(), args.target.format);
  const planner::Plan& plan = planned->plan;
  if (text) printPlanText(plan, args.target, env);
  if (args.dry_run) {
    if (text) printDryRun(args, plan, *change, env);
    if (!text) env.out << report::planToJson(plan, context(args.target, env)) << "\n";
    // The same exit status as plan: a script can use either to ask "is anything pending?".
    return plan.compliant() ? kExitOk : kExitPending;
  }
  printer.expectVerify(waitingText(plan, change->options));
  if (text && !plan.compliant()) env.out << "\napplying:\n";
  if (text && plan.compliant()) printer.announceVerify();
  applier::TransactionReport report = run.apply(*change, plan, on_step);
  printer.finish(report.outcome);
  if (text) printApplyResult(report, env);
  if (!text) env.out << report::applyToJson(plan, report, context(args.target, env)) << "\n";
  if (report.outcome == Outcome::kRefused || report.outcome == Outcome::kNeedsHuman) {
    printError(env, report.outcome == Outcome::kNeedsHuman
                        ? InternalError(report.reason)
                        : FailedPreconditionError(report.reason));
  }
  return exitFor(report.outcome);
}

int runVerify(const VerifyArgs& args, Environment& env) {
  const run::AgentRun run = agentRun(hostSettings(args.target, args.probe), env);
  Result<policy::Baseline> baseline = loadPolicy(args.target.policy, env);
  if (!baseline.ok()) return fail(env, baseline.status(), args.target.format);
  Result<run::ProbeSettings> settings = run.probeSettings();
  if (!settings.ok()) return fail(env, settings.status(), args.target.format);
  // With --probe every expectation goes to that address: master.cf is not needed.
  planner::PostfixConfig config;
  if (!args.probe.probe) {
    Result<planner::PostfixConfig> read = run.readConfig();
    if (!read.ok()) return fail(env, read.status(), args.target.format);
    config = *read;
  }
  Result<std::vector<applier::ProbeRecord>> records = run.verify(*baseline, config, *settings);
  if (!records.ok()) return fail(env, records.status(), args.target.format);
  bool passed = true;
  for (const applier::ProbeRecord& r : *records) passed = passed && r.verdict.passed;
  if (args.target.format == OutputFormat::kJson) {
    env.out << report::verifyToJson(*records) << "\n";
  } else {
    env.out << "verify " << baseline->name << " (version " << baseline->version << ")\n";
    for (const applier::ProbeRecord& r : *records) printProbe(r, env);
    for (const applier::ProbeRecord& r : *records) {
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
  verify::requestScanChecks(target);
  applier::ProbeRecord record{
      args.address.host + ":" + std::to_string(args.address.port), env.prober.probe(target), {}};
  std::vector<verify::ScanFinding> findings =
      verify::scanFindings(record.result, env.os.clock.now());
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

void printCleared(const applier::ClearedState& cleared, Environment& env) {
  if (!cleared.reason && cleared.journal_kept_at.empty()) {
    env.out << "nothing to clear: the host is not in the needs-human state and no change is "
               "in flight\n";
    return;
  }
  if (cleared.reason) {
    std::string reason = *cleared.reason;
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    env.out << "cleared the needs-human state (it was: " << reason << ")\n";
  }
  if (cleared.ended) {
    env.out << "ended the interrupted change " << cleared.ended->id << " at step '"
            << applier::journalStepName(cleared.ended->step)
            << "' for good: it will not be resumed or rolled back; previous bytes in "
            << cleared.ended->backup_dir << ", its journal kept as " << cleared.journal_kept_at
            << "\n";
  } else if (cleared.unreadable_journal) {
    env.out << "ended an interrupted change whose journal could not be read; kept as "
            << cleared.journal_kept_at << "\n";
  }
  env.out << "apply may change this host again\n";
}

int runClear(const ClearArgs& args, Environment& env) {
  const bool json = args.format == OutputFormat::kJson;
  if (!env.os.fs.stat(args.state_dir).ok()) {
    if (json) env.out << report::clearToJson(args.state_dir, {}) << "\n";
    if (!json) env.out << "nothing to clear: " << args.state_dir << " does not exist\n";
    return kExitOk;
  }
  // Not while an apply runs: it could be writing the journal being ended.
  Result<os::FileLock> lock = env.os.locks.acquire(args.state_dir + "/lock");
  if (!lock.ok()) return fail(env, lock.status(), args.format);
  Result<applier::ClearedState> cleared =
      applier::clearNeedsHuman(env.os.fs, args.state_dir, env.os.clock.now());
  if (!cleared.ok()) {
    return fail(env, cleared.status().withContext("clear failed, the host still needs a human"),
                args.format);
  }
  if (json) {
    env.out << report::clearToJson(args.state_dir, *cleared) << "\n";
  } else {
    printCleared(*cleared, env);
  }
  return kExitOk;
}

}  // namespace

int run(const std::vector<std::string>& args, Environment& env) {
  Result<Arguments> parsed = parseArguments(args, env.working_dir);
  if (!parsed.ok()) {
    printError(env, parsed.status());
    env.err << usageLine(args);
    return kExitUsage;
  }
  return std::visit(
      [&](const auto& command) -> int {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, HelpArgs>) {
          (command.usage_error ? env.err : env.out) << command.text;
          return command.usage_error ? kExitUsage : kExitOk;
        } else if constexpr (std::is_same_v<T, PlanArgs>) {
          return runPlan(command, env);
        } else if constexpr (std::is_same_v<T, ApplyArgs>) {
          return runApply(command, env);
        } else if constexpr (std::is_same_v<T, VerifyArgs>) {
          return runVerify(command, env);
        } else if constexpr (std::is_same_v<T, ScanArgs>) {
          return runScan(command, env);
        } else if constexpr (std::is_same_v<T, StatusArgs>) {
          return runStatus(command, env);
        } else if constexpr (std::is_same_v<T, BackupsArgs>) {
          return runBackups(command, env);
        } else if constexpr (std::is_same_v<T, RestoreArgs>) {
          return runRestore(command, env);
        } else {
          return runClear(command, env);
        }
      },
      *parsed);
}

}  // namespace postwarden::agent::cli
