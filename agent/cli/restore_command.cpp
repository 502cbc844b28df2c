#include "agent/cli/restore_command.h"

#include <algorithm>
#include <cstdlib>
#include <istream>
#include <ostream>

#include "agent/applier/backups.h"
#include "agent/applier/journal.h"
#include "agent/applier/needs_human.h"
#include "agent/cli/restore_plan.h"
#include "agent/cli/step_output.h"
#include "agent/planner/unified_diff.h"
#include "agent/report/json_report.h"
#include "agent/run/agent_run.h"

namespace postwarden::agent::cli {
namespace {

run::HostSettings hostSettings(const RestoreArgs& args) {
  run::HostSettings host;
  host.postfix_dir = args.postfix_dir;
  host.state_dir = args.state_dir;
  host.service = args.service;
  host.probe_address = args.probe.probe;
  host.probe_timeout = args.probe.timeout;
  if (args.probe.login_user) {
    host.probe_login = run::ProbeLogin{*args.probe.login_user,
                                       args.probe.password_file.value_or(""), args.probe.mail_to};
  }
  host.verify_deadline = args.verify_deadline;
  host.command_timeout = args.command_timeout;
  return host;
}

// Refused while a change is in flight: its journal names the bytes recovery restores, and a
// restore on top would leave that change to be undone over the restored files.
Status checkNothingInFlight(const std::string& state_dir, Environment& env) {
  Result<std::optional<applier::JournalEntry>> entry =
      applier::Journal(env.os.fs, applier::journalPath(state_dir)).load();
  if (!entry.ok()) {
    return FailedPreconditionError("the journal " + applier::journalPath(state_dir) +
                                   " cannot be read (" + entry.status().message() +
                                   "): see 'postwarden-agent status'; nothing restored");
  }
  if (entry->has_value()) {
    return FailedPreconditionError(
        "change " + (*entry)->id + " is in flight (" + applier::journalPath(state_dir) +
        "): run 'postwarden-agent apply' to finish or undo it first, or wait for the daemon "
        "to; nothing restored");
  }
  return OkStatus();
}

Result<planner::PostfixConfig> readBackup(const std::string& state_dir, const std::string& id,
                                          Environment& env) {
  PW_ASSIGN_OR_RETURN(std::vector<applier::BackupInfo> backups,
                      applier::listBackups(env.os.fs, state_dir));
  auto found = std::find_if(backups.begin(), backups.end(),
                            [&](const applier::BackupInfo& b) { return b.id == id; });
  if (found == backups.end()) {
    return NotFoundError("there is no backup '" + id + "' in " + applier::backupsDir(state_dir) +
                         ": 'postwarden-agent backups --state-dir " + state_dir + "' lists them");
  }
  planner::PostfixConfig config;
  for (auto [name, bytes] :
       {std::pair{"main.cf", &config.main_cf}, std::pair{"master.cf", &config.master_cf}}) {
    Result<std::string> read = env.os.fs.readFile(found->dir + "/" + name);
    if (!read.ok()) return read.status().withContext("backup " + id + " has no usable " + name);
    *bytes = std::move(read).value();
  }
  return config;
}

// The diff, then yes or no. Without a terminal only --yes says yes.
Status confirm(const RestoreArgs& args, const planner::Plan& plan, Environment& env) {
  const bool text = args.format == OutputFormat::kText;
  std::ostream& shown = text ? env.out : env.err;
  std::string diff = planner::unifiedDiff(plan.main_cf_before, plan.main_cf_after, "main.cf") +
                     planner::unifiedDiff(plan.master_cf_before, plan.master_cf_after, "master.cf");
  const bool color =
      text && args.color && env.out_is_terminal && std::getenv("NO_COLOR") == nullptr;
  if (text || !args.yes) {
    shown << "restore backup " << args.id << " to " << args.postfix_dir << ":\n\n"
          << (color ? planner::colorizeDiff(diff) : diff) << "\n";
  }
  if (args.yes) return OkStatus();
  if (env.in == nullptr || !env.in_is_terminal) {
    return FailedPreconditionError(
        "restore replaces the live main.cf and master.cf: give --yes to confirm (there is no "
        "terminal to ask on); nothing restored");
  }
  env.err << "Restore backup " << args.id << " and "
          << (plan.applyMode() == params::ApplyMode::kRestart ? "restart" : "reload")
          << " Postfix? [y/N] ";
  env.err.flush();
  std::string answer;
  std::getline(*env.in, answer);
  if (answer == "y" || answer == "Y" || answer == "yes") return OkStatus();
  return AbortedError("not confirmed; nothing restored");
}

// The same object as `apply --format json`: the plan (baseline "backup ID") and the report.
void printJson(const RestoreArgs& args, const planner::Plan& plan,
               const applier::TransactionReport& report, Environment& env) {
  env.out << report::applyToJson(plan, report, {args.postfix_dir, env.os.clock.now()}) << "\n";
}

void printText(const applier::TransactionReport& report, Environment& env) {
  for (const applier::ProbeRecord& p : report.probes) {
    env.out << "  probe " << p.target << ": " << (p.verdict.passed ? "pass" : "FAIL") << "\n";
    for (const std::string& f : p.verdict.failures) env.out << "    failed: " << f << "\n";
  }
  if (!report.log_lines.empty()) {
    env.out << "  Postfix log:\n";
    for (const std::string& line : report.log_lines) env.out << "    " << line << "\n";
  }
  for (const std::string& warning : report.warnings) env.out << "warning: " << warning << "\n";
  env.out << "result: "
          << (report.outcome == applier::Outcome::kRepaired
                  ? std::string("restored; the files it replaced are in ") + report.backup_dir
                  : std::string(applier::outcomeName(report.outcome)) +
                        (report.reason.empty() ? "" : ": " + report.reason))
          << "\n";
}

// Refused before any change: the text on stderr, and with --format json an ErrorReport on
// stdout as apply prints, so that a script can parse every outcome.
int fail(Environment& env, const Status& status, OutputFormat format) {
  printError(env, status);
  if (format == OutputFormat::kJson) env.out << report::errorToJson(status) << "\n";
  return kExitError;
}

}  // namespace

int runRestore(const RestoreArgs& args, Environment& env) {
  const bool text = args.format == OutputFormat::kText;
  const run::AgentRun run({env.os, env.prober, env.crash_point}, hostSettings(args));
  Result<os::FileLock> lock = run.lock();
  if (!lock.ok()) return fail(env, lock.status(), args.format);
  if (Status in_flight = checkNothingInFlight(args.state_dir, env); !in_flight.ok()) {
    return fail(env, in_flight, args.format);
  }
  if (Result<std::string> reason = env.os.fs.readFile(applier::needsHumanPath(args.state_dir));
      reason.ok()) {
    std::string why = *reason;
    while (!why.empty() && why.back() == '\n') why.pop_back();
    fail(env,
         FailedPreconditionError("the host needs a human (" + why +
                                 "); 'postwarden-agent clear' once it works; nothing restored"),
         args.format);
    return kExitNeedsHuman;
  }
  Result<planner::PostfixConfig> backup = readBackup(args.state_dir, args.id, env);
  if (!backup.ok()) return fail(env, backup.status(), args.format);
  Result<planner::PostfixConfig> live = run.readConfig();
  if (!live.ok()) return fail(env, live.status(), args.format);
  Result<planner::Plan> plan =
      restorePlan(args.id, *live, *backup, params::ParameterCatalog::builtin());
  if (!plan.ok())
    return fail(env, plan.status().withContext("reading backup " + args.id), args.format);
  if (plan->compliant()) {
    if (text)
      env.out << "backup " << args.id << " is what " << args.postfix_dir
              << " holds: nothing to restore\n";
    if (!text) printJson(args, *plan, applier::TransactionReport{}, env);
    return kExitOk;
  }
  if (Status confirmed = confirm(args, *plan, env); !confirmed.ok())
    return fail(env, confirmed, args.format);

  Result<run::ProbeSettings> settings = run.probeSettings();
  if (!settings.ok()) return fail(env, settings.status(), args.format);
  // No expectations: the probe is the health check of the restored master.cf's listeners.
  policy::Baseline health_only;
  Result<run::PreparedChange> change =
      run.prepare(health_only, run::Planned{.plan = *plan}, *live, *settings, /*offline=*/false);
  if (!change.ok()) return fail(env, change.status(), args.format);
  if (text) env.out << "restoring:\n";
  run::StepObserver on_step;
  if (text) on_step = [&](const applier::StepRecord& step) { printStep(step, true, env); };
  applier::TransactionReport report = run.apply(*change, *plan, on_step);
  if (text) printText(report, env);
  if (!text) printJson(args, *plan, report, env);
  if (report.outcome == applier::Outcome::kRefused) {
    printError(env, FailedPreconditionError(report.reason + "; nothing restored"));
  }
  return exitFor(report.outcome);
}

}  // namespace postwarden::agent::cli
