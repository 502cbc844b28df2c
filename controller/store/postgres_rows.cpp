// Over 400 lines on purpose: row mapping for every table and the schema migrations, the
// PostgreSQL counterpart of internal/sqlite_rows and internal/sqlite_schema.
#include "controller/store/postgres_rows.h"

#include <cstdint>
#include <utility>

#include "controller/store/postgres_coordination.h"
#include "controller/store/postgres_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store::pg {
namespace {

// ---- schema --------------------------------------------------------------------------------

// Migration 1: the schema SqliteStore reaches at its version 2, in PostgreSQL types. Every text
// column that is sorted or compared is COLLATE "C" (bytewise, as SQLite), so the orders the
// Store promises do not depend on the database's locale. Reports carry an identity column:
// retention keeps the newest by arrival, across epochs, as SQLite's rowid.
constexpr char kMigration1[] = R"sql(
CREATE TABLE tokens (
  id text COLLATE "C" PRIMARY KEY,
  secret_sha256 text NOT NULL,
  labels text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  uses_left bigint NOT NULL,
  revoked boolean NOT NULL,
  bound_agent_id text NOT NULL
);
CREATE TABLE agents (
  id text COLLATE "C" PRIMARY KEY,
  hostname text NOT NULL,
  token_id text NOT NULL,
  token_labels text NOT NULL,
  agent_labels text NOT NULL,
  labels text NOT NULL,
  enrolled_at bigint NOT NULL,
  last_seen bigint NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  reenroll_approved boolean NOT NULL DEFAULT false,
  agent_version text NOT NULL DEFAULT '',
  postfix_version text NOT NULL DEFAULT '',
  baseline_name text NOT NULL DEFAULT '',
  baseline_version text NOT NULL DEFAULT '',
  mode integer NOT NULL DEFAULT 0,
  compliance integer NOT NULL DEFAULT 0,
  seq_epoch bigint NOT NULL DEFAULT 0,
  last_seq bigint NOT NULL DEFAULT 0,
  last_state bytea NOT NULL DEFAULT '',
  drifted_parameters integer NOT NULL DEFAULT 0,
  simulated boolean NOT NULL DEFAULT false
);
CREATE TABLE reports (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  epoch bigint NOT NULL,
  seq bigint NOT NULL,
  kind text NOT NULL,
  body bytea NOT NULL,
  received_at bigint NOT NULL,
  UNIQUE (agent_id, epoch, seq)
);
CREATE INDEX reports_by_agent ON reports (agent_id, id);
CREATE TABLE drift (
  agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  file text COLLATE "C" NOT NULL,
  service text COLLATE "C" NOT NULL,
  parameter text COLLATE "C" NOT NULL,
  expected text NOT NULL,
  actual text NOT NULL,
  expected_absent boolean NOT NULL,
  actual_absent boolean NOT NULL,
  detected_at bigint NOT NULL,
  PRIMARY KEY (agent_id, file, service, parameter)
);
CREATE TABLE history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  agent_id text COLLATE "C" NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  at bigint NOT NULL,
  kind text NOT NULL,
  summary text NOT NULL
);
CREATE INDEX history_by_agent ON history (agent_id, at, id);
CREATE TABLE baselines (
  name text COLLATE "C" NOT NULL,
  version text COLLATE "C" NOT NULL,
  label text NOT NULL,
  content text NOT NULL,
  pushed_at bigint NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE assignments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  baseline_name text COLLATE "C" NOT NULL,
  baseline_version text COLLATE "C" NOT NULL,
  selector text NOT NULL,
  mode integer NOT NULL,
  created_at bigint NOT NULL,
  FOREIGN KEY (baseline_name, baseline_version) REFERENCES baselines (name, version)
);
)sql";

// Version 2: each agent keeps the last report of a rollout job's outcome (store.h).
constexpr char kMigration2[] = R"sql(
ALTER TABLE agents ADD COLUMN last_job_state bytea NOT NULL DEFAULT '';
)sql";

// Version 3: rollouts (RolloutStore, docs/rollouts.md), as SqliteStore's version 3. A pin
// holds an agent on the version a rollout gave it; its baseline cannot be deleted while the pin
// names it (the foreign key, and deleteBaseline's own check for a clear message). The record
// and the job are serialized protobuf: bytea.
constexpr char kMigration3[] = R"sql(
CREATE TABLE rollouts (
  id text COLLATE "C" PRIMARY KEY,
  record bytea NOT NULL,
  active boolean NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX rollouts_by_created ON rollouts (created_at, id);
CREATE TABLE rollout_pins (
  agent_id text COLLATE "C" PRIMARY KEY,
  baseline_name text COLLATE "C" NOT NULL,
  baseline_version text COLLATE "C" NOT NULL,
  rollout_id text COLLATE "C" NOT NULL REFERENCES rollouts (id),
  job bytea NOT NULL,
  FOREIGN KEY (baseline_name, baseline_version) REFERENCES baselines (name, version)
);
CREATE INDEX rollout_pins_by_baseline ON rollout_pins (baseline_name, baseline_version);
CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at bigint NOT NULL,
  actor text NOT NULL,
  rollout_id text COLLATE "C" NOT NULL,
  action text NOT NULL,
  host text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX audit_by_rollout ON audit (rollout_id, id);
)sql";

// Version 4: an assignment's repair windows, as SqliteStore's version 4.
constexpr char kMigration4[] = R"sql(
ALTER TABLE assignments ADD COLUMN repair_windows text NOT NULL DEFAULT '';
)sql";

// Version 5: a rollout's revision, as SqliteStore's version 5.
constexpr char kMigration5[] = R"sql(
ALTER TABLE rollouts ADD COLUMN revision bigint NOT NULL DEFAULT 1;
)sql";

// Index = version - 1. A new migration is appended here and kSchemaVersion raised; an applied
// one is never edited.
constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4,
                                       kMigration5};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == PostgresStore::kSchemaVersion);

// The advisory lock every controller takes to migrate ("pwschema" as an integer).
constexpr int64_t kMigrationLock = 0x7077736368656d61;

// ---- labels --------------------------------------------------------------------------------

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool consume(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool atEnd() {
    skipSpace();
    return pos_ == text_.size();
  }

  bool readString(std::string& out) {
    if (!consume('"')) return false;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!readHex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            uint32_t low = 0;
            if (text_.substr(pos_, 2) != "\\u") return false;
            pos_ += 2;
            if (!readHex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          appendUtf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }

 private:
  bool readHex4(uint32_t& value) {
    if (pos_ + 4 > text_.size()) return false;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_++];
      value <<= 4;
      if (c >= '0' && c <= '9') {
        value |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        value |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        value |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }
  static void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<Labels> decodeLabels(std::string_view json) {
  JsonReader reader(json);
  Labels labels;
  auto bad = [] { return DataLossError("stored labels are not a JSON object of strings"); };
  if (!reader.consume('{')) return bad();
  if (!reader.consume('}')) {
    do {
      std::string key, value;
      if (!reader.readString(key) || !reader.consume(':') || !reader.readString(value)) {
        return bad();
      }
      labels[std::move(key)] = std::move(value);
    } while (reader.consume(','));
    if (!reader.consume('}')) return bad();
  }
  if (!reader.atEnd()) return bad();
  return labels;
}

// ---- rows ----------------------------------------------------------------------------------

Result<AgentRecord> agentFromRow(const Rows& rows, int r) {
  AgentRecord agent;
  agent.id = rows.text(r, 0);
  agent.hostname = rows.text(r, 1);
  PW_ASSIGN_OR_RETURN(agent.labels, decodeLabels(rows.text(r, 2)));
  agent.enrolled_at = rows.integer(r, 3);
  agent.last_seen = rows.integer(r, 4);
  agent.revoked = rows.boolean(r, 5);
  agent.reenroll_approved = rows.boolean(r, 6);
  agent.agent_version = rows.text(r, 7);
  agent.postfix_version = rows.text(r, 8);
  agent.baseline_name = rows.text(r, 9);
  agent.baseline_version = rows.text(r, 10);
  agent.mode = static_cast<Mode>(rows.integer(r, 11));
  agent.compliance = static_cast<Compliance>(rows.integer(r, 12));
  agent.last_seq = static_cast<uint64_t>(rows.integer(r, 13));
  agent.last_state = rows.bytes(r, 14);
  agent.drifted_parameters = static_cast<int>(rows.integer(r, 15));
  agent.seq_epoch = static_cast<uint64_t>(rows.integer(r, 16));
  agent.last_job_state = rows.bytes(r, 17);
  return agent;
}

Result<TokenRecord> tokenFromRow(const Rows& rows, int r) {
  TokenRecord token;
  token.id = rows.text(r, 0);
  token.secret_sha256 = rows.text(r, 1);
  PW_ASSIGN_OR_RETURN(token.labels, decodeLabels(rows.text(r, 2)));
  token.created_at = rows.integer(r, 3);
  token.expires_at = rows.integer(r, 4);
  token.uses_left = static_cast<int>(rows.integer(r, 5));
  token.revoked = rows.boolean(r, 6);
  token.bound_agent_id = rows.text(r, 7);
  return token;
}

DriftRow driftFromRow(const Rows& rows, int r) {
  DriftRow row;
  row.agent_id = rows.text(r, 0);
  row.file = rows.text(r, 1);
  row.service = rows.text(r, 2);
  row.parameter = rows.text(r, 3);
  row.expected = rows.text(r, 4);
  row.actual = rows.text(r, 5);
  row.expected_absent = rows.boolean(r, 6);
  row.actual_absent = rows.boolean(r, 7);
  row.detected_at = rows.integer(r, 8);
  return row;
}

BaselineRecord baselineFromRow(const Rows& rows, int r) {
  BaselineRecord baseline;
  baseline.name = rows.text(r, 0);
  baseline.version = rows.text(r, 1);
  baseline.label = rows.text(r, 2);
  baseline.content = rows.text(r, 3);
  baseline.pushed_at = rows.integer(r, 4);
  return baseline;
}

Result<AssignmentRecord> assignmentFromRow(const Rows& rows, int r) {
  AssignmentRecord assignment;
  assignment.id = rows.integer(r, 0);
  assignment.baseline_name = rows.text(r, 1);
  assignment.baseline_version = rows.text(r, 2);
  PW_ASSIGN_OR_RETURN(assignment.selector, decodeLabels(rows.text(r, 3)));
  assignment.mode = static_cast<Mode>(rows.integer(r, 4));
  assignment.created_at = rows.integer(r, 5);
  assignment.repair_windows = decodeWindows(rows.text(r, 6));
  return assignment;
}

Result<std::optional<AgentRecord>> readAgent(Connection& db, const std::string& id) {
  PW_ASSIGN_OR_RETURN(Rows rows,
                      db.exec(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE id = $1",
                              Params().text(id)));
  if (rows.empty()) return std::optional<AgentRecord>();
  PW_ASSIGN_OR_RETURN(AgentRecord agent, agentFromRow(rows, 0));
  return std::optional<AgentRecord>(std::move(agent));
}

Result<std::optional<TokenRecord>> readToken(Connection& db, const std::string& id) {
  PW_ASSIGN_OR_RETURN(Rows rows,
                      db.exec(std::string("SELECT ") + kTokenColumns + " FROM tokens WHERE id = $1",
                              Params().text(id)));
  if (rows.empty()) return std::optional<TokenRecord>();
  PW_ASSIGN_OR_RETURN(TokenRecord token, tokenFromRow(rows, 0));
  return std::optional<TokenRecord>(std::move(token));
}

Result<std::vector<AssignmentRecord>> readAssignments(Connection& db) {
  PW_ASSIGN_OR_RETURN(Rows rows, db.exec(std::string("SELECT ") + kAssignmentColumns +
                                         " FROM assignments ORDER BY id"));
  std::vector<AssignmentRecord> assignments;
  for (int r = 0; r < rows.size(); ++r) {
    PW_ASSIGN_OR_RETURN(AssignmentRecord assignment, assignmentFromRow(rows, r));
    assignments.push_back(std::move(assignment));
  }
  return assignments;
}

// ---- writes used by several operations -----------------------------------------------------

Status insertHistory(Connection& db, const std::string& agent_id, UnixMs at,
                     const std::string& kind, const std::string& summary) {
  PW_RETURN_IF_ERROR(
      db.exec("INSERT INTO history (agent_id, at, kind, summary) VALUES ($1, $2, $3, $4)",
              Params().text(agent_id).integer(at).text(kind).text(summary))
          .status());
  return db
      .exec(
          "DELETE FROM history WHERE agent_id = $1 AND id NOT IN "
          "(SELECT id FROM history WHERE agent_id = $1 ORDER BY at DESC, id DESC LIMIT $2)",
          Params().text(agent_id).integer(PostgresStore::kHistoryKeptPerAgent))
      .status();
}

Status announce(Connection& db, const std::string& payload) {
  return db.exec("SELECT pg_notify($1, $2)", Params().text(kChangeChannel).text(payload)).status();
}

// ---- migrations ----------------------------------------------------------------------------

Result<int> schemaVersion(Connection& db) {
  PW_ASSIGN_OR_RETURN(Rows table,
                      db.exec("SELECT to_regclass('postwarden_schema_migrations') IS NOT NULL"));
  if (!table.boolean(0, 0)) return 0;
  PW_ASSIGN_OR_RETURN(
      Rows rows, db.exec("SELECT coalesce(max(version), 0) FROM postwarden_schema_migrations"));
  return static_cast<int>(rows.integer(0, 0));
}

Status migrate(Connection& db) {
  PW_RETURN_IF_ERROR(db.execScript("BEGIN"));
  Status status = [&]() -> Status {
    // One controller migrates at a time; the others wait here, then find nothing left to do.
    PW_RETURN_IF_ERROR(
        db.exec("SELECT pg_advisory_xact_lock($1)", Params().integer(kMigrationLock)).status());
    PW_ASSIGN_OR_RETURN(int version, schemaVersion(db));
    if (version > PostgresStore::kSchemaVersion) {
      return FailedPreconditionError("database schema " + std::to_string(version) +
                                     " is newer than this controller");
    }
    if (version == 0) {
      PW_ASSIGN_OR_RETURN(
          Rows ours,
          db.exec("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
                  "AND tablename IN ('tokens', 'agents', 'reports', 'drift', 'history', "
                  "'baselines', 'assignments')"));
      if (ours.integer(0, 0) != 0) {
        return FailedPreconditionError(
            "database holds Postwarden's table names but no schema version; refusing to change "
            "it");
      }
      PW_RETURN_IF_ERROR(
          db.execScript("CREATE TABLE postwarden_schema_migrations (version integer PRIMARY KEY, "
                        "applied_at timestamptz NOT NULL DEFAULT now())"));
    }
    for (int v = version + 1; v <= PostgresStore::kSchemaVersion; ++v) {
      PW_RETURN_IF_ERROR(db.execScript(kMigrations[v - 1])
                             .withContext("applying schema migration " + std::to_string(v)));
      PW_RETURN_IF_ERROR(db.exec("INSERT INTO postwarden_schema_migrations (version) VALUES ($1)",
                                 Params().integer(v))
                             .status());
    }
    return OkStatus();
  }();
  if (!status.ok()) {
    if (!db.broken()) (void)db.execScript("ROLLBACK");
    return status;
  }
  return db.execScript("COMMIT");
}

}  // namespace postwarden::controller::store::pg
