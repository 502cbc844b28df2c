// ProcessCommandRunner: CommandRunner over Boost.Process (v1) and Boost.Asio. The program
// runs directly from its argv (never through a shell) in its own process group, with the
// agent's environment plus Command::extra_env, default signal dispositions, an empty signal
// mask and no descriptors but stdin/stdout/stderr. stdin is fed and stdout/stderr are
// drained concurrently, so no output size deadlocks. Every child is reaped before run()
// returns, on every path, and no exception leaves run().
#pragma once

#include <chrono>
#include <cstddef>

#include "common/os/command_runner.h"

namespace postwarden::os {

struct ProcessCommandRunnerOptions {
  // After the timeout the process group gets SIGTERM, and SIGKILL if it is still alive
  // `kill_grace` later.
  std::chrono::milliseconds kill_grace{2000};
  // After the child exits, how long to wait for end-of-file on stdout/stderr: a daemon it
  // started may keep the pipes open, and that must not turn into a timeout.
  std::chrono::milliseconds output_drain{500};
  // Per stream. A child that writes more is killed (SIGKILL to its group).
  std::size_t max_output_bytes = std::size_t{64} << 20;
};

class ProcessCommandRunner final : public CommandRunner {
 public:
  explicit ProcessCommandRunner(ProcessCommandRunnerOptions options = {});

  // See CommandRunner::run. argv[0] without a '/' is looked up in PATH (extra_env's PATH
  // when it sets one, else the agent's); the child's argv[0] is then the resolved path.
  // Errors: InvalidArgument (empty argv, or an extra_env name that is empty or has '='),
  // NotFound (program missing), DeadlineExceeded (timed out; the group got SIGTERM, then
  // SIGKILL after kill_grace; the message has describeCommand(argv) and the last lines of
  // output), ResourceExhausted (output over max_output_bytes; the group got SIGKILL),
  // Internal (could not start it, e.g. EACCES, or could not collect its exit status).
  // Thread-safe: concurrent calls do not share state. Needs SIGCHLD not set to SIG_IGN (the
  // exit status would be lost) and fds 0-2 of the agent open (main points closed ones at
  // /dev/null). SIGPIPE is blocked in the calling thread during run(), so a child that does
  // not read its stdin costs the agent nothing.
  Result<CommandResult> run(const Command& command) override;

 private:
  ProcessCommandRunnerOptions options_;
};

}  // namespace postwarden::os
