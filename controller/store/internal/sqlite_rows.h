// Shared by SqliteStore's files (sqlite_*.cpp): labels as JSON, row readers for each table,
// the writes several operations make (history with its retention, drift upserts) and the
// relaxed-durability guard for hellos and heartbeats. Called with SqliteStore's mutex held.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/store/internal/sqlite_db.h"
#include "controller/store/store.h"

namespace postwarden::controller::store::internal {

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

// Labels and selectors are stored as JSON objects of strings: written by encodeLabels
// (text.h), read back with SQLite's own JSON parser (json_each).
Result<Labels> decodeLabels(Database& db, const std::string& json);
// The single integer `sql` returns; Internal when it returns no row.
Result<int64_t> queryInt(Database& db, const std::string& sql);

inline constexpr char kAgentColumns[] =
    "id, hostname, labels, enrolled_at, last_seen, revoked, reenroll_approved, agent_version, "
    "postfix_version, baseline_name, baseline_version, mode, compliance, last_seq, last_state, "
    "drifted_parameters, seq_epoch, last_job_state";
inline constexpr char kTokenColumns[] =
    "id, secret_sha256, labels, created_at, expires_at, uses_left, revoked, bound_agent_id";
inline constexpr char kDriftColumns[] =
    "agent_id, file, service, parameter, expected, actual, expected_absent, actual_absent, "
    "detected_at";
inline constexpr char kBaselineColumns[] = "name, version, label, content, pushed_at";

// Row readers: `stmt` selected the matching k*Columns.
Result<AgentRecord> agentFromRow(Database& db, Statement& stmt);
Result<TokenRecord> tokenFromRow(Database& db, Statement& stmt);
DriftRow driftFromRow(Statement& stmt);
BaselineRecord baselineFromRow(Statement& stmt);
Result<AssignmentRecord> assignmentFromRow(Database& db, Statement& stmt);

// One record by key; nullopt when there is none.
Result<std::optional<AgentRecord>> readAgent(Database& db, const std::string& id);
Result<std::optional<TokenRecord>> readToken(Database& db, const std::string& id);
// Every row `sql` selects (kDriftColumns), with ?1 = *agent_id when given.
Result<std::vector<DriftRow>> readDrift(Database& db, const std::string& sql,
                                        const std::string* agent_id);
Result<std::vector<AssignmentRecord>> readAssignments(Database& db);  // by id

// Inserts one history row and trims the agent's history to the newest kHistoryKeptPerAgent.
Status insertHistory(Database& db, const std::string& agent_id, UnixMs at, const std::string& kind,
                     const std::string& summary);
Status upsertDrift(Database& db, const std::string& agent_id, const DriftRow& row);
// Runs `sql` with ?1 = agent_id and the extra integer parameters ?2, ?3, ...
Status runForAgent(Database& db, const std::string& sql, const std::string& agent_id,
                   std::initializer_list<int64_t> ints = {});

}  // namespace postwarden::controller::store::internal
