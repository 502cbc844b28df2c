#include "agent/service/service_control.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace postwarden::agent::service {
namespace {

std::string tail(const std::string& text, size_t max_bytes = 2000) {
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

// Runs one argv; a non-zero exit becomes FailedPrecondition with the command's output.
Status runChecked(os::CommandRunner& runner, const std::vector<std::string>& argv,
                  const ServiceOptions& options) {
  if (argv.empty()) return InvalidArgumentError("no command configured");
  Result<os::CommandResult> result = runner.run({.argv = argv, .timeout = options.timeout});
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    std::string output = result->stderr_data + result->stdout_data;
    while (!output.empty() && output.back() == '\n') output.pop_back();
    return FailedPreconditionError(os::describeCommand(argv) + " exited with status " +
                                   std::to_string(result->exit_code) +
                                   (output.empty() ? "" : ": " + tail(output)));
  }
  return OkStatus();
}

// Reloads with `argv` and then waits for the pre-reload daemons to be gone.
Status reloadAndWait(const os::Env& env, const std::vector<std::string>& argv,
                     const ServiceOptions& options) {
  std::vector<int> old_daemons;
  if (!options.queue_directory.empty()) {
    old_daemons = postfixDaemonPids(env.fs, env.processes, options.queue_directory);
  }
  PW_RETURN_IF_ERROR(runChecked(env.commands, argv, options));
  if (!waitForExit(env.processes, env.clock, old_daemons, options.turnover_timeout)) {
    return DeadlineExceededError("daemons started before the reload are still running after " +
                                 std::to_string(options.turnover_timeout.count()) + " ms");
  }
  return OkStatus();
}

// Exit status 0 of `argv` means "running"; any other exit means "not running".
Result<bool> exitsZero(os::CommandRunner& runner, const std::vector<std::string>& argv,
                       const ServiceOptions& options) {
  Result<os::CommandResult> result = runner.run({.argv = argv, .timeout = options.timeout});
  if (!result.ok()) return result.status();
  return result->exit_code == 0;
}

// The pid in QUEUE/pid/master.pid ("%*d\n": leading blanks are skipped); 0 when the file
// holds none; nullopt when it cannot be read.
std::optional<int> masterPid(os::FileSystem& fs, const std::string& queue_directory) {
  Result<std::string> pid_file = fs.readFile(queue_directory + "/pid/master.pid");
  if (!pid_file.ok()) return std::nullopt;
  return std::max(std::atoi(pid_file->c_str()), 0);
}

// Zombies and dead entries count as gone.
bool alive(const std::optional<os::ProcessStat>& stat) {
  return stat && stat->state != 'Z' && stat->state != 'X';
}

// Whether the master process of QUEUE/pid/master.pid is alive: true for a live process named
// "master", false for one that is gone or is no Postfix master (a pid reused after a crash);
// nullopt when the file cannot be read (absent after a clean stop, or a queue directory
// this agent reads wrong), and Postfix is asked instead.
std::optional<bool> masterAlive(const os::Env& env, const std::string& queue_directory) {
  std::optional<int> pid = masterPid(env.fs, queue_directory);
  if (!pid) return std::nullopt;
  if (*pid == 0) return false;
  std::optional<os::ProcessStat> stat = env.processes.stat(*pid);
  return alive(stat) && stat->name == "master";
}

class PostfixServiceControl final : public ServiceControl {
 public:
  PostfixServiceControl(const os::Env& env, std::string config_dir, ServiceOptions options)
      : env_(env), config_dir_(std::move(config_dir)), options_(options) {}

  Status reload() override { return reloadAndWait(env_, argv("reload"), options_); }

  Status restart() override {
    // `postfix stop` fails when Postfix is not running; starting is what matters then.
    (void)runChecked(env_.commands, argv("stop"), options_);
    return runChecked(env_.commands, argv("start"), options_);
  }

  // Postfix runs when the master named in QUEUE/pid/master.pid is alive: what `postfix status`
  // finds out too, but without its shell script (about 20 ms of every apply). Without a queue
  // directory or a readable pid file, Postfix is asked.
  Result<bool> running() override {
    if (!options_.queue_directory.empty()) {
      if (std::optional<bool> seen = masterAlive(env_, options_.queue_directory)) return *seen;
    }
    return exitsZero(env_.commands, argv("status"), options_);
  }

  std::string describe() const override { return "postfix -c " + config_dir_; }

 private:
  std::vector<std::string> argv(const char* verb) const {
    return {"postfix", "-c", config_dir_, verb};
  }
  os::Env env_;
  std::string config_dir_;
  ServiceOptions options_;
};

class SystemdServiceControl final : public ServiceControl {
 public:
  SystemdServiceControl(const os::Env& env, std::string unit, ServiceOptions options)
      : env_(env), unit_(std::move(unit)), options_(options) {}

  Status reload() override { return reloadAndWait(env_, {"systemctl", "reload", unit_}, options_); }
  Status restart() override {
    return runChecked(env_.commands, {"systemctl", "restart", unit_}, options_);
  }
  Result<bool> running() override {
    return exitsZero(env_.commands, {"systemctl", "is-active", "--quiet", unit_}, options_);
  }
  std::string describe() const override { return "systemd " + unit_; }

 private:
  os::Env env_;
  std::string unit_;
  ServiceOptions options_;
};

class CommandServiceControl final : public ServiceControl {
 public:
  CommandServiceControl(const os::Env& env, CommandStrategy strategy, ServiceOptions options)
      : env_(env), strategy_(std::move(strategy)), options_(options) {}

  Status reload() override { return reloadAndWait(env_, strategy_.reload, options_); }
  Status restart() override {
    if (strategy_.restart.empty()) {
      return Status(StatusCode::kUnimplemented, "no restart command is configured");
    }
    return runChecked(env_.commands, strategy_.restart, options_);
  }
  Result<bool> running() override {
    return Status(StatusCode::kUnimplemented, "no status command is configured");
  }
  std::string describe() const override {
    return "command " + os::describeCommand(strategy_.reload);
  }

 private:
  os::Env env_;
  CommandStrategy strategy_;
  ServiceOptions options_;
};

}  // namespace

std::vector<int> postfixDaemonPids(os::FileSystem& fs, const os::Processes& processes,
                                   const std::string& queue_directory) {
  std::optional<int> master = masterPid(fs, queue_directory);
  if (!master || *master == 0) return {};
  return processes.childrenOf(*master);
}

bool waitForExit(const os::Processes& processes, os::Clock& clock, const std::vector<int>& pids,
                 std::chrono::milliseconds limit) {
  const auto deadline = clock.steadyNow() + limit;
  while (true) {
    bool any_alive = false;
    for (int pid : pids) any_alive = any_alive || alive(processes.stat(pid));
    if (!any_alive) return true;
    if (clock.steadyNow() >= deadline) return false;
    clock.sleepFor(std::chrono::milliseconds(20));
  }
}

std::unique_ptr<ServiceControl> makePostfixServiceControl(const os::Env& env,
                                                          std::string config_dir,
                                                          ServiceOptions options) {
  return std::make_unique<PostfixServiceControl>(env, std::move(config_dir), options);
}

std::unique_ptr<ServiceControl> makeSystemdServiceControl(const os::Env& env, std::string unit,
                                                          ServiceOptions options) {
  return std::make_unique<SystemdServiceControl>(env, std::move(unit), options);
}

std::unique_ptr<ServiceControl> makeCommandServiceControl(const os::Env& env,
                                                          CommandStrategy strategy,
                                                          ServiceOptions options) {
  return std::make_unique<CommandServiceControl>(env, std::move(strategy), options);
}

std::unique_ptr<ServiceControl> makeServiceControl(const os::Env& env,
                                                   const ServiceSettings& settings,
                                                   const std::string& config_dir,
                                                   ServiceOptions options) {
  switch (settings.strategy) {
    case Strategy::kSystemd:
      return makeSystemdServiceControl(env, settings.systemd_unit, options);
    case Strategy::kCommand:
      return makeCommandServiceControl(env, {settings.reload_command, settings.restart_command},
                                       options);
    case Strategy::kPostfix:
      break;
  }
  return makePostfixServiceControl(env, config_dir, options);
}

}  // namespace postwarden::agent::service
