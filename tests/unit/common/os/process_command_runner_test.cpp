#include "common/os/process_command_runner.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::HasSubstr;

Command makeCommand(std::vector<std::string> argv,
                    milliseconds timeout = std::chrono::seconds(20)) {
  Command command;
  command.argv = std::move(argv);
  command.timeout = timeout;
  return command;
}

pid_t readPid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

// True once `pid` no longer runs: gone, or a zombie waiting for its new parent (init)
// to reap it. Polls with a deadline instead of sleeping a fixed time.
bool processEnds(pid_t pid, milliseconds within) {
  const auto deadline = steady_clock::now() + within;
  while (true) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const std::size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z') {
      return true;
    }
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
}

class ProcessCommandRunnerTest : public ::testing::Test {
 protected:
  TempDir dir_;
  ProcessCommandRunner runner_;
};

TEST_F(ProcessCommandRunnerTest, ReturnsExitCode) {
  Result<CommandResult> result = runner_.run(makeCommand({"sh", "-c", "exit 3"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, 3);
}

TEST_F(ProcessCommandRunnerTest, ReturnsZeroForSuccess) {
  Result<CommandResult> result = runner_.run(makeCommand({"true"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_data, "");
  EXPECT_EQ(result->stderr_data, "");
}

TEST_F(ProcessCommandRunnerTest, ReportsMinusOneWhenKilledBySignal) {
  Result<CommandResult> result = runner_.run(makeCommand({"sh", "-c", "kill -KILL $$"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, -1);
}

TEST_F(ProcessCommandRunnerTest, CapturesStdoutAndStderrSeparately) {
  Result<CommandResult> result =
      runner_.run(makeCommand({"sh", "-c", "echo out; echo err >&2; echo more"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "out\nmore\n");
  EXPECT_EQ(result->stderr_data, "err\n");
}

TEST_F(ProcessCommandRunnerTest, PassesArgumentsVerbatimWithoutAShell) {
  Result<CommandResult> result =
      runner_.run(makeCommand({"printf", "%s|", "a b", "$HOME", "*", "it's"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "a b|$HOME|*|it's|");
}

TEST_F(ProcessCommandRunnerTest, CapturesLargeOutputOnBothStreamsWithoutDeadlock) {
  // 2 MiB on each stream, stderr first: a runner that drained only stdout would hang on a
  // full stderr pipe.
  Result<CommandResult> result = runner_.run(makeCommand(
      {"sh", "-c", "head -c 2097152 /dev/zero | tr '\\0' e >&2; head -c 2097152 /dev/zero"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->stdout_data.size(), 2097152u);
  EXPECT_EQ(result->stderr_data, std::string(2097152, 'e'));
}

TEST_F(ProcessCommandRunnerTest, FeedsStdinWhileReadingOutput) {
  // cat echoes while we still write: 2 MiB each way deadlocks unless both run together.
  Command command = makeCommand({"cat"});
  command.stdin_data.resize(2 * 1024 * 1024);
  for (std::size_t i = 0; i < command.stdin_data.size(); ++i) {
    command.stdin_data[i] = static_cast<char>('a' + i % 26);
  }

  Result<CommandResult> result = runner_.run(command);

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, command.stdin_data);
}

TEST_F(ProcessCommandRunnerTest, ChildThatIgnoresStdinDoesNotHurtTheRunner) {
  // The child exits without reading: our write gets EPIPE, and SIGPIPE must not kill us.
  Command command = makeCommand({"sh", "-c", "exit 0"});
  command.stdin_data = std::string(4 * 1024 * 1024, 'x');

  Result<CommandResult> result = runner_.run(command);

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, 0);
}

TEST_F(ProcessCommandRunnerTest, MissingProgramInPathIsNotFound) {
  Result<CommandResult> result = runner_.run(makeCommand({"postwarden-no-such-program", "x"}));

  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("postwarden-no-such-program"));
}

TEST_F(ProcessCommandRunnerTest, MissingProgramPathIsNotFound) {
  Result<CommandResult> result = runner_.run(makeCommand({dir_.file("missing/postfix")}));

  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST_F(ProcessCommandRunnerTest, NonExecutableProgramIsInternal) {
  const std::string script = dir_.file("not-executable");
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  ASSERT_EQ(::chmod(script.c_str(), 0644), 0);

  Result<CommandResult> result = runner_.run(makeCommand({script}));

  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
  EXPECT_THAT(result.status().message(), HasSubstr("Permission denied"));
}

TEST_F(ProcessCommandRunnerTest, EmptyArgvIsInvalidArgument) {
  EXPECT_EQ(runner_.run(makeCommand({})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runner_.run(makeCommand({""})).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProcessCommandRunnerTest, BadEnvironmentNameIsInvalidArgument) {
  Command command = makeCommand({"true"});
  command.extra_env["A=B"] = "x";

  EXPECT_EQ(runner_.run(command).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ProcessCommandRunnerTest, ExtraEnvIsAddedToInheritedEnvironment) {
  ASSERT_EQ(::setenv("POSTWARDEN_TEST_INHERITED", "from-agent", 1), 0);
  Command command =
      makeCommand({"sh", "-c", "echo \"$POSTWARDEN_TEST_EXTRA/$POSTWARDEN_TEST_INHERITED\""});
  command.extra_env["POSTWARDEN_TEST_EXTRA"] = "from command";

  Result<CommandResult> result = runner_.run(command);
  ::unsetenv("POSTWARDEN_TEST_INHERITED");

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "from command/from-agent\n");
}

TEST_F(ProcessCommandRunnerTest, ExtraEnvOverridesInheritedVariable) {
  ASSERT_EQ(::setenv("POSTWARDEN_TEST_VAR", "old", 1), 0);
  Command command = makeCommand({"sh", "-c", "echo \"$POSTWARDEN_TEST_VAR\""});
  command.extra_env["POSTWARDEN_TEST_VAR"] = "new";

  Result<CommandResult> result = runner_.run(command);
  ::unsetenv("POSTWARDEN_TEST_VAR");

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "new\n");
}

TEST_F(ProcessCommandRunnerTest, ExtraEnvPathIsUsedToFindTheProgram) {
  const std::string script = dir_.file("postwarden-test-hello");
  std::ofstream(script) << "#!/bin/sh\necho hello\n";
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  Command command = makeCommand({"postwarden-test-hello"});
  command.extra_env["PATH"] = dir_.path() + ":/usr/bin:/bin";

  Result<CommandResult> result = runner_.run(command);

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "hello\n");
}

TEST_F(ProcessCommandRunnerTest, ChildDoesNotInheritOtherDescriptors) {
  // Opened without O_CLOEXEC on purpose, like a careless library would.
  const int fd = ::open(dir_.path().c_str(), O_RDONLY);
  ASSERT_GE(fd, 3);
  const std::string check =
      "test -e /proc/$$/fd/" + std::to_string(fd) + " && echo leaked || echo closed";

  Result<CommandResult> result = runner_.run(makeCommand({"sh", "-c", check}));
  ::close(fd);

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->stdout_data, "closed\n");
}

TEST_F(ProcessCommandRunnerTest, ChildGetsDefaultSignalDispositions) {
  // An agent that ignores SIGPIPE or blocks SIGTERM must not pass that on.
  struct sigaction ignore {};
  struct sigaction old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGTERM, &ignore, &old_action), 0);

  Result<CommandResult> result = runner_.run(makeCommand({"sh", "-c", "kill -TERM $$; exit 0"}));
  ::sigaction(SIGTERM, &old_action, nullptr);

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, -1);  // killed by its own SIGTERM
}

TEST_F(ProcessCommandRunnerTest, TimeoutKillsChildAndReturnsDeadlineExceeded) {
  const std::string pid_file = dir_.file("pid");
  Command command =
      makeCommand({"sh", "-c", "echo $$ > " + pid_file + "; exec sleep 30"}, milliseconds(300));
  const auto start = steady_clock::now();

  Result<CommandResult> result = runner_.run(command);

  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(result.status().message(), HasSubstr(describeCommand(command.argv)));
  const pid_t pid = readPid(pid_file);
  ASSERT_GT(pid, 0);
  // Reaped by the runner: not even a zombie is left.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(ProcessCommandRunnerTest, TimeoutMessageEndsWithLastOutputLines) {
  Result<CommandResult> result = runner_.run(makeCommand(
      {"sh", "-c", "echo first; echo second; echo oops >&2; exec sleep 30"}, milliseconds(300)));

  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(result.status().message(), HasSubstr("last stdout: 'first | second'"));
  EXPECT_THAT(result.status().message(), HasSubstr("last stderr: 'oops'"));
}

TEST_F(ProcessCommandRunnerTest, ChildIgnoringSigtermIsKilledWithItsChildren) {
  ProcessCommandRunnerOptions options;
  options.kill_grace = milliseconds(200);
  ProcessCommandRunner runner(options);
  const std::string pids = dir_.file("pids");
  // sh ignores SIGTERM, and so does the sleep it starts (ignored dispositions survive exec).
  Command command =
      makeCommand({"sh", "-c", "trap '' TERM; sleep 30 & echo $$ $! > " + pids + "; wait; wait"},
                  milliseconds(300));
  const auto start = steady_clock::now();

  Result<CommandResult> result = runner.run(command);

  const auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_GE(elapsed, milliseconds(500));  // timeout + grace: SIGTERM alone did not end it
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  std::ifstream in(pids);
  pid_t shell = 0;
  pid_t sleeper = 0;
  in >> shell >> sleeper;
  ASSERT_GT(shell, 0);
  ASSERT_GT(sleeper, 0);
  EXPECT_EQ(::kill(shell, 0), -1);
  EXPECT_TRUE(processEnds(sleeper, std::chrono::seconds(5)));
}

TEST_F(ProcessCommandRunnerTest, BackgroundProcessHoldingOutputDoesNotCauseTimeout) {
  // Like `postfix start`: the command returns while something it started lives on with
  // our pipes. The result comes after the drain period, not after the timeout.
  ProcessCommandRunnerOptions options;
  options.output_drain = milliseconds(200);
  ProcessCommandRunner runner(options);
  const auto start = steady_clock::now();

  Result<CommandResult> result =
      runner.run(makeCommand({"sh", "-c", "sleep 3 & echo $!; echo started"}));

  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_THAT(result->stdout_data, HasSubstr("started\n"));
  ::kill(static_cast<pid_t>(std::atol(result->stdout_data.c_str())), SIGKILL);
}

TEST_F(ProcessCommandRunnerTest, OutputOverLimitKillsChild) {
  ProcessCommandRunnerOptions options;
  options.max_output_bytes = 64 * 1024;
  ProcessCommandRunner runner(options);
  const auto start = steady_clock::now();

  Result<CommandResult> result = runner.run(makeCommand({"yes"}));

  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(result.status().message(), HasSubstr("stdout"));
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ProcessCommandRunnerTest, ReportsElapsedTime) {
  Result<CommandResult> result = runner_.run(makeCommand({"sleep", "0.2"}));

  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_GE(result->elapsed, milliseconds(190));
  EXPECT_LT(result->elapsed, std::chrono::seconds(5));
}

TEST_F(ProcessCommandRunnerTest, ConcurrentRunsDoNotMixOutput) {
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([this, i, &outputs] {
      Result<CommandResult> result = runner_.run(
          makeCommand({"sh", "-c", "for n in 1 2 3; do echo " + std::to_string(i) + "; done"}));
      outputs[i] = result.ok() ? result->stdout_data : result.status().toString();
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (int i = 0; i < 4; ++i) {
    const std::string line = std::to_string(i) + "\n";
    EXPECT_EQ(outputs[i], line + line + line);
  }
}

}  // namespace
}  // namespace postwarden::os
