#include "agent/tls/tls_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "common/check.h"
#include "tests/fakes/certificate_generator.h"

namespace postwarden::agent::tls {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A connected socket pair: the client end goes to TlsClientSession, the server end to a
// thread running `serve`. Both ends are closed on destruction, after the thread ends.
class SocketPair {
 public:
  explicit SocketPair(std::function<void(int)> serve) {
    int fds[2];
    PW_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    client_ = fds[0];
    server_ = fds[1];
    thread_ = std::thread([this, serve = std::move(serve)] { serve(server_); });
  }
  ~SocketPair() {
    shutdown(server_, SHUT_RDWR);  // unblocks a server stuck in read
    thread_.join();
    close(client_);
    close(server_);
  }
  int client() const { return client_; }

 private:
  int client_ = -1;
  int server_ = -1;
  std::thread thread_;
};

GeneratedCertificate serverCertificate() {
  CertificateRequest request;
  request.common_name = "mx.example.net";
  request.dns_names = {"mx.example.net"};
  request.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  request.not_after = std::chrono::system_clock::now() + std::chrono::hours(24);
  auto generated = generateCertificate(request);
  PW_CHECK(generated.ok());
  return *generated;
}

// Accepts TLS on `fd` with a fresh self-signed certificate, records the SNI it received,
// answers one line with "echo: <line>" and closes the TLS session.
struct EchoServer {
  std::string sni;
  std::atomic<bool> handshake_done{false};

  void operator()(int fd) {
    const GeneratedCertificate certificate = serverCertificate();
    SslCtxPtr context(SSL_CTX_new(TLS_server_method()));
    BioPtr cert_bio = readOnlyMemoryBio(certificate.certificate_pem);
    BioPtr key_bio = readOnlyMemoryBio(certificate.private_key_pem);
    X509Ptr x509(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
    EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    SSL_CTX_use_certificate(context.get(), x509.get());
    SSL_CTX_use_PrivateKey(context.get(), key.get());
    SslPtr ssl(SSL_new(context.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) != 1) return;
    handshake_done = true;
    if (const char* name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name)) sni = name;
    std::string line;
    char c;
    while (SSL_read(ssl.get(), &c, 1) == 1 && c != '\n') line += c;
    const std::string reply = "echo: " + line + "\n";
    SSL_write(ssl.get(), reply.data(), static_cast<int>(reply.size()));
    SSL_shutdown(ssl.get());
  }
};

class TlsClientSessionTest : public ::testing::Test {
 protected:
  // The echo server may write after the client closed; a test binary must not die of it.
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
};

TEST_F(TlsClientSessionTest, HandshakeCapturesVersionCipherCertificateAndSendsSni) {
  EchoServer server;
  {
    SocketPair pair(std::ref(server));
    auto session = TlsClientSession::handshake(pair.client(), {.server_name = "mx.example.net"},
                                               steady_clock::now() + milliseconds(5000));
    ASSERT_TRUE(session.ok()) << session.status().toString();
    EXPECT_THAT((*session)->version(), StartsWith("TLSv1."));
    EXPECT_FALSE((*session)->cipher().empty());
    ASSERT_TRUE((*session)->peerCertificate().has_value());
    EXPECT_THAT((*session)->peerCertificate()->dns_names, ElementsAre("mx.example.net"));
    EXPECT_TRUE((*session)->peerCertificate()->self_signed);

    const auto deadline = steady_clock::now() + milliseconds(5000);
    ASSERT_TRUE((*session)->writeAll("hello\n", deadline).ok());
    std::string received;
    char buffer[64];
    for (;;) {
      auto read = (*session)->read(buffer, deadline);
      ASSERT_TRUE(read.ok()) << read.status().toString();
      if (*read == 0) break;
      received.append(buffer, *read);
    }
    EXPECT_EQ(received, "echo: hello\n");
    (*session)->closeNotify();
  }
  EXPECT_EQ(server.sni, "mx.example.net");
}

TEST_F(TlsClientSessionTest, DoesNotSendIpLiteralAsSni) {
  EchoServer server;
  {
    SocketPair pair(std::ref(server));
    auto session = TlsClientSession::handshake(pair.client(), {.server_name = "127.0.0.1"},
                                               steady_clock::now() + milliseconds(5000));
    ASSERT_TRUE(session.ok()) << session.status().toString();
    ASSERT_TRUE((*session)->writeAll("x\n", steady_clock::now() + milliseconds(5000)).ok());
  }
  EXPECT_TRUE(server.handshake_done);
  EXPECT_EQ(server.sni, "");
}

TEST_F(TlsClientSessionTest, HandshakeTimesOutWhenPeerNeverAnswers) {
  SocketPair pair([](int fd) {
    char buffer[4096];
    while (read(fd, buffer, sizeof(buffer)) > 0) {
    }
  });
  const milliseconds timeout(200);
  const auto start = steady_clock::now();
  auto session = TlsClientSession::handshake(pair.client(), {}, start + timeout);
  const auto elapsed = steady_clock::now() - start;
  EXPECT_EQ(session.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(elapsed, 3 * timeout);
}

TEST_F(TlsClientSessionTest, HandshakeFailsWhenPeerAnswersInPlaintext) {
  SocketPair pair([](int fd) {
    char buffer[4096];
    if (read(fd, buffer, sizeof(buffer)) <= 0) return;
    const std::string reply = "500 5.5.1 Error: command not recognized\r\n";
    (void)!write(fd, reply.data(), reply.size());
    shutdown(fd, SHUT_WR);
  });
  auto session =
      TlsClientSession::handshake(pair.client(), {}, steady_clock::now() + milliseconds(5000));
  EXPECT_EQ(session.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(session.status().message(), HasSubstr("TLS handshake failed"));
}

TEST_F(TlsClientSessionTest, HandshakeFailsWhenPeerCloses) {
  SocketPair pair([](int fd) { shutdown(fd, SHUT_RDWR); });
  auto session =
      TlsClientSession::handshake(pair.client(), {}, steady_clock::now() + milliseconds(5000));
  EXPECT_EQ(session.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace postwarden::agent::tls
