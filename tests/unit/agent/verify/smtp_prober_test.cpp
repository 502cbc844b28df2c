#include "agent/verify/smtp_prober.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>

#include "common/check.h"
#include "common/openssl_handles.h"
#include "tests/fakes/certificate_generator.h"
#include "tests/fakes/fake_smtp_server.h"

namespace postwarden::agent::verify {
namespace {

using fakes::FakeSmtpServer;
using std::chrono::milliseconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string base64(std::string_view data) {
  std::string encoded(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(data.data()),
                                     static_cast<int>(data.size()));
  encoded.resize(static_cast<size_t>(length));
  return encoded;
}

std::string joinedTranscript(const ProbeResult& result) {
  std::string text;
  for (const std::string& line : result.transcript) text += line + "\n";
  return text;
}

int countStartingWith(const std::vector<std::string>& lines, std::string_view prefix) {
  return static_cast<int>(std::count_if(
      lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

// Server side of TLS for the fake: OpenSSL over the connection's (blocking) socket.
class OpensslServerStream final : public FakeSmtpServer::Stream {
 public:
  explicit OpensslServerStream(SslPtr ssl) : ssl_(std::move(ssl)) {}
  ~OpensslServerStream() override { SSL_shutdown(ssl_.get()); }
  ssize_t read(char* buffer, size_t size) override {
    const int received = SSL_read(ssl_.get(), buffer, static_cast<int>(size));
    return received > 0 ? received
                        : (SSL_get_error(ssl_.get(), received) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
  }
  bool write(std::string_view data) override {
    return SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size())) ==
           static_cast<int>(data.size());
  }

 private:
  SslPtr ssl_;
};

// A TLS server context with a throwaway certificate for `names`.
class TlsServer {
 public:
  explicit TlsServer(std::vector<std::string> names) {
    tls::CertificateRequest request;
    request.common_name = names.empty() ? "fake.example.com" : names.front();
    request.dns_names = std::move(names);
    request.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    request.not_after = std::chrono::system_clock::now() + std::chrono::hours(24 * 90);
    auto generated = tls::generateCertificate(request);
    PW_CHECK(generated.ok());
    BioPtr cert_bio = readOnlyMemoryBio(generated->certificate_pem);
    BioPtr key_bio = readOnlyMemoryBio(generated->private_key_pem);
    X509Ptr certificate(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    context_.reset(SSL_CTX_new(TLS_server_method()));
    PW_CHECK(context_ && certificate && key);
    PW_CHECK(SSL_CTX_use_certificate(context_.get(), certificate.get()) == 1);
    PW_CHECK(SSL_CTX_use_PrivateKey(context_.get(), key.get()) == 1);
  }

  // For Script::starttls_upgrade.
  std::function<std::unique_ptr<FakeSmtpServer::Stream>(int)> upgrade() {
    return [this](int fd) -> std::unique_ptr<FakeSmtpServer::Stream> {
      SslPtr ssl(SSL_new(context_.get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) != 1) return nullptr;
      return std::make_unique<OpensslServerStream>(std::move(ssl));
    };
  }

 private:
  SslCtxPtr context_;
};

class SocketSmtpProberTest : public ::testing::Test {
 protected:
  // The TLS side of the fake writes with SSL_write, which can raise SIGPIPE when the prober
  // has already hung up; the production code never relies on this.
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }

  std::unique_ptr<FakeSmtpServer> startServer(FakeSmtpServer::Script script) {
    auto server = FakeSmtpServer::start(std::move(script));
    PW_CHECK(server.ok());
    return std::move(server).value();
  }

  ProbeTarget targetFor(const FakeSmtpServer& server, milliseconds timeout = milliseconds(5000)) {
    ProbeTarget target;
    target.port = server.port();
    target.timeout = timeout;
    return target;
  }

  SocketSmtpProber prober_;
};

TEST_F(SocketSmtpProberTest, RecordsPlainConversationAndStarttlsRefusedWith454) {
  auto server = startServer({});
  const ProbeResult result = prober_.probe(targetFor(*server));

  EXPECT_EQ(result.failure, "");
  EXPECT_TRUE(result.connected);
  EXPECT_EQ(result.banner_code, 220);
  EXPECT_TRUE(result.starttls_offered);
  EXPECT_TRUE(result.before_tls.starttls);
  EXPECT_THAT(result.before_tls.auth_mechanisms, IsEmpty());
  EXPECT_THAT(result.before_tls.keywords, Contains("PIPELINING"));
  EXPECT_FALSE(result.tls_established);
  EXPECT_EQ(result.tls_error, "454 4.7.0 TLS not available due to local problem");
  EXPECT_EQ(result.plain_auth_before_tls_refused, true);  // 503 authentication not enabled
  EXPECT_FALSE(result.login_succeeded.has_value());
  EXPECT_FALSE(result.message_accepted.has_value());
  EXPECT_EQ(result.transcript.front(), "S: 220 fake.example.com ESMTP Postfix (Debian/GNU)");
  EXPECT_THAT(result.transcript, Contains("C: EHLO postwarden.probe"));
  EXPECT_THAT(result.transcript, Contains("C: AUTH PLAIN <redacted>"));
  EXPECT_THAT(result.transcript, Contains("S: 454 4.7.0 TLS not available due to local problem"));
  EXPECT_EQ(result.transcript.back(), "S: 221 2.0.0 Bye");
  EXPECT_THAT(server->commands(),
              ElementsAre("EHLO postwarden.probe", StartsWith("AUTH PLAIN "), "STARTTLS", "QUIT"));
  // The recorded transcript parses back into exchanges.
  auto exchanges = parseTranscript(joinedTranscript(result));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  EXPECT_EQ(exchanges->size(), 5u);
}

TEST_F(SocketSmtpProberTest, RawAuthAnsweredWith535CountsAsNotRefused) {
  FakeSmtpServer::Script script;
  script.auth_reply = "535 5.7.8 Error: authentication failed: authentication failure";
  script.ehlo_lines.push_back("AUTH PLAIN LOGIN");
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server));
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.plain_auth_before_tls_refused, false);
  EXPECT_THAT(result.before_tls.auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
}

TEST_F(SocketSmtpProberTest, NeverWritesTheAuthPayloadToTheTranscript) {
  auto server = startServer({});
  const ProbeResult result = prober_.probe(targetFor(*server));
  const std::vector<std::string> commands = server->commands();
  ASSERT_GE(commands.size(), 2u);
  const std::string payload = commands[1].substr(std::string("AUTH PLAIN ").size());
  EXPECT_EQ(payload, base64(std::string("\0postwarden-probe\0not-a-password", 32)));
  EXPECT_THAT(joinedTranscript(result), Not(HasSubstr(payload)));
}

TEST_F(SocketSmtpProberTest, CancelsAuthWhenServerAsksForContinuation) {
  FakeSmtpServer::Script script;
  script.auth_reply = "334 ";
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server));
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.plain_auth_before_tls_refused, false);
  EXPECT_THAT(server->commands(), Contains("*"));
}

TEST_F(SocketSmtpProberTest, SkipsRawAuthWhenDisabled) {
  auto server = startServer({});
  ProbeTarget target = targetFor(*server);
  target.try_plain_auth_before_tls = false;
  const ProbeResult result = prober_.probe(target);
  EXPECT_FALSE(result.plain_auth_before_tls_refused.has_value());
  EXPECT_EQ(countStartingWith(server->commands(), "AUTH"), 0);
}

TEST_F(SocketSmtpProberTest, SilentServerEndsWithTimeoutInBoundedTime) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kSilent;
  auto server = startServer(script);
  const milliseconds timeout(300);
  const auto start = std::chrono::steady_clock::now();
  const ProbeResult result = prober_.probe(targetFor(*server, timeout));
  const auto wall = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(result.connected);
  EXPECT_EQ(result.banner_code, 0);
  EXPECT_EQ(result.failure, "timed out after 300 ms waiting for the banner");
  EXPECT_GE(result.elapsed, timeout);
  EXPECT_LT(result.elapsed, 3 * timeout);
  EXPECT_LT(wall, 3 * timeout);
}

TEST_F(SocketSmtpProberTest, TricklingBannerIsBoundedByTheWholeProbeDeadline) {
  // One byte every 50 ms never lets a per-read timeout fire; only an overall deadline ends
  // this. The banner needs about 2.5 s in total.
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kTrickleBanner;
  script.trickle_interval = milliseconds(50);
  auto server = startServer(script);
  const milliseconds timeout(400);
  const ProbeResult result = prober_.probe(targetFor(*server, timeout));
  EXPECT_EQ(result.failure, "timed out after 400 ms waiting for the banner");
  EXPECT_LT(result.elapsed, 3 * timeout);
}

TEST_F(SocketSmtpProberTest, TarPitAtOneBytePerSecondEndsAtTheDeadline) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kTrickleBanner;
  script.trickle_interval = milliseconds(1000);
  auto server = startServer(script);
  const milliseconds timeout(500);
  const ProbeResult result = prober_.probe(targetFor(*server, timeout));
  EXPECT_THAT(result.failure, HasSubstr("timed out after 500 ms waiting for the banner"));
  EXPECT_LT(result.elapsed, 3 * timeout);
}

TEST_F(SocketSmtpProberTest, ServerSilentAfterBannerTimesOutWaitingForEhlo) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kSilentAfterBanner;
  auto server = startServer(script);
  const milliseconds timeout(300);
  const ProbeResult result = prober_.probe(targetFor(*server, timeout));
  EXPECT_EQ(result.banner_code, 220);
  EXPECT_EQ(result.failure, "timed out after 300 ms waiting for the EHLO reply");
  EXPECT_LT(result.elapsed, 3 * timeout);
}

TEST_F(SocketSmtpProberTest, ConnectionRefusedIsNotConnected) {
  // A bound but not listening socket owns the port, so nothing else can take it and the
  // kernel answers SYN with RST.
  const int holder = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);

  ProbeTarget target;
  target.port = ntohs(address.sin_port);
  target.timeout = milliseconds(2000);
  const ProbeResult result = prober_.probe(target);
  close(holder);

  EXPECT_FALSE(result.connected);
  EXPECT_THAT(result.failure, HasSubstr("connecting to 127.0.0.1:"));
  EXPECT_THAT(result.failure, HasSubstr("Connection refused"));
  EXPECT_LT(result.elapsed, target.timeout);
}

TEST_F(SocketSmtpProberTest, ImmediateCloseIsReportedAsClosedConnection) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kCloseImmediately;
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server, milliseconds(2000)));
  EXPECT_TRUE(result.connected);
  EXPECT_EQ(result.banner_code, 0);
  EXPECT_EQ(result.failure,
            "the server closed the connection while we were waiting for the banner");
}

TEST_F(SocketSmtpProberTest, GarbageIsReportedAsMalformedAndEscapedInTranscript) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kGarbage;
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server, milliseconds(2000)));
  EXPECT_TRUE(result.connected);
  EXPECT_THAT(result.failure, StartsWith("the server sent a malformed reply while we were "
                                         "waiting for the banner"));
  ASSERT_FALSE(result.transcript.empty());
  EXPECT_THAT(result.transcript.front(), StartsWith("S: \\x16\\x03\\x01"));
  EXPECT_LT(result.elapsed, milliseconds(2000));
}

TEST_F(SocketSmtpProberTest, OverlongLineEndsTheProbe) {
  FakeSmtpServer::Script script;
  script.mode = FakeSmtpServer::Mode::kOverlongBanner;
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server, milliseconds(2000)));
  EXPECT_THAT(result.failure, HasSubstr("line longer than 4096 bytes"));
  EXPECT_LT(result.elapsed, milliseconds(2000));
}

TEST_F(SocketSmtpProberTest, Non220BannerIsRecordedAndQuit) {
  FakeSmtpServer::Script script;
  script.banner = "554 5.3.2 mail.example.com No SMTP service here";
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server));
  EXPECT_EQ(result.banner_code, 554);
  EXPECT_THAT(result.failure, HasSubstr("554 5.3.2"));
  EXPECT_THAT(server->commands(), ElementsAre("QUIT"));
}

TEST_F(SocketSmtpProberTest, RefusedEhloFailsTheProbeAndQuits) {
  FakeSmtpServer::Script script;
  script.replies["EHLO"] = "502 5.5.2 Error: command not recognized";
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server));
  EXPECT_EQ(result.failure,
            "the server answered EHLO with '502 5.5.2 Error: command not "
            "recognized'");
  EXPECT_THAT(server->commands(), ElementsAre("EHLO postwarden.probe", "QUIT"));
}

TEST_F(SocketSmtpProberTest, StarttlsNotOfferedIsNotAttempted) {
  FakeSmtpServer::Script script;
  script.ehlo_lines = {"fake.example.com", "PIPELINING", "AUTH PLAIN LOGIN"};
  script.auth_reply = "535 5.7.8 Error: authentication failed";
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server));
  EXPECT_EQ(result.failure, "");
  EXPECT_FALSE(result.starttls_offered);
  EXPECT_FALSE(result.tls_established);
  EXPECT_EQ(result.tls_error, "");
  EXPECT_EQ(countStartingWith(server->commands(), "STARTTLS"), 0);
}

TEST_F(SocketSmtpProberTest, NeverSendsCredentialsWithoutTls) {
  auto server = startServer({});  // STARTTLS refused with 454
  ProbeTarget target = targetFor(*server);
  target.login = Credentials{"alice", "s3cret-password"};
  const ProbeResult result = prober_.probe(target);
  EXPECT_FALSE(result.login_succeeded.has_value());
  EXPECT_EQ(countStartingWith(server->commands(), "AUTH"), 1);  // only the dummy attempt
  for (const std::string& command : server->commands()) {
    EXPECT_THAT(command, Not(HasSubstr(base64(std::string("\0alice\0s3cret-password", 22)))));
  }
  EXPECT_THAT(result.transcript, Contains(HasSubstr("not sending the login credentials")));
}

TEST_F(SocketSmtpProberTest, SendsTestMessageWithDotStuffing) {
  auto server = startServer({});
  ProbeTarget target = targetFor(*server);
  target.message = TestMessage{"probe@example.com",
                               {"postmaster@example.com"},
                               "hello",
                               "first line\n.starts with a dot\nlast line"};
  const ProbeResult result = prober_.probe(target);
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.message_accepted, true);
  ASSERT_EQ(server->messages().size(), 1u);
  EXPECT_THAT(server->messages()[0], HasSubstr("Subject: hello\n"));
  EXPECT_THAT(server->messages()[0], HasSubstr("\n.starts with a dot\nlast line\n"));
  EXPECT_THAT(server->commands(), Contains("MAIL FROM:<probe@example.com>"));
  EXPECT_THAT(server->commands(), Contains("RCPT TO:<postmaster@example.com>"));
  EXPECT_THAT(result.transcript, Contains("S: 250 2.0.0 Ok: queued as FAKE0001"));
}

TEST_F(SocketSmtpProberTest, RejectedRecipientMeansMessageNotAccepted) {
  FakeSmtpServer::Script script;
  script.replies["RCPT"] = "554 5.7.1 <a@example.org>: Relay access denied";
  auto server = startServer(script);
  ProbeTarget target = targetFor(*server);
  target.message = TestMessage{"probe@example.com", {"a@example.org"}};
  const ProbeResult result = prober_.probe(target);
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.message_accepted, false);
  EXPECT_THAT(server->commands(), Contains("RSET"));
  EXPECT_THAT(server->commands(), Not(Contains("DATA")));
}

TEST_F(SocketSmtpProberTest, RejectsTargetThatCouldInjectCommands) {
  auto server = startServer({});
  ProbeTarget target = targetFor(*server);
  target.ehlo_name = "evil\r\nMAIL FROM:<x>";
  const ProbeResult result = prober_.probe(target);
  EXPECT_FALSE(result.connected);
  EXPECT_THAT(result.failure, StartsWith("invalid probe target: "));

  target.ehlo_name = "ok.example";
  target.message = TestMessage{"a@example.com>\r\nRCPT TO:<b@example.com", {"c@example.com"}};
  EXPECT_THAT(prober_.probe(target).failure, StartsWith("invalid probe target: "));
  EXPECT_EQ(server->connectionsAccepted(), 0);
}

TEST_F(SocketSmtpProberTest, HandshakeThatNeverHappensTimesOut) {
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  // ...but nothing answers the ClientHello: a tar pit in the middle of the handshake.
  script.starttls_upgrade = [](int fd) -> std::unique_ptr<FakeSmtpServer::Stream> {
    char buffer[4096];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
    return nullptr;
  };
  auto server = startServer(script);
  const milliseconds timeout(400);
  const ProbeResult result = prober_.probe(targetFor(*server, timeout));
  EXPECT_FALSE(result.tls_established);
  EXPECT_EQ(result.failure, "timed out after 400 ms waiting for the TLS handshake");
  EXPECT_EQ(result.tls_error, result.failure);
  EXPECT_LT(result.elapsed, 3 * timeout);
}

TEST_F(SocketSmtpProberTest, EstablishesTlsAndCapturesCertificateAndCapabilities) {
  TlsServer tls_server({"mail.example.com"});
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  script.starttls_upgrade = tls_server.upgrade();
  auto server = startServer(script);
  ProbeTarget target = targetFor(*server);
  target.expected_certificate_name = "mail.example.com";
  const ProbeResult result = prober_.probe(target);

  EXPECT_EQ(result.failure, "");
  EXPECT_TRUE(result.tls_established);
  EXPECT_EQ(result.tls_error, "");
  EXPECT_EQ(result.tls_version, "TLSv1.3");
  EXPECT_FALSE(result.tls_cipher.empty());
  ASSERT_TRUE(result.peer_certificate.has_value());
  EXPECT_THAT(result.peer_certificate->dns_names, ElementsAre("mail.example.com"));
  EXPECT_TRUE(result.peer_certificate->self_signed);
  EXPECT_EQ(result.certificate_name_matches, true);
  EXPECT_FALSE(result.after_tls.starttls);
  EXPECT_THAT(result.after_tls.auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(server->commands(), ElementsAre("EHLO postwarden.probe", StartsWith("AUTH PLAIN "),
                                              "STARTTLS", "EHLO postwarden.probe", "QUIT"));
  EXPECT_THAT(result.transcript, Contains(StartsWith("-- TLS established: TLSv1.3 ")));
}

TEST_F(SocketSmtpProberTest, ReportsCertificateNameMismatch) {
  TlsServer tls_server({"other.example.net"});
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  script.starttls_upgrade = tls_server.upgrade();
  auto server = startServer(script);
  ProbeTarget target = targetFor(*server);
  target.expected_certificate_name = "mail.example.com";
  const ProbeResult result = prober_.probe(target);
  EXPECT_TRUE(result.tls_established);
  EXPECT_EQ(result.certificate_name_matches, false);
}

TEST_F(SocketSmtpProberTest, LogsInAfterTlsWithoutLeakingCredentials) {
  TlsServer tls_server({"mail.example.com"});
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  script.starttls_upgrade = tls_server.upgrade();
  auto server = startServer(script);
  ProbeTarget target = targetFor(*server);
  target.login = Credentials{"alice@example.com", "s3cret-password"};
  target.message = TestMessage{"alice@example.com", {"bob@example.org"}};
  const ProbeResult result = prober_.probe(target);

  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.login_succeeded, true);
  EXPECT_EQ(result.message_accepted, true);
  const std::string payload = base64(std::string("\0alice@example.com\0s3cret-password", 34));
  EXPECT_THAT(server->commands(), Contains("AUTH PLAIN " + payload));
  const std::string transcript = joinedTranscript(result);
  EXPECT_THAT(transcript, Not(HasSubstr(payload)));
  EXPECT_THAT(transcript, Not(HasSubstr("s3cret-password")));
  EXPECT_EQ(countStartingWith(result.transcript, "C: AUTH PLAIN <redacted>"), 2);
}

TEST_F(SocketSmtpProberTest, FailedLoginAfterTlsIsRecorded) {
  TlsServer tls_server({"mail.example.com"});
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  script.starttls_upgrade = tls_server.upgrade();
  script.auth_reply_after_tls = "535 5.7.8 Error: authentication failed: authentication failure";
  auto server = startServer(script);
  ProbeTarget target = targetFor(*server);
  target.login = Credentials{"alice", "wrong"};
  const ProbeResult result = prober_.probe(target);
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.login_succeeded, false);
}

TEST_F(SocketSmtpProberTest, FailedHandshakeIsRecordedAsTlsError) {
  FakeSmtpServer::Script script;
  script.starttls_reply = "220 2.0.0 Ready to start TLS";
  // The "TLS layer" answers the ClientHello with plaintext and hangs up.
  script.starttls_upgrade = [](int fd) -> std::unique_ptr<FakeSmtpServer::Stream> {
    char buffer[1024];
    (void)!recv(fd, buffer, sizeof(buffer), 0);
    const std::string reply = "500 5.5.1 what is this\r\n";
    (void)!send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    return nullptr;
  };
  auto server = startServer(script);
  const ProbeResult result = prober_.probe(targetFor(*server, milliseconds(2000)));
  EXPECT_FALSE(result.tls_established);
  EXPECT_THAT(result.failure, StartsWith("TLS handshake failed: "));
  EXPECT_FALSE(result.tls_error.empty());
  EXPECT_LT(result.elapsed, milliseconds(2000));
}

TEST(PlainAuthRefusedTest, ClassifiesReplyCodes) {
  for (int code : {500, 502, 503, 504, 530, 534, 538, 554}) {
    EXPECT_TRUE(plainAuthRefused(code)) << code;
  }
  for (int code : {235, 334, 421, 454, 535}) EXPECT_FALSE(plainAuthRefused(code)) << code;
}

}  // namespace
}  // namespace postwarden::agent::verify
