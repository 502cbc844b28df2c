// Over 400 lines: the steps (stage and check, journal, swap, reload or restart, probe,
// rollback) share the transaction's state and its crash-recovery invariants. The file
// handling (config_files), the journal and the preflight already live apart; the rollback
// path is the next to move out if this grows.
#include "agent/applier/transaction.h"

#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <system_error>
#include <thread>

#include "agent/applier/backups.h"
#include "agent/applier/preflight.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "common/logging.h"
#include "common/os/stale_temp_files.h"
#include "common/sha256.h"

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

// `postfix check` (postfix(1): "Warn about bad directory/file ownership or permissions, and
// create missing directories") is the `postfix` command, then postfix-script check-fatal and
// check-warn. What of it looks at the candidate, and what else covers it:
//   - the `postfix` command reads main.cf with mail_params_init(), the global parameter
//     checks every Postfix program runs: the staged `postmap` query runs the same code;
//   - it then needs command_directory, daemon_directory and queue_directory, imports the
//     environment (import_environment) and requires sendmail_path, mailq_path,
//     newaliases_path and the *_directory documentation paths to be set;
//   - check-fatal: `post-install create-missing` creates the queue and data directories
//     from meta_directory/postfix-files as mail_owner/setgid_group and rewrites those
//     installation parameters into main.cf when they disagree; master.cf must exist; a
//     maillog_file needs the postlog service in master.cf; `postsuper` checks the queue
//     (its hashing: hash_queue_names, hash_queue_depth);
//   - check-warn: the ownership and modes of the config, queue, data, daemon, meta and shlib
//     directories, against mail_owner and setgid_group;
//   - postconf parses main.cf and master.cf in the course of all this: `postconf -n` does that.
// So the full check runs when one of those parameters, or a value that names one of them,
// changes (their defaults name no other parameter: `postconf -d`, Postfix 3.7), or when master.cf
// gains or loses a service (the postlog service; new listeners are rare and restart Postfix
// anyway). Everything else the candidate can get wrong is postconf's or mail_params_init()'s to
// find, and they run on every change.
std::optional<std::string> fullCheckReason(const planner::Plan& plan) {
  static constexpr std::string_view kCheckedByPostfixScript[] = {
      "hash_queue_depth", "hash_queue_names", "import_environment",    "mail_owner",
      "mailq_path",       "maillog_file",     "maillog_file_prefixes", "newaliases_path",
      "sendmail_path",    "setgid_group",
  };
  auto checked = [](std::string_view name) {
    return name.ends_with("_directory") ||
           std::find(std::begin(kCheckedByPostfixScript), std::end(kCheckedByPostfixScript),
                     name) != std::end(kCheckedByPostfixScript);
  };
  const postfix::MainCfDocument before = postfix::MainCfDocument::parse(plan.main_cf_before);
  const postfix::MainCfDocument after = postfix::MainCfDocument::parse(plan.main_cf_after);
  std::vector<std::string> names;
  for (const postfix::MainCfDocument* doc : {&before, &after}) {
    for (const postfix::MainCfDefinition& d : doc->definitions()) names.push_back(d.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::string> changed;
  for (const std::string& name : names) {
    if (before.get(name) != after.get(name)) changed.push_back(name);
  }
  for (const std::string& name : changed) {
    if (checked(name)) return "main.cf: " + name + " changes";
  }
  // A checked parameter whose value names a changed one ("queue_directory = $base/spool")
  // changes with it. Matching "$name", "${name" and "$(name" may over-match a longer name
  // that starts the same: that costs a full check, never a missed one.
  for (const std::string& name : names) {
    if (!checked(name)) continue;
    for (const postfix::MainCfDocument* doc : {&before, &after}) {
      const std::optional<std::string> value = doc->get(name);
      if (!value || value->find('$') == std::string::npos) continue;
      for (const std::string& c : changed) {
        for (const std::string& ref : {"$" + c, "${" + c, "$(" + c}) {
          if (value->find(ref) != std::string::npos) {
            return "main.cf: " + name + " refers to " + c + ", which changes";
          }
        }
      }
    }
  }
  auto services = [](const std::string& text) {
    std::vector<std::string> out;
    for (const postfix::MasterService& s : postfix::MasterCfDocument::parse(text).services()) {
      out.push_back(s.key.toString() + " (" + s.command + ")");
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::vector<std::string> old_services = services(plan.master_cf_before);
  const std::vector<std::string> new_services = services(plan.master_cf_after);
  if (old_services != new_services) {
    std::vector<std::string> added, removed;
    std::set_difference(new_services.begin(), new_services.end(), old_services.begin(),
                        old_services.end(), std::back_inserter(added));
    std::set_difference(old_services.begin(), old_services.end(), new_services.begin(),
                        new_services.end(), std::back_inserter(removed));
    // Sorted lists that differ: one of the two (multiset) differences is not empty.
    if (!added.empty()) return "master.cf: service " + added.front() + " added";
    return "master.cf: service " + removed.front() + " removed";
  }
  return std::nullopt;
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
      journal_(fs, journalPath(options_.state_dir)) {}

std::string Transaction::statePath(std::string_view name) const {
  return options_.state_dir + "/" + std::string(name);
}

void Transaction::crashPoint(std::string_view step) {
  if (options_.crash_point) options_.crash_point(step);
}

Status Transaction::advance(JournalEntry& entry, JournalStep step, TransactionReport& report) {
  entry.step = step;
  // A failed write leaves the journal at the earlier step, from which recovery rolls back:
  // the conservative reading, so the transaction goes on, but it is reported.
  Status recorded = journal_.record(entry);
  if (!recorded.ok()) {
    journalFailed(report, "recording step '" + std::string(journalStepName(step)) + "'", recorded);
  }
  crashPoint(journalStepName(step));
  return recorded;
}

void Transaction::journalFailed(TransactionReport& report, const std::string& what,
                                const Status& status) {
  const std::string message = what + ": " + status.message();
  runStep(report, "journal", [&](std::string&) -> Status { return status.withContext(what); });
  report.warnings.push_back("journal: " + message);
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

milliseconds compliantProbeWindow(const TransactionOptions& options) {
  milliseconds longest{0};
  for (const ProbeCheck& check : options.probes) longest = std::max(longest, check.target.timeout);
  return std::min(longest, options.verify_deadline);
}

// A reload reaches smtpd processes as they start, so a probe may see the old state for a
// moment: retry until the deadline, and report the last round.
Transaction::ProbeRound Transaction::probeUntil(const std::vector<ProbeCheck>& checks,
                                                bool health_only,
                                                std::optional<milliseconds> within) {
  const auto deadline = clock_.steadyNow() + within.value_or(options_.verify_deadline);
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

Transaction::ProbeRound Transaction::verifyStep(TransactionReport& report,
                                                std::optional<milliseconds> within) {
  ProbeRound round;
  runStep(report, "verify", [&](std::string& detail) -> Status {
    round = probeUntil(options_.probes, /*health_only=*/false, within);
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
  // 1. postconf parses main.cf and every master.cf entry (a malformed line in either is
  //    fatal to it) and warns about what it does not understand.
  // 2. postmap, like every Postfix program, runs mail_params_init() on the candidate first:
  //    the checks of the global parameters that the `postfix` command itself fails on
  //    (unknown mail_owner/default_privs/setgid_group, bad numbers and times, a bad
  //    myhostname or inet_interfaces, ...), which postconf does not run. The query of a
  //    static: table reads and writes nothing else.
  // 3. `postfix check` only when the change touches what its script validates.
  // postconf and postmap only read the stage, so they run side by side (postmap on a second
  // thread); their results are judged in this order. postfix check runs after them, alone:
  // its post-install step may rewrite the staged main.cf.
  std::vector<std::vector<std::string>> checks = {
      {"postconf", "-c", stage, "-n"}, {"postmap", "-c", stage, "-q", "postwarden", "static:ok"}};
  const std::optional<std::string> full = fullCheckReason(plan);
  if (full) checks.push_back({"postfix", "-c", stage, "check"});
  auto run = [&](const std::vector<std::string>& argv) {
    return commands_.run({.argv = argv, .timeout = options_.check_timeout});
  };
  std::vector<std::optional<Result<os::CommandResult>>> results(checks.size());
  {
    std::thread side;
    try {
      side = std::thread([&] { results[1] = run(checks[1]); });
    } catch (const std::system_error&) {
      // No thread to be had: run it after postconf instead.
    }
    results[0] = run(checks[0]);
    if (side.joinable()) {
      side.join();
    } else {
      results[1] = run(checks[1]);
    }
  }
  std::vector<std::string> warnings, seen;
  for (size_t i = 0; i < checks.size(); ++i) {
    const std::vector<std::string>& argv = checks[i];
    // postfix check: only once postconf and postmap accepted the candidate.
    if (!results[i]) results[i] = run(argv);
    const Result<os::CommandResult>& result = *results[i];
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
    // Only stderr (warnings) is worth showing, once each: postconf and postmap report the same
    // main.cf problem under their own names ("postmap: warning: ...").
    size_t start = 0;
    const std::string& err = result->stderr_data;
    while (start < err.size()) {
      size_t end = err.find('\n', start);
      if (end == std::string::npos) end = err.size();
      std::string line = err.substr(start, end - start);
      start = end + 1;
      const size_t colon = line.find(": ");
      std::string message = colon != std::string::npos && line.find_first_of(" \t") > colon
                                ? line.substr(colon + 2)
                                : line;
      if (!line.empty() && std::find(seen.begin(), seen.end(), message) == seen.end()) {
        seen.push_back(std::move(message));
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
  const std::string accepted =
      full ? "postconf, postmap and postfix check (" + *full + ") accept the candidate"
           : "postconf and postmap accept the candidate (postfix check not needed)";
  detail = detail.empty() ? accepted : accepted + "; " + detail;
  return OkStatus();
}

// Postfix reads a configuration file again and again, 300 ms apart, until its mtime is about
// two seconds old (dict_load_file_xt(): `st_mtime < before - 1`), so a file somebody keeps
// modifying (an admin's `postconf -e` loop) stalls every postfix command up to its timeout.
// Waiting once for the cool-down tells a finished edit (the mtime stays put) from one in
// progress (it moves), before anything is written.
Status Transaction::waitUntilSettled(std::string& detail) {
  const std::string paths[] = {files_.mainCfPath(), files_.masterCfPath()};
  const char* names[] = {"main.cf", "master.cf"};
  std::chrono::system_clock::time_point first[2];
  for (int i = 0; i < 2; ++i) {
    PW_ASSIGN_OR_RETURN(os::FileInfo info, fs_.stat(paths[i]));
    first[i] = info.modified;
  }
  auto ageOf = [&](std::chrono::system_clock::time_point modified) {
    return std::chrono::duration_cast<milliseconds>(clock_.now() - modified);
  };
  // The youngest file decides; a time in the future (clock steps) Postfix does not wait for.
  const int youngest = first[0] >= first[1] ? 0 : 1;
  const milliseconds age = ageOf(first[youngest]);
  if (age >= options_.settle_age || age < milliseconds(0)) {
    detail = "main.cf and master.cf not modified in the last " +
             std::to_string(options_.settle_age.count()) + " ms";
    return OkStatus();
  }
  const milliseconds wait = options_.settle_age - age;
  clock_.sleepFor(wait);
  for (int i = 0; i < 2; ++i) {
    PW_ASSIGN_OR_RETURN(os::FileInfo info, fs_.stat(paths[i]));
    if (info.modified != first[i]) {
      return UnavailableError(std::string(names[i]) + " is being edited (modified " +
                              std::to_string(std::max<int64_t>(0, ageOf(info.modified).count())) +
                              " ms ago), retry later; nothing written");
    }
  }
  detail = "waited " + std::to_string(wait.count()) + " ms for " + names[youngest] + " (modified " +
           std::to_string(age.count()) + " ms before) to settle";
  return OkStatus();
}

Status Transaction::restorePrevious(const JournalEntry& entry,
                                    const planner::PostfixConfig* in_memory,
                                    planner::PostfixConfig& previous, TransactionReport& report,
                                    std::string& detail) {
  PW_ASSIGN_OR_RETURN(planner::PostfixConfig live, files_.read());
  struct File {
    const char* name;
    const std::string& expected;  // SHA-256 of the previous bytes, from the journal
    const std::string* memory;    // the previous bytes this run read itself
    const std::string& live;
    std::string path;
    std::string& previous;
  };
  File files[] = {
      {"master.cf", entry.old_master_sha256, in_memory ? &in_memory->master_cf : nullptr,
       live.master_cf, files_.masterCfPath(), previous.master_cf},
      {"main.cf", entry.old_main_sha256, in_memory ? &in_memory->main_cf : nullptr, live.main_cf,
       files_.mainCfPath(), previous.main_cf},
  };
  // Every copy is checked before anything is written back: a backup that does not hash to
  // what the journal recorded is not the previous version, whatever changed it.
  std::vector<std::string> failed, notes;
  std::vector<const File*> to_write;
  for (File& f : files) {
    const std::string backup_path = entry.backup_dir + "/" + f.name;
    std::string problem;
    Result<std::string> backup = fs_.readFile(backup_path);
    if (f.expected.empty()) {
      problem = "the journal records no SHA-256 for " + std::string(f.name) + ", so " +
                backup_path + " cannot be checked";
    } else if (!backup.ok()) {
      problem = "backup " + backup_path + " cannot be read: " + backup.status().message();
    } else if (const std::string actual = sha256Hex(*backup); actual != f.expected) {
      problem = "backup " + backup_path + " failed its check: expected SHA-256 " +
                f.expected.substr(0, 12) + "..., found " + actual.substr(0, 12) + "...";
    }
    const bool live_is_previous = !f.expected.empty() && sha256Hex(f.live) == f.expected;
    if (problem.empty()) {
      f.previous = *backup;
    } else if (f.memory != nullptr && !f.expected.empty() && sha256Hex(*f.memory) == f.expected) {
      f.previous = *f.memory;
      notes.push_back(problem + "; used the verified copy this run read before the change");
    } else if (live_is_previous) {
      f.previous = f.live;  // nothing to restore for this file
      notes.push_back(problem + "; not needed, the live " + f.name + " is the previous version");
    } else {
      failed.push_back(problem);
      continue;
    }
    if (f.live != f.previous) to_write.push_back(&f);
  }
  for (const std::string& note : notes) report.warnings.push_back("restore: " + note);
  if (!failed.empty()) {
    return DataLossError(joinLines(failed, "; ") + "; nothing written");
  }
  const auto settled = clock_.now() - kSettledAge;
  std::vector<std::string> not_durable;
  for (const File* f : to_write) {
    Status written = fs_.writeAtomic(f->path, f->previous);
    if (os::isNotDurable(written)) {
      not_durable.push_back(written.message());  // the previous bytes are in place
    } else if (!written.ok()) {
      return written;
    }
    if (Status backdated = fs_.setModified(f->path, settled); !backdated.ok()) {
      report.warnings.push_back("restore: " + backdated.message());
    }
  }
  for (const std::string& message : not_durable) report.warnings.push_back("restore: " + message);
  detail = "previous bytes restored from " + entry.backup_dir + " (SHA-256 verified)";
  for (const std::string& note : notes) detail += "; warning: " + note;
  for (const std::string& message : not_durable) detail += "; warning: " + message;
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
  Result<std::string> reason = fs_.readFile(needsHumanPath(options_.state_dir));
  if (!reason.ok()) return std::nullopt;
  return *reason;
}

Result<ClearedState> Transaction::clearNeedsHuman() {
  return applier::clearNeedsHuman(fs_, options_.state_dir, clock_.now());
}

void Transaction::markNeedsHuman(TransactionReport& report, const std::string& reason) {
  report.outcome = Outcome::kNeedsHuman;
  report.reason = reason;
  os::WriteOptions private_file;
  private_file.mode = 0600;
  // Best effort: if even this write fails, the journal left behind keeps the host from
  // flapping, because recover() then stops at the same place again.
  (void)fs_.writeAtomic(needsHumanPath(options_.state_dir), reason + "\n", private_file);
}

void Transaction::rollBack(const JournalEntry& entry, TransactionReport& report,
                           const planner::PostfixConfig* in_memory) {
  JournalEntry rolling = entry;
  rolling.step = JournalStep::kRollingBack;
  if (Status recorded = journal_.record(rolling); !recorded.ok()) {
    // Recovery rolls back from any earlier unverified step too: go on, but say so.
    journalFailed(report, "recording step 'rolling_back'", recorded);
  }
  crashPoint("rolling_back");

  planner::PostfixConfig previous;
  StepRecord restore = runStep(report, "restore", [&](std::string& detail) -> Status {
    return restorePrevious(entry, in_memory, previous, report, detail);
  });
  if (!restore.ok) {
    markNeedsHuman(report, "rollback could not restore the previous files: " + restore.detail);
    return;
  }
  if (options_.offline) {
    // Postfix is stopped: starting it would start a service the operator stopped, and there
    // is nothing to probe. The previous bytes are back, verified against the journal.
    report.warnings.push_back(
        "offline: Postfix was not restarted after the rollback; the previous files are back "
        "and take effect when Postfix starts");
  } else {
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
  }
  if (Status cleared = journal_.clear(); !cleared.ok()) {
    // The next run finds the change at rolling_back and restores nothing (the files are the
    // previous ones already), restarts Postfix and probes it once more.
    journalFailed(report, "removing the journal after the rollback", cleared);
  }
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
    if (options_.offline) return report;  // kept: nothing to write, nothing running to probe
    // Nothing changed, so no new smtpd has to start: a failing probe is retried only for as
    // long as one probe may take (--probe-timeout), not for a change's verify deadline.
    const ProbeRound round = verifyStep(report, compliantProbeWindow(options_));
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
  // Nothing is written, and no postfix command started, while someone else edits the files.
  StepRecord settle =
      runStep(report, "settle", [&](std::string& detail) { return waitUntilSettled(detail); });
  if (!settle.ok) return refuse(settle);
  // A change to a stopped Postfix cannot be proven on the wire, and a rollback would then
  // start a service the operator had stopped: refuse, and leave it to --offline, which
  // neither reloads, restarts nor probes.
  StepRecord status;
  if (!options_.offline) {
    status = runStep(report, "status", [&](std::string& detail) -> Status {
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
  }
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
  entry.backup_dir = backupDirName(options_.state_dir, clock_.now(), options_.pid);
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
  // The live files are untouched on these refusals; a journal that cannot be removed would
  // only make the next run restart Postfix over the same bytes, so it is reported.
  auto dropJournal = [&] {
    if (Status cleared = journal_.clear(); !cleared.ok()) {
      journalFailed(report, "removing the journal of a change that wrote nothing", cleared);
    }
  };
  if (!journaled.ok) {
    dropJournal();
    return refuse(journaled);
  }
  crashPoint("journaled");

  const uint64_t log_offset = logSize();
  Status swap_status;
  StepRecord swapped = runStep(report, "swap", [&](std::string& detail) -> Status {
    swap_status = files_.swap(before, after);
    // New bytes in place but not yet durable (a directory fsync failed after the rename):
    // the change goes on to reload and probe. A rollback would write to the same failing
    // disk again, and would leave the previous bytes no more durable than these.
    std::vector<std::string> warnings;
    if (os::isNotDurable(swap_status)) {
      Result<planner::PostfixConfig> live = files_.read();
      if (!live.ok() || live->main_cf != after.main_cf || live->master_cf != after.master_cf) {
        return swap_status;
      }
      warnings.push_back(swap_status.message());
    } else {
      PW_RETURN_IF_ERROR(swap_status);
    }
    // Backdating only saves Postfix's cool-down wait: its failure is worth a warning only.
    const auto settled = clock_.now() - kSettledAge;
    for (const auto& [changed, path] :
         {std::pair{after.master_cf != before.master_cf, files_.masterCfPath()},
          std::pair{after.main_cf != before.main_cf, files_.mainCfPath()}}) {
      if (!changed) continue;
      if (Status backdated = fs_.setModified(path, settled); !backdated.ok()) {
        warnings.push_back(backdated.message());
      }
    }
    detail = "main.cf and master.cf replaced atomically";
    for (const std::string& w : warnings) {
      detail += "; warning: " + w;
      report.warnings.push_back("swap: " + w);
    }
    return OkStatus();
  });
  if (!swapped.ok) {
    // Aborted: someone edited the files since planning and the swap wrote nothing. Their
    // bytes are not ours to undo: a rollback would overwrite the edit with the backup.
    if (swap_status.code() == StatusCode::kAborted) {
      dropJournal();
      return refuse(swapped);
    }
    Result<planner::PostfixConfig> live = files_.read();
    if (live.ok() && live->main_cf == before.main_cf && live->master_cf == before.master_cf) {
      dropJournal();
      return refuse(swapped);  // nothing changed on the host
    }
    report.reason = "swap failed: " + swapped.detail;
    rollBack(entry, report, &before);
    return report;
  }
  (void)advance(entry, JournalStep::kSwapped, report);  // reported; recovery rolls back

  if (options_.offline) {
    // Checked like any change, but with nothing running there is nothing to reload or probe:
    // the swapped change is final.
    report.warnings.push_back(
        "offline: Postfix was not " + std::string(entry.restart ? "restarted" : "reloaded") +
        " and the change was not verified on the wire; it takes effect when Postfix starts "
        "(or run apply again without --offline once it runs)");
  } else {
    StepRecord activated = runStep(report, entry.restart ? "restart" : "reload",
                                   [&](std::string&) { return activate(entry.restart); });
    if (!activated.ok) {
      collectLog(log_offset, report);
      report.reason = activated.name + " failed: " + activated.detail;
      rollBack(entry, report, &before);
      return report;
    }
    (void)advance(entry, JournalStep::kActivated, report);  // reported; recovery rolls back

    const ProbeRound round = verifyStep(report);
    if (!round.passed) {
      collectLog(log_offset, report);
      report.reason = "the change failed verification: " + report.steps.back().detail;
      rollBack(entry, report, &before);
      return report;
    }
  }
  const Status verified = advance(entry, JournalStep::kVerified, report);
  report.outcome = Outcome::kRepaired;
  pruneOldBackups(report);
  if (Status cleared = journal_.clear(); !cleared.ok()) {
    journalFailed(report, "removing the journal of the verified change", cleared);
    if (!verified.ok()) {
      // The journal still says an unverified step: the next run would roll back a change
      // that works. Stop here instead, and let an operator end it (`clear`).
      markNeedsHuman(report, "the change " + entry.id +
                                 " was verified, but the journal could neither record that nor be "
                                 "removed (" +
                                 cleared.message() +
                                 "); the next run would roll back a working change. Check the "
                                 "disk of " +
                                 options_.state_dir + ", then run 'postwarden-agent clear'");
    }
  }
  return report;
}

// Retention after a verified change (backups.h): a failure is worth a warning, not more.
void Transaction::pruneOldBackups(TransactionReport& report) {
  Result<std::vector<std::string>> pruned =
      pruneBackups(fs_, options_.state_dir, options_.backup_keep);
  if (!pruned.ok()) report.warnings.push_back("backups: " + pruned.status().message());
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
