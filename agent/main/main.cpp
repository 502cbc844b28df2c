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
#include "common/os/logging_command_runner.h"
#include "common/os/posix_file_system.h"
#include "common/os/process_command_runner.h"
#include "agent/verify/smtp_prober.h"
#include "common/logging.h"

namespace {

// `enroll` and `run` live in postwarden-agentd, next to this binary: they need gRPC, which
// would cost every plan and apply ~3 MB of memory and milliseconds of loading. Returns only
// when the exec failed.
int execFleetCommand(char** argv) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("postwarden-agent: error: /proc/self/exe");
    return 1;
  }
  std::string path(self, static_cast<size_t>(n));
  path = path.substr(0, path.rfind('/') + 1) + "postwarden-agentd";
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

  os::PosixFileSystem fs;
  os::ProcessCommandRunner process_runner;
  os::LoggingCommandRunner commands(process_runner);
  os::SystemClock clock;
  verify::SocketSmtpProber prober;
  cli::Environment env{.fs = fs,
                       .commands = commands,
                       .clock = clock,
                       .prober = prober,
                       .out = std::cout,
                       .err = std::cerr,
                       .out_is_terminal = isatty(STDOUT_FILENO) == 1,
                       .pid = static_cast<long>(getpid())};
  // Relative directory options are resolved against it (empty if unknown: they are refused).
  if (char cwd[4096]; getcwd(cwd, sizeof cwd) != nullptr) env.working_dir = cwd;
  // Test-only fault point: the e2e suite kills the agent at a named transaction step to prove
  // that the next run finishes or undoes the change.
  if (const char* step = std::getenv("POSTWARDEN_TEST_CRASH_AT")) {
    std::string crash_step = step;
    env.crash_point = [crash_step](std::string_view reached) {
      if (reached == crash_step) kill(getpid(), SIGKILL);
    };
  }
  return cli::run(args, env);
}
