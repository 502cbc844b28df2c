// CommandRunner: runs an external program from an argv vector (never a shell string) with a
// timeout, and captures its output. Implementations: ProcessCommandRunner (Boost.Process),
// ScriptedCommandRunner (tests/fakes).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::os {

struct Command {
  std::vector<std::string> argv;  // argv[0] is a path or a name looked up in PATH
  std::chrono::milliseconds timeout{30000};
  std::map<std::string, std::string> extra_env;  // added to the agent's environment
  std::string stdin_data;                        // written to the child's stdin
};

struct CommandResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string stdout_data;
  std::string stderr_data;
  std::chrono::milliseconds elapsed{0};
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  // Runs `command` to completion. A non-zero exit is NOT an error: it is in the result.
  // Errors: NotFound (program missing), DeadlineExceeded (timeout: the child got SIGTERM,
  // then SIGKILL after a grace period, and was reaped; the message has the command and
  // the tail of its output), Internal (could not start it).
  virtual Result<CommandResult> run(const Command& command) = 0;
};

// "postfix -c /x reload": argv joined for messages and logs (quoted where needed).
std::string describeCommand(const std::vector<std::string>& argv);

}  // namespace postwarden::os
