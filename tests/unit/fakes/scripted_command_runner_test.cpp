#include "tests/fakes/scripted_command_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::fakes {
namespace {

using os::Command;
using os::CommandResult;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Command makeCommand(std::vector<std::string> argv) {
  Command command;
  command.argv = std::move(argv);
  return command;
}

TEST(ScriptedCommandRunnerTest, ReturnsScriptedResult) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "check"}, ScriptedCommandRunner::exited(1, "", "fatal: bad\n"));

  Result<CommandResult> result = runner.run(makeCommand({"postfix", "check"}));

  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->exit_code, 1);
  EXPECT_EQ(result->stderr_data, "fatal: bad\n");
  EXPECT_THAT(runner.unmetExpectations(), IsEmpty());
}

TEST(ScriptedCommandRunnerTest, ReturnsScriptedStatus) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "reload"}, DeadlineExceededError("timed out"));

  EXPECT_EQ(runner.run(makeCommand({"postfix", "reload"})).status().code(),
            StatusCode::kDeadlineExceeded);
}

TEST(ScriptedCommandRunnerTest, ExpectationsForOneArgvAreConsumedInOrder) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "status"}, ScriptedCommandRunner::exited(1));
  runner.expect({"postfix", "status"}, ScriptedCommandRunner::exited(0));

  EXPECT_EQ(runner.run(makeCommand({"postfix", "status"}))->exit_code, 1);
  EXPECT_EQ(runner.run(makeCommand({"postfix", "status"}))->exit_code, 0);
  EXPECT_EQ(runner.run(makeCommand({"postfix", "status"})).status().code(), StatusCode::kInternal);
}

TEST(ScriptedCommandRunnerTest, UnexpectedCommandIsInternalAndNamesTheCommand) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "check"}, ScriptedCommandRunner::exited(0));

  Result<CommandResult> result = runner.run(makeCommand({"postfix", "-c", "/x y", "reload"}));

  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_THAT(result.status().message(),
              HasSubstr("unexpected command 'postfix -c '/x y' reload'"));
  EXPECT_THAT(runner.unmetExpectations(), ElementsAre("postfix check"));
}

TEST(ScriptedCommandRunnerTest, ExpectRepeatedlyAnswersOnceOneShotsAreUsed) {
  ScriptedCommandRunner runner;
  runner.expectRepeatedly({"postconf", "-n"}, ScriptedCommandRunner::exited(0, "a = b\n"));
  runner.expect({"postconf", "-n"}, ScriptedCommandRunner::exited(2));

  EXPECT_EQ(runner.run(makeCommand({"postconf", "-n"}))->exit_code, 2);
  EXPECT_EQ(runner.run(makeCommand({"postconf", "-n"}))->stdout_data, "a = b\n");
  EXPECT_EQ(runner.run(makeCommand({"postconf", "-n"}))->stdout_data, "a = b\n");
  EXPECT_THAT(runner.unmetExpectations(), IsEmpty());
}

TEST(ScriptedCommandRunnerTest, SideEffectRunsBeforeTheResultIsReturned) {
  InMemoryFileSystem fs;
  fs.addFile("/run/postfix/master.pid", "100\n");
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "reload"}, ScriptedCommandRunner::exited(0),
                [&fs](const Command&) { fs.addFile("/run/postfix/master.pid", "200\n"); });

  ASSERT_TRUE(runner.run(makeCommand({"postfix", "reload"})).ok());

  EXPECT_EQ(fs.contents("/run/postfix/master.pid"), "200\n");
}

TEST(ScriptedCommandRunnerTest, RecordsEveryCallWithItsOptions) {
  ScriptedCommandRunner runner;
  runner.expect({"postmap", "-q", "x", "-"}, ScriptedCommandRunner::exited(0));
  Command command = makeCommand({"postmap", "-q", "x", "-"});
  command.stdin_data = "x y\n";
  command.extra_env["MAIL_CONFIG"] = "/etc/postfix";

  (void)runner.run(command);
  (void)runner.run(makeCommand({"unexpected"}));

  ASSERT_EQ(runner.calls().size(), 2u);
  EXPECT_EQ(runner.calls()[0].stdin_data, "x y\n");
  EXPECT_EQ(runner.calls()[0].extra_env.at("MAIL_CONFIG"), "/etc/postfix");
  EXPECT_THAT(runner.describedCalls(), ElementsAre("postmap -q x -", "unexpected"));
}

}  // namespace
}  // namespace postwarden::fakes
