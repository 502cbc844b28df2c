// e2e tests of the PostfixSandbox fixture itself, against a real Postfix: the fresh sandbox is
// the vulnerable "before" state, hardening + reload takes effect, the test credential works
// inside TLS, sandboxes are isolated from each other, and the destructor leaves nothing behind.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/os/process_command_runner.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The settings a hardening baseline applies: STARTTLS offered, AUTH only inside TLS.
const std::vector<std::string> kHardening = {"smtpd_tls_security_level=may",
                                             "smtpd_tls_auth_only=yes"};

std::string base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t chunk = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) chunk |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) chunk |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

// True when something accepts TCP connections on 127.0.0.1:port.
bool portAnswers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return connected;
}

class PostfixSandboxTest : public PostfixSandboxFixture {};

TEST_F(PostfixSandboxTest, FreshSandboxOffersPlainAuthInClearWithoutStartTls) {
  EXPECT_NE(sandbox().port(), 25);
  EXPECT_EQ(sandbox().configDir(), sandbox().dir() + "/etc");
  EXPECT_TRUE(std::filesystem::exists(sandbox().certFile()));
  EXPECT_TRUE(std::filesystem::exists(sandbox().keyFile()));
  EXPECT_EQ(sandbox().saslUser(), "tester@sandbox.postwarden.test");
  EXPECT_FALSE(sandbox().saslPassword().empty());

  std::string reply = sandbox().ehlo();
  EXPECT_THAT(reply, HasSubstr("250-sandbox.postwarden.test"));
  EXPECT_THAT(reply, HasSubstr("AUTH PLAIN LOGIN CRAM-MD5"));
  EXPECT_THAT(reply, Not(HasSubstr("STARTTLS")));
  EXPECT_TRUE(sandbox().logEventuallyContains("ehlo=1 quit=1 commands=2"));
}

TEST_F(PostfixSandboxTest, ReloadAfterHardeningOffersStartTlsAndHidesAuthInClear) {
  ASSERT_TRUE(sandbox().postconf(kHardening).ok());
  Status reloaded = sandbox().reload();
  ASSERT_TRUE(reloaded.ok()) << reloaded.toString();

  // `postfix reload` returns once the master got SIGHUP; smtpd processes that already exist
  // finish their current client first, but a new connection gets the new configuration.
  std::string reply = sandbox().ehlo();
  EXPECT_THAT(reply, HasSubstr("250-STARTTLS"));
  EXPECT_THAT(reply, Not(HasSubstr("AUTH")));
}

TEST_F(PostfixSandboxTest, TestCredentialAuthenticatesInsideTlsWithTheSandboxCert) {
  ASSERT_TRUE(sandbox().postconf(kHardening).ok());
  ASSERT_TRUE(sandbox().reload().ok());

  // AUTH PLAIN's initial response: base64("\0user\0password").
  const std::string credential =
      base64(std::string(1, '\0') + sandbox().saslUser() + '\0' + sandbox().saslPassword());

  // s_client does EHLO + STARTTLS itself and verifies the throwaway cert for the sandbox name;
  // our commands are the first ones inside TLS.
  os::ProcessCommandRunner runner;
  os::Command command;
  command.argv = {internal::findProgram("openssl"),
                  "s_client",
                  "-starttls",
                  "smtp",
                  "-connect",
                  "127.0.0.1:" + std::to_string(sandbox().port()),
                  "-servername",
                  sandbox().hostname(),
                  "-CAfile",
                  sandbox().certFile(),
                  "-verify_hostname",
                  sandbox().hostname(),
                  "-verify_return_error",
                  "-quiet"};
  command.timeout = std::chrono::seconds(20);
  command.stdin_data = "EHLO client.test\r\nAUTH PLAIN " + credential + "\r\nQUIT\r\n";
  Result<os::CommandResult> session = runner.run(command);
  ASSERT_TRUE(session.ok()) << session.status().toString();
  EXPECT_EQ(session->exit_code, 0) << session->stderr_data;
  EXPECT_THAT(session->stdout_data, HasSubstr("250-AUTH PLAIN LOGIN CRAM-MD5"));
  EXPECT_THAT(session->stdout_data, HasSubstr("235 2.7.0 Authentication successful"));
  EXPECT_TRUE(sandbox().logEventuallyContains("starttls=1 auth=1"));
}

TEST(PostfixSandboxLifecycleTest, TwoSandboxesRunSideBySideOnDifferentPorts) {
  ASSERT_TRUE(requirePostfix());
  Result<std::unique_ptr<PostfixSandbox>> first = PostfixSandbox::start();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  Result<std::unique_ptr<PostfixSandbox>> second = PostfixSandbox::start();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  PostfixSandbox& a = **first;
  PostfixSandbox& b = **second;

  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  Result<pid_t> pid_a = a.masterPid();
  Result<pid_t> pid_b = b.masterPid();
  ASSERT_TRUE(pid_a.ok()) << pid_a.status().toString();
  ASSERT_TRUE(pid_b.ok()) << pid_b.status().toString();
  EXPECT_NE(*pid_a, *pid_b);

  // Changing one instance leaves the other alone.
  ASSERT_TRUE(a.postconf(kHardening).ok());
  ASSERT_TRUE(a.reload().ok());
  EXPECT_THAT(a.ehlo(), HasSubstr("250-STARTTLS"));
  EXPECT_THAT(b.ehlo(), AllOf(HasSubstr("AUTH PLAIN LOGIN"), Not(HasSubstr("STARTTLS"))));
}

TEST(PostfixSandboxLifecycleTest, DestructorStopsMasterAndRemovesDirectory) {
  ASSERT_TRUE(requirePostfix());
  Result<std::unique_ptr<PostfixSandbox>> sandbox = PostfixSandbox::start();
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().toString();
  Result<pid_t> pid = (*sandbox)->masterPid();
  ASSERT_TRUE(pid.ok()) << pid.status().toString();
  const std::string dir = (*sandbox)->dir();
  const int port = (*sandbox)->port();
  ASSERT_TRUE(internal::processAlive(*pid));
  ASSERT_TRUE(portAnswers(port));

  sandbox->reset();

  // The script's stop waits for the master to exit, so no polling is needed here.
  EXPECT_FALSE(internal::processAlive(*pid)) << "master pid " << *pid << " survived";
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_FALSE(portAnswers(port)) << "something still listens on " << port;
}

TEST(PostfixSandboxLifecycleTest, StopThenRestartServesAgainAndDestructorCopes) {
  ASSERT_TRUE(requirePostfix());
  Result<std::unique_ptr<PostfixSandbox>> started = PostfixSandbox::start();
  ASSERT_TRUE(started.ok()) << started.status().toString();
  PostfixSandbox& sandbox = **started;

  ASSERT_TRUE(sandbox.stop().ok());
  EXPECT_EQ(sandbox.masterPid().status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(portAnswers(sandbox.port()));

  Status restarted = sandbox.restart();
  ASSERT_TRUE(restarted.ok()) << restarted.toString();
  EXPECT_TRUE(sandbox.masterPid().ok());
  EXPECT_THAT(sandbox.ehlo(), HasSubstr("AUTH PLAIN LOGIN"));

  // A stopped sandbox is destroyed just as well (covered by the destructor's own failure report).
  ASSERT_TRUE(sandbox.stop().ok());
}

}  // namespace
}  // namespace postwarden::testing
