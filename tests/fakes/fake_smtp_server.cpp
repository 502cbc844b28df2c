#include "tests/fakes/fake_smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace postwarden::fakes {
namespace {

// Longest command line the fake buffers before giving up on the client.
constexpr size_t kMaxCommandLine = 64 * 1024;

class SocketStream final : public FakeSmtpServer::Stream {
 public:
  explicit SocketStream(int fd) : fd_(fd) {}
  ssize_t read(char* buffer, size_t size) override {
    for (;;) {
      const ssize_t received = recv(fd_, buffer, size, 0);
      if (received >= 0 || errno != EINTR) return received;
    }
  }
  bool write(std::string_view data) override {
    while (!data.empty()) {
      const ssize_t sent = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      data.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

 private:
  int fd_;
};

// Reads CRLF- or LF-terminated lines from whatever stream is current.
class LineReader {
 public:
  // False at end of stream, on error, or for a line longer than kMaxCommandLine.
  bool readLine(FakeSmtpServer::Stream& stream, std::string* line) {
    for (;;) {
      const size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        *line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        if (!line->empty() && line->back() == '\r') line->pop_back();
        return true;
      }
      if (buffer_.size() > kMaxCommandLine) return false;
      char chunk[4096];
      const ssize_t received = stream.read(chunk, sizeof(chunk));
      if (received <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(received));
    }
  }
  // After STARTTLS, anything buffered was sent in cleartext and must not be honoured.
  void clear() { buffer_.clear(); }

 private:
  std::string buffer_;
};

std::string upperVerb(std::string_view line) {
  std::string verb(line.substr(0, line.find(' ')));
  std::transform(verb.begin(), verb.end(), verb.begin(),
                 [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; });
  return verb;
}

std::string multiline(int code, const std::vector<std::string>& lines) {
  std::string reply;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) reply += "\r\n";
    reply += std::to_string(code) + (i + 1 < lines.size() ? "-" : " ") + lines[i];
  }
  return reply;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

FakeSmtpServer::FakeSmtpServer(Script script) : script_(std::move(script)) {}

Result<std::unique_ptr<FakeSmtpServer>> FakeSmtpServer::start(Script script) {
  std::unique_ptr<FakeSmtpServer> server(new FakeSmtpServer(std::move(script)));
  server->listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server->listen_fd_ < 0) return ErrnoToStatus(errno, "fake smtp: socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(server->listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    return ErrnoToStatus(errno, "fake smtp: bind");
  }
  if (listen(server->listen_fd_, 16) != 0) return ErrnoToStatus(errno, "fake smtp: listen");
  socklen_t length = sizeof(address);
  if (getsockname(server->listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return ErrnoToStatus(errno, "fake smtp: getsockname");
  }
  server->port_ = ntohs(address.sin_port);
  server->thread_ = std::thread([raw = server.get()] { raw->serve(); });
  return server;
}

FakeSmtpServer::~FakeSmtpServer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    // shutdown() wakes a thread blocked in accept() or recv() on these sockets; closing is
    // left to the serving thread so no descriptor is reused under its feet.
    if (listen_fd_ >= 0) shutdown(listen_fd_, SHUT_RDWR);
    if (client_fd_ >= 0) shutdown(client_fd_, SHUT_RDWR);
  }
  stopping_changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
}

std::vector<std::string> FakeSmtpServer::commands() const {
  std::lock_guard lock(mutex_);
  return commands_;
}

std::vector<std::string> FakeSmtpServer::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

int FakeSmtpServer::connectionsAccepted() const {
  std::lock_guard lock(mutex_);
  return connections_;
}

void FakeSmtpServer::record(std::vector<std::string>& into, std::string value) {
  std::lock_guard lock(mutex_);
  into.push_back(std::move(value));
}

bool FakeSmtpServer::pause(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stopping_changed_.wait_for(lock, duration, [this] { return stopping_; });
}

void FakeSmtpServer::drainUntilClosed(int fd) {
  char buffer[4096];
  for (;;) {
    const ssize_t received = recv(fd, buffer, sizeof(buffer), 0);
    if (received > 0 || (received < 0 && errno == EINTR)) continue;
    return;
  }
}

void FakeSmtpServer::serve() {
  for (;;) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down (EINVAL) or broken: either way, stop serving
    }
    {
      std::lock_guard lock(mutex_);
      if (stopping_) {
        close(fd);
        return;
      }
      client_fd_ = fd;
      ++connections_;
    }
    serveConnection(fd);
    {
      std::lock_guard lock(mutex_);
      client_fd_ = -1;
    }
    close(fd);
  }
}

void FakeSmtpServer::serveConnection(int fd) {
  SocketStream plain(fd);
  switch (script_.mode) {
    case Mode::kScripted:
      converse(fd);
      return;
    case Mode::kSilent:
      drainUntilClosed(fd);
      return;
    case Mode::kTrickleBanner: {
      const std::string banner = script_.banner + "\r\n";
      for (char c : banner) {
        if (!plain.write(std::string_view(&c, 1))) return;
        if (!pause(script_.trickle_interval)) return;
      }
      drainUntilClosed(fd);
      return;
    }
    case Mode::kSilentAfterBanner:
      if (plain.write(script_.banner + "\r\n")) drainUntilClosed(fd);
      return;
    case Mode::kCloseImmediately:
      return;
    case Mode::kGarbage:
      if (plain.write(script_.garbage)) drainUntilClosed(fd);
      return;
    case Mode::kOverlongBanner:
      if (plain.write("220 " + std::string(64 * 1024, 'x'))) drainUntilClosed(fd);
      return;
  }
}

void FakeSmtpServer::converse(int fd) {
  std::unique_ptr<Stream> stream = std::make_unique<SocketStream>(fd);
  bool tls = false;
  LineReader reader;
  auto send = [&](const std::string& reply) { return stream->write(reply + "\r\n"); };
  if (!send(script_.banner)) return;

  std::string line;
  while (reader.readLine(*stream, &line)) {
    record(commands_, line);
    const std::string verb = upperVerb(line);
    std::string reply;
    if (auto it = script_.replies.find(verb); it != script_.replies.end()) {
      reply = it->second;
    } else if (verb == "EHLO") {
      reply = multiline(250, tls ? script_.ehlo_lines_after_tls : script_.ehlo_lines);
    } else if (verb == "HELO") {
      reply = "250 fake.example.com";
    } else if (verb == "STARTTLS") {
      reply = tls ? "554 5.5.1 Error: TLS already active" : script_.starttls_reply;
    } else if (verb == "AUTH") {
      reply = tls ? script_.auth_reply_after_tls : script_.auth_reply;
    } else if (verb == "MAIL") {
      reply = "250 2.1.0 Ok";
    } else if (verb == "RCPT") {
      reply = "250 2.1.5 Ok";
    } else if (verb == "DATA") {
      reply = "354 End data with <CR><LF>.<CR><LF>";
    } else if (verb == "RSET" || verb == "NOOP") {
      reply = "250 2.0.0 Ok";
    } else if (verb == "QUIT") {
      reply = "221 2.0.0 Bye";
    } else {
      reply = "502 5.5.2 Error: command not recognized";
    }
    if (!send(reply)) return;

    if (verb == "QUIT") return;
    if (verb == "AUTH" && startsWith(reply, "334")) {
      // One continuation line: "*" cancels (RFC 4954 4), anything else is a bad credential.
      if (!reader.readLine(*stream, &line)) return;
      record(commands_, line);
      if (!send(line == "*" ? "501 5.7.0 Authentication aborted"
                            : "535 5.7.8 Error: authentication failed")) {
        return;
      }
    }
    if (verb == "DATA" && startsWith(reply, "354")) {
      std::string content;
      while (reader.readLine(*stream, &line) && line != ".") {
        content += (startsWith(line, "..") ? line.substr(1) : line) + "\n";
      }
      if (line != ".") return;
      record(messages_, std::move(content));
      if (!send("250 2.0.0 Ok: queued as FAKE0001")) return;
    }
    if (verb == "STARTTLS" && !tls && startsWith(reply, "220") && script_.starttls_upgrade) {
      reader.clear();
      stream = script_.starttls_upgrade(fd);
      if (!stream) return;
      tls = true;
    }
  }
}

}  // namespace postwarden::fakes
