// LoggingCommandRunner: a CommandRunner decorator that logs every command it runs at debug
// level (argv, exit status, duration, and the output of failures), for `--verbose`.
#pragma once

#include "common/os/command_runner.h"

namespace postwarden::os {

class LoggingCommandRunner final : public CommandRunner {
 public:
  // `inner` is borrowed and must outlive this object.
  explicit LoggingCommandRunner(CommandRunner& inner) : inner_(inner) {}
  Result<CommandResult> run(const Command& command) override;

 private:
  CommandRunner& inner_;
};

}  // namespace postwarden::os
