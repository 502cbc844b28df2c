#include "controller/store/internal/sqlite_rows.h"

#include <utility>

#include "controller/store/sqlite_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store::internal {

// ---- labels as JSON ----------------------------------------------------------------------

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

// Compares two hex digests without an early exit, so response time does not reveal how many
Result<int64_t> queryInt(Database& db, const std::string& sql) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return InternalError("'" + sql + "' returned no row");
  return stmt.columnInt(0);
}

// ---- rows ----------------------------------------------------------------------------------

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
  agent.last_job_state = stmt.columnText(17);
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

Result<AssignmentRecord> assignmentFromRow(Database& db, Statement& stmt) {
  AssignmentRecord assignment;
  assignment.id = stmt.columnInt(0);
  assignment.baseline_name = stmt.columnText(1);
  assignment.baseline_version = stmt.columnText(2);
  PW_ASSIGN_OR_RETURN(assignment.selector, decodeLabels(db, stmt.columnText(3)));
  assignment.mode = static_cast<Mode>(stmt.columnInt(4));
  assignment.created_at = stmt.columnInt(5);
  assignment.repair_windows = decodeWindows(stmt.columnText(6));
  return assignment;
}

Result<std::optional<TokenRecord>> readToken(Database& db, const std::string& id) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(std::string("SELECT ") + kTokenColumns +
                                                 " FROM tokens WHERE id = ?1"));
  stmt.bindText(1, id);
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return std::optional<TokenRecord>();
  PW_ASSIGN_OR_RETURN(TokenRecord token, tokenFromRow(db, stmt));
  return std::optional<TokenRecord>(std::move(token));
}

Result<std::vector<AssignmentRecord>> readAssignments(Database& db) {
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("SELECT id, baseline_name, baseline_version, selector, mode, "
                                 "created_at, repair_windows FROM assignments ORDER BY id"));
  std::vector<AssignmentRecord> assignments;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PW_ASSIGN_OR_RETURN(AssignmentRecord assignment, assignmentFromRow(db, stmt));
    assignments.push_back(std::move(assignment));
  }
  return assignments;
}

// ---- writes used by several operations -----------------------------------------------------

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

Status runForAgent(Database& db, const std::string& sql, const std::string& agent_id,
                   std::initializer_list<int64_t> ints) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(sql));
  stmt.bindText(1, agent_id);
  int index = 2;
  for (int64_t value : ints) stmt.bindInt(index++, value);
  return stmt.run();
}

}  // namespace postwarden::controller::store::internal
