#include "controller/store/postgres_coordination.h"

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/postgres_store.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one module

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.store"); }

// Statements on these connections are tiny; a server that does not answer one in this time is
// as good as gone.
constexpr int kStatementTimeoutMs = 5000;
// How long a listener waits between checks of its stop flag, and after losing its connection.
constexpr int kPollMs = 200;
constexpr auto kReconnectPause = std::chrono::milliseconds(500);

}  // namespace

// ---- lease ---------------------------------------------------------------------------------

PostgresLease::PostgresLease(std::string conninfo, int64_t key)
    : conninfo_(std::move(conninfo)), key_(key) {}

PostgresLease::~PostgresLease() { release(); }

Result<bool> PostgresLease::tryAcquire() {
  if (conn_ == nullptr || conn_->broken()) {
    conn_.reset();
    PW_ASSIGN_OR_RETURN(conn_, Connection::open(conninfo_, kStatementTimeoutMs));
  }
  Result<Rows> rows = conn_->exec("SELECT pg_try_advisory_lock($1)", Params().integer(key_));
  if (!rows.ok()) {
    conn_.reset();
    return rows.status();
  }
  return rows->boolean(0, 0);
}

Result<bool> PostgresLease::stillHeld() {
  if (conn_ == nullptr || conn_->broken()) return false;
  // The lock is the session's: the session answering with the lock in pg_locks is the proof.
  PW_ASSIGN_OR_RETURN(Rows rows, conn_->exec("SELECT count(*) FROM pg_locks WHERE locktype = "
                                             "'advisory' AND granted AND pid = pg_backend_pid() "
                                             "AND ((classid::bigint << 32) | objid::bigint) = $1",
                                             Params().integer(key_)));
  return rows.integer(0, 0) > 0;
}

void PostgresLease::release() {
  // Closing the session frees its locks, once the server has noticed; unlocking first frees
  // them at once, for a quick hand-over on a clean shutdown.
  if (conn_ != nullptr && !conn_->broken())
    (void)conn_->execScript("SELECT pg_advisory_unlock_all()");
  conn_.reset();
}

// ---- listener ------------------------------------------------------------------------------

PostgresListener::PostgresListener(std::string conninfo,
                                   std::function<void(const std::string&)> on_change)
    : conninfo_(std::move(conninfo)), on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { run(); });
}

PostgresListener::~PostgresListener() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PostgresListener::run() {
  while (!stopping_) {
    Status ended = listenOnce();
    if (stopping_) break;
    log()->warn("change listener: {}; reconnecting", ended.message());
    std::this_thread::sleep_for(kReconnectPause);
  }
}

Status PostgresListener::listenOnce() {
  PW_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn,
                      Connection::open(conninfo_, kStatementTimeoutMs));
  PW_RETURN_IF_ERROR(conn->execScript(std::string("LISTEN ") + kChangeChannel));
  on_change_("");  // what was announced while not listening is caught up here
  while (!stopping_) {
    PW_ASSIGN_OR_RETURN(std::vector<std::string> payloads, conn->awaitNotifications(kPollMs));
    for (const std::string& payload : payloads) on_change_(payload);
  }
  return OkStatus();
}

// ---- PostgresStore's Coordination ------------------------------------------------------------

std::unique_ptr<Lease> PostgresStore::lease(int64_t key) {
  return std::make_unique<PostgresLease>(conninfo_, key);
}

std::unique_ptr<ChangeListener> PostgresStore::listen(
    std::function<void(const std::string&)> on_change) {
  return std::make_unique<PostgresListener>(conninfo_, std::move(on_change));
}

Status PostgresStore::announce(const std::string& payload) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  return pg::announce(*db, payload);
}

}  // namespace postwarden::controller::store
