// postwarden-agentd: the fleet commands of postwarden-agent (which execs this program for
// them, so that plan/apply never load gRPC).
// Its arguments are parsed in arguments.h; this file only runs the commands.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "agent/agentd/arguments.h"
#include "agent/agentd/idle_memory.h"
#include "agent/daemon/agent_config.h"
#include "agent/daemon/agent_daemon.h"
#include "agent/link/enrollment.h"
#include "agent/verify/smtp_prober.h"
#include "common/logging.h"
#include "common/os/env.h"
#include "common/os/posix_file_system.h"
#include "common/systemd/notify.h"
#include "common/version.h"

namespace {

using namespace postwarden;
using namespace postwarden::agent;

int fail(const Status& status) {
  std::cerr << "postwarden-agent: error: " << status.message() << "\n";
  return 1;
}

std::string hostName() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

int runEnroll(const agentd::EnrollFlags& flags) {
  std::optional<daemon::AgentConfig> config;
  if (flags.config) {
    Result<daemon::AgentConfig> loaded = daemon::loadAgentConfig(*flags.config);
    if (!loaded.ok()) return fail(loaded.status());
    config = std::move(loaded).value();
  }
  Result<agentd::EnrollSettings> settings = agentd::resolveEnroll(flags, config, hostName());
  if (!settings.ok()) {
    // A setting neither the flags nor agent.yaml give: a usage error.
    fail(settings.status());
    std::cerr << "usage: postwarden-agent enroll [--config FILE] --controller HOST:PORT --ca FILE "
                 "--token-file FILE (see --help)\n";
    return agentd::kExitUsage;
  }
  os::PosixFileSystem fs;
  link::EnrollOptions enroll{.enroll_address = settings->enroll_address,
                             .controller_name = settings->controller_name,
                             .agent_id = settings->agent_id,
                             .state_dir = settings->state_dir};
  if (settings->token_file) {
    Result<std::string> token = fs.readFile(*settings->token_file);
    if (!token.ok()) return fail(token.status().withContext("token file"));
    enroll.token = token->substr(0, token->find_first_of("\r\n"));
  } else {
    enroll.token = *settings->token;
  }
  Result<std::string> ca = fs.readFile(settings->ca_file);
  if (!ca.ok()) return fail(ca.status().withContext("controller CA"));
  enroll.ca_pem = *ca;
  Result<link::EnrollResult> result = link::enroll(fs, enroll);
  if (!result.ok()) return fail(result.status());
  std::cout << "enrolled as " << result->agent_id << "; identity in " << enroll.state_dir
            << "/agent.pem";
  if (!result->labels.empty()) {
    std::cout << "; labels";
    for (const auto& [k, v] : result->labels) std::cout << " " << k << "=" << v;
  }
  std::cout << "\n";
  return 0;
}

// systemd (Type=notify): READY=1 after the daemon's first check, WATCHDOG=1 after each wake
// of its loop, which then wakes at least every third of WatchdogSec. Nothing without systemd.
// A change's check runs up to four bounded commands and two probe rounds; a shorter watchdog
// would kill the agent in the middle of a legitimate change, so that is said at start.
void notifySystemd(daemon::DaemonEnvironment& env, const daemon::AgentConfig& config) {
  env.alive = [ready = false]() mutable {
    if (!ready) systemd::notifyReady();
    ready = true;
    systemd::notifyWatchdog();
  };
  if (auto timeout = systemd::watchdogTimeout()) {
    env.alive_interval = systemd::watchdogFeedInterval(*timeout);
    const auto longest_check = 4 * config.command_timeout + 2 * config.verify_deadline;
    if (*timeout < longest_check) {
      moduleLogger("agent.daemon")
          ->warn(
              "WatchdogSec={}s is shorter than the longest check ({}s: 4 x command_timeout "
              "+ 2 x verify_deadline): raise it in a drop-in, or systemd may stop a change "
              "halfway",
              std::chrono::duration_cast<std::chrono::seconds>(*timeout).count(),
              std::chrono::duration_cast<std::chrono::seconds>(longest_check).count());
    }
  }
}

// After each wake of the loop (the `alive` hook, after what it already does): the memory the
// idle loop does not use goes back (idle_memory.h), with or without systemd.
void releaseIdleMemoryAfterEachWake(daemon::DaemonEnvironment& env) {
  env.alive = [before = std::move(env.alive)]() {
    if (before) before();
    agentd::Released released = agentd::releaseIdleMemory();
    moduleLogger("agent.daemon")
        ->debug("idle: {} KiB of clean library pages released", released.file_kib);
  };
}

int runDaemon(const agentd::RunFlags& flags, bool verbose) {
  Result<daemon::AgentConfig> config = daemon::loadAgentConfig(flags.config);
  if (!config.ok()) return fail(config.status());
  if (!verbose) {
    setupLogging("postwarden-agent", spdlog::level::from_str(config->log_level));
  }
  os::SystemEnv system;
  verify::SocketSmtpProber prober;
  daemon::DaemonEnvironment env{.os = system.env(), .prober = prober};
  notifySystemd(env, *config);
  releaseIdleMemoryAfterEachWake(env);
  daemon::AgentDaemon agent(env, *config);
  // SIGINT/SIGTERM are blocked everywhere (main) and taken here.
  std::thread signals([&agent] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int received = 0;
    sigwait(&set, &received);
    systemd::notifyStopping();
    agent.requestStop();
  });
  Status status = agent.run();
  if (!status.ok()) {
    signals.detach();
    return fail(status);
  }
  pthread_kill(signals.native_handle(), SIGTERM);  // harmless if it already returned
  signals.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<agentd::AgentdArguments> parsed =
      agentd::parseArguments(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed.ok()) {
    fail(parsed.status());
    std::cerr << agentd::usage();
    return agentd::kExitUsage;
  }
  setupLogging("postwarden-agent", parsed->verbose ? spdlog::level::debug : spdlog::level::info,
               parsed->log_format);
  return std::visit(
      [&](const auto& command) -> int {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, agentd::HelpRequest>) {
          std::cout << agentd::usage();
          return 0;
        } else if constexpr (std::is_same_v<T, agentd::VersionRequest>) {
          std::cout << postwarden::versionLine("postwarden-agentd") << "\n";
          return 0;
        } else if constexpr (std::is_same_v<T, agentd::EnrollFlags>) {
          return runEnroll(command);
        } else {
          return runDaemon(command, parsed->verbose);
        }
      },
      parsed->command);
}
