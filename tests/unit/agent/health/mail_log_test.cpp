#include "agent/health/mail_log.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/fakes/scripted_command_runner.h"

namespace postwarden::agent::health {
namespace {

// Lines as Postfix 3.7 logs them (maillog_file or syslog; the prefix does not matter).
constexpr char kFatal[] =
    "Dec  5 02:41:07 mx1 postfix/smtpd[2211]: fatal: open /etc/postfix/sasl.db: No such file\n";
constexpr char kPanic[] = "2026-12-05T02:41:08 mx1 postfix/qmgr[90]: panic: myfree: corrupt\n";
constexpr char kSslAccept[] =
    "Dec  5 02:41:09 mx1 postfix/smtpd[2212]: SSL_accept error from unknown[192.0.2.7]: -1\n";
constexpr char kTlsProblem[] =
    "Dec  5 02:41:09 mx1 postfix/submission/smtpd[2213]: warning: TLS library problem: "
    "error:0A000418:SSL routines::tlsv1 alert unknown ca\n";
constexpr char kLostStarttls[] =
    "Dec  5 02:41:10 mx1 postfix/smtpd[2214]: lost connection after STARTTLS from "
    "unknown[192.0.2.8]\n";
constexpr char kSasl[] =
    "Dec  5 02:41:11 mx1 postfix/submission/smtpd[2215]: warning: unknown[192.0.2.9]: SASL "
    "LOGIN authentication failed: authentication failure\n";
constexpr char kThrottle[] =
    "Dec  5 02:41:12 mx1 postfix/master[1]: warning: process /usr/lib/postfix/sbin/smtpd pid "
    "2216 exit status 1\nDec  5 02:41:12 mx1 postfix/master[1]: warning: "
    "/usr/lib/postfix/sbin/smtpd: bad command startup -- throttling\n";
constexpr char kClientTls[] =
    "Dec  5 02:41:13 mx1 postfix/smtp[2217]: warning: TLS library problem: error:0A000086\n";
constexpr char kQuiet[] =
    "Dec  5 02:41:14 mx1 postfix/smtpd[2218]: connect from localhost[127.0.0.1]\n";

TEST(MailLogTest, CountsEachKindOfLine) {
  const std::string text = std::string(kFatal) + kPanic + kSslAccept + kTlsProblem + kLostStarttls +
                           kSasl + kThrottle + kClientTls + kQuiet;
  EXPECT_EQ(
      countLines(text),
      (LogCounts{.lines = 10, .fatal = 2, .tls = 3, .sasl = 1, .throttled = 1, .connections = 1}));
}

TEST(MailLogTest, CountsInboundConnectionsAndDeliveries) {
  const std::string text =
      std::string(kQuiet) +
      "Dec  5 02:41:15 mx1 postfix/submission/smtpd[2219]: connect from client[192.0.2.10]\n"
      "Dec  5 02:41:15 mx1 postfix/smtpd[2219]: disconnect from client[192.0.2.10] ehlo=1 "
      "quit=1 commands=2\n"
      "Dec  5 02:41:16 mx1 postfix/smtp[2220]: 4C1: to=<a@example.org>, relay=mx.example.org"
      "[198.51.100.2]:25, delay=0.4, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
      "Dec  5 02:41:16 mx1 postfix/local[2221]: 4C2: to=<b@mx1>, relay=local, dsn=2.0.0, "
      "status=sent (delivered to mailbox)\n"
      "Dec  5 02:41:17 mx1 postfix/smtp[2222]: 4C3: to=<c@example.net>, dsn=4.4.1, "
      "status=deferred (connect to mx.example.net: Connection refused)\n"
      // The smtp client's own connections and a postscreen CONNECT are not inbound sessions.
      "Dec  5 02:41:18 mx1 postfix/postscreen[90]: CONNECT from [192.0.2.11]:4711 to "
      "[192.0.2.1]:25\n";
  const LogCounts counts = countLines(text);
  EXPECT_EQ(counts.connections, 2);
  EXPECT_EQ(counts.delivered, 2);
  EXPECT_EQ(counts.lines, 7);
}

TEST(MailLogTest, ALineStillBeingWrittenIsLeftForLater) {
  std::string text = std::string(kQuiet) + kFatal;
  text.pop_back();  // no newline yet
  EXPECT_EQ(countLines(text), (LogCounts{.lines = 1, .connections = 1}));
}

TEST(MailLogTest, RotationStartsFromZero) {
  const LogMark mark{.inode = 7, .offset = 1000};
  EXPECT_EQ(startOffset(mark, 7, 1500), 1000u) << "appended to";
  EXPECT_EQ(startOffset(mark, 7, 1000), 1000u) << "nothing new";
  EXPECT_EQ(startOffset(mark, 7, 400), 0u) << "truncated (copytruncate)";
  EXPECT_EQ(startOffset(mark, 8, 5000), 0u) << "a new file (rename + create)";
  EXPECT_EQ(startOffset({}, 9, 300), 0u) << "no file at the change";
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "pw-maillog-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void append(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

TEST(MailLogTest, CountsOnlyWhatWasAppendedSinceTheMarkAcrossRotations) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string log = dir.path() + "/mail.log";
  append(log, std::string(kFatal) + kFatal);  // before the change: not counted
  PosixLogFiles files;
  Result<LogMark> mark = files.end(log);
  ASSERT_TRUE(mark.ok()) << mark.status().message();
  EXPECT_EQ(mark->offset, 2 * std::string_view(kFatal).size());

  Result<LogCounts> counts = countSince(files, log, *mark);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, LogCounts{});

  append(log, std::string(kSasl) + kQuiet);
  counts = countSince(files, log, *mark);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (LogCounts{.lines = 2, .sasl = 1, .connections = 1}));

  // logrotate's rename + create: a new inode, counted from its start.
  std::filesystem::rename(log, log + ".1");
  append(log, kPanic);
  counts = countSince(files, log, *mark);
  ASSERT_TRUE(counts.ok());
  // What the old file got after the mark is lost: not every line since the change was counted.
  EXPECT_EQ(*counts, (LogCounts{.lines = 1, .fatal = 1, .whole = false}));

  // copytruncate: the same inode, shorter than the mark.
  Result<LogMark> mark2 = files.end(log);
  ASSERT_TRUE(mark2.ok());
  append(log, std::string(kQuiet) + kQuiet + kQuiet + kQuiet);
  Result<LogMark> grown = files.end(log);
  ASSERT_TRUE(grown.ok());
  const LogMark late{.inode = grown->inode, .offset = grown->offset};
  std::filesystem::resize_file(log, 0);
  append(log, kLostStarttls);
  counts = countSince(files, log, late);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (LogCounts{.lines = 1, .tls = 1, .whole = false}));
  EXPECT_EQ(mark2->inode, grown->inode);
}

TEST(MailLogTest, AMissingLogIsAnError) {
  TempDir dir;
  PosixLogFiles files;
  EXPECT_EQ(files.end(dir.path() + "/none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(countSince(files, dir.path() + "/none", {}).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(countSince(files, dir.path(), {}).ok()) << "a directory is not a log";
}

TEST(MailLogTest, ThePathComesFromTheConfigThenPostfixThenTheDefault) {
  fakes::ScriptedCommandRunner commands;
  const std::vector<std::string> argv = {"postconf", "-c", "/etc/pf", "-h", "maillog_file"};
  EXPECT_EQ(mailLogPath(commands, "/etc/pf", std::string("/srv/log/mail"), std::chrono::seconds(5)),
            "/srv/log/mail");
  EXPECT_TRUE(commands.describedCalls().empty()) << "the configured path needs no postconf";
  commands.expect(argv, fakes::ScriptedCommandRunner::exited(0, "/var/log/postfix.log\n"));
  EXPECT_EQ(mailLogPath(commands, "/etc/pf", std::nullopt, std::chrono::seconds(5)),
            "/var/log/postfix.log");
  commands.expect(argv, fakes::ScriptedCommandRunner::exited(0, "\n"));
  EXPECT_EQ(mailLogPath(commands, "/etc/pf", std::nullopt, std::chrono::seconds(5)),
            "/var/log/mail.log");
  commands.expect(argv, fakes::ScriptedCommandRunner::exited(1, "", "postconf: fatal"));
  EXPECT_EQ(mailLogPath(commands, "/etc/pf", std::nullopt, std::chrono::seconds(5)),
            "/var/log/mail.log");
  EXPECT_TRUE(commands.unmetExpectations().empty());
}

}  // namespace
}  // namespace postwarden::agent::health
