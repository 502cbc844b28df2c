#include "controller/store/internal/sqlite_db.h"

#include <utility>

namespace postwarden::controller::store::internal {

StatusCode sqliteCodeToStatusCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      // Another process holds the write lock past busy_timeout: retrying later may work.
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return StatusCode::kAlreadyExists;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return StatusCode::kFailedPrecondition;
    case SQLITE_IOERR:
      return StatusCode::kUnavailable;
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_ERROR:
    default:
      return StatusCode::kInternal;
  }
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use, bool owned)
    : db_(db), stmt_(stmt), in_use_(in_use), owned_(owned) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      owned_(other.owned_),
      bind_rc_(other.bind_rc_) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  if (in_use_ != nullptr) *in_use_ = false;
}

Statement& Statement::bindInt(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bindText(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Statement& Statement::bindBlob(int index, std::string_view value) {
  // A zero-length blob from a null pointer would bind NULL; "" keeps it a blob.
  const char* data = value.empty() ? "" : value.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, value.size(), SQLITE_TRANSIENT);
  if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) return error(bind_rc_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return error(rc);
}

Status Statement::run() {
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, step());
    if (!row) return OkStatus();
  }
}

int64_t Statement::columnInt(int index) { return sqlite3_column_int64(stmt_, index); }

std::string Statement::columnText(int index) {
  // sqlite3_column_blob works for TEXT too and, unlike column_text, keeps embedded NULs.
  const void* data = sqlite3_column_blob(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

bool Statement::columnIsNull(int index) { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

Status Statement::error(int rc) const {
  const char* sql = sqlite3_sql(stmt_);
  std::string message = std::string(sqlite3_errstr(rc));
  if (sqlite3_errcode(db_) == rc) message = sqlite3_errmsg(db_);
  return Status(sqliteCodeToStatusCode(rc),
                "sqlite: " + message + " in '" + std::string(sql != nullptr ? sql : "") + "'");
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status(sqliteCodeToStatusCode(rc), "opening '" + path + "': sqlite: " + message);
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db));
}

Database::~Database() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

Result<Statement> Database::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    if (!*it->second.in_use) {
      *it->second.in_use = true;
      return Statement(db_, it->second.stmt, it->second.in_use.get(), /*owned=*/false);
    }
    // The cached copy is being stepped by a caller up the stack: use a one-off statement.
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return error(rc, "preparing '" + sql + "'");
    return Statement(db_, stmt, nullptr, /*owned=*/true);
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return error(rc, "preparing '" + sql + "'");
  Cached& cached = cache_[sql];
  cached.stmt = stmt;
  cached.in_use = std::make_unique<bool>(true);
  return Statement(db_, stmt, cached.in_use.get(), /*owned=*/false);
}

Status Database::exec(const std::string& sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return OkStatus();
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return Status(sqliteCodeToStatusCode(rc), "sqlite: " + text);
}

Status Database::error(int rc, std::string_view context) const {
  return Status(sqliteCodeToStatusCode(rc),
                std::string(context) + ": sqlite: " + std::string(sqlite3_errmsg(db_)));
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

bool Database::inTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

Result<std::unique_ptr<Transaction>> Transaction::begin(Database& db) {
  PW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE").withContext("starting a transaction"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  // After some errors (SQLITE_FULL, IOERR during COMMIT) SQLite has already rolled back.
  if (!done_ && db_.inTransaction()) (void)db_.exec("ROLLBACK");
}

Status Transaction::commit() {
  PW_RETURN_IF_ERROR(db_.exec("COMMIT").withContext("committing"));
  done_ = true;
  return OkStatus();
}

}  // namespace postwarden::controller::store::internal
