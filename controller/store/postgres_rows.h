// Shared by PostgresStore's files (postgres_*.cpp): labels as JSON text, row readers for each
// table, the writes several operations make (history with its retention, drift upserts), and
// the schema with its migrations. Called inside runTransaction or on a leased connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/store/postgres_db.h"
#include "controller/store/store.h"

namespace postwarden::controller::store::pg {

// Labels and selectors are stored as text holding a JSON object of strings, written by
// encodeLabels (as SqliteStore writes them, so an export moves them unchanged) and read back
// by decodeLabels, which accepts exactly that: an object whose values are strings.
Result<Labels> decodeLabels(std::string_view json);

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
inline constexpr char kAssignmentColumns[] =
    "id, baseline_name, baseline_version, selector, mode, created_at, repair_windows";

Result<AgentRecord> agentFromRow(const Rows& rows, int row);
Result<TokenRecord> tokenFromRow(const Rows& rows, int row);
DriftRow driftFromRow(const Rows& rows, int row);
BaselineRecord baselineFromRow(const Rows& rows, int row);
Result<AssignmentRecord> assignmentFromRow(const Rows& rows, int row);

Result<std::optional<AgentRecord>> readAgent(Connection& db, const std::string& id);
Result<std::optional<TokenRecord>> readToken(Connection& db, const std::string& id);
Result<std::vector<AssignmentRecord>> readAssignments(Connection& db);  // by id

// Inserts one history row and trims the agent's history to the newest kHistoryKeptPerAgent.
// (A report batch inserts its rows from arrays and trims once per agent: postgres_reports.cpp.)
Status insertHistory(Connection& db, const std::string& agent_id, UnixMs at,
                     const std::string& kind, const std::string& summary);

// Tells every listening replica (postgres_coordination.h) of a change, when the transaction
// `db` is in commits (at once outside a transaction).
Status announce(Connection& db, const std::string& payload);

// Brings the schema to PostgresStore::kSchemaVersion, each migration in the transaction that
// records it, under an advisory lock.
Status migrate(Connection& db);
// The highest applied migration (0: none).
Result<int> schemaVersion(Connection& db);

}  // namespace postwarden::controller::store::pg
