// A Transaction applies a Plan to a live Postfix as one all-or-nothing change, and proves it
// on the wire:
//   stage the candidate files and let Postfix check them (`postconf -c STAGE -n`, Postfix's
//   global parameter checks, and `postfix -c STAGE check` when the change touches what that
//   validates, see fullCheckReason()) -> journal -> swap the files in crash-safely -> reload,
//   or stop/start for restart-only changes -> probe the listeners over loopback until a deadline.
// Offline (a stopped Postfix) the same steps run except the status step, the reload/restart
// and the probe: the change is final once swapped, and a rollback restores the files only.
// If the probe fails, the previous bytes are restored, Postfix is reloaded again and probed
// until healthy: outcome RolledBack. Only bytes that match the journal's SHA-256 of the
// previous version are ever restored. If even that fails the host is marked NeedsHuman, a
// sticky state that refuses every further change until an operator clears it.
// Nothing is written while main.cf or master.cf is being edited by someone else.
// An agent killed at any step leaves a journal; recover() finishes or undoes that change.
// main.cf and master.cf are always byte-identical to their old or their new version.
// Not thread-safe; callers hold the state directory's lock (os::FileLock).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agent/applier/config_files.h"
#include "agent/applier/journal.h"
#include "agent/applier/needs_human.h"
#include "agent/planner/plan.h"
#include "agent/policy/baseline.h"
#include "agent/service/service_control.h"
#include "agent/verify/expectation.h"
#include "agent/verify/smtp_prober.h"
#include "common/os/clock.h"
#include "common/os/command_runner.h"
#include "common/os/file_system.h"

namespace postwarden::agent::applier {

// One listener to probe and what it must show.
struct ProbeCheck {
  verify::ProbeTarget target;
  policy::ProbeExpectation expectation;
};

struct TransactionOptions {
  std::string postfix_dir;
  std::string state_dir;
  std::vector<ProbeCheck> probes;  // what "works" means after the change
  // The health checks of a configuration (its listeners), run after a rollback restored it:
  // the restored configuration's listeners may differ from the new one's. Unset: `probes`.
  std::function<std::vector<ProbeCheck>(const planner::PostfixConfig&)> health_checks;
  // How long a change may take to show on the wire (new smtpd processes start lazily).
  std::chrono::milliseconds verify_deadline{20000};
  std::chrono::milliseconds probe_interval{200};
  std::chrono::milliseconds check_timeout{30000};  // postfix check / postconf
  // A live main.cf/master.cf modified more recently than this is still settling: Postfix's
  // own cool-down (dict_load_file_xt) makes every postfix command wait for it. apply waits
  // once for it to settle and refuses when it was modified again meanwhile.
  std::chrono::milliseconds settle_age{2000};
  std::string log_file;  // Postfix's log (maillog_file), quoted when a change fails
  int pid = 0;           // this process (os::Processes::selfPid()): names backup directories
  int backup_keep = 20;  // backups kept after a verified change (pruneBackups, backups.h)
  // --offline, for a Postfix that is not running: every safety step runs (settle, preflight,
  // the staged check, journal and verified backup, crash-safe swap) except the status step,
  // the reload/restart and the probe. A compliant host is kept without probing; a swapped
  // change is final (journal to verified, then cleared) with a warning that it was neither
  // reloaded nor verified on the wire; a rollback restores the verified backup but neither
  // restarts nor probes Postfix. `probes` and `health_checks` are not used.
  bool offline = false;
  // Test-only: called with a step name ("swapped", ...) right after the journal records it,
  // so that a test can kill the agent there.
  std::function<void(std::string_view step)> crash_point;
};

// One probe of one listener and how it was judged.
struct ProbeRecord {
  std::string target;  // "127.0.0.1:25"
  verify::ProbeResult result;
  verify::Verdict verdict;
};

// How long apply retries a failing probe of a host that needs no change: the longest probe
// timeout (nothing was reloaded, so there is nothing to wait for), at most verify_deadline.
std::chrono::milliseconds compliantProbeWindow(const TransactionOptions& options);

// Probes one listener and judges the result against its expectation.
ProbeRecord runProbe(verify::SmtpProber& prober, const ProbeCheck& check);

// Why the staged candidate of `plan` needs the full `postfix -c STAGE check` (a shell script
// that mostly checks the queue's ownership and creates missing directories), e.g.
// "main.cf: mail_owner changes"; nullopt when `postconf -c STAGE -n` and Postfix's global
// parameter checks cover everything that check would validate about this change. The list
// and why is in transaction.cpp. Pure.
std::optional<std::string> fullCheckReason(const planner::Plan& plan);

enum class Outcome { kKept, kRepaired, kRefused, kRolledBack, kNeedsHuman };
std::string_view outcomeName(Outcome outcome);

// One step as it happened, for the operator (printed live) and the report.
struct StepRecord {
  std::string name;  // "stage", "check", "swap", "reload", "verify", "rollback", ...
  bool ok = true;
  std::chrono::milliseconds elapsed{0};
  std::string detail;
};

struct TransactionReport {
  Outcome outcome = Outcome::kKept;
  std::string reason;  // why refused / rolled back / needs a human
  std::vector<StepRecord> steps;
  std::vector<ProbeRecord> probes;     // the last probe of each listener
  std::vector<std::string> log_lines;  // relevant Postfix log lines on failure
  std::string backup_dir;
  // Problems that did not change the outcome but must not go unnoticed: new bytes in place
  // but not yet durable, a journal record that failed, a backup that failed its check.
  std::vector<std::string> warnings;
};

class Transaction {
 public:
  // Collaborators are borrowed and must outlive the Transaction. `on_step` (optional) sees
  // each step as it completes.
  Transaction(os::FileSystem& fs, os::CommandRunner& commands, service::ServiceControl& service,
              verify::SmtpProber& prober, os::Clock& clock, TransactionOptions options,
              std::function<void(const StepRecord&)> on_step = {});

  // Applies `plan`. Every outcome the host can cause is in the report: Kept (compliant and
  // the probe passes; nothing written), Repaired, Refused (nothing changed: Postfix rejected
  // the candidate, the files changed since planning, the host needs a human, a write
  // failed), RolledBack, NeedsHuman.
  TransactionReport apply(const planner::Plan& plan);

  // Finishes or undoes a transaction an earlier agent left in the journal. nullopt when
  // there was none. A change that was verified is kept; any other is rolled back.
  std::optional<TransactionReport> recover();

  // The sticky needs-human marker: its reason, when set.
  std::optional<std::string> needsHumanReason() const;
  // Ends the needs-human state and the transaction in flight for good (see needs_human.h).
  Result<ClearedState> clearNeedsHuman();

 private:
  struct ProbeRound {
    bool passed = false;
    std::vector<std::string> failures;
    std::vector<ProbeRecord> results;
  };

  ProbeRound probeOnce(const std::vector<ProbeCheck>& checks, bool health_only);
  // Probes until the checks pass or `within` (default: verify_deadline) has passed.
  ProbeRound probeUntil(const std::vector<ProbeCheck>& checks, bool health_only,
                        std::optional<std::chrono::milliseconds> within = std::nullopt);
  // The "verify" step: probes until the expectations hold or the deadline passes; the last
  // round's records go into the report.
  ProbeRound verifyStep(TransactionReport& report,
                        std::optional<std::chrono::milliseconds> within = std::nullopt);
  StepRecord runStep(TransactionReport& report, std::string name,
                     const std::function<Status(std::string& detail)>& step);
  Status stageAndCheck(const planner::Plan& plan, std::string& detail);
  // The "settle" step: Unavailable when main.cf or master.cf keeps being modified.
  Status waitUntilSettled(std::string& detail);
  // Restores the previous bytes, each verified against the journal's SHA-256 first; fills
  // `previous`. `in_memory` is the previous version this run read itself, if any.
  Status restorePrevious(const JournalEntry& entry, const planner::PostfixConfig* in_memory,
                         planner::PostfixConfig& previous, TransactionReport& report,
                         std::string& detail);
  Status activate(bool restart);
  void rollBack(const JournalEntry& entry, TransactionReport& report,
                const planner::PostfixConfig* in_memory = nullptr);
  void markNeedsHuman(TransactionReport& report, const std::string& reason);
  void collectLog(uint64_t from_offset, TransactionReport& report);
  uint64_t logSize();
  void crashPoint(std::string_view step);
  // Journal + crash point. A failed record is reported (a failed "journal" step and a
  // warning), never fatal: the journal then still says an earlier step, from which recovery
  // rolls back. Returns the record's status.
  Status advance(JournalEntry& entry, JournalStep step, TransactionReport& report);
  // Reports a journal write or removal that failed after the live files changed.
  void journalFailed(TransactionReport& report, const std::string& what, const Status& status);
  std::string statePath(std::string_view name) const;
  void pruneOldBackups(TransactionReport& report);

  os::FileSystem& fs_;
  os::CommandRunner& commands_;
  service::ServiceControl& service_;
  verify::SmtpProber& prober_;
  os::Clock& clock_;
  TransactionOptions options_;
  std::function<void(const StepRecord&)> on_step_;
  ConfigFiles files_;
  Journal journal_;
};

}  // namespace postwarden::agent::applier
