// Coordination (coordination.h) on PostgreSQL, each on a dedicated connection outside the pool:
// - PostgresLease: a session-level advisory lock (pg_try_advisory_lock). It lives as long as the
//   session: a replica killed with -9 closes its socket and the server frees the lock at once;
//   stillHeld() asks the server over that same connection, so a replica cut off from the
//   server stops leading at its next check.
// - PostgresListener: LISTEN on one channel, reconnecting with a pause after a loss.
// Writers announce with pg_notify in the transaction of their write (postgres_*.cpp), so a
// listener hears of a change only once it is committed, and never of a rolled-back one.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"
#include "controller/store/coordination.h"

namespace postwarden::controller::store {

namespace pg {
class Connection;
}  // namespace pg

// The channel every replica listens on and announces to.
inline constexpr char kChangeChannel[] = "postwarden_changes";

class PostgresLease final : public Lease {
 public:
  PostgresLease(std::string conninfo, int64_t key);
  ~PostgresLease() override;
  Result<bool> tryAcquire() override;
  Result<bool> stillHeld() override;
  void release() override;

 private:
  const std::string conninfo_;
  const int64_t key_;
  std::unique_ptr<pg::Connection> conn_;  // open while held or trying
};

class PostgresListener final : public ChangeListener {
 public:
  PostgresListener(std::string conninfo, std::function<void(const std::string&)> on_change);
  ~PostgresListener() override;  // stops and joins the thread

 private:
  void run();
  Status listenOnce();  // one connection's life

  const std::string conninfo_;
  const std::function<void(const std::string&)> on_change_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace postwarden::controller::store
