// MetricsHttpServer on a real loopback socket: the scrape, the other paths and methods, and
// garbage, oversized and idle connections that must cost nothing but themselves.
#include "controller/metrics/metrics_http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

namespace postwarden::controller::telemetry {
namespace {

// A blocking client: connects, sends `request`, reads until the peer closes or 5 s pass.
std::string talk(int port, const std::string& request, bool half_close = true) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may hang up on garbage before reading it all
    sent += static_cast<size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string response;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return response;
}

std::string get(int port, const std::string& target, const std::string& method = "GET") {
  return talk(port,
              method + " " + target + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<MetricsHttpServer>> started =
        MetricsHttpServer::start("127.0.0.1:0", [this] {
          ++scrapes_;
          return std::string("# HELP up Up.\n# TYPE up gauge\nup 1\n");
        });
    ASSERT_TRUE(started.ok()) << started.status().toString();
    server_ = std::move(started).value();
    ASSERT_GT(server_->port(), 0);
  }

  std::atomic<int> scrapes_{0};
  std::unique_ptr<MetricsHttpServer> server_;
};

TEST_F(MetricsHttpServerTest, ServesMetricsInTheTextFormat) {
  std::string response = get(server_->port(), "/metrics");
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << response;
  EXPECT_TRUE(response.ends_with("\r\n\r\n# HELP up Up.\n# TYPE up gauge\nup 1\n")) << response;
  EXPECT_EQ(scrapes_, 1);
  EXPECT_TRUE(get(server_->port(), "/metrics?name=up").starts_with("HTTP/1.1 200 OK"));
}

TEST_F(MetricsHttpServerTest, OtherPathsAre404AndOtherMethods405) {
  EXPECT_TRUE(get(server_->port(), "/").starts_with("HTTP/1.1 404 Not Found"));
  EXPECT_TRUE(get(server_->port(), "/metricsx").starts_with("HTTP/1.1 404 Not Found"));
  EXPECT_TRUE(get(server_->port(), "/metrics", "POST").starts_with("HTTP/1.1 405"));
  std::string head = get(server_->port(), "/metrics", "HEAD");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 200 OK")) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << "HEAD has no body: " << head;
}

TEST_F(MetricsHttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string two =
      "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n";
  std::string response = talk(server_->port(), two);
  size_t first = response.find("HTTP/1.1 200 OK");
  ASSERT_NE(first, std::string::npos) << response;
  EXPECT_NE(response.find("HTTP/1.1 200 OK", first + 1), std::string::npos) << response;
}

TEST_F(MetricsHttpServerTest, GarbageGets400AndTheServerGoesOn) {
  EXPECT_TRUE(talk(server_->port(), "garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(talk(server_->port(), std::string(100000, '\xff')).starts_with("HTTP/1.1 400"));
  // Headers beyond 8 KiB.
  std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(talk(server_->port(), huge).starts_with("HTTP/1.1 400"));
  // A body where none belongs.
  EXPECT_TRUE(talk(server_->port(), "GET /metrics HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789")
                  .starts_with("HTTP/1.1 400"));
  EXPECT_TRUE(talk(server_->port(), "").empty()) << "a connection closed at once";
  EXPECT_TRUE(get(server_->port(), "/metrics").starts_with("HTTP/1.1 200 OK"));
}

TEST_F(MetricsHttpServerTest, IdleConnectionsDoNotBlockScrapes) {
  // Connections that send nothing hold no one else up (one thread, asynchronous I/O).
  std::vector<int> idle;
  for (int i = 0; i < 5; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server_->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    idle.push_back(fd);
  }
  auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(get(server_->port(), "/metrics").starts_with("HTTP/1.1 200 OK"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  for (int fd : idle) ::close(fd);
}

TEST_F(MetricsHttpServerTest, StopClosesTheListener) {
  const int port = server_->port();
  server_->stop();
  server_->stop();  // idempotent
  EXPECT_EQ(get(port, "/metrics"), "connect failed");
}

TEST(MetricsHttpServerStartTest, RefusesBadAddresses) {
  auto render = [] { return std::string(); };
  EXPECT_EQ(MetricsHttpServer::start("nonsense", render).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsHttpServer::start("127.0.0.1:99999", render).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsHttpServer::start("example.org:9464", render).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MetricsHttpServer::start("[::1]:0", render).status().code() == StatusCode::kInvalidArgument,
      false);
}

TEST(MetricsHttpServerStartTest, RefusesAPortInUse) {
  auto render = [] { return std::string(); };
  Result<std::unique_ptr<MetricsHttpServer>> first =
      MetricsHttpServer::start("127.0.0.1:0", render);
  ASSERT_TRUE(first.ok());
  Result<std::unique_ptr<MetricsHttpServer>> second =
      MetricsHttpServer::start("127.0.0.1:" + std::to_string((*first)->port()), render);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace postwarden::controller::telemetry
