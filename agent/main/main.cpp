// postwarden-agent: the composition root. Builds the real file system, process runner, clock
// and SMTP prober, and hands them to the command line. Nothing else lives here.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"
#include "agent/os/logging_command_runner.h"
#include "agent/os/posix_file_system.h"
#include "agent/os/process_command_runner.h"
#include "agent/verify/smtp_prober.h"
#include "common/logging.h"

int main(int argc, char** argv) {
  using namespace postwarden::agent;
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
