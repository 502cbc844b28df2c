// A stand-in for systemd's notification socket in tests: a unix datagram socket in a temp
// directory that collects what sd_notify(3) sends to NOTIFY_SOCKET. Removed on destruction.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace postwarden::testing {

class NotifySocket {
 public:
  NotifySocket() {
    char dir[] = "/tmp/pw-notify.XXXXXX";
    dir_ = mkdtemp(dir);
    path_ = dir_ + "/notify.sock";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path_.copy(address.sun_path, sizeof address.sun_path - 1);
    bound_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
    std::filesystem::remove_all(dir_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return bound_; }
  const std::string& path() const { return path_; }

  // The next datagram, or "" when none came within `timeout`.
  std::string receive(std::chrono::milliseconds timeout) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return "";
    char buffer[4096];
    const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
  }

  // Reads datagrams until one equals `message` (true) or `timeout` passes (false); every
  // datagram read is appended to `seen`.
  bool waitFor(const std::string& message, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen = nullptr) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      std::string got = receive(std::max(left, std::chrono::milliseconds(1)));
      if (got.empty()) continue;
      if (seen) seen->push_back(got);
      if (got == message) return true;
    }
    return false;
  }

 private:
  std::string dir_;
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

// Sets an environment variable for one scope and puts back what was there.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old, had_ = true;
    setenv(name_.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace postwarden::testing
