// PostfixSandbox: a throwaway, isolated, REAL Postfix instance for e2e tests, driven through
// script/postfix-sandbox (run by os::ProcessCommandRunner from an argv, never a shell).
// Each sandbox has its own config, queue, data and log directories in a fresh mkdtemp
// directory, listens on a free 127.0.0.1 port, authenticates through its own sasldb and holds
// a throwaway self-signed cert. It never touches the host's /etc/postfix. The destructor always
// stops the instance and deletes its directory, also when the test failed.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/os/process_command_runner.h"
#include "common/status.h"

namespace postwarden::testing {

// The whole file ("" when it cannot be read), and its replacement with `text` and `mode`:
// what every e2e test does to the files it inspects and prepares.
std::string readFileText(const std::string& path);

// Runs a real program from `argv` (never a shell). A run that could not start or timed out is
// a test failure and gives an empty result; `output`, when given, receives stdout + stderr.
os::CommandResult runProgram(const std::vector<std::string>& argv,
                             std::chrono::seconds timeout = std::chrono::seconds(90),
                             const std::map<std::string, std::string>& env = {},
                             std::string* output = nullptr);
void writeFileText(const std::string& path, const std::string& text, mode_t mode = 0644);

// A loopback TCP port that was free a moment ago (bound to 0, then closed); 0 on failure.
int freeLoopbackPort();

// Passes when this host can run sandboxes: root, the Postfix, Cyrus SASL and OpenSSL tools, and
// an executable script/postfix-sandbox. Otherwise fails with a message naming what is missing
// and how to install it. Use as ASSERT_TRUE(requirePostfix()): e2e tests must fail, never
// skip or silently pass, on a host without Postfix.
::testing::AssertionResult requirePostfix();

class PostfixSandbox {
 public:
  // Creates and starts a new sandbox in a fresh directory under $TMPDIR (or /tmp) and waits
  // until it answers with a 220 banner. Retries with a new port when another process took the
  // chosen one between create and start.
  // Errors: FailedPrecondition (host cannot run sandboxes, see requirePostfix()),
  // Internal (create or start failed; the message has the script's stderr and the log tail),
  // DeadlineExceeded (the script hung). Nothing is left behind on error.
  static Result<std::unique_ptr<PostfixSandbox>> start();

  // Stops the instance and deletes its directory. Never fails loudly: problems are reported as
  // a non-fatal gtest failure (ADD_FAILURE) so that a leak is visible.
  ~PostfixSandbox();

  PostfixSandbox(const PostfixSandbox&) = delete;
  PostfixSandbox& operator=(const PostfixSandbox&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }               // the sandbox root
  const std::string& configDir() const { return config_dir_; }  // main.cf, master.cf
  const std::string& queueDir() const { return queue_dir_; }
  const std::string& certFile() const { return cert_file_; }  // self-signed, PEM
  const std::string& keyFile() const { return key_file_; }
  const std::string& logFile() const { return log_file_; }    // maillog_file
  const std::string& saslUser() const { return sasl_user_; }  // "tester@sandbox.postwarden.test"
  const std::string& saslPassword() const { return sasl_password_; }
  const std::string& hostname() const { return hostname_; }  // myhostname
  std::string mainCfPath() const { return config_dir_ + "/main.cf"; }

  // Edits this instance's main.cf: `postconf -c configDir() -e <assignments...>`, each
  // assignment "name=value". Does not reload. Errors: Internal (postconf failed).
  Status postconf(const std::vector<std::string>& assignments);

  // `postfix reload` for this instance (after a test edited main.cf). Returns once the daemons
  // of the old configuration have exited, so every new connection sees the new main.cf.
  // Note: Postfix waits while main.cf's mtime is within the last second or so (it guards
  // against half-written files), so a reload right after postconf() takes about 1-2 s.
  // Errors: Internal (reload failed, or old daemons still busy after 10 s), DeadlineExceeded.
  Status reload();

  // Stops / starts the instance again; the destructor copes with either state.
  // Errors: Internal, DeadlineExceeded.
  Status stop();
  Status restart();

  // Pid of the running master, read from queue/pid/master.pid and checked against /proc.
  // Errors: NotFound (not running).
  Result<pid_t> masterPid() const;

  // Connects to 127.0.0.1:port(), reads the banner, sends "EHLO client.<hostname>" and
  // returns the reply lines ("250-sandbox.postwarden.test", ..., "250 CHUNKING") joined with
  // '\n', CRLF stripped. On a network or protocol error it records a non-fatal gtest failure
  // and returns "", so assertions on the reply then fail with context.
  std::string ehlo();

  // Same as ehlo(), with errors as values. Errors: Unavailable (connect or read failed),
  // DeadlineExceeded (no complete reply within `timeout`), Internal (not an SMTP reply).
  Result<std::string> tryEhlo(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // The maillog as it is now ("" if unreadable).
  std::string readLog() const;

  // Polls the maillog until it contains `needle` or `timeout` passes. Postfix logs through
  // postlogd asynchronously, so a line may appear shortly after the event. On timeout the
  // failure message holds the log. Use as EXPECT_TRUE(sandbox.logEventuallyContains("...")).
  ::testing::AssertionResult logEventuallyContains(
      const std::string& needle,
      std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  explicit PostfixSandbox(std::string dir);
  Status loadEnv();

  std::string dir_;
  int port_ = 0;
  std::string config_dir_;
  std::string queue_dir_;
  std::string cert_file_;
  std::string key_file_;
  std::string log_file_;
  std::string sasl_user_;
  std::string sasl_password_;
  std::string hostname_;
  os::ProcessCommandRunner runner_;
};

// Base fixture for e2e tests: SetUp requires Postfix (failing, not skipping, without it) and
// starts one sandbox per test; TearDown destroys it.
class PostfixSandboxFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  PostfixSandbox& sandbox() { return *sandbox_; }

 private:
  std::unique_ptr<PostfixSandbox> sandbox_;
};

namespace internal {

// Absolute path of `name` found in PATH or the sbin directories, or "" when missing.
std::string findProgram(const std::string& name);

// True while `pid` exists and is not a zombie.
bool processAlive(pid_t pid);

}  // namespace internal
}  // namespace postwarden::testing
