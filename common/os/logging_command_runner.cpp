#include "common/os/logging_command_runner.h"

#include "common/logging.h"

namespace postwarden::os {

Result<CommandResult> LoggingCommandRunner::run(const Command& command) {
  auto log = moduleLogger("agent.os");
  const std::string described = describeCommand(command.argv);
  log->debug("running '{}' timeout={}ms", described, command.timeout.count());
  Result<CommandResult> result = inner_.run(command);
  if (!result.ok()) {
    log->debug("'{}' failed: {}", described, result.status().toString());
  } else if (result->exit_code != 0) {
    log->debug("'{}' exit={} elapsed={}ms stderr='{}'", described, result->exit_code,
               result->elapsed.count(), result->stderr_data);
  } else {
    log->debug("'{}' exit=0 elapsed={}ms", described, result->elapsed.count());
  }
  return result;
}

}  // namespace postwarden::os
