// ServiceControl: how the agent makes a running Postfix pick up a new configuration, over
// the Env's CommandRunner (argv vectors with timeouts, never a shell). Three strategies:
//   postfix  `postfix -c DIR reload` / `stop` + `start` (also for instances systemd does not
//            manage, such as a second instance in its own config directory);
//   systemd  `systemctl reload UNIT` / `systemctl restart UNIT` (Debian's unit: postfix@-);
//   command  argv lists from the agent configuration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/os/env.h"
#include "common/status.h"

namespace postwarden::agent::service {

class ServiceControl {
 public:
  virtual ~ServiceControl() = default;

  // Makes Postfix re-read main.cf and master.cf without stopping. Returns once the daemons
  // that ran before the reload have exited (bounded by the timeout): until then an idle old
  // smtpd may still accept a connection and answer with the old configuration, which would
  // make a probe pass or fail for the wrong reason.
  // Errors: FailedPrecondition (the command exited non-zero; message has its output),
  // DeadlineExceeded, NotFound (program missing).
  virtual Status reload() = 0;

  // Stops and starts Postfix: needed for listener changes and inet_interfaces. Same errors,
  // and Unimplemented when the strategy has no restart command.
  virtual Status restart() = 0;

  // Whether Postfix runs now (its master.pid's process, else `postfix status`;
  // `systemctl is-active`). Unimplemented for a
  // strategy that has no way to tell; other errors as for reload().
  virtual Result<bool> running() = 0;

  // "postfix -c /etc/postfix", "systemd postfix@-", ...: for reports.
  virtual std::string describe() const = 0;
};

// Which of the three strategies, with its settings: apply's --service flags and agent.yaml's
// `service:` both come to this.
enum class Strategy { kPostfix, kSystemd, kCommand };

struct ServiceSettings {
  Strategy strategy = Strategy::kPostfix;
  std::string systemd_unit = "postfix@-";    // systemd only
  std::vector<std::string> reload_command;   // command only (required there)
  std::vector<std::string> restart_command;  // command only (optional)
};

struct CommandStrategy {
  std::vector<std::string> reload;   // argv
  std::vector<std::string> restart;  // argv; empty: not supported (restart-only plans refused)
};

struct ServiceOptions {
  std::chrono::milliseconds timeout{60000};  // per command
  // Postfix's queue_directory: its pid/master.pid names the master whose daemons a reload
  // waits for. Empty: no waiting.
  std::string queue_directory;
  std::chrono::milliseconds turnover_timeout{10000};
};

// The pids of the daemons the running Postfix master (QUEUE/pid/master.pid) has started now;
// empty when it is not running.
std::vector<int> postfixDaemonPids(os::FileSystem& fs, const os::Processes& processes,
                                   const std::string& queue_directory);

// Waits until none of `pids` is alive (zombies count as gone), polling, for at most `limit`.
// True when they all exited.
bool waitForExit(const os::Processes& processes, os::Clock& clock, const std::vector<int>& pids,
                 std::chrono::milliseconds limit);

std::unique_ptr<ServiceControl> makePostfixServiceControl(const os::Env& env,
                                                          std::string config_dir,
                                                          ServiceOptions options = {});
std::unique_ptr<ServiceControl> makeSystemdServiceControl(const os::Env& env, std::string unit,
                                                          ServiceOptions options = {});
std::unique_ptr<ServiceControl> makeCommandServiceControl(const os::Env& env,
                                                          CommandStrategy strategy,
                                                          ServiceOptions options = {});

// The ServiceControl `settings` name, for the Postfix instance in `config_dir`.
std::unique_ptr<ServiceControl> makeServiceControl(const os::Env& env,
                                                   const ServiceSettings& settings,
                                                   const std::string& config_dir,
                                                   ServiceOptions options = {});

}  // namespace postwarden::agent::service
