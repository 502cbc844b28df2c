// e2e tests of agent/health against a real Postfix sandbox: the postqueue -j reader sees a
// message that really defers (relayed to a loopback port where nothing listens), and the mail-log
// counter counts lines the sandbox really logged after a mark (a SASL authentication failure on the
// wire), found through Postfix's own maillog_file.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "agent/health/mail_log.h"
#include "agent/health/postqueue.h"
#include "common/os/process_command_runner.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

using namespace std::chrono_literals;
using agent::health::countSince;
using agent::health::LogCounts;
using agent::health::LogMark;
using agent::health::PosixLogFiles;
using agent::health::QueueCounts;
using agent::health::readQueues;

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

// A plain SMTP client on one socket, closed by the destructor.
class SmtpSession {
 public:
  explicit SmtpSession(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{.tv_sec = 15, .tv_usec = 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~SmtpSession() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  // The reply's last line ("235 2.7.0 ..."), "" on error.
  std::string reply() {
    while (true) {
      const size_t eol = buffer_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = buffer_.substr(0, eol);
        buffer_.erase(0, eol + 2);
        if (line.size() < 4 || line[3] != '-') return line;
        continue;
      }
      char chunk[1024];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  std::string send(const std::string& line) {
    const std::string wire = line + "\r\n";
    if (::send(fd_, wire.data(), wire.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(wire.size())) {
      return "";
    }
    return reply();
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

class HealthE2eTest : public PostfixSandboxFixture {};

TEST_F(HealthE2eTest, PostqueueReaderSeesAMessageThatReallyDefers) {
  os::ProcessCommandRunner runner;
  Result<QueueCounts> before = readQueues(runner, sandbox().configDir(), 30s);
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_EQ(*before, QueueCounts{}) << "a fresh sandbox has an empty queue";

  // Every remote delivery now defers: it is relayed through a loopback port nobody listens on.
  // (A `retry:` transport would not do: smtpd already refuses such recipients at RCPT with 450.)
  const int closed_port = freeLoopbackPort();
  ASSERT_NE(closed_port, 0);
  ASSERT_TRUE(sandbox()
                  .postconf({"default_transport=smtp",
                             "relayhost=[127.0.0.1]:" + std::to_string(closed_port)})
                  .ok());
  ASSERT_TRUE(sandbox().reload().ok());

  SmtpSession smtp(sandbox().port());
  ASSERT_TRUE(smtp.connected());
  EXPECT_EQ(smtp.reply().substr(0, 3), "220");
  EXPECT_EQ(smtp.send("EHLO client.postwarden.test").substr(0, 3), "250");
  const std::string credentials =
      std::string(1, '\0') + sandbox().saslUser() + std::string(1, '\0') + sandbox().saslPassword();
  ASSERT_EQ(smtp.send("AUTH PLAIN " + base64(credentials)).substr(0, 3), "235");
  EXPECT_EQ(smtp.send("MAIL FROM:<sender@postwarden.test>").substr(0, 3), "250");
  ASSERT_EQ(smtp.send("RCPT TO:<someone@remote.example>").substr(0, 3), "250");
  EXPECT_EQ(smtp.send("DATA").substr(0, 3), "354");
  ASSERT_EQ(smtp.send("Subject: health e2e\r\n\r\nIt will defer.\r\n.").substr(0, 3), "250");
  smtp.send("QUIT");

  Result<QueueCounts> after = before;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    after = readQueues(runner, sandbox().configDir(), 30s);
    ASSERT_TRUE(after.ok()) << after.status().message();
    // Settled: the message left the active queue for the deferred one. (showq walks the
    // queues one after the other, so during the move one listing may show it in both.)
    if (after->deferred > 0 && after->active == 0) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(after->deferred - before->deferred, 1) << sandbox().readLog();
  EXPECT_EQ(after->active, 0);
  EXPECT_TRUE(sandbox().logEventuallyContains("status=deferred (connect to 127.0.0.1[127.0.0.1]:" +
                                              std::to_string(closed_port)));
}

TEST_F(HealthE2eTest, MailLogCounterCountsWhatTheSandboxLoggedAfterTheMark) {
  os::ProcessCommandRunner runner;
  // The sandbox logs through postlogd to its maillog_file: the agent finds it through postconf.
  const std::string path =
      agent::health::mailLogPath(runner, sandbox().configDir(), std::nullopt, 30s);
  EXPECT_EQ(path, sandbox().logFile());
  PosixLogFiles files;
  // Something before the mark that must not count: one failed login.
  auto failLogin = [&] {
    SmtpSession smtp(sandbox().port());
    ASSERT_TRUE(smtp.connected());
    EXPECT_EQ(smtp.reply().substr(0, 3), "220");
    EXPECT_EQ(smtp.send("EHLO client.postwarden.test").substr(0, 3), "250");
    const std::string credentials =
        std::string(1, '\0') + sandbox().saslUser() + std::string(1, '\0') + "not-the-password";
    EXPECT_EQ(smtp.send("AUTH PLAIN " + base64(credentials)).substr(0, 3), "535");
    smtp.send("QUIT");
  };
  failLogin();
  ASSERT_TRUE(sandbox().logEventuallyContains("authentication failed"));
  // postlogd writes asynchronously: wait for the session's end before taking the mark.
  ASSERT_TRUE(sandbox().logEventuallyContains("disconnect from"));
  Result<LogMark> mark = files.end(path);
  ASSERT_TRUE(mark.ok()) << mark.status().message();

  Result<LogCounts> counts = countSince(files, path, *mark);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->sasl, 0) << "the failure before the mark is not counted";

  failLogin();
  failLogin();
  // Both sessions' failures logged (each session logs one "authentication failed").
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    counts = countSince(files, path, *mark);
    ASSERT_TRUE(counts.ok()) << counts.status().message();
    if (counts->sasl >= 2) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(counts->sasl, 2) << sandbox().readLog();
  EXPECT_EQ(counts->fatal, 0) << sandbox().readLog();
  EXPECT_EQ(counts->tls, 0);
  EXPECT_GT(counts->lines, 2);
}

}  // namespace
}  // namespace postwarden::testing
