// `postwarden-agent run`: the long-running agent. It enforces (or, in detect-only mode,
// watches) the baseline the controller assigned, caching it so that it keeps enforcing while
// the controller is unreachable:
//   - inotify on the Postfix config directory, plus a periodic re-check with splay;
//   - each check plans the baseline against the files: a non-empty plan is drift, reported
//     with the parameters out of line and, in enforce mode, repaired through the safe-apply
//     transaction (applier::Transaction);
//   - drift is decided by content, never by the event: the agent's own writes leave a
//     compliant plan behind, so they are never reported (no event loops);
//   - the periodic check also probes the live service; a failing probe with compliant files
//     is service drift (an expired certificate, a dead smtpd);
//   - an assignment that carries a rollout job starts only as the job says, by the agent's
//     own clock (jobs.h); refused, the agent keeps what it runs and reports
//     OUTCOME_OUTSIDE_WINDOW. The same job id again is answered with its stored report. After
//     the change the job soaks: health reports (agent/health) every check interval until the
//     soak ends, continued by a restarted daemon.
// Reports go through the durable outbox to the controller (controller_link.h).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/applier/transaction.h"
#include "agent/daemon/agent_config.h"
#include "agent/daemon/daemon_metrics.h"
#include "agent/daemon/decisions.h"
#include "agent/daemon/jobs.h"
#include "agent/health/mail_log.h"
#include "agent/policy/baseline.h"
#include "agent/run/agent_run.h"
#include "agent/verify/smtp_prober.h"
#include "common/os/env.h"
#include "common/os/file_watcher.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::agent::link {
class ControllerLink;
class Outbox;
}  // namespace postwarden::agent::link

namespace postwarden::agent::daemon {

struct DaemonEnvironment {
  os::Env os;
  verify::SmtpProber& prober;
  // The mail log's reader for soak health figures; null: the real one (PosixLogFiles).
  health::LogFiles* log_files = nullptr;
  // Called after the first check and after every wake of the loop: systemd's READY=1 and
  // watchdog (agentd). The loop wakes at least every `alive_interval` when it is above 0.
  std::function<void()> alive;
  std::chrono::milliseconds alive_interval{0};
};

class AgentDaemon {
 public:
  AgentDaemon(DaemonEnvironment env, AgentConfig config);
  ~AgentDaemon();

  // Runs until requestStop(). Errors only for what prevents starting at all (not enrolled,
  // unreadable state directory, config directory missing).
  Status run();
  // Thread- and signal-thread-safe.
  void requestStop();

 private:
  struct Inbox {
    std::optional<v1::Assignment> assignment;
    std::vector<v1::Command> commands;
  };
  // One look at the host: what the decisions need (finding) and what carrying them out needs.
  struct Look {
    Finding finding;
    std::string refusal;      // why the baseline, its plan or its change is refused
    std::string repair_wait;  // why the repair waits (no repair window open)
    std::optional<planner::PostfixConfig> config;
    std::optional<run::Planned> planned;
    std::vector<v1::ParameterState> states;  // every parameter the baseline names
  };

  // Opens the outbox, the watcher and the link, enforces the cached baseline and finishes an
  // interrupted change; then loop() runs until requestStop().
  Status start();
  std::unique_ptr<link::ControllerLink> makeLink(const std::string& ca_pem);
  Status loop();
  Status loadCachedAssignment();
  // A transaction an earlier agent was killed in is finished or undone first (apply.md).
  void recoverInterruptedChange();
  // The probe's settings (the password is read at each check: it may be rotated).
  run::ProbeSettings probeSettings();
  planner::PlanOptions planOptions() const;
  void adopt(const v1::Assignment& assignment, bool check_now = true);
  // An assignment with a rollout job: started, refused (outside its windows) or, the same
  // job again, answered with its stored report.
  void takeJob(const v1::Assignment& assignment);
  // Whether the change `assignment` asks for needs a Postfix restart (true when it cannot be
  // told: a change that cannot be planned is not assumed harmless).
  bool needsRestart(const v1::Assignment& assignment);
  // The main.cf values, now, of every parameter `assignment`'s baseline sets or removes.
  std::vector<PriorValue> priorValues(const v1::Assignment& assignment);
  // A rollback job's baseline also puts back what the rolled-back version set beyond it.
  void restorePriorValues(const v1::RolloutJob& job, policy::Baseline& baseline);
  v1::StateReport currentState();
  void loadJobRecord();
  void saveJobRecord();
  bool soaking() const;
  void soakTick();
  v1::HealthFigures healthFigures(std::string& problem);
  void handleInbox();
  Look lookAtHost();
  void check(Trigger trigger);
  void repair(Look& look, v1::StateReport& state);
  void probeService(const planner::PostfixConfig& config, v1::StateReport& state);
  void report(v1::StateReport state, bool force);
  void reportConfigDrift(const std::vector<v1::ParameterState>& states, bool repairing);
  void reportDrift(v1::DriftEvent drift);
  v1::Hello hello();
  double splayDraw();
  int64_t configMtimeMs();

  DaemonEnvironment env_;
  AgentConfig config_;
  run::AgentRun run_;
  Timing timing_;
  std::unique_ptr<os::FileWatcher> watcher_;
  std::unique_ptr<link::Outbox> outbox_;  // before link_, which uses it until destroyed
  std::unique_ptr<link::ControllerLink> link_;
  std::atomic<bool> stop_{false};

  std::mutex inbox_mutex_;  // written by the link's thread
  Inbox inbox_;

  // The loop's own state (one thread).
  std::optional<v1::Assignment> assignment_;
  std::optional<policy::Baseline> baseline_;
  std::string baseline_error_;  // why the assigned baseline was refused
  std::optional<v1::StateReport> last_state_;
  std::string last_drift_;  // serialized parameters of the last drift event, to not repeat it
  std::atomic<int> compliance_{0};
  Memory memory_;
  Schedule schedule_;
  // The last rollout job (persisted in the state directory) and, while its change runs, the
  // job whose report the check's report() is.
  std::optional<JobRecord> job_;
  std::optional<JobRecord> running_job_;
  health::PosixLogFiles posix_log_files_;
  health::LogFiles& log_files_;
  std::string postfix_version_;
  // The textfile for node_exporter (config_.metrics_textfile; off when empty).
  DaemonMetrics metrics_{env_.os.fs, env_.os.clock, config_.metrics_textfile};
  void writeMetrics();       // after each wake of the loop
  void writeDaemonStatus();  // STATE/daemon.status (status_file.h), with the metrics
};

}  // namespace postwarden::agent::daemon
