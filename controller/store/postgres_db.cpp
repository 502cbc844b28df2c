#include "controller/store/postgres_db.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <random>
#include <thread>
#include <utility>

namespace postwarden::controller::store::pg {
namespace {

// Type Oids (catalog/pg_type.h, stable across releases).
constexpr unsigned int kBoolOid = 16;
constexpr unsigned int kByteaOid = 17;
constexpr unsigned int kInt8Oid = 20;
constexpr unsigned int kTextOid = 25;
constexpr unsigned int kBoolArrayOid = 1000;
constexpr unsigned int kByteaArrayOid = 1001;
constexpr unsigned int kTextArrayOid = 1009;
constexpr unsigned int kInt8ArrayOid = 1016;

void appendInt32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}

// Appended to every Unavailable: callers (an operator, a log reader) learn that the
// controller is up and what to do, not only that something failed.
constexpr char kRetryHint[] =
    "; the controller's database is unreachable: retry in a few seconds (the controller "
    "reconnects by itself)";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A failed statement's Status: the code from its SQLSTATE class, the server's message. Values
// are never part of it (the SQL text and its parameters are not echoed).
Status statusFor(const std::string& sqlstate, const std::string& message) {
  std::string text = "postgresql: " + message;
  if (!sqlstate.empty()) text += " (SQLSTATE " + sqlstate + ")";
  if (sqlstate == "40001" || sqlstate == "40P01") return AbortedError(text);
  if (sqlstate == "23505") return AlreadyExistsError(text);
  if (sqlstate == "23503") return FailedPreconditionError(text);
  if (startsWith(sqlstate, "22")) return InvalidArgumentError(text);  // data exceptions
  if (sqlstate == "57014") return DeadlineExceededError(text);        // statement timeout
  if (sqlstate.empty() || startsWith(sqlstate, "08") || startsWith(sqlstate, "53") ||
      startsWith(sqlstate, "57P")) {
    // Connection lost, server shutting down, out of resources: worth retrying as such.
    return UnavailableError(text + kRetryHint);
  }
  return InternalError(text);
}

std::string trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// ---- Params --------------------------------------------------------------------------------

Params& Params::text(std::string_view value) {
  values_.emplace_back(value);
  types_.push_back(kTextOid);
  formats_.push_back(1);
  return *this;
}

Params& Params::bytes(std::string_view value) {
  values_.emplace_back(value);
  types_.push_back(kByteaOid);
  formats_.push_back(1);
  return *this;
}

Params& Params::integer(int64_t value) {
  values_.push_back(std::to_string(value));
  types_.push_back(kInt8Oid);
  formats_.push_back(0);
  return *this;
}

Params& Params::boolean(bool value) {
  values_.emplace_back(value ? "t" : "f");
  types_.push_back(kBoolOid);
  formats_.push_back(0);
  return *this;
}

template <typename AppendElement>
Params& Params::binaryArray(unsigned int array_oid, unsigned int element_oid, size_t count,
                            AppendElement append) {
  // array_recv's format: dimensions, has-nulls flag, element type, then per dimension its
  // length and lower bound, then each element as length + bytes (all integers big-endian).
  std::string out;
  appendInt32(out, count == 0 ? 0 : 1);  // an empty array has no dimension
  appendInt32(out, 0);
  appendInt32(out, element_oid);
  if (count != 0) {
    appendInt32(out, static_cast<uint32_t>(count));
    appendInt32(out, 1);
  }
  for (size_t i = 0; i < count; ++i) append(out, i);
  values_.push_back(std::move(out));
  types_.push_back(array_oid);
  formats_.push_back(1);
  return *this;
}

Params& Params::textArray(const std::vector<std::string>& values) {
  return binaryArray(kTextArrayOid, kTextOid, values.size(), [&](std::string& out, size_t i) {
    appendInt32(out, static_cast<uint32_t>(values[i].size()));
    out += values[i];
  });
}

Params& Params::bytesArray(const std::vector<std::string>& values) {
  return binaryArray(kByteaArrayOid, kByteaOid, values.size(), [&](std::string& out, size_t i) {
    appendInt32(out, static_cast<uint32_t>(values[i].size()));
    out += values[i];
  });
}

Params& Params::integerArray(const std::vector<int64_t>& values) {
  return binaryArray(kInt8ArrayOid, kInt8Oid, values.size(), [&](std::string& out, size_t i) {
    appendInt32(out, 8);
    const auto value = static_cast<uint64_t>(values[i]);
    appendInt32(out, static_cast<uint32_t>(value >> 32));
    appendInt32(out, static_cast<uint32_t>(value));
  });
}

Params& Params::booleanArray(const std::vector<bool>& values) {
  return binaryArray(kBoolArrayOid, kBoolOid, values.size(), [&](std::string& out, size_t i) {
    appendInt32(out, 1);
    out.push_back(values[i] ? 1 : 0);
  });
}

// ---- Rows ----------------------------------------------------------------------------------

Rows::Rows(pg_result* result) : result_(result) {}
Rows::Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
Rows& Rows::operator=(Rows&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}
Rows::~Rows() {
  if (result_ != nullptr) PQclear(result_);
}

int Rows::size() const { return result_ != nullptr ? PQntuples(result_) : 0; }

int64_t Rows::affected() const {
  const char* n = result_ != nullptr ? PQcmdTuples(result_) : "";
  return (n == nullptr || *n == '\0') ? 0 : std::stoll(n);
}

std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column),
                     static_cast<size_t>(PQgetlength(result_, row, column)));
}

std::string Rows::bytes(int row, int column) const {
  size_t length = 0;
  unsigned char* raw = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
  if (raw == nullptr) return {};
  std::string out(reinterpret_cast<const char*>(raw), length);
  PQfreemem(raw);
  return out;
}

int64_t Rows::integer(int row, int column) const {
  if (PQgetisnull(result_, row, column)) return 0;
  return std::stoll(PQgetvalue(result_, row, column));
}

bool Rows::boolean(int row, int column) const {
  const char* v = PQgetvalue(result_, row, column);
  return v != nullptr && v[0] == 't';
}

bool Rows::isNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

// ---- Connection ----------------------------------------------------------------------------

Connection::Connection(pg_conn* conn) : conn_(conn) {}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo,
                                                     int statement_timeout_ms) {
  // The caller's conninfo comes last, so what it says wins over these defaults. UTF-8: the
  // store only writes valid UTF-8 (text.h) and reads its text back as such.
  // TCP keepalives (probe after 5 s idle, every 2 s, give up after 3) and tcp_user_timeout
  // (unacknowledged data for 10 s): a server behind a dead network is noticed in seconds, not
  // after the kernel's two hours, by an idle listener and a lease holder as by a pending
  // statement. Ignored on unix sockets.
  const char* keywords[] = {"application_name", "connect_timeout",
                            "client_encoding",  "keepalives",
                            "keepalives_idle",  "keepalives_interval",
                            "keepalives_count", "tcp_user_timeout",
                            "dbname",           nullptr};
  const char* values[] = {"postwarden-controller", "10",   "UTF8", "1", "5", "2", "3", "10000",
                          conninfo.c_str(),        nullptr};
  pg_conn* raw = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (raw == nullptr) return ResourceExhaustedError("postgresql: out of memory for a connection");
  std::unique_ptr<Connection> conn(new Connection(raw));
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(raw));
    if (message.find("invalid connection option") != std::string::npos ||
        message.find("missing \"=\"") != std::string::npos ||
        message.find("invalid URI") != std::string::npos) {
      return InvalidArgumentError("postgresql: " + message);
    }
    return UnavailableError("postgresql: cannot connect: " + message + kRetryHint);
  }
  const std::string timeout = std::to_string(statement_timeout_ms);
  PW_RETURN_IF_ERROR(conn->exec("SELECT set_config('statement_timeout', $1, false), "
                                "set_config('idle_in_transaction_session_timeout', $1, false)",
                                Params().text(timeout))
                         .status());
  return conn;
}

bool Connection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

Status Connection::failure(pg_result* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = primary != nullptr ? std::string(primary) : trimmed(PQerrorMessage(conn_));
  if (result != nullptr) PQclear(result);
  if (broken()) last_sqlstate_.clear();
  return statusFor(last_sqlstate_, message).withContext(what);
}

Result<Rows> Connection::exec(const std::string& sql, const Params& params) {
  last_sqlstate_.clear();
  const int n = static_cast<int>(params.values_.size());
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "pw" + std::to_string(prepared_.size() + 1);
    pg_result* result = PQprepare(conn_, name.c_str(), sql.c_str(), n,
                                  reinterpret_cast<const Oid*>(params.types_.data()));
    if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) {
      return failure(result, "preparing a statement");
    }
    PQclear(result);
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values(n);
  std::vector<int> lengths(n);
  for (int i = 0; i < n; ++i) {
    values[i] = params.values_[i].data();
    lengths[i] = static_cast<int>(params.values_[i].size());
  }
  pg_result* result = PQexecPrepared(conn_, it->second.c_str(), n, values.data(), lengths.data(),
                                     params.formats_.data(), /*resultFormat=*/0);
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return failure(result, "running a statement");
  }
  return Rows(result);
}

Status Connection::execScript(const std::string& sql) {
  last_sqlstate_.clear();
  pg_result* result = PQexec(conn_, sql.c_str());
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return failure(result, "running");
  PQclear(result);
  return OkStatus();
}

Result<std::vector<std::string>> Connection::awaitNotifications(int timeout_ms) {
  std::vector<std::string> payloads;
  auto drain = [&] {
    while (PGnotify* n = PQnotifies(conn_)) {
      payloads.emplace_back(n->extra != nullptr ? n->extra : "");
      PQfreemem(n);
    }
  };
  drain();
  if (!payloads.empty()) return payloads;
  pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
  if (fd.fd < 0) return UnavailableError("postgresql: the listening connection is closed");
  const int ready = ::poll(&fd, 1, timeout_ms);
  if (ready < 0 && errno != EINTR) return UnavailableError("postgresql: poll failed");
  if (ready > 0 && PQconsumeInput(conn_) == 0) {
    return UnavailableError("postgresql: listening connection lost: " +
                            trimmed(PQerrorMessage(conn_)));
  }
  if (broken()) return UnavailableError("postgresql: listening connection lost");
  drain();
  return payloads;
}

// ---- Pool ----------------------------------------------------------------------------------

Pool::Pool(std::string conninfo, int size, int statement_timeout_ms)
    : conninfo_(std::move(conninfo)),
      size_(std::max(1, size)),
      statement_timeout_ms_(statement_timeout_ms) {}

Pool::~Pool() = default;

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->release(std::move(conn_));
}

Result<Pool::Lease> Pool::acquire() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->broken()) return Lease(this, std::move(conn));
      --open_;  // replaced below, outside the lock
    }
    ++open_;
  }
  Result<std::unique_ptr<Connection>> conn = Connection::open(conninfo_, statement_timeout_ms_);
  if (!conn.ok()) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void Pool::release(std::unique_ptr<Connection> conn) {
  std::lock_guard lock(mu_);
  if (conn->broken()) {
    --open_;
  } else {
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

// ---- transactions --------------------------------------------------------------------------

Status runTransaction(Pool& pool, const TransactionOptions& options,
                      const std::function<Status(Connection&)>& body) {
  thread_local std::minstd_rand jitter(std::random_device{}());
  Status last;
  for (int attempt = 1; attempt <= std::max(1, options.max_attempts); ++attempt) {
    if (attempt > 1) {
      // 2, 4, 8 ... ms up to 100, with jitter, so the contenders do not collide again.
      int base = std::min(100, 1 << std::min(attempt - 1, 7));
      std::this_thread::sleep_for(
          std::chrono::microseconds(base * 500 + static_cast<int>(jitter() % (base * 1000))));
    }
    PW_ASSIGN_OR_RETURN(Pool::Lease conn, pool.acquire());
    PW_RETURN_IF_ERROR(conn->execScript(options.read_committed
                                            ? "BEGIN ISOLATION LEVEL READ COMMITTED"
                                            : "BEGIN ISOLATION LEVEL SERIALIZABLE"));
    if (options.relaxed_durability) {
      PW_RETURN_IF_ERROR(conn->execScript("SET LOCAL synchronous_commit = off"));
    }
    Status status = body(*conn);
    if (status.ok()) status = conn->execScript("COMMIT");
    if (status.ok()) return status;
    const std::string sqlstate = conn->lastSqlState();
    if (!conn->broken()) (void)conn->execScript("ROLLBACK");
    if (sqlstate != "40001" && sqlstate != "40P01") return status;
    last = status;
  }
  return AbortedError("gave up after " + std::to_string(options.max_attempts) +
                      " attempts: " + last.message());
}

}  // namespace postwarden::controller::store::pg
