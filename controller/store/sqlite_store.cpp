#include "controller/store/sqlite_store.h"

#include <memory>
#include <mutex>
#include <utility>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/internal/sqlite_rows.h"
#include "controller/store/internal/sqlite_schema.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

// What is not a table's: opening (the schema is internal/sqlite_schema.cpp) and tokens. The
// other operations are by table: sqlite_agents.cpp (agents, enrollment), sqlite_reports.cpp
// (reports, drift, history), sqlite_baselines.cpp (baselines, assignments).

SqliteStore::SqliteStore(std::unique_ptr<Database> db, std::unique_ptr<Database> reader)
    : db_(std::move(db)), reader_(std::move(reader)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  PW_RETURN_IF_ERROR(createOrCheckFile(path));
  PW_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::open(path));
  PW_RETURN_IF_ERROR(initializeSchema(*db).withContext("opening database '" + path + "'"));
  PW_ASSIGN_OR_RETURN(std::unique_ptr<Database> reader, Database::open(path));
  PW_RETURN_IF_ERROR(initializeReader(*reader).withContext("opening database '" + path + "'"));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db), std::move(reader)));
}

Status SqliteStore::createToken(const TokenRecord& token) {
  if (token.id.empty()) return InvalidArgumentError("token id is empty");
  PW_RETURN_IF_ERROR(checkText(token));
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->prepare(std::string("INSERT INTO tokens (") + kTokenColumns +
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING"));
  stmt.bindText(1, token.id)
      .bindText(2, token.secret_sha256)
      .bindText(3, encodeLabels(token.labels))
      .bindInt(4, token.created_at)
      .bindInt(5, token.expires_at)
      .bindInt(6, token.uses_left)
      .bindInt(7, token.revoked ? 1 : 0)
      .bindText(8, token.bound_agent_id);
  PW_RETURN_IF_ERROR(stmt.run());
  if (db_->changes() == 0) return AlreadyExistsError("token '" + token.id + "' already exists");
  return OkStatus();
}

Result<std::vector<TokenRecord>> SqliteStore::listTokens() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare(std::string("SELECT ") + kTokenColumns +
                                                   " FROM tokens ORDER BY id"));
  std::vector<TokenRecord> tokens;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PW_ASSIGN_OR_RETURN(TokenRecord token, tokenFromRow(*db_, stmt));
    tokens.push_back(std::move(token));
  }
  return tokens;
}

Status SqliteStore::revokeToken(const std::string& id) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare("UPDATE tokens SET revoked = 1 WHERE id = ?1"));
  stmt.bindText(1, id);
  PW_RETURN_IF_ERROR(stmt.run());
  if (db_->changes() == 0) return NotFoundError("token '" + id + "' not found");
  return OkStatus();
}
}  // namespace postwarden::controller::store
