// postwarden-agent: the composition root. Builds the real file system, process runner, clock
// and SMTP prober, and hands them to the command line. Nothing else lives here.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"
#include "agent/verify/smtp_prober.h"
#include "common/logging.h"
#include "common/os/env.h"

namespace {

// `enroll` and `run` live in postwarden-agentd, next to this binary: they need gRPC, which
// would cost every plan and apply ~3 MB of memory and milliseconds of loading. Returns only
// when the exec failed.
int execFleetCommand(char** argv) {
  postwarden::Result<std::string> self = postwarden::os::ProcfsProcesses().selfExecutable();
  if (!self.ok()) {
    std::cerr << "postwarden-agent: error: " << self.status().message() << "\n";
    return 1;
  }
  const std::string path = self->substr(0, self->rfind('/') + 1) + "postwarden-agentd";
  execv(path.c_str(), argv);
  std::cerr << "postwarden-agent: error: cannot run " << path << ": " << std::strerror(errno)
            << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace postwarden;
  using namespace postwarden::agent;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-v" || arg == "--verbose") continue;
    if (arg == "run" || arg == "enroll") return execFleetCommand(argv);
    break;
  }
  // A peer closing a socket must be an error value, not a signal that kills the agent.
  signal(SIGPIPE, SIG_IGN);
  // -v / --verbose, a global option: debug logs on stderr (commands run, probe transcripts).
  std::vector<std::string> args;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else {
      args.push_back(std::move(arg));
    }
  }
  postwarden::setupLogging("postwarden-agent",
                           verbose ? spdlog::level::debug : spdlog::level::warn);

  os::SystemEnv system;
  verify::SocketSmtpProber prober;
  cli::Environment env{.os = system.env(),
                       .prober = prober,
                       .out = std::cout,
                       .err = std::cerr,
                       .out_is_terminal = isatty(STDOUT_FILENO) == 1,
                       .in = &std::cin,
                       .in_is_terminal = isatty(STDIN_FILENO) == 1};
  // Relative directory options are resolved against it (empty if unknown: they are refused).
  if (char cwd[4096]; getcwd(cwd, sizeof cwd) != nullptr) env.working_dir = cwd;
  // Test-only fault point: the e2e suite kills the agent at a named transaction step to prove
  // that the next run finishes or undoes the change.
  if (const char* step = std::getenv("POSTWARDEN_TEST_CRASH_AT")) {
    std::string crash_step = step;
    env.crash_point = [crash_step](std::string_view reached) {
      if (reached == crash_step) raise(SIGKILL);
    };
  }
  return cli::run(args, env);
}
