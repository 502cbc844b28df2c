#include "agent/applier/transaction.h"

#include <unistd.h>

#include <algorithm>

#include "agent/applier/preflight.h"
#include "agent/os/stale_temp_files.h"
#include "common/logging.h"

namespace postwarden::agent::applier {
namespace {

using std::chrono::milliseconds;

// Postfix re-reads a configuration file until its mtime is about two seconds old (the
// cool-down loop in dict_load_file_xt()), a guard against reading a half-written file. Our
// files arrive by atomic rename and are whole, so the wait protects nothing; we backdate the
// mtime instead, which saves `postfix check`, `postconf` and the reload 1-2 s each.
constexpr std::chrono::seconds kSettledAge{3};

bool healthy(const verify::ProbeResult& r) {
  return r.connected && r.banner_code == 220 && r.failure.empty() &&
         (!r.starttls_offered || r.tls_established);
}

std::string healthFailure(const verify::ProbeResult& r) {
  if (!r.connected) return "no connection: " + r.failure;
  if (r.banner_code != 220) return "banner " + std::to_string(r.banner_code) + " instead of 220";
  if (!r.failure.empty()) return r.failure;
  return "STARTTLS offered but the handshake failed: " + r.tls_error;
}

std::string targetName(const verify::ProbeTarget& t) {
  return t.host + ":" + std::to_string(t.port);
}

std::string joinLines(const std::vector<std::string>& lines, std::string_view separator) {
  std::string out;
  for (const std::string& line : lines) out += (out.empty() ? "" : std::string(separator)) + line;
  return out;
}

std::string commandOutput(const os::CommandResult& r) {
  std::string out = r.stderr_data + r.stdout_data;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

ProbeRecord runProbe(verify::SmtpProber& prober, const ProbeCheck& check) {
  ProbeRecord record{targetName(check.target), prober.probe(check.target), {}};
  record.verdict = verify::evaluate(record.result, check.expectation);
  return record;
}

std::string_view outcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kKept:
      return "kept";
    case Outcome::kRepaired:
      return "repaired";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kRolledBack:
      return "rolled_back";
    case Outcome::kNeedsHuman:
      return "needs_human";
  }
  return "unknown";
}

Transaction::Transaction(os::FileSystem& fs, os::CommandRunner& commands,
                         service::ServiceControl& service, verify::SmtpProber& prober,
                         os::Clock& clock, TransactionOptions options,
                         std::function<void(const StepRecord&)> on_step)
    : fs_(fs),
      commands_(commands),
      service_(service),
      prober_(prober),
      clock_(clock),
      options_(std::move(options)),
      on_step_(std::move(on_step)),
      files_(fs, options_.postfix_dir),
      journal_(fs, options_.state_dir + "/journal") {}

std::string Transaction::statePath(std::string_view name) const {
  return options_.state_dir + "/" + std::string(name);
}

void Transaction::crashPoint(std::string_view step) {
  if (options_.crash_point) options_.crash_point(step);
}

void Transaction::advance(JournalEntry& entry, JournalStep step) {
  entry.step = step;
  // A failed write leaves the journal at the earlier step, from which recovery rolls back:
  // the conservative reading, so the transaction goes on.
  (void)journal_.record(entry);
  crashPoint(journalStepName(step));
}

StepRecord Transaction::runStep(TransactionReport& report, std::string name,
                                const std::function<Status(std::string& detail)>& step) {
  const auto start = clock_.steadyNow();
  StepRecord record{std::move(name), true, milliseconds(0), ""};
  Status status = step(record.detail);
  record.elapsed = std::chrono::duration_cast<milliseconds>(clock_.steadyNow() - start);
  if (!status.ok()) {
    record.ok = false;
    record.detail = status.message();
  }
  moduleLogger("agent.applier")
      ->info("step '{}' {} in {}ms{}", record.name, record.ok ? "ok" : "failed",
             record.elapsed.count(), record.detail.empty() ? "" : ": " + record.detail);
  report.steps.push_back(record);
  if (on_step_) on_step_(record);
  return record;
}

Transaction::ProbeRound Transaction::probeOnce(const std::vector<ProbeCheck>& checks,
                                               bool health_only) {
  ProbeRound round;
  round.passed = true;
  for (const ProbeCheck& check : checks) {
    ProbeRecord record;
    if (health_only) {
      record = {targetName(check.target), prober_.probe(check.target), {}};
      record.verdict.passed = healthy(record.result);
      if (!record.verdict.passed) record.verdict.failures.push_back(healthFailure(record.result));
    } else {
      record = runProbe(prober_, check);
    }
    round.passed = round.passed && record.verdict.passed;
    for (const std::string& f : record.verdict.failures) {
      round.failures.push_back(record.target + ": " + f);
    }
    round.results.push_back(std::move(record));
  }
  return round;
}

// A reload reaches smtpd processes as they start, so a probe may see the old state for a
// moment: retry until the deadline, and report the last round.
Transaction::ProbeRound Transaction::probeUntil(const std::vector<ProbeCheck>& checks,
                                                bool health_only) {
  const auto deadline = clock_.steadyNow() + options_.verify_deadline;
  while (true) {
    ProbeRound round = probeOnce(checks, health_only);
    if (round.passed || clock_.steadyNow() + options_.probe_interval >= deadline) {
      if (!round.passed) {
        auto log = moduleLogger("agent.verify");
        for (const ProbeRecord& record : round.results) {
          // Transcripts are redacted by the prober: no credentials in them.
          for (const std::string& line : record.result.transcript) {
            log->debug("{}: {}", record.target, line);
          }
        }
      }
      return round;
    }
    moduleLogger("agent.verify")
        ->debug("probe not passing yet: {}", joinLines(round.failures, "; "));
    clock_.sleepFor(options_.probe_interval);
  }
}

Transaction::ProbeRound Transaction::verifyStep(TransactionReport& report) {
  ProbeRound round;
  runStep(report, "verify", [&](std::string& detail) -> Status {
    round = probeUntil(options_.probes, /*health_only=*/false);
    if (!round.passed) return UnavailableError(joinLines(round.failures, "; "));
    detail = options_.probes.empty() ? "nothing to probe" : "probe passed";
    return OkStatus();
  });
  report.probes = round.results;
  return round;
}

Status Transaction::stageAndCheck(const planner::Plan& plan, std::string& detail) {
  const std::string stage = statePath("stage");
  PW_RETURN_IF_ERROR(fs_.createDirectories(stage, 0755));
  const auto settled = clock_.now() - kSettledAge;
  for (const auto& [name, bytes] :
       {std::pair{"main.cf", &plan.main_cf_after}, std::pair{"master.cf", &plan.master_cf_after}}) {
    const std::string path = stage + "/" + name;
    os::WriteOptions readable;
    readable.mode = 0644;
    PW_RETURN_IF_ERROR(fs_.writeAtomic(path, *bytes, readable));
    PW_RETURN_IF_ERROR(fs_.setModified(path, settled));
  }
  std::vector<std::string> warnings;
  const std::vector<std::vector<std::string>> checks = {{"postfix", "-c", stage, "check"},
                                                        {"postconf", "-c", stage, "-n"}};
  for (const std::vector<std::string>& argv : checks) {
    Result<os::CommandResult> result =
        commands_.run({.argv = argv, .timeout = options_.check_timeout});
    if (!result.ok()) return result.status();
    if (result->exit_code != 0) {
      std::string output = commandOutput(*result);
      if (output.empty()) {
        // Without a terminal Postfix commands log only to syslog: say where the reason is.
        output = "exit status " + std::to_string(result->exit_code) +
                 ", no output (Postfix logged the reason to syslog)";
      }
      return FailedPreconditionError("Postfix refused the candidate configuration: " +
                                     os::describeCommand(argv) + ": " + output);
    }
    // postconf -n prints the settings; only stderr (warnings) is worth showing, once each.
    size_t start = 0;
    const std::string& err = result->stderr_data;
    while (start < err.size()) {
      size_t end = err.find('\n', start);
      if (end == std::string::npos) end = err.size();
      std::string line = err.substr(start, end - start);
      start = end + 1;
      if (!line.empty() && std::find(warnings.begin(), warnings.end(), line) == warnings.end()) {
        warnings.push_back(std::move(line));
      }
    }
  }
  constexpr size_t kMaxShown = 3;
  for (size_t i = 0; i < warnings.size() && i < kMaxShown; ++i) {
    detail += (detail.empty() ? "" : "; ") + warnings[i];
  }
  if (warnings.size() > kMaxShown) {
    detail += "; and " + std::to_string(warnings.size() - kMaxShown) + " more warnings";
  }
  if (detail.empty()) detail = "postfix check and postconf accept the candidate";
  return OkStatus();
}

Status Transaction::activate(bool restart) {
  return restart ? service_.restart() : service_.reload();
}

uint64_t Transaction::logSize() {
  if (options_.log_file.empty()) return 0;
  Result<os::FileInfo> info = fs_.stat(options_.log_file);
  return info.ok() ? info->size : 0;
}

void Transaction::collectLog(uint64_t from_offset, TransactionReport& report) {
  if (options_.log_file.empty()) return;
  Result<std::string> text = fs_.readFile(options_.log_file);
  if (!text.ok() || text->size() < from_offset) return;
  std::string_view fresh(text->data() + from_offset, text->size() - from_offset);
  static constexpr std::string_view kMarkers[] = {
      "fatal:", "panic:", "error:", "warning:", "throttling", "reject:"};
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < fresh.size()) {
    size_t end = fresh.find('\n', start);
    if (end == std::string_view::npos) end = fresh.size();
    std::string_view line = fresh.substr(start, end - start);
    start = end + 1;
    for (std::string_view marker : kMarkers) {
      if (line.find(marker) != std::string_view::npos) {
        lines.emplace_back(line);
        break;
      }
    }
  }
  constexpr size_t kMaxLines = 20;
  if (lines.size() > kMaxLines) lines.erase(lines.begin(), lines.end() - kMaxLines);
  report.log_lines = std::move(lines);
}

std::optional<std::string> Transaction::needsHumanReason() const {
  Result<std::string> reason = fs_.readFile(statePath("needs-human"));
  if (!reason.ok()) return std::nullopt;
  return *reason;
}

Status Transaction::clearNeedsHuman() { return fs_.remove(statePath("needs-human")); }

void Transaction::markNeedsHuman(TransactionReport& report, const std::string& reason) {
  report.outcome = Outcome::kNeedsHuman;
  report.reason = reason;
  os::WriteOptions private_file;
  private_file.mode = 0600;
  // Best effort: if even this write fails, the journal left behind keeps the host from
  // flapping, because recover() then stops at the same place again.
  (void)fs_.writeAtomic(statePath("needs-human"), reason + "\n", private_file);
}

void Transaction::rollBack(const JournalEntry& entry, TransactionReport& report) {
  JournalEntry rolling = entry;
  rolling.step = JournalStep::kRollingBack;
  (void)journal_.record(rolling);
  crashPoint("rolling_back");

  planner::PostfixConfig previous;
  StepRecord restore = runStep(report, "restore", [&](std::string& detail) -> Status {
    PW_ASSIGN_OR_RETURN(previous.main_cf, fs_.readFile(entry.backup_dir + "/main.cf"));
    PW_ASSIGN_OR_RETURN(previous.master_cf, fs_.readFile(entry.backup_dir + "/master.cf"));
    PW_ASSIGN_OR_RETURN(planner::PostfixConfig live, files_.read());
    const auto settled = clock_.now() - kSettledAge;
    if (live.master_cf != previous.master_cf) {
      PW_RETURN_IF_ERROR(fs_.writeAtomic(files_.masterCfPath(), previous.master_cf));
      PW_RETURN_IF_ERROR(fs_.setModified(files_.masterCfPath(), settled));
    }
    if (live.main_cf != previous.main_cf) {
      PW_RETURN_IF_ERROR(fs_.writeAtomic(files_.mainCfPath(), previous.main_cf));
      PW_RETURN_IF_ERROR(fs_.setModified(files_.mainCfPath(), settled));
    }
    detail = "previous bytes restored from " + entry.backup_dir;
    return OkStatus();
  });
  if (!restore.ok) {
    markNeedsHuman(report, "rollback could not restore the previous files: " + restore.detail);
    return;
  }
  // A full restart, not a reload: a broken change may have left the master throttling a
  // service that crashed ("bad command startup -- throttling"), and a reload keeps that
  // state for service_throttle_time (60 s). Only a strategy without a restart reloads.
  StepRecord activated = runStep(report, "restart", [&](std::string& detail) -> Status {
    Status restarted = service_.restart();
    if (restarted.code() != StatusCode::kUnimplemented) return restarted;
    detail = "no restart command; reloaded";
    return service_.reload();
  });
  ProbeRound health;
  if (activated.ok) {
    StepRecord probe = runStep(report, "verify rollback", [&](std::string& detail) -> Status {
      const std::vector<ProbeCheck> checks =
          options_.health_checks ? options_.health_checks(previous) : options_.probes;
      health = probeUntil(checks, /*health_only=*/true);
      if (!health.passed) return UnavailableError(joinLines(health.failures, "; "));
      detail = "service answers again";
      return OkStatus();
    });
    report.probes = health.results.empty() ? report.probes : health.results;
  }
  if (!activated.ok || !health.passed) {
    markNeedsHuman(report,
                   "rollback restored the previous files but Postfix does not work: " +
                       (activated.ok ? joinLines(health.failures, "; ") : activated.detail));
    return;
  }
  (void)journal_.clear();
  report.outcome = Outcome::kRolledBack;
}

TransactionReport Transaction::apply(const planner::Plan& plan) {
  TransactionReport report;
  if (std::optional<std::string> reason = needsHumanReason()) {
    report.outcome = Outcome::kNeedsHuman;
    report.reason = "no changes until an operator clears the needs-human state (" + *reason + ")";
    return report;
  }

  if (plan.compliant()) {
    const ProbeRound round = verifyStep(report);
    report.outcome = round.passed ? Outcome::kKept : Outcome::kRefused;
    if (!round.passed) {
      report.reason = "the configuration is compliant but the live service fails verification: " +
                      joinLines(round.failures, "; ");
    }
    return report;
  }

  auto refuse = [&](const StepRecord& step) {
    report.outcome = Outcome::kRefused;
    report.reason = step.name + ": " + step.detail;
    return report;
  };
  // A change to a stopped Postfix cannot be proven on the wire, and a rollback would then
  // start a service the operator had stopped: refuse, and leave it to --offline.
  StepRecord status = runStep(report, "status", [&](std::string& detail) -> Status {
    Result<bool> running = service_.running();
    if (!running.ok()) {
      if (running.status().code() != StatusCode::kUnimplemented) return running.status();
      detail = "not known (" + running.status().message() + ")";
      return OkStatus();
    }
    if (!*running) {
      return FailedPreconditionError(service_.describe() +
                                     " is not running, so the change could not be verified; "
                                     "start Postfix, or use --offline to only write the files");
    }
    detail = "Postfix is running";
    return OkStatus();
  });
  if (!status.ok) return refuse(status);
  StepRecord preflight = runStep(report, "preflight", [&](std::string& detail) -> Status {
    PW_RETURN_IF_ERROR(checkTlsMaterial(plan, fs_, clock_.now()));
    detail = std::to_string(plan.tls_material.size()) + " certificate/key pair(s) checked";
    return OkStatus();
  });
  if (!preflight.ok) return refuse(preflight);
  StepRecord staged =
      runStep(report, "check", [&](std::string& detail) { return stageAndCheck(plan, detail); });
  if (!staged.ok) return refuse(staged);

  const planner::PostfixConfig before{plan.main_cf_before, plan.master_cf_before};
  const planner::PostfixConfig after{plan.main_cf_after, plan.master_cf_after};
  JournalEntry entry;
  entry.postfix_dir = options_.postfix_dir;
  entry.backup_dir = backupDirName(options_.state_dir, clock_.now(), getpid());
  entry.id = entry.backup_dir.substr(entry.backup_dir.rfind('/') + 1);
  entry.restart = plan.applyMode() == params::ApplyMode::kRestart;
  entry.old_main_sha256 = sha256Hex(before.main_cf);
  entry.new_main_sha256 = sha256Hex(after.main_cf);
  entry.old_master_sha256 = sha256Hex(before.master_cf);
  entry.new_master_sha256 = sha256Hex(after.master_cf);
  report.backup_dir = entry.backup_dir;

  StepRecord journaled = runStep(report, "journal", [&](std::string& detail) -> Status {
    PW_RETURN_IF_ERROR(files_.backup(before, entry.backup_dir).status());
    entry.step = JournalStep::kSwapping;
    PW_RETURN_IF_ERROR(journal_.record(entry));
    detail = "previous bytes in " + entry.backup_dir;
    return OkStatus();
  });
  if (!journaled.ok) {
    (void)journal_.clear();
    return refuse(journaled);
  }
  crashPoint("journaled");

  const uint64_t log_offset = logSize();
  Status swap_status;
  StepRecord swapped = runStep(report, "swap", [&](std::string& detail) -> Status {
    swap_status = files_.swap(before, after);
    PW_RETURN_IF_ERROR(swap_status);
    const auto settled = clock_.now() - kSettledAge;
    if (after.main_cf != before.main_cf) {
      PW_RETURN_IF_ERROR(fs_.setModified(files_.mainCfPath(), settled));
    }
    if (after.master_cf != before.master_cf) {
      PW_RETURN_IF_ERROR(fs_.setModified(files_.masterCfPath(), settled));
    }
    detail = "main.cf and master.cf replaced atomically";
    return OkStatus();
  });
  if (!swapped.ok) {
    // Aborted: someone edited the files since planning and the swap wrote nothing. Their
    // bytes are not ours to undo: a rollback would overwrite the edit with the backup.
    if (swap_status.code() == StatusCode::kAborted) {
      (void)journal_.clear();
      return refuse(swapped);
    }
    Result<planner::PostfixConfig> live = files_.read();
    if (live.ok() && live->main_cf == before.main_cf && live->master_cf == before.master_cf) {
      (void)journal_.clear();
      return refuse(swapped);  // nothing changed on the host
    }
    report.reason = "swap failed: " + swapped.detail;
    rollBack(entry, report);
    return report;
  }
  advance(entry, JournalStep::kSwapped);

  StepRecord activated = runStep(report, entry.restart ? "restart" : "reload",
                                 [&](std::string&) { return activate(entry.restart); });
  if (!activated.ok) {
    collectLog(log_offset, report);
    report.reason = activated.name + " failed: " + activated.detail;
    rollBack(entry, report);
    return report;
  }
  advance(entry, JournalStep::kActivated);

  const ProbeRound round = verifyStep(report);
  if (!round.passed) {
    collectLog(log_offset, report);
    report.reason = "the change failed verification: " + report.steps.back().detail;
    rollBack(entry, report);
    return report;
  }
  advance(entry, JournalStep::kVerified);
  (void)journal_.clear();
  report.outcome = Outcome::kRepaired;
  return report;
}

std::optional<TransactionReport> Transaction::recover() {
  (void)os::removeStaleTempFiles(fs_, options_.postfix_dir);
  (void)os::removeStaleTempFiles(fs_, options_.state_dir);
  Result<std::optional<JournalEntry>> loaded = journal_.load();
  TransactionReport report;
  if (!loaded.ok()) {
    markNeedsHuman(report, loaded.status().message());
    return report;
  }
  if (!loaded->has_value()) return std::nullopt;
  const JournalEntry entry = **loaded;
  report.backup_dir = entry.backup_dir;
  StepRecord found{"recover", true, milliseconds(0),
                   "found an interrupted change " + entry.id + " at step '" +
                       std::string(journalStepName(entry.step)) + "'"};
  report.steps.push_back(found);
  if (on_step_) on_step_(found);

  if (entry.step == JournalStep::kStaged) {
    (void)journal_.clear();  // the live files were never touched
    report.outcome = Outcome::kKept;
    return report;
  }
  if (entry.step == JournalStep::kVerified) {
    (void)journal_.clear();  // it had passed its probe: the change is final
    report.outcome = Outcome::kRepaired;
    return report;
  }
  // The change never passed its probe. Undo it, but only over files that are ours: each must
  // be byte-identical to the old or the new version, else someone else edited it since.
  Result<planner::PostfixConfig> live = files_.read();
  if (!live.ok()) {
    markNeedsHuman(report, "cannot read the live configuration: " + live.status().message());
    return report;
  }
  const std::string main_hash = sha256Hex(live->main_cf);
  const std::string master_hash = sha256Hex(live->master_cf);
  bool ours = (main_hash == entry.old_main_sha256 || main_hash == entry.new_main_sha256) &&
              (master_hash == entry.old_master_sha256 || master_hash == entry.new_master_sha256);
  if (!ours) {
    markNeedsHuman(report, "main.cf or master.cf changed during the interrupted change " +
                               entry.id + "; not overwriting it");
    return report;
  }
  report.reason = "an interrupted change was undone";
  rollBack(entry, report);
  return report;
}

}  // namespace postwarden::agent::applier
