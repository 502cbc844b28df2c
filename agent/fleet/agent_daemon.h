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
//     is service drift (an expired certificate, a dead smtpd).
// Reports go through the durable outbox to the controller (controller_link.h).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/applier/transaction.h"
#include "agent/cli/probe_targets.h"
#include "agent/daemon/agent_config.h"
#include "agent/daemon/config_watcher.h"
#include "agent/os/clock.h"
#include "agent/os/command_runner.h"
#include "agent/os/file_system.h"
#include "agent/policy/baseline.h"
#include "agent/service/service_control.h"
#include "agent/verify/smtp_prober.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::agent::fleet {

class ControllerLink;

struct DaemonEnvironment {
  os::FileSystem& fs;
  os::CommandRunner& commands;
  os::Clock& clock;
  verify::SmtpProber& prober;
};

class AgentDaemon {
 public:
  AgentDaemon(DaemonEnvironment env, daemon::AgentConfig config);
  ~AgentDaemon();

  // Runs until requestStop(). Errors only for what prevents starting at all (not enrolled,
  // unreadable state directory, config directory missing).
  Status run();
  // Thread- and signal-thread-safe.
  void requestStop();

 private:
  enum class Trigger {
    kStartup,
    kFileChange,
    kPeriodic,
    kAssignment,
    kApplyCommand,
    kVerifyCommand
  };
  struct Inbox {
    std::optional<v1::Assignment> assignment;
    std::vector<v1::Command> commands;
  };

  Status loadCachedAssignment();
  // A transaction an earlier agent was killed in is finished or undone first (apply.md).
  void recoverInterruptedChange();
  // The probe's settings (the password is read at each check: it may be rotated).
  cli::ProbeSettings probeSettings();
  std::optional<cli::HostPort> probeAddress() const;
  std::unique_ptr<service::ServiceControl> makeService(const planner::PostfixConfig& live);
  applier::TransactionOptions transactionOptions(const planner::PostfixConfig& live,
                                                 std::vector<applier::ProbeCheck> probes,
                                                 const cli::ProbeSettings& settings,
                                                 const std::optional<cli::HostPort>& probe_address);
  void adopt(const v1::Assignment& assignment, bool check_now = true);
  void check(Trigger trigger);
  void report(v1::StateReport state, bool force);
  void reportDrift(v1::DriftEvent drift);
  v1::Hello hello();
  std::chrono::milliseconds nextCheckDelay();
  int64_t configMtimeMs();

  DaemonEnvironment env_;
  daemon::AgentConfig config_;
  std::unique_ptr<daemon::ConfigWatcher> watcher_;
  std::unique_ptr<ControllerLink> link_;
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
  // The last change that was rolled back (baseline version + the files it would write), and
  // why: not tried again until something differs.
  std::string failed_target_;
  std::string failed_outcome_;
  std::string failed_reason_;
  std::string postfix_version_;
};

}  // namespace postwarden::agent::fleet
