#include "agent/service/service_control.h"

#include <dirent.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>
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
Status reloadAndWait(os::CommandRunner& runner, const std::vector<std::string>& argv,
                     const ServiceOptions& options) {
  std::vector<int> old_daemons;
  if (!options.queue_directory.empty()) old_daemons = postfixDaemonPids(options.queue_directory);
  PW_RETURN_IF_ERROR(runChecked(runner, argv, options));
  if (!waitForExit(old_daemons, options.turnover_timeout)) {
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

// State letter and parent pid from /proc/PID/stat ("pid (comm) S ppid ...").
bool readProcStat(int pid, char& state, int& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 1));
  return static_cast<bool>(rest >> state >> ppid);
}

class PostfixServiceControl final : public ServiceControl {
 public:
  PostfixServiceControl(os::CommandRunner& runner, std::string config_dir, ServiceOptions options)
      : runner_(runner), config_dir_(std::move(config_dir)), options_(options) {}

  Status reload() override { return reloadAndWait(runner_, argv("reload"), options_); }

  Status restart() override {
    // `postfix stop` fails when Postfix is not running; starting is what matters then.
    (void)runChecked(runner_, argv("stop"), options_);
    return runChecked(runner_, argv("start"), options_);
  }

  Result<bool> running() override { return exitsZero(runner_, argv("status"), options_); }

  std::string describe() const override { return "postfix -c " + config_dir_; }

 private:
  std::vector<std::string> argv(const char* verb) const {
    return {"postfix", "-c", config_dir_, verb};
  }
  os::CommandRunner& runner_;
  std::string config_dir_;
  ServiceOptions options_;
};

class SystemdServiceControl final : public ServiceControl {
 public:
  SystemdServiceControl(os::CommandRunner& runner, std::string unit, ServiceOptions options)
      : runner_(runner), unit_(std::move(unit)), options_(options) {}

  Status reload() override {
    return reloadAndWait(runner_, {"systemctl", "reload", unit_}, options_);
  }
  Status restart() override {
    return runChecked(runner_, {"systemctl", "restart", unit_}, options_);
  }
  Result<bool> running() override {
    return exitsZero(runner_, {"systemctl", "is-active", "--quiet", unit_}, options_);
  }
  std::string describe() const override { return "systemd " + unit_; }

 private:
  os::CommandRunner& runner_;
  std::string unit_;
  ServiceOptions options_;
};

class CommandServiceControl final : public ServiceControl {
 public:
  CommandServiceControl(os::CommandRunner& runner, CommandStrategy strategy, ServiceOptions options)
      : runner_(runner), strategy_(std::move(strategy)), options_(options) {}

  Status reload() override { return reloadAndWait(runner_, strategy_.reload, options_); }
  Status restart() override {
    if (strategy_.restart.empty()) {
      return Status(StatusCode::kUnimplemented, "no restart command is configured");
    }
    return runChecked(runner_, strategy_.restart, options_);
  }
  Result<bool> running() override {
    return Status(StatusCode::kUnimplemented, "no status command is configured");
  }
  std::string describe() const override {
    return "command " + os::describeCommand(strategy_.reload);
  }

 private:
  os::CommandRunner& runner_;
  CommandStrategy strategy_;
  ServiceOptions options_;
};

}  // namespace

std::vector<int> postfixDaemonPids(const std::string& queue_directory) {
  std::ifstream pid_file(queue_directory + "/pid/master.pid");
  int master = 0;
  if (!(pid_file >> master) || master <= 0) return {};
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return {};
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    char state = 0;
    int ppid = 0;
    if (readProcStat(static_cast<int>(pid), state, ppid) && ppid == master) {
      pids.push_back(static_cast<int>(pid));
    }
  }
  closedir(proc);
  return pids;
}

bool waitForExit(const std::vector<int>& pids, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    bool any_alive = false;
    for (int pid : pids) {
      char state = 0;
      int ppid = 0;
      if (readProcStat(pid, state, ppid) && state != 'Z' && state != 'X') any_alive = true;
    }
    if (!any_alive) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::unique_ptr<ServiceControl> makePostfixServiceControl(os::CommandRunner& runner,
                                                          std::string config_dir,
                                                          ServiceOptions options) {
  return std::make_unique<PostfixServiceControl>(runner, std::move(config_dir), options);
}

std::unique_ptr<ServiceControl> makeSystemdServiceControl(os::CommandRunner& runner,
                                                          std::string unit,
                                                          ServiceOptions options) {
  return std::make_unique<SystemdServiceControl>(runner, std::move(unit), options);
}

std::unique_ptr<ServiceControl> makeCommandServiceControl(os::CommandRunner& runner,
                                                          CommandStrategy strategy,
                                                          ServiceOptions options) {
  return std::make_unique<CommandServiceControl>(runner, std::move(strategy), options);
}

std::unique_ptr<ServiceControl> makeServiceControl(os::CommandRunner& runner,
                                                   const ServiceSettings& settings,
                                                   const std::string& config_dir,
                                                   ServiceOptions options) {
  switch (settings.strategy) {
    case Strategy::kSystemd:
      return makeSystemdServiceControl(runner, settings.systemd_unit, options);
    case Strategy::kCommand:
      return makeCommandServiceControl(
          runner, {settings.reload_command, settings.restart_command}, options);
    case Strategy::kPostfix:
      break;
  }
  return makePostfixServiceControl(runner, config_dir, options);
}

}  // namespace postwarden::agent::service
