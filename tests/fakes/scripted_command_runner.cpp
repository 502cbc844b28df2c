#include "tests/fakes/scripted_command_runner.h"

#include <optional>
#include <utility>

namespace postwarden::fakes {

using os::Command;
using os::CommandResult;
using os::describeCommand;

void ScriptedCommandRunner::expect(std::vector<std::string> argv, Result<CommandResult> result,
                                   SideEffect side_effect) {
  std::lock_guard<std::mutex> lock(mutex_);
  once_[std::move(argv)].push_back(Answer{std::move(result), std::move(side_effect)});
}

void ScriptedCommandRunner::expectRepeatedly(std::vector<std::string> argv,
                                             Result<CommandResult> result, SideEffect side_effect) {
  std::lock_guard<std::mutex> lock(mutex_);
  repeatedly_.insert_or_assign(std::move(argv), Answer{std::move(result), std::move(side_effect)});
}

Result<CommandResult> ScriptedCommandRunner::run(const Command& command) {
  std::optional<Answer> answer;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(command);
    auto once = once_.find(command.argv);
    if (once != once_.end() && !once->second.empty()) {
      answer.emplace(std::move(once->second.front()));
      once->second.pop_front();
    } else if (auto repeated = repeatedly_.find(command.argv); repeated != repeatedly_.end()) {
      answer.emplace(repeated->second);
    }
  }
  if (!answer) {
    return InternalError("ScriptedCommandRunner: unexpected command '" +
                         describeCommand(command.argv) + "'");
  }
  // Outside the lock: the side effect may touch other fakes, or even this runner.
  if (answer->side_effect) answer->side_effect(command);
  return std::move(answer->result);
}

std::vector<Command> ScriptedCommandRunner::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

std::vector<std::string> ScriptedCommandRunner::describedCalls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> described;
  for (const Command& command : calls_) described.push_back(describeCommand(command.argv));
  return described;
}

std::vector<std::string> ScriptedCommandRunner::unmetExpectations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> unmet;
  for (const auto& [argv, answers] : once_) {
    for (std::size_t i = 0; i < answers.size(); ++i) unmet.push_back(describeCommand(argv));
  }
  return unmet;
}

CommandResult ScriptedCommandRunner::exited(int exit_code, std::string stdout_data,
                                            std::string stderr_data) {
  CommandResult result;
  result.exit_code = exit_code;
  result.stdout_data = std::move(stdout_data);
  result.stderr_data = std::move(stderr_data);
  return result;
}

}  // namespace postwarden::fakes
