#include "controller/store/internal/sqlite_schema.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "controller/store/internal/sqlite_rows.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store::internal {
namespace {

// Version 1. Labels and selectors are JSON objects of strings: written by encodeLabels (which
// escapes), read back with SQLite's own JSON parser (json_each). Agents keep the token's labels
// and their own separately, plus the merged map that AgentRecord::labels returns. Sequence
// numbers are uint64 on the wire and INTEGER (int64) here; larger values are refused.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE tokens (
  id TEXT PRIMARY KEY NOT NULL,
  secret_sha256 TEXT NOT NULL,
  labels TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  uses_left INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  bound_agent_id TEXT NOT NULL
) STRICT;

CREATE TABLE agents (
  id TEXT PRIMARY KEY NOT NULL,
  hostname TEXT NOT NULL,
  token_id TEXT NOT NULL,
  token_labels TEXT NOT NULL,
  agent_labels TEXT NOT NULL,
  labels TEXT NOT NULL,
  enrolled_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  reenroll_approved INTEGER NOT NULL DEFAULT 0,
  agent_version TEXT NOT NULL DEFAULT '',
  postfix_version TEXT NOT NULL DEFAULT '',
  baseline_name TEXT NOT NULL DEFAULT '',
  baseline_version TEXT NOT NULL DEFAULT '',
  mode INTEGER NOT NULL DEFAULT 0,
  compliance INTEGER NOT NULL DEFAULT 0,
  last_seq INTEGER NOT NULL DEFAULT 0,
  last_state BLOB NOT NULL DEFAULT x'',
  drifted_parameters INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE reports (
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, seq)
) STRICT;

CREATE TABLE drift (
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  file TEXT NOT NULL,
  service TEXT NOT NULL,
  parameter TEXT NOT NULL,
  expected TEXT NOT NULL,
  actual TEXT NOT NULL,
  expected_absent INTEGER NOT NULL,
  actual_absent INTEGER NOT NULL,
  detected_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, file, service, parameter)
) STRICT, WITHOUT ROWID;

CREATE TABLE history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  summary TEXT NOT NULL
) STRICT;
CREATE INDEX history_by_agent ON history (agent_id, at, id);

CREATE TABLE baselines (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  label TEXT NOT NULL,
  content TEXT NOT NULL,
  pushed_at INTEGER NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;

CREATE TABLE assignments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  baseline_name TEXT NOT NULL,
  baseline_version TEXT NOT NULL,
  selector TEXT NOT NULL,
  mode INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  FOREIGN KEY (baseline_name, baseline_version) REFERENCES baselines (name, version)
) STRICT;
)sql";

// Version 2: sequence numbers count per outbox epoch (ReportWrite::epoch), so reports are
// keyed by (agent, epoch, seq); agents created for the fleet simulator are marked (before,
// the simulator could speak for any agent named sim-*, enrolled or not). SQLite cannot change a
// primary key in place: the reports table is rebuilt.
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE agents ADD COLUMN seq_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
UPDATE agents SET simulated = 1 WHERE token_id = '';
CREATE TABLE reports_v2 (
  agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body BLOB NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, epoch, seq)
) STRICT;
INSERT INTO reports_v2 (agent_id, epoch, seq, kind, body, received_at)
  SELECT agent_id, 0, seq, kind, body, received_at FROM reports ORDER BY rowid;
DROP TABLE reports;
ALTER TABLE reports_v2 RENAME TO reports;
)sql";

// Version 3: rollouts (docs/rollouts.md). Each agent keeps the last report of a job's
// outcome. A pin holds an agent on the version a rollout gave
// it; its baseline cannot be deleted while the pin names it.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE agents ADD COLUMN last_job_state BLOB NOT NULL DEFAULT x'';
CREATE TABLE rollouts (
  id TEXT PRIMARY KEY,
  record BLOB NOT NULL,
  active INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE rollout_pins (
  agent_id TEXT PRIMARY KEY,
  baseline_name TEXT NOT NULL,
  baseline_version TEXT NOT NULL,
  rollout_id TEXT NOT NULL REFERENCES rollouts(id),
  job BLOB NOT NULL,
  FOREIGN KEY (baseline_name, baseline_version) REFERENCES baselines (name, version)
) STRICT;
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  rollout_id TEXT NOT NULL,
  action TEXT NOT NULL,
  host TEXT NOT NULL,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_rollout ON audit (rollout_id, id);
)sql";

// Version 4: an assignment's repair windows (AssignmentRecord::repair_windows, encodeWindows).
constexpr char kSchemaV4[] = R"sql(
ALTER TABLE assignments ADD COLUMN repair_windows TEXT NOT NULL DEFAULT '';
)sql";

// Version 5: a rollout's revision, raised by every save (RolloutStore::saveRollout compares
// it); the rows there are at their first.
constexpr char kSchemaV5[] = R"sql(
ALTER TABLE rollouts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
)sql";

constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL

}  // namespace

Status createOrCheckFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "opening database '" + path + "'");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return ErrnoToStatus(e, "stat of database '" + path + "'");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPreconditionError("database '" + path + "' is not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    return OkStatus();  // new (or never written): SQLite initializes it
  }
  char header[sizeof(kSqliteMagic)] = {};
  ssize_t n = ::pread(fd, header, sizeof(header), 0);
  int e = errno;
  ::close(fd);
  if (n < 0) return ErrnoToStatus(e, "reading database '" + path + "'");
  if (static_cast<size_t>(n) < sizeof(header) ||
      std::memcmp(header, kSqliteMagic, sizeof(header)) != 0) {
    return DataLossError("'" + path + "' is not a SQLite database; refusing to use it");
  }
  return OkStatus();
}

Status initializeReader(Database& db) {
  PW_RETURN_IF_ERROR(db.exec("PRAGMA busy_timeout = 5000"));
  return db.exec("PRAGMA query_only = 1");
}

Status initializeSchema(Database& db) {
  // busy_timeout first: the following statements may meet another process's lock.
  PW_RETURN_IF_ERROR(db.exec("PRAGMA busy_timeout = 5000"));
  PW_ASSIGN_OR_RETURN(int64_t version, queryInt(db, "PRAGMA user_version"));
  if (version > SqliteStore::kSchemaVersion) {
    return FailedPreconditionError("database schema " + std::to_string(version) +
                                   " is newer than this controller");
  }
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("PRAGMA journal_mode = WAL"));
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row || toLower(stmt.columnText(0)) != "wal") {
      return FailedPreconditionError("cannot switch the database to WAL journal mode");
    }
  }
  // FULL: in WAL mode the log is fsynced at every commit, so an acknowledged report survives
  // power loss (NORMAL would only guarantee consistency).
  PW_RETURN_IF_ERROR(db.exec("PRAGMA synchronous = FULL"));
  PW_RETURN_IF_ERROR(db.exec("PRAGMA foreign_keys = ON"));
  if (version == SqliteStore::kSchemaVersion) return OkStatus();

  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  // Re-read under the write lock: another process may have created the schema meanwhile.
  PW_ASSIGN_OR_RETURN(version, queryInt(db, "PRAGMA user_version"));
  if (version == SqliteStore::kSchemaVersion) return OkStatus();
  if (version > SqliteStore::kSchemaVersion) {
    return FailedPreconditionError("database schema " + std::to_string(version) +
                                   " is newer than this controller");
  }
  if (version == 0) {
    PW_ASSIGN_OR_RETURN(int64_t tables, queryInt(db, "SELECT count(*) FROM sqlite_schema"));
    if (tables != 0) {
      return FailedPreconditionError(
          "database holds tables but no Postwarden schema version; refusing to change it");
    }
    PW_RETURN_IF_ERROR(db.exec(kSchemaV1).withContext("creating schema"));
  }
  if (version < 2) {
    PW_RETURN_IF_ERROR(db.exec(kSchemaV2).withContext("upgrading schema to version 2"));
  }
  if (version < 3) {
    PW_RETURN_IF_ERROR(db.exec(kSchemaV3).withContext("upgrading schema to version 3"));
  }
  if (version < 4) {
    PW_RETURN_IF_ERROR(db.exec(kSchemaV4).withContext("upgrading schema to version 4"));
  }
  PW_RETURN_IF_ERROR(db.exec(kSchemaV5).withContext("upgrading schema to version 5"));
  PW_RETURN_IF_ERROR(
      db.exec("PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion)));
  return txn->commit();
}

}  // namespace postwarden::controller::store::internal
