#include "controller/store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using internal::Database;
using internal::Statement;
using internal::Transaction;

namespace {

// Hellos and heartbeats are repeated by every agent on every connect and every interval, so
// their commit need not wait for the disk (synchronous=NORMAL in WAL mode: safe against a
// crash of the controller, may lose the last ones on power loss). Durable reports keep FULL.
// Declared before the Transaction: SQLite refuses the pragma inside one.
class RelaxedDurability {
 public:
  explicit RelaxedDurability(Database& db) : db_(db) {
    (void)db_.exec("PRAGMA synchronous = NORMAL");
  }
  ~RelaxedDurability() { (void)db_.exec("PRAGMA synchronous = FULL"); }
  RelaxedDurability(const RelaxedDurability&) = delete;
  RelaxedDurability& operator=(const RelaxedDurability&) = delete;

 private:
  Database& db_;
};

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

constexpr char kSqliteMagic[] = "SQLite format 3";  // 16 bytes with its NUL

// ---- labels as JSON ----------------------------------------------------------------------

void appendJsonString(std::string& out, const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);  // UTF-8 passes through unchanged
    }
  }
  out.push_back('"');
}

std::string encodeLabels(const Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    appendJsonString(out, key);
    out.push_back(':');
    appendJsonString(out, value);
  }
  out.push_back('}');
  return out;
}

Result<Labels> decodeLabels(Database& db, const std::string& json) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("SELECT key, value, type FROM json_each(?1)"));
  stmt.bindText(1, json);
  Labels labels;
  while (true) {
    Result<bool> row = stmt.step();
    if (!row.ok())
      return DataLossError("stored labels are not valid JSON: " + row.status().message());
    if (!*row) break;
    if (stmt.columnText(2) != "text") return DataLossError("stored labels are not strings");
    labels[stmt.columnText(0)] = stmt.columnText(1);
  }
  return labels;
}

// ---- small helpers -------------------------------------------------------------------------

bool isHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Compares two hex digests without an early exit, so response time does not reveal how many
// leading characters of a guessed secret were right. The length is not secret.
bool constantTimeHexEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'F') x = static_cast<unsigned char>(x + ('a' - 'A'));
    if (y >= 'A' && y <= 'F') y = static_cast<unsigned char>(y + ('a' - 'A'));
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Result<int64_t> queryInt(Database& db, const std::string& sql) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return InternalError("'" + sql + "' returned no row");
  return stmt.columnInt(0);
}

// ---- rows ----------------------------------------------------------------------------------

constexpr char kAgentColumns[] =
    "id, hostname, labels, enrolled_at, last_seen, revoked, reenroll_approved, agent_version, "
    "postfix_version, baseline_name, baseline_version, mode, compliance, last_seq, last_state, "
    "drifted_parameters, seq_epoch";

Result<AgentRecord> agentFromRow(Database& db, Statement& stmt) {
  AgentRecord agent;
  agent.id = stmt.columnText(0);
  agent.hostname = stmt.columnText(1);
  PW_ASSIGN_OR_RETURN(agent.labels, decodeLabels(db, stmt.columnText(2)));
  agent.enrolled_at = stmt.columnInt(3);
  agent.last_seen = stmt.columnInt(4);
  agent.revoked = stmt.columnInt(5) != 0;
  agent.reenroll_approved = stmt.columnInt(6) != 0;
  agent.agent_version = stmt.columnText(7);
  agent.postfix_version = stmt.columnText(8);
  agent.baseline_name = stmt.columnText(9);
  agent.baseline_version = stmt.columnText(10);
  agent.mode = static_cast<Mode>(stmt.columnInt(11));
  agent.compliance = static_cast<Compliance>(stmt.columnInt(12));
  agent.last_seq = static_cast<uint64_t>(stmt.columnInt(13));
  agent.last_state = stmt.columnText(14);
  agent.drifted_parameters = static_cast<int>(stmt.columnInt(15));
  agent.seq_epoch = static_cast<uint64_t>(stmt.columnInt(16));
  return agent;
}

Result<std::optional<AgentRecord>> readAgent(Database& db, const std::string& id) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(std::string("SELECT ") + kAgentColumns +
                                                 " FROM agents WHERE id = ?1"));
  stmt.bindText(1, id);
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<AgentRecord>();
  PW_ASSIGN_OR_RETURN(AgentRecord agent, agentFromRow(db, stmt));
  return std::optional<AgentRecord>(std::move(agent));
}

Result<TokenRecord> tokenFromRow(Database& db, Statement& stmt) {
  TokenRecord token;
  token.id = stmt.columnText(0);
  token.secret_sha256 = stmt.columnText(1);
  PW_ASSIGN_OR_RETURN(token.labels, decodeLabels(db, stmt.columnText(2)));
  token.created_at = stmt.columnInt(3);
  token.expires_at = stmt.columnInt(4);
  token.uses_left = static_cast<int>(stmt.columnInt(5));
  token.revoked = stmt.columnInt(6) != 0;
  token.bound_agent_id = stmt.columnText(7);
  return token;
}

constexpr char kTokenColumns[] =
    "id, secret_sha256, labels, created_at, expires_at, uses_left, revoked, bound_agent_id";

constexpr char kDriftColumns[] =
    "agent_id, file, service, parameter, expected, actual, expected_absent, actual_absent, "
    "detected_at";

DriftRow driftFromRow(Statement& stmt) {
  DriftRow row;
  row.agent_id = stmt.columnText(0);
  row.file = stmt.columnText(1);
  row.service = stmt.columnText(2);
  row.parameter = stmt.columnText(3);
  row.expected = stmt.columnText(4);
  row.actual = stmt.columnText(5);
  row.expected_absent = stmt.columnInt(6) != 0;
  row.actual_absent = stmt.columnInt(7) != 0;
  row.detected_at = stmt.columnInt(8);
  return row;
}

Result<std::vector<DriftRow>> readDrift(Database& db, const std::string& sql,
                                        const std::string* agent_id) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  if (agent_id != nullptr) stmt.bindText(1, *agent_id);
  std::vector<DriftRow> rows;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    rows.push_back(driftFromRow(stmt));
  }
  return rows;
}

BaselineRecord baselineFromRow(Statement& stmt) {
  BaselineRecord baseline;
  baseline.name = stmt.columnText(0);
  baseline.version = stmt.columnText(1);
  baseline.label = stmt.columnText(2);
  baseline.content = stmt.columnText(3);
  baseline.pushed_at = stmt.columnInt(4);
  return baseline;
}

// ---- writes used by several operations -----------------------------------------------------

// Inserts one history row and trims the agent's history to the newest kHistoryKeptPerAgent.
Status insertHistory(Database& db, const std::string& agent_id, UnixMs at, const std::string& kind,
                     const std::string& summary) {
  {
    PW_ASSIGN_OR_RETURN(
        Statement insert,
        db.prepare("INSERT INTO history (agent_id, at, kind, summary) VALUES (?1, ?2, ?3, ?4)"));
    insert.bindText(1, agent_id).bindInt(2, at).bindText(3, kind).bindText(4, summary);
    PW_RETURN_IF_ERROR(insert.run());
  }
  PW_ASSIGN_OR_RETURN(Statement trim,
                      db.prepare("DELETE FROM history WHERE agent_id = ?1 AND id NOT IN "
                                 "(SELECT id FROM history WHERE agent_id = ?1 "
                                 "ORDER BY at DESC, id DESC LIMIT ?2)"));
  trim.bindText(1, agent_id).bindInt(2, SqliteStore::kHistoryKeptPerAgent);
  return trim.run();
}

Status upsertDrift(Database& db, const std::string& agent_id, const DriftRow& row) {
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare(std::string("INSERT OR REPLACE INTO drift (") + kDriftColumns +
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  stmt.bindText(1, agent_id)
      .bindText(2, row.file)
      .bindText(3, row.service)
      .bindText(4, row.parameter)
      .bindText(5, row.expected)
      .bindText(6, row.actual)
      .bindInt(7, row.expected_absent ? 1 : 0)
      .bindInt(8, row.actual_absent ? 1 : 0)
      .bindInt(9, row.detected_at);
  return stmt.run();
}

// Runs `sql` with ?1 = agent_id and the extra integer parameters ?2, ?3, ...
Status runForAgent(Database& db, const std::string& sql, const std::string& agent_id,
                   std::initializer_list<int64_t> ints = {}) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  stmt.bindText(1, agent_id);
  int index = 2;
  for (int64_t value : ints) stmt.bindInt(index++, value);
  return stmt.run();
}

// ---- opening -------------------------------------------------------------------------------

// Creates the file if missing (0600: it holds token hashes and agent state) and refuses a
// non-empty file that does not start with SQLite's magic, before SQLite touches it.
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

Status initialize(Database& db) {
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
  PW_RETURN_IF_ERROR(db.exec(kSchemaV2).withContext("upgrading schema to version 2"));
  PW_RETURN_IF_ERROR(
      db.exec("PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion)));
  return txn->commit();
}

}  // namespace

// ---- SqliteStore ---------------------------------------------------------------------------

SqliteStore::SqliteStore(std::unique_ptr<Database> db) : db_(std::move(db)) {}

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  PW_RETURN_IF_ERROR(createOrCheckFile(path));
  PW_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::open(path));
  PW_RETURN_IF_ERROR(initialize(*db).withContext("opening database '" + path + "'"));
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(db)));
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

Result<AgentRecord> SqliteStore::enrollAgent(const EnrollmentRequest& request) {
  if (request.agent_id.empty()) return InvalidArgumentError("agent id is empty");
  PW_RETURN_IF_ERROR(checkText(request));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));

  TokenRecord token;
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(std::string("SELECT ") + kTokenColumns +
                                                   " FROM tokens WHERE id = ?1"));
    stmt.bindText(1, request.token_id);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    // The same answer for an unknown id and a wrong secret: no probing for token ids.
    if (!row) return Status(StatusCode::kUnauthenticated, "invalid bootstrap token");
    PW_ASSIGN_OR_RETURN(token, tokenFromRow(db, stmt));
  }
  if (!constantTimeHexEquals(token.secret_sha256, request.secret_sha256)) {
    return Status(StatusCode::kUnauthenticated, "invalid bootstrap token");
  }
  if (token.revoked) return PermissionDeniedError("token '" + token.id + "' is revoked");
  if (request.now >= token.expires_at) {
    return PermissionDeniedError("token '" + token.id + "' has expired");
  }
  if (token.uses_left <= 0) return PermissionDeniedError("token '" + token.id + "' is used up");
  const bool bound = !token.bound_agent_id.empty();
  if (bound && token.bound_agent_id != request.agent_id) {
    return PermissionDeniedError("token '" + token.id + "' is bound to another identity");
  }

  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> existing, readAgent(db, request.agent_id));
  const std::string token_labels = encodeLabels(token.labels);
  if (existing.has_value()) {
    if (existing->revoked) {
      return AlreadyExistsError("agent '" + request.agent_id +
                                "' is revoked and can never enroll again");
    }
    if (!bound && !existing->reenroll_approved) {
      return AlreadyExistsError("agent '" + request.agent_id +
                                "' is already enrolled and not approved for re-enrollment");
    }
    // last_seq stays: the agent's outbox sequence continues across re-enrollment.
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("UPDATE agents SET hostname = ?2, token_id = ?3, token_labels = ?4, "
                   "agent_labels = '{}', labels = ?4, enrolled_at = ?5, "
                   "last_seen = max(last_seen, ?5), reenroll_approved = 0 WHERE id = ?1"));
    stmt.bindText(1, request.agent_id)
        .bindText(2, request.hostname)
        .bindText(3, token.id)
        .bindText(4, token_labels)
        .bindInt(5, request.now);
    PW_RETURN_IF_ERROR(stmt.run());
  } else {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, "
                   "labels, enrolled_at, last_seen) VALUES (?1, ?2, ?3, ?4, '{}', ?4, ?5, ?5)"));
    stmt.bindText(1, request.agent_id)
        .bindText(2, request.hostname)
        .bindText(3, token.id)
        .bindText(4, token_labels)
        .bindInt(5, request.now);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ?1"));
    stmt.bindText(1, token.id);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  std::string summary = std::string(existing.has_value() ? "re-enrolled" : "enrolled") +
                        " with token '" + token.id + "' as host '" + request.hostname + "'";
  PW_RETURN_IF_ERROR(insertHistory(db, request.agent_id, request.now, "enrolled", summary));
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, request.agent_id));
  if (!agent.has_value()) return InternalError("enrolled agent vanished");
  PW_RETURN_IF_ERROR(txn->commit());
  return std::move(*agent);
}

Result<AgentRecord> SqliteStore::getAgent(const std::string& id) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(*db_, id));
  if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
  return std::move(*agent);
}

Result<std::vector<AgentRecord>> SqliteStore::listAgents() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare(std::string("SELECT ") + kAgentColumns +
                                                   " FROM agents ORDER BY id"));
  std::vector<AgentRecord> agents;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PW_ASSIGN_OR_RETURN(AgentRecord agent, agentFromRow(*db_, stmt));
    agents.push_back(std::move(agent));
  }
  return agents;
}

Result<std::vector<std::string>> SqliteStore::revokedAgents() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare("SELECT id FROM agents WHERE revoked = 1 ORDER BY id"));
  std::vector<std::string> ids;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    ids.push_back(stmt.columnText(0));
  }
  return ids;
}

Status SqliteStore::revokeAgent(const std::string& id, UnixMs now) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, id));
  if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
  if (agent->revoked) return OkStatus();
  PW_RETURN_IF_ERROR(
      runForAgent(db, "UPDATE agents SET revoked = 1, reenroll_approved = 0 WHERE id = ?1", id));
  PW_RETURN_IF_ERROR(insertHistory(db, id, now, "revoked", "identity revoked"));
  return txn->commit();
}

Status SqliteStore::approveReenrollment(const std::string& id, UnixMs now) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, id));
  if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
  if (agent->revoked) {
    return FailedPreconditionError("agent '" + id + "' is revoked and can never enroll again");
  }
  PW_RETURN_IF_ERROR(runForAgent(db, "UPDATE agents SET reenroll_approved = 1 WHERE id = ?1", id));
  PW_RETURN_IF_ERROR(insertHistory(db, id, now, "reenroll_approved", "one re-enrollment approved"));
  return txn->commit();
}

Status SqliteStore::recordHello(const std::string& id, const std::string& hostname,
                                const std::string& agent_version,
                                const std::string& postfix_version, const Labels& agent_labels,
                                UnixMs now) {
  PW_RETURN_IF_ERROR(checkUtf8("host name", hostname));
  PW_RETURN_IF_ERROR(checkUtf8("agent version", agent_version));
  PW_RETURN_IF_ERROR(checkUtf8("Postfix version", postfix_version));
  PW_RETURN_IF_ERROR(checkText(agent_labels, "agent label"));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  RelaxedDurability relaxed(db);
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  Labels merged = agent_labels;
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT token_labels FROM agents WHERE id = ?1"));
    stmt.bindText(1, id);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return NotFoundError("agent '" + id + "' not found");
    PW_ASSIGN_OR_RETURN(Labels token_labels, decodeLabels(db, stmt.columnText(0)));
    // The token's labels win: an agent cannot move itself into another group.
    for (auto& [key, value] : token_labels) merged[key] = std::move(value);
  }
  PW_ASSIGN_OR_RETURN(
      Statement stmt,
      db.prepare("UPDATE agents SET hostname = ?2, agent_version = ?3, postfix_version = ?4, "
                 "agent_labels = ?5, labels = ?6, last_seen = max(last_seen, ?7) WHERE id = ?1"));
  stmt.bindText(1, id)
      .bindText(2, hostname)
      .bindText(3, agent_version)
      .bindText(4, postfix_version)
      .bindText(5, encodeLabels(agent_labels))
      .bindText(6, encodeLabels(merged))
      .bindInt(7, now);
  PW_RETURN_IF_ERROR(stmt.run());
  return txn->commit();
}

Status SqliteStore::registerSimulatedAgent(const std::string& id, UnixMs now) {
  PW_RETURN_IF_ERROR(checkUtf8("agent id", id));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(
      Statement stmt,
      db.prepare("INSERT OR IGNORE INTO agents (id, hostname, token_id, token_labels, "
                 "agent_labels, labels, enrolled_at, last_seen, simulated) "
                 "VALUES (?1, ?1, '', '{}', '{}', '{}', ?2, ?2, 1)"));
  stmt.bindText(1, id).bindInt(2, now);
  PW_RETURN_IF_ERROR(stmt.run());
  // The record may be older: only one the simulator made is the simulator's.
  PW_ASSIGN_OR_RETURN(Statement check, db.prepare("SELECT simulated FROM agents WHERE id = ?1"));
  check.bindText(1, id);
  PW_ASSIGN_OR_RETURN(bool row, check.step());
  if (!row || check.columnInt(0) == 0) {
    return PermissionDeniedError("agent '" + id +
                                 "' is enrolled for real; the simulator cannot speak for it");
  }
  return OkStatus();
}

Status SqliteStore::touchAgents(std::span<const std::pair<std::string, UnixMs>> seen) {
  if (seen.empty()) return OkStatus();
  std::lock_guard lock(mu_);
  Database& db = *db_;
  RelaxedDurability relaxed(db);
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  for (const auto& [id, at] : seen) {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("UPDATE agents SET last_seen = max(last_seen, ?2) WHERE id = ?1"));
    stmt.bindText(1, id).bindInt(2, at);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  return txn->commit();
}

Result<std::vector<bool>> SqliteStore::recordReports(std::span<const ReportWrite> writes) {
  for (const ReportWrite& write : writes) {
    PW_RETURN_IF_ERROR(checkText(write));
    if (write.seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgumentError("report seq " + std::to_string(write.seq) + " of agent '" +
                                  write.agent_id + "' is out of range");
    }
  }
  std::vector<bool> stored;
  stored.reserve(writes.size());
  if (writes.empty()) return stored;

  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  // (epoch, last_seq) per agent as this batch advances it, so later writes of the same agent
  // see the earlier ones.
  struct Counter {
    uint64_t epoch = 0;
    uint64_t last_seq = 0;
  };
  std::map<std::string, Counter> counters;
  for (const ReportWrite& write : writes) {
    const std::string& agent_id = write.agent_id;
    auto it = counters.find(agent_id);
    if (it == counters.end()) {
      PW_ASSIGN_OR_RETURN(Statement stmt,
                          db.prepare("SELECT seq_epoch, last_seq FROM agents WHERE id = ?1"));
      stmt.bindText(1, agent_id);
      PW_ASSIGN_OR_RETURN(bool row, stmt.step());
      if (!row) {
        return NotFoundError("report from unknown agent '" + agent_id +
                             "'; no report of the batch was stored");
      }
      it = counters
               .emplace(agent_id, Counter{static_cast<uint64_t>(stmt.columnInt(0)),
                                          static_cast<uint64_t>(stmt.columnInt(1))})
               .first;
    }
    Counter& counter = it->second;
    // A new outbox (a reinstalled agent, a wiped state directory) counts from its own start.
    if (write.epoch != counter.epoch) counter = Counter{write.epoch, 0};
    if (write.seq <= counter.last_seq) {
      stored.push_back(false);  // a redelivery: already stored, acknowledge again
      continue;
    }
    if (counter.last_seq > 0 && write.seq - counter.last_seq > kMaxSeqJump) {
      return InvalidArgumentError("report seq " + std::to_string(write.seq) + " of agent '" +
                                  agent_id + "' jumps more than 2^32 above the last stored (" +
                                  std::to_string(counter.last_seq) + "); refused");
    }
    counter.last_seq = write.seq;
    const auto seq = static_cast<int64_t>(write.seq);
    const auto epoch = static_cast<int64_t>(write.epoch);  // bit pattern kept; only compared
    {
      PW_ASSIGN_OR_RETURN(
          Statement stmt,
          db.prepare("INSERT INTO reports (agent_id, epoch, seq, kind, body, received_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
      stmt.bindText(1, agent_id)
          .bindInt(2, epoch)
          .bindInt(3, seq)
          .bindText(4, write.kind)
          .bindBlob(5, write.body)
          .bindInt(6, write.received_at);
      PW_RETURN_IF_ERROR(stmt.run());
    }
    bool drift_changed = false;
    if (write.state.has_value()) {
      const ReportWrite::State& state = *write.state;
      PW_ASSIGN_OR_RETURN(
          Statement stmt,
          db.prepare("UPDATE agents SET baseline_name = ?2, baseline_version = ?3, mode = ?4, "
                     "compliance = ?5, last_state = ?6 WHERE id = ?1"));
      stmt.bindText(1, agent_id)
          .bindText(2, state.baseline_name)
          .bindText(3, state.baseline_version)
          .bindInt(4, static_cast<int64_t>(state.mode))
          .bindInt(5, static_cast<int64_t>(state.compliance))
          .bindBlob(6, state.serialized);
      PW_RETURN_IF_ERROR(stmt.run());
      // A state report carries the agent's complete drift: replace, don't merge.
      PW_RETURN_IF_ERROR(runForAgent(db, "DELETE FROM drift WHERE agent_id = ?1", agent_id));
      for (const DriftRow& row : state.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
      drift_changed = true;
    }
    if (!write.drift.empty()) {
      for (const DriftRow& row : write.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
      PW_RETURN_IF_ERROR(runForAgent(db, "UPDATE agents SET compliance = ?2 WHERE id = ?1",
                                     agent_id, {static_cast<int64_t>(Compliance::kDrifted)}));
      drift_changed = true;
    }
    if (drift_changed) {
      PW_RETURN_IF_ERROR(runForAgent(db,
                                     "UPDATE agents SET drifted_parameters = "
                                     "(SELECT count(*) FROM drift WHERE agent_id = ?1) "
                                     "WHERE id = ?1",
                                     agent_id));
    }
    PW_RETURN_IF_ERROR(runForAgent(db,
                                   "UPDATE agents SET seq_epoch = ?2, last_seq = ?3, "
                                   "last_seen = max(last_seen, ?4) WHERE id = ?1",
                                   agent_id, {epoch, seq, write.received_at}));
    if (!write.history.kind.empty()) {
      UnixMs at = write.history.at != 0 ? write.history.at : write.received_at;
      PW_RETURN_IF_ERROR(
          insertHistory(db, agent_id, at, write.history.kind, write.history.summary));
    }
    stored.push_back(true);
  }
  for (const auto& [agent_id, counter] : counters) {
    (void)counter;
    // By arrival (rowid), which spans epochs.
    PW_RETURN_IF_ERROR(runForAgent(db,
                                   "DELETE FROM reports WHERE agent_id = ?1 AND rowid <= "
                                   "(SELECT rowid FROM reports WHERE agent_id = ?1 "
                                   "ORDER BY rowid DESC LIMIT 1 OFFSET ?2)",
                                   agent_id, {kReportsKeptPerAgent}));
  }
  PW_RETURN_IF_ERROR(txn->commit());
  return stored;
}

Result<std::vector<DriftRow>> SqliteStore::listDrift() {
  std::lock_guard lock(mu_);
  return readDrift(*db_,
                   std::string("SELECT ") + kDriftColumns +
                       " FROM drift ORDER BY agent_id, file, service, parameter",
                   nullptr);
}

Result<std::vector<DriftRow>> SqliteStore::agentDrift(const std::string& id) {
  std::lock_guard lock(mu_);
  return readDrift(*db_,
                   std::string("SELECT ") + kDriftColumns +
                       " FROM drift WHERE agent_id = ?1 ORDER BY file, service, parameter",
                   &id);
}

Result<std::vector<HistoryRow>> SqliteStore::history(const std::string& id, int limit) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare("SELECT agent_id, at, kind, summary FROM history "
                                   "WHERE agent_id = ?1 ORDER BY at DESC, id DESC LIMIT ?2"));
  stmt.bindText(1, id).bindInt(2, limit > 0 ? limit : -1);  // LIMIT -1: no limit
  std::vector<HistoryRow> rows;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    rows.push_back(HistoryRow{.agent_id = stmt.columnText(0),
                              .at = stmt.columnInt(1),
                              .kind = stmt.columnText(2),
                              .summary = stmt.columnText(3)});
  }
  return rows;
}

Status SqliteStore::addHistory(const HistoryRow& row) {
  PW_RETURN_IF_ERROR(checkText(row));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("SELECT 1 FROM agents WHERE id = ?1"));
    stmt.bindText(1, row.agent_id);
    PW_ASSIGN_OR_RETURN(bool found, stmt.step());
    if (!found) return NotFoundError("agent '" + row.agent_id + "' not found");
  }
  PW_RETURN_IF_ERROR(insertHistory(db, row.agent_id, row.at, row.kind, row.summary));
  return txn->commit();
}

Result<bool> SqliteStore::putBaseline(const BaselineRecord& baseline) {
  PW_RETURN_IF_ERROR(checkText(baseline));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("SELECT content FROM baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, baseline.name).bindText(2, baseline.version);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) {
      if (stmt.columnText(0) != baseline.content) {
        return AlreadyExistsError("baseline '" + baseline.name + "' version '" + baseline.version +
                                  "' is stored with different content");
      }
      return false;  // the transaction rolls back; nothing was written
    }
  }
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("INSERT INTO baselines (name, version, label, content, "
                                 "pushed_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.bindText(1, baseline.name)
      .bindText(2, baseline.version)
      .bindText(3, baseline.label)
      .bindText(4, baseline.content)
      .bindInt(5, baseline.pushed_at);
  PW_RETURN_IF_ERROR(stmt.run());
  PW_RETURN_IF_ERROR(txn->commit());
  return true;
}

Result<BaselineRecord> SqliteStore::getBaseline(const std::string& name,
                                                const std::string& version) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT name, version, label, content, pushed_at FROM "
                                   "baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, name).bindText(2, version);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) return baselineFromRow(stmt);
  }
  if (version.size() < 4 || !isHex(version)) {
    return InvalidArgumentError("baseline version '" + version +
                                "' is not a prefix of at least 4 hex digits");
  }
  const std::string prefix = toLower(version);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("SELECT name, version, label, content, pushed_at FROM "
                                 "baselines WHERE name = ?1 AND substr(version, 1, ?3) = ?2 "
                                 "ORDER BY version LIMIT 2"));
  stmt.bindText(1, name).bindText(2, prefix).bindInt(3, static_cast<int64_t>(prefix.size()));
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) {
    return NotFoundError("baseline '" + name + "' version '" + version + "' not found");
  }
  BaselineRecord first = baselineFromRow(stmt);
  PW_ASSIGN_OR_RETURN(bool second, stmt.step());
  if (second) {
    return InvalidArgumentError("baseline '" + name + "' version prefix '" + version +
                                "' is ambiguous");
  }
  return first;
}

Result<std::vector<BaselineRecord>> SqliteStore::listBaselines() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare("SELECT name, version, label, content, pushed_at FROM "
                                   "baselines ORDER BY name, pushed_at, version"));
  std::vector<BaselineRecord> baselines;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    baselines.push_back(baselineFromRow(stmt));
  }
  return baselines;
}

Result<std::string> SqliteStore::deleteBaseline(const std::string& name,
                                                const std::string& version) {
  // Resolve the prefix first (getBaseline takes the lock itself).
  PW_ASSIGN_OR_RETURN(BaselineRecord baseline, getBaseline(name, version));
  PW_ASSIGN_OR_RETURN(std::vector<AssignmentRecord> all, listAssignments());
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  // Re-read under the write lock: an assignment may have been added since.
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("SELECT max(id) FROM assignments"));
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    int64_t newest = row ? stmt.columnInt(0) : 0;
    if (newest != (all.empty() ? 0 : all.back().id)) {
      return AbortedError("assignments changed meanwhile; try again");
    }
  }
  auto includes = [](const Labels& outer, const Labels& inner) {
    for (const auto& [key, value] : inner) {
      auto it = outer.find(key);
      if (it == outer.end() || it->second != value) return false;
    }
    return true;
  };
  std::vector<int64_t> dead;
  for (size_t i = 0; i < all.size(); ++i) {
    const AssignmentRecord& a = all[i];
    if (a.baseline_name != baseline.name || a.baseline_version != baseline.version) continue;
    // Shadowed: every agent a's selector matches also matches a newer selector, which wins.
    bool shadowed = false;
    for (size_t j = i + 1; j < all.size() && !shadowed; ++j) {
      shadowed = includes(a.selector, all[j].selector);
    }
    if (!shadowed) {
      return FailedPreconditionError("baseline '" + baseline.name + "@" + baseline.version +
                                     "' is assigned (assignment " + std::to_string(a.id) +
                                     "); assign another baseline to those agents first");
    }
    dead.push_back(a.id);
  }
  for (int64_t id : dead) {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("DELETE FROM assignments WHERE id = ?1"));
    stmt.bindInt(1, id);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("DELETE FROM baselines WHERE name = ?1 AND version = ?2"));
  stmt.bindText(1, baseline.name).bindText(2, baseline.version);
  PW_RETURN_IF_ERROR(stmt.run());
  if (db.changes() == 0) {
    return NotFoundError("baseline '" + name + "' version '" + version + "' not found");
  }
  PW_RETURN_IF_ERROR(txn->commit());
  return baseline.version;
}

Result<AssignmentRecord> SqliteStore::addAssignment(const AssignmentRecord& assignment) {
  PW_RETURN_IF_ERROR(checkText(assignment));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT 1 FROM baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, assignment.baseline_name).bindText(2, assignment.baseline_version);
    PW_ASSIGN_OR_RETURN(bool found, stmt.step());
    if (!found) {
      return NotFoundError("baseline '" + assignment.baseline_name + "' version '" +
                           assignment.baseline_version + "' not found");
    }
  }
  AssignmentRecord stored = assignment;
  {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("INSERT INTO assignments (baseline_name, baseline_version, selector, mode, "
                   "created_at) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id"));
    stmt.bindText(1, assignment.baseline_name)
        .bindText(2, assignment.baseline_version)
        .bindText(3, encodeLabels(assignment.selector))
        .bindInt(4, static_cast<int64_t>(assignment.mode))
        .bindInt(5, assignment.created_at);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return InternalError("INSERT ... RETURNING id returned no row");
    stored.id = stmt.columnInt(0);
    PW_RETURN_IF_ERROR(stmt.run());  // finish the statement before COMMIT
  }
  PW_RETURN_IF_ERROR(txn->commit());
  return stored;
}

Result<std::vector<AssignmentRecord>> SqliteStore::listAssignments() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare("SELECT id, baseline_name, baseline_version, selector, mode, "
                                   "created_at FROM assignments ORDER BY id"));
  std::vector<AssignmentRecord> assignments;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    AssignmentRecord assignment;
    assignment.id = stmt.columnInt(0);
    assignment.baseline_name = stmt.columnText(1);
    assignment.baseline_version = stmt.columnText(2);
    PW_ASSIGN_OR_RETURN(assignment.selector, decodeLabels(*db_, stmt.columnText(3)));
    assignment.mode = static_cast<Mode>(stmt.columnInt(4));
    assignment.created_at = stmt.columnInt(5);
    assignments.push_back(std::move(assignment));
  }
  return assignments;
}

}  // namespace postwarden::controller::store
