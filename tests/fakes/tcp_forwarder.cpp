#include "tests/fakes/tcp_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace postwarden::fakes {
namespace {

int connectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    ::close(fd);
    return -1;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A classic BPF program that accepts nothing: attached to a TCP socket, every segment that
// arrives for it is dropped before TCP processes it (tcp_filter), so nothing is acked.
void dropEverythingArriving(int fd) {
  static sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  sock_fprog program{.len = 1, .filter = drop_all};
  (void)::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

}  // namespace

Result<std::unique_ptr<TcpForwarder>> TcpForwarder::start(const std::string& upstream_unix_path) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    Status error = ErrnoToStatus(errno, "listening on 127.0.0.1");
    ::close(fd);
    return error;
  }
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    Status error = ErrnoToStatus(errno, "pipe2");
    ::close(fd);
    return error;
  }
  std::unique_ptr<TcpForwarder> forwarder(
      new TcpForwarder(fd, ntohs(address.sin_port), upstream_unix_path, wake[0], wake[1]));
  forwarder->thread_ = std::thread([raw = forwarder.get()] { raw->run(); });
  return forwarder;
}

TcpForwarder::TcpForwarder(int listen_fd, int port, std::string upstream, int wake_read,
                           int wake_write)
    : listen_fd_(listen_fd),
      port_(port),
      upstream_(std::move(upstream)),
      wake_read_(wake_read),
      wake_write_(wake_write) {}

TcpForwarder::~TcpForwarder() {
  stopping_ = true;
  (void)!::write(wake_write_, "x", 1);
  if (thread_.joinable()) thread_.join();
  closeAll();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void TcpForwarder::askThreadAndWait(std::atomic<int>& requested, const std::atomic<int>& done) {
  const int wanted = ++requested;
  (void)!::write(wake_write_, "x", 1);
  while (done < wanted && thread_.joinable()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void TcpForwarder::partition() {
  partitioned_ = true;
  askThreadAndWait(cuts_requested_, cuts_done_);
}

void TcpForwarder::blackhole() {
  blackholed_ = true;
  askThreadAndWait(holds_requested_, holds_done_);
}

void TcpForwarder::heal() {
  partitioned_ = false;
  blackholed_ = false;
  (void)!::write(wake_write_, "x", 1);  // the thread closes what it holds
}

void TcpForwarder::closeAll() {
  for (Pair& p : pairs_) {
    ::shutdown(p.client, SHUT_RDWR);  // the client sees the end at once, as after a reset
    ::close(p.client);
    ::close(p.server);
  }
  pairs_.clear();
  closeHeld();
}

void TcpForwarder::holdAll() {
  for (const Pair& p : pairs_) {
    dropEverythingArriving(p.client);
    held_.push_back(p);
  }
  pairs_.clear();
  held_count_ = static_cast<int>(held_.size());
}

void TcpForwarder::closeHeld() {
  for (const Pair& p : held_) {
    ::close(p.client);  // no shutdown: the silence goes on for the client
    if (p.server >= 0) ::close(p.server);
  }
  held_.clear();
  held_count_ = 0;
}

void TcpForwarder::accept() {
  int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  if (blackholed_) {  // its handshake is the kernel's; after it, silence
    dropEverythingArriving(client);
    held_.push_back({client, -1});
    held_count_ = static_cast<int>(held_.size());
    return;
  }
  int server = partitioned_ ? -1 : connectUnix(upstream_);
  if (server < 0) {  // cut off (or the server is down): the client is refused at once
    ::shutdown(client, SHUT_RDWR);
    ::close(client);
    return;
  }
  pairs_.push_back({client, server});
  ++forwarded_;
}

bool TcpForwarder::pump(int from, int to) {
  char buffer[64 * 1024];
  ssize_t n = ::recv(from, buffer, sizeof buffer, 0);
  if (n <= 0) return false;
  for (ssize_t sent = 0; sent < n;) {
    ssize_t w = ::send(to, buffer + sent, static_cast<size_t>(n - sent), MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += w;
  }
  return true;
}

void TcpForwarder::run() {
  while (!stopping_) {
    if (cuts_done_ < cuts_requested_) {
      const int requested = cuts_requested_;
      closeAll();
      cuts_done_ = requested;
    }
    if (holds_done_ < holds_requested_) {
      const int requested = holds_requested_;
      holdAll();
      holds_done_ = requested;
    }
    if (!blackholed_ && !held_.empty()) closeHeld();
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    for (const Pair& p : pairs_) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 200) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) {
      char drain[64];
      while (::read(wake_read_, drain, sizeof drain) > 0) {
      }
    }
    if (fds[0].revents & POLLIN) accept();
    // Pairs added by accept() are polled next turn; the rest in order, dropping finished ones.
    std::vector<Pair> kept;
    for (size_t i = 0; i < (fds.size() - 2) / 2; ++i) {
      Pair p = pairs_[i];
      const short from_client = fds[2 + 2 * i].revents;
      const short from_server = fds[3 + 2 * i].revents;
      bool open = true;
      if (from_client != 0) open = pump(p.client, p.server);
      if (open && from_server != 0) open = pump(p.server, p.client);
      if (open) {
        kept.push_back(p);
      } else {
        ::close(p.client);
        ::close(p.server);
      }
    }
    for (size_t i = (fds.size() - 2) / 2; i < pairs_.size(); ++i) kept.push_back(pairs_[i]);
    pairs_ = std::move(kept);
  }
}

}  // namespace postwarden::fakes
