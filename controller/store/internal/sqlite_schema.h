// SqliteStore's schema and its migrations (PRAGMA user_version), and the checks made before
// SQLite opens a file: a new file is created 0600, a file that is not a SQLite database is
// refused untouched.
#pragma once

#include <string>

#include "common/status.h"
#include "controller/store/internal/sqlite_db.h"

namespace postwarden::controller::store::internal {

// Creates the file if missing (0600: it holds token hashes and agent state) and refuses a
// non-empty file that does not start with SQLite's magic (DataLoss), before SQLite touches it.
Status createOrCheckFile(const std::string& path);

// Sets the connection's pragmas (busy timeout, WAL, synchronous=FULL, foreign keys) and
// creates or upgrades the schema to SqliteStore::kSchemaVersion in one transaction.
// FailedPrecondition for a newer schema, or tables of something else.
Status initializeSchema(Database& db);

// Makes `db` a second connection for reads on a database initializeSchema prepared: busy
// timeout, and query_only, so that no code path can write through it.
Status initializeReader(Database& db);

}  // namespace postwarden::controller::store::internal
