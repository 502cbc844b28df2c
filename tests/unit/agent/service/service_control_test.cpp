#include "agent/service/service_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "common/check.h"
#include "tests/fakes/in_memory_file_system.h"
#include "tests/fakes/real_env.h"
#include "tests/fakes/scripted_command_runner.h"

namespace postwarden::agent::service {
namespace {

using fakes::realEnvWith;
using fakes::ScriptedCommandRunner;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

os::PosixFileSystem fs;
os::ProcfsProcesses procfs;
os::SystemClock clock;

ServiceOptions quickOptions() {
  ServiceOptions options;
  options.timeout = std::chrono::milliseconds(7000);
  return options;
}

TEST(ServiceControlTest, PostfixStrategyReloadsItsConfigDirectory) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix-out", "reload"}, ScriptedCommandRunner::exited(0));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix-out", quickOptions());

  Status status = service->reload();

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(runner.describedCalls(), ElementsAre("postfix -c /etc/postfix-out reload"));
  ASSERT_EQ(runner.calls().size(), 1u);
  EXPECT_EQ(runner.calls()[0].timeout, std::chrono::milliseconds(7000));
  EXPECT_EQ(service->describe(), "postfix -c /etc/postfix-out");
}

TEST(ServiceControlTest, RunningAsksEachStrategyItsOwnWay) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "status"}, ScriptedCommandRunner::exited(0));
  runner.expect({"postfix", "-c", "/etc/postfix", "status"}, ScriptedCommandRunner::exited(1));
  runner.expect({"systemctl", "is-active", "--quiet", "postfix@-"},
                ScriptedCommandRunner::exited(3));
  auto postfix = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix", quickOptions());
  auto systemd = makeSystemdServiceControl(realEnvWith(runner), "postfix@-", quickOptions());
  auto command =
      makeCommandServiceControl(realEnvWith(runner), {{"reload-it"}, {}}, quickOptions());

  EXPECT_EQ(postfix->running().value(), true);
  EXPECT_EQ(postfix->running().value(), false);
  EXPECT_EQ(systemd->running().value(), false);
  EXPECT_EQ(command->running().status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(runner.unmetExpectations(), IsEmpty());
}

TEST(ServiceControlTest, PostfixStrategyRestartsWithStopThenStart) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "stop"}, ScriptedCommandRunner::exited(0));
  runner.expect({"postfix", "-c", "/etc/postfix", "start"}, ScriptedCommandRunner::exited(0));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");

  Status status = service->restart();

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(runner.describedCalls(),
              ElementsAre("postfix -c /etc/postfix stop", "postfix -c /etc/postfix start"));
}

TEST(ServiceControlTest, PostfixRestartStartsEvenWhenStopFails) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "stop"},
                ScriptedCommandRunner::exited(1, "",
                                              "postfix/postfix-script: fatal: the Postfix "
                                              "mail system is not running\n"));
  runner.expect({"postfix", "-c", "/etc/postfix", "start"}, ScriptedCommandRunner::exited(0));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");

  Status status = service->restart();

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(runner.unmetExpectations(), IsEmpty());
}

TEST(ServiceControlTest, PostfixRestartFailsWhenStartFails) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "stop"}, ScriptedCommandRunner::exited(0));
  runner.expect({"postfix", "-c", "/etc/postfix", "start"},
                ScriptedCommandRunner::exited(1, "", "fatal: bind 0.0.0.0 port 25\n"));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");

  Status status = service->restart();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "postfix -c /etc/postfix start exited with status 1: fatal: bind 0.0.0.0 port 25");
}

TEST(ServiceControlTest, NonZeroReloadIsFailedPreconditionWithTheOutput) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "reload"},
                ScriptedCommandRunner::exited(1, "stdout line\n",
                                              "postfix: fatal: the Postfix mail system is not "
                                              "running\n"));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "postfix -c /etc/postfix reload exited with status 1: postfix: fatal: the Postfix "
            "mail system is not running\nstdout line");
}

TEST(ServiceControlTest, NonZeroExitWithoutOutputNamesOnlyTheStatus) {
  ScriptedCommandRunner runner;
  runner.expect({"systemctl", "reload", "postfix@-"}, ScriptedCommandRunner::exited(3));
  auto service = makeSystemdServiceControl(realEnvWith(runner), "postfix@-");

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "systemctl reload postfix@- exited with status 3");
}

TEST(ServiceControlTest, LongOutputIsCutToItsTail) {
  ScriptedCommandRunner runner;
  const std::string output = std::string(5000, 'x') + "the real reason";
  runner.expect({"postfix", "-c", "/etc/postfix", "reload"},
                ScriptedCommandRunner::exited(1, "", output));
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(": ...x"));
  EXPECT_THAT(status.message(), ::testing::EndsWith("the real reason"));
  EXPECT_LT(status.message().size(), 2100u);
}

TEST(ServiceControlTest, RunnerErrorsPassThroughWithTheirCode) {
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "reload"},
                DeadlineExceededError("postfix reload timed out after 60000 ms"));
  runner.expect({"systemctl", "restart", "postfix@-"}, NotFoundError("systemctl: not found"));
  auto postfix = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix");
  auto systemd = makeSystemdServiceControl(realEnvWith(runner), "postfix@-");

  Status reload = postfix->reload();
  Status restart = systemd->restart();

  EXPECT_EQ(reload.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(reload.message(), "postfix reload timed out after 60000 ms");
  EXPECT_EQ(restart.code(), StatusCode::kNotFound);
}

TEST(ServiceControlTest, SystemdStrategyReloadsAndRestartsTheUnit) {
  ScriptedCommandRunner runner;
  runner.expect({"systemctl", "reload", "postfix@-"}, ScriptedCommandRunner::exited(0));
  runner.expect({"systemctl", "restart", "postfix@-"}, ScriptedCommandRunner::exited(0));
  auto service = makeSystemdServiceControl(realEnvWith(runner), "postfix@-", quickOptions());

  Status reload = service->reload();
  Status restart = service->restart();

  EXPECT_TRUE(reload.ok()) << reload.toString();
  EXPECT_TRUE(restart.ok()) << restart.toString();
  EXPECT_THAT(runner.describedCalls(),
              ElementsAre("systemctl reload postfix@-", "systemctl restart postfix@-"));
  EXPECT_EQ(runner.calls()[1].timeout, std::chrono::milliseconds(7000));
  EXPECT_EQ(service->describe(), "systemd postfix@-");
}

TEST(ServiceControlTest, CommandStrategyRunsTheConfiguredArgv) {
  ScriptedCommandRunner runner;
  CommandStrategy strategy{.reload = {"/usr/local/bin/mta-ctl", "reload", "--quiet"},
                           .restart = {"/usr/local/bin/mta-ctl", "bounce"}};
  runner.expect(strategy.reload, ScriptedCommandRunner::exited(0));
  runner.expect(strategy.restart, ScriptedCommandRunner::exited(0));
  auto service = makeCommandServiceControl(realEnvWith(runner), strategy);

  Status reload = service->reload();
  Status restart = service->restart();

  EXPECT_TRUE(reload.ok()) << reload.toString();
  EXPECT_TRUE(restart.ok()) << restart.toString();
  ASSERT_EQ(runner.calls().size(), 2u);
  EXPECT_EQ(runner.calls()[0].argv, strategy.reload);
  EXPECT_EQ(runner.calls()[1].argv, strategy.restart);
  EXPECT_EQ(service->describe(), "command /usr/local/bin/mta-ctl reload --quiet");
}

TEST(ServiceControlTest, CommandStrategyWithoutRestartIsUnimplemented) {
  ScriptedCommandRunner runner;
  auto service = makeCommandServiceControl(realEnvWith(runner), {.reload = {"mta-ctl", "reload"}});

  Status status = service->restart();

  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(status.message(), "no restart command is configured");
  EXPECT_THAT(runner.calls(), IsEmpty());
}

TEST(ServiceControlTest, CommandStrategyWithoutReloadIsInvalidArgument) {
  ScriptedCommandRunner runner;
  auto service = makeCommandServiceControl(realEnvWith(runner), {});

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(runner.calls(), IsEmpty());
}

TEST(ServiceControlTest, CommandStrategyNonZeroExitIsFailedPrecondition) {
  ScriptedCommandRunner runner;
  runner.expect({"mta-ctl", "reload"}, ScriptedCommandRunner::exited(2, "no such instance\n"));
  auto service = makeCommandServiceControl(realEnvWith(runner), {.reload = {"mta-ctl", "reload"}});

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "mta-ctl reload exited with status 2: no such instance");
}

// --- waiting for the daemons of the previous configuration -------------------------------

// A child process of this test that lives until release() (or destruction): a stand-in for
// an smtpd started by the Postfix master. No sleeping: it blocks reading a pipe.
class BlockedChild {
 public:
  BlockedChild() {
    int fds[2];
    PW_CHECK(pipe(fds) == 0);
    pid_ = fork();
    PW_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      close(fds[1]);
      char byte;
      (void)!read(fds[0], &byte, 1);
      _exit(0);
    }
    close(fds[0]);
    write_fd_ = fds[1];
  }
  ~BlockedChild() {
    release();
    reap();
  }
  pid_t pid() const { return pid_; }
  // Lets the child exit; it stays a zombie until reaped.
  void release() {
    if (write_fd_ >= 0) close(write_fd_);
    write_fd_ = -1;
  }
  void reap() {
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int write_fd_ = -1;
};

// A queue directory whose pid/master.pid names this test process as the Postfix master.
class FakeQueueDirectory {
 public:
  FakeQueueDirectory() {
    char tmpl[] = "/tmp/postwarden-service-test-XXXXXX";
    PW_CHECK(mkdtemp(tmpl) != nullptr);
    path_ = tmpl;
    PW_CHECK(mkdir((path_ + "/pid").c_str(), 0755) == 0);
    std::ofstream(path_ + "/pid/master.pid") << "   " << getpid() << "\n";
  }
  ~FakeQueueDirectory() {
    (void)std::remove((path_ + "/pid/master.pid").c_str());
    (void)rmdir((path_ + "/pid").c_str());
    (void)rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ServiceControlTest, DaemonPidsAreTheMastersChildren) {
  FakeQueueDirectory queue;
  BlockedChild child;

  std::vector<int> pids = postfixDaemonPids(fs, procfs, queue.path());

  EXPECT_THAT(pids, ElementsAre(child.pid()));
}

TEST(ServiceControlTest, NoMasterPidFileMeansNoDaemons) {
  EXPECT_THAT(postfixDaemonPids(fs, procfs, "/nonexistent/postwarden/queue"), IsEmpty());
}

TEST(ServiceControlTest, WaitForExitCountsZombiesAsGone) {
  BlockedChild child;
  child.release();  // exits, and stays a zombie: we do not reap it before waiting

  EXPECT_TRUE(waitForExit(procfs, clock, {child.pid()}, std::chrono::milliseconds(5000)));
  EXPECT_TRUE(waitForExit(procfs, clock, {}, std::chrono::milliseconds(0)));
}

TEST(ServiceControlTest, ReloadWaitsForTheOldDaemonsAndTimesOut) {
  FakeQueueDirectory queue;
  BlockedChild lingering;
  ScriptedCommandRunner runner;
  runner.expect({"postfix", "-c", "/etc/postfix", "reload"}, ScriptedCommandRunner::exited(0));
  ServiceOptions options;
  options.queue_directory = queue.path();
  options.turnover_timeout = std::chrono::milliseconds(50);
  auto service = makePostfixServiceControl(realEnvWith(runner), "/etc/postfix", options);

  Status status = service->reload();

  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(status.message(), "daemons started before the reload are still running after 50 ms");
}

TEST(ServiceControlTest, ReloadReturnsOnceTheOldDaemonsExited) {
  FakeQueueDirectory queue;
  BlockedChild old_daemon;
  ScriptedCommandRunner runner;
  // The reload makes the master retire its old daemons.
  runner.expect({"systemctl", "reload", "postfix@-"}, ScriptedCommandRunner::exited(0),
                [&](const os::Command&) { old_daemon.release(); });
  ServiceOptions options;
  options.queue_directory = queue.path();
  options.turnover_timeout = std::chrono::milliseconds(10000);
  auto service = makeSystemdServiceControl(realEnvWith(runner), "postfix@-", options);

  Status status = service->reload();

  EXPECT_TRUE(status.ok()) << status.toString();
}

// What /proc shows, scripted.
class FakeProcesses final : public os::Processes {
 public:
  std::map<int, os::ProcessStat> table;
  int selfPid() const override { return 1; }
  std::optional<os::ProcessStat> stat(int pid) const override {
    auto it = table.find(pid);
    return it == table.end() ? std::nullopt : std::optional(it->second);
  }
  std::vector<int> childrenOf(int) const override { return {}; }
  Result<std::string> selfExecutable() const override { return std::string("/usr/sbin/x"); }
};

class RunningTest : public ::testing::Test {
 protected:
  RunningTest() { fs.addDirectory("/queue/pid", 0755); }

  std::unique_ptr<ServiceControl> postfix() {
    ServiceOptions options;
    options.queue_directory = "/queue";
    os::Env env = realEnvWith(runner);
    return makePostfixServiceControl(
        {fs, runner, env.clock, env.random, processes, env.locks, env.watchers}, "/etc/postfix",
        options);
  }

  fakes::InMemoryFileSystem fs;
  ScriptedCommandRunner runner;
  FakeProcesses processes;
};

TEST_F(RunningTest, ALiveMasterInThePidFileIsRunningWithoutAskingPostfix) {
  fs.addFile("/queue/pid/master.pid", "      4242\n");
  processes.table[4242] = {.name = "master", .state = 'S', .parent = 1};
  EXPECT_EQ(postfix()->running().value(), true);
  EXPECT_THAT(runner.calls(), IsEmpty());
}

TEST_F(RunningTest, AGoneOrForeignProcessIsNotRunning) {
  fs.addFile("/queue/pid/master.pid", "4242\n");
  EXPECT_EQ(postfix()->running().value(), false) << "no such process";
  processes.table[4242] = {.name = "bash", .state = 'S', .parent = 1};
  EXPECT_EQ(postfix()->running().value(), false) << "the pid was reused";
  processes.table[4242] = {.name = "master", .state = 'Z', .parent = 1};
  EXPECT_EQ(postfix()->running().value(), false) << "a zombie";
  EXPECT_THAT(runner.calls(), IsEmpty());
}

TEST_F(RunningTest, WithoutAPidFilePostfixIsAsked) {
  runner.expect({"postfix", "-c", "/etc/postfix", "status"}, ScriptedCommandRunner::exited(1));
  EXPECT_EQ(postfix()->running().value(), false);
  EXPECT_THAT(runner.unmetExpectations(), IsEmpty());
}

}  // namespace
}  // namespace postwarden::agent::service
