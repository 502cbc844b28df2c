// ScriptedCommandRunner: a CommandRunner that answers from a script instead of running
// anything. Each expect() is consumed by one call with exactly that argv, in the order they
// were added for that argv; expectRepeatedly() answers any number of calls once no one-shot
// expectation is left. Any other argv gets Internal naming the command, so a test never
// silently runs something it did not plan for. Every call is recorded. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/os/command_runner.h"
#include "common/status.h"

namespace postwarden::fakes {

class ScriptedCommandRunner final : public os::CommandRunner {
 public:
  // Runs when its expectation answers, before the result is returned, e.g. to change an
  // InMemoryFileSystem the way `postfix reload` or `postconf -e` would.
  using SideEffect = std::function<void(const os::Command&)>;

  // One call with exactly `argv` gets `result` (a CommandResult, or a Status such as
  // DeadlineExceeded to script a timeout).
  void expect(std::vector<std::string> argv, Result<os::CommandResult> result,
              SideEffect side_effect = nullptr);
  // Every call with `argv` after the one-shot expectations for it are used up.
  void expectRepeatedly(std::vector<std::string> argv, Result<os::CommandResult> result,
                        SideEffect side_effect = nullptr);

  // Records `command`, then answers it from the script. Internal for an argv without an
  // expectation ("ScriptedCommandRunner: unexpected command 'postfix reload'").
  Result<os::CommandResult> run(const os::Command& command) override;

  // Every command run() got, in order, unexpected ones included.
  std::vector<os::Command> calls() const;
  // describeCommand(argv) of each call: easy to compare with ElementsAre("postfix check").
  std::vector<std::string> describedCalls() const;
  // One-shot expectations never consumed, as describeCommand strings; empty when the
  // script was followed.
  std::vector<std::string> unmetExpectations() const;

  // A CommandResult that exited with `exit_code`, for brevity in scripts.
  static os::CommandResult exited(int exit_code, std::string stdout_data = "",
                                  std::string stderr_data = "");

 private:
  struct Answer {
    Result<os::CommandResult> result;
    SideEffect side_effect;
  };

  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::deque<Answer>> once_;
  std::map<std::vector<std::string>, Answer> repeatedly_;
  std::vector<os::Command> calls_;
};

}  // namespace postwarden::fakes
