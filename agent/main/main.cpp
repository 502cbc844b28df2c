// postwarden-agent: the composition root. Builds the real file system, process runner, clock
// and SMTP prober, and hands them to the command line. Nothing else lives here.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "agent/cli/cli.h"
#include "agent/os/posix_file_system.h"
#include "agent/os/process_command_runner.h"
#include "agent/verify/smtp_prober.h"

int main(int argc, char** argv) {
  using namespace postwarden::agent;
  // A peer closing a socket must be an error value, not a signal that kills the agent.
  signal(SIGPIPE, SIG_IGN);
  os::PosixFileSystem fs;
  os::ProcessCommandRunner commands;
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
  std::vector<std::string> args(argv + 1, argv + argc);
  return cli::run(args, env);
}
