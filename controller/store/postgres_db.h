// The PostgreSQL layer under PostgresStore (postgres_store.h): one libpq connection with its
// prepared statements, a small pool of them, and the transaction runner that retries
// serialization failures. Every statement is parameterised: values travel as parameters,
// never in the SQL text. Text and bytea parameters go in binary form with their lengths, so a
// NUL byte reaches the server (and is refused there as InvalidArgument) instead of silently
// cutting the value short.
//
// Client library: libpq (the C client, Debian's libpq-dev), not libpqxx. What the store needs
// (parameters, SQLSTATE of a failure, prepared statements) is a few libpq calls wrapped here
// in Status/Result, the codebase's error values; libpqxx would add a C++ dependency whose
// exceptions must then be caught and mapped back to those values at every call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

struct pg_conn;
struct pg_result;

namespace postwarden::controller::store::pg {

// The parameters of one statement, $1, $2, ... in the order added.
class Params {
 public:
  Params& text(std::string_view value);
  Params& bytes(std::string_view value);
  Params& integer(int64_t value);
  Params& boolean(bool value);
  // A text[] (sent in binary array form: lengths, no quoting), for `= ANY($n)` and unnest.
  Params& textArray(const std::vector<std::string>& values);
  // bigint[], bytea[] and boolean[] the same way: one parameter for a column of a batch, so a
  // batch is written by one `INSERT ... SELECT FROM unnest($1::text[], $2::bigint[], ...)`.
  Params& integerArray(const std::vector<int64_t>& values);
  Params& bytesArray(const std::vector<std::string>& values);
  Params& booleanArray(const std::vector<bool>& values);

 private:
  friend class Connection;
  // Appends one binary array of `count` elements of type `element_oid`; `append(out, i)`
  // writes element i's length and bytes.
  template <typename AppendElement>
  Params& binaryArray(unsigned int array_oid, unsigned int element_oid, size_t count,
                      AppendElement append);
  std::vector<std::string> values_;
  std::vector<unsigned int> types_;  // Oids
  std::vector<int> formats_;         // 0 text, 1 binary
};

// The rows a statement returned (text format). Owns the libpq result.
class Rows {
 public:
  explicit Rows(pg_result* result);
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;
  bool empty() const { return size() == 0; }
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t affected() const;
  std::string text(int row, int column) const;
  std::string bytes(int row, int column) const;  // a bytea column
  int64_t integer(int row, int column) const;
  bool boolean(int row, int column) const;
  bool isNull(int row, int column) const;

 private:
  pg_result* result_ = nullptr;
};

// One connection. Not thread-safe: the Pool hands it to one caller at a time.
class Connection {
 public:
  // Connects with `conninfo` (a libpq connection string or URI) and sets the session's
  // statement_timeout (and idle-in-transaction timeout) to `statement_timeout_ms`.
  // Unavailable when the server cannot be reached; InvalidArgument for a malformed conninfo.
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo,
                                                  int statement_timeout_ms);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one parameterised statement, prepared once per connection and reused.
  Result<Rows> exec(const std::string& sql, const Params& params = {});
  // Runs constant SQL without parameters (BEGIN, COMMIT, the schema), several statements
  // allowed.
  Status execScript(const std::string& sql);

  // After LISTEN: the payloads of the notifications that arrived, waiting up to `timeout_ms`
  // for the first. Empty on a timeout; Unavailable when the connection is lost.
  Result<std::vector<std::string>> awaitNotifications(int timeout_ms);

  // The SQLSTATE of the last failed statement ("" after a success or a non-server error).
  const std::string& lastSqlState() const { return last_sqlstate_; }
  // True when the connection is lost; the pool replaces it.
  bool broken() const;

 private:
  explicit Connection(pg_conn* conn);
  Status failure(pg_result* result, std::string_view what);

  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::string last_sqlstate_;
};

// A fixed number of connections, made on demand and replaced when broken. acquire() waits
// for a free one.
class Pool {
 public:
  Pool(std::string conninfo, int size, int statement_timeout_ms);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  // A connection for the caller alone until the Lease goes; Unavailable when a new one cannot
  // be made.
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Connection> conn);

  const std::string conninfo_;
  const int size_;
  const int statement_timeout_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
  int open_ = 0;                                   // made and not closed; guarded by mu_
};

struct TransactionOptions {
  // Hellos and heartbeats: commit without waiting for the WAL flush (synchronous_commit off),
  // as SqliteStore's relaxed durability. Reports and every other change wait for it.
  bool relaxed_durability = false;
  // READ COMMITTED instead of SERIALIZABLE, for a body that first locks every row its
  // decisions rest on (SELECT ... FOR UPDATE, in id order) and then writes only rows of what
  // it locked: report batches and heartbeats. Under SERIALIZABLE, two replicas' batches for
  // different agents failed each other through predicate locks on shared index pages and
  // were rerun whole (docs/performance.md, "Controller replicas on PostgreSQL").
  bool read_committed = false;
  // Attempts for a transaction that fails with a serialization failure (40001) or deadlock
  // (40P01) before giving up with Aborted.
  int max_attempts = 10;
};

// Runs `body` in one SERIALIZABLE (or READ COMMITTED, as the options say) transaction on a
// pooled connection and commits when it
// returns OK (rolls back otherwise). A serialization failure or deadlock, in the body or at
// COMMIT, rolls back and runs the whole body again (after a short, growing, jittered pause):
// so `body` must derive everything from what it reads, and may run more than once.
Status runTransaction(Pool& pool, const TransactionOptions& options,
                      const std::function<Status(Connection&)>& body);

}  // namespace postwarden::controller::store::pg
