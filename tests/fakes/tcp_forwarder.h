// TcpForwarder: a network cut between a client and a server, under the test's control. It
// listens on 127.0.0.1 (a free port) and forwards every connection, byte for byte, to a unix
// socket (a test's private PostgreSQL: tests/fakes/postgres_server.h), on one thread with
// poll(2). partition() closes every forwarded connection at once, both sides, and closes each
// new one as soon as it is accepted, until heal(): to the client the server is gone, as after a
// network cut its TCP stack reports. blackhole() is the silent cut instead: every connection,
// open or new, is held (both sockets stay open, no byte moves) and the socket facing the client
// drops whatever arrives before TCP sees it (a socket filter), so the client's TCP stack gets
// no ACK, not even for its keepalive probes: only its own timers (keepalives,
// TCP_USER_TIMEOUT, the application's) can tell. Test-only.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace postwarden::fakes {

class TcpForwarder {
 public:
  static Result<std::unique_ptr<TcpForwarder>> start(const std::string& upstream_unix_path);
  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;
  ~TcpForwarder();  // stops the thread, closes everything

  int port() const { return port_; }
  // Returns once every open connection is closed.
  void partition();
  // Returns once every open connection is held.
  void blackhole();
  // Forwards new connections again; held ones are closed (their clients gave up on them; the
  // server ends their sessions).
  void heal();
  bool partitioned() const { return partitioned_; }
  // Connections held by blackhole() now.
  int held() const { return held_count_; }
  // Connections accepted and forwarded since the start.
  int forwarded() const { return forwarded_; }

 private:
  struct Pair {
    int client = -1;
    int server = -1;
  };
  TcpForwarder(int listen_fd, int port, std::string upstream, int wake_read, int wake_write);
  void run();
  // Bumps `requested`, wakes the thread and waits until it has done as much (`done`).
  void askThreadAndWait(std::atomic<int>& requested, const std::atomic<int>& done);
  void accept();
  // Moves what `from` has to `to`; false when either side is done.
  static bool pump(int from, int to);
  void closeAll();
  void holdAll();
  void closeHeld();

  const int listen_fd_;
  const int port_;
  const std::string upstream_;
  const int wake_read_;
  const int wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> partitioned_{false};
  std::atomic<int> forwarded_{0};
  // partition() waits until the thread has cut what was open when it asked.
  std::atomic<int> cuts_requested_{0};
  std::atomic<int> cuts_done_{0};
  std::atomic<bool> blackholed_{false};
  std::atomic<int> holds_requested_{0};
  std::atomic<int> holds_done_{0};
  std::atomic<int> held_count_{0};
  std::vector<Pair> pairs_;  // the thread's own
  std::vector<Pair> held_;   // blackholed: open, never polled
  std::thread thread_;
};

}  // namespace postwarden::fakes
