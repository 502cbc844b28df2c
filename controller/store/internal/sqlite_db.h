// Thin RAII layer over the SQLite C API for SqliteStore: a Database owning one connection, a
// cache of prepared statements, borrowed Statement handles that reset themselves, and an
// IMMEDIATE Transaction that rolls back unless committed. Errors become Status values with
// the SQLite message as context. Not thread-safe: SqliteStore serializes access with a mutex.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace postwarden::controller::store::internal {

// Maps a SQLite result code (primary or extended) to a canonical Status code.
StatusCode sqliteCodeToStatusCode(int rc);

// A prepared statement borrowed from the Database's cache (or owned, when the cached copy is
// already in use). Bind errors are remembered and reported by the next step(). On destruction
// the statement is reset and its bindings cleared, so it can be reused.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use, bool owned);
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters are 1-based. Text and blobs are copied (SQLITE_TRANSIENT).
  Statement& bindInt(int index, int64_t value);
  Statement& bindText(int index, std::string_view value);
  Statement& bindBlob(int index, std::string_view value);

  // Runs one step: true when a row is available, false when the statement is done.
  Result<bool> step();
  // Steps until done, ignoring rows: for INSERT / UPDATE / DELETE.
  Status run();

  // Columns are 0-based; valid after step() returned true.
  int64_t columnInt(int index);
  std::string columnText(int index);  // also reads blobs; NULL is ""
  bool columnIsNull(int index);

 private:
  Status error(int rc) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache's flag for this statement; null when owned
  bool owned_;
  int bind_rc_ = SQLITE_OK;
};

// One SQLite connection and its statement cache.
class Database {
 public:
  // Opens an existing file read-write (it is never created here). Extended result codes on.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Returns the cached prepared statement for `sql`, preparing it on first use.
  Result<Statement> prepare(const std::string& sql);
  // Runs one or more statements without results (schema, PRAGMA with no output).
  Status exec(const std::string& sql);
  // A Status for result code `rc`, with the connection's message and `context`.
  Status error(int rc, std::string_view context) const;
  // Number of rows changed by the last INSERT / UPDATE / DELETE.
  int64_t changes() const;
  bool inTransaction() const;
  sqlite3* handle() { return db_; }

 private:
  explicit Database(sqlite3* db) : db_(db) {}

  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    std::unique_ptr<bool> in_use;  // stable address for borrowed Statements
  };
  sqlite3* db_;
  std::unordered_map<std::string, Cached> cache_;
};

// BEGIN IMMEDIATE on construction via begin(); ROLLBACK on destruction unless commit()
// succeeded. IMMEDIATE takes the write lock up front, so a transaction never fails half-way
// with SQLITE_BUSY on lock upgrade.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> begin(Database& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Status commit();

 private:
  explicit Transaction(Database& db) : db_(db) {}
  Database& db_;
  bool done_ = false;
};

}  // namespace postwarden::controller::store::internal
