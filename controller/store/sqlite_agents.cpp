#include <mutex>
#include <optional>
#include <utility>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/internal/sqlite_rows.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

Result<AgentRecord> SqliteStore::enrollAgent(const EnrollmentRequest& request,
                                             const EnrollmentCheck& check) {
  if (request.agent_id.empty()) return InvalidArgumentError("agent id is empty");
  PW_RETURN_IF_ERROR(checkText(request));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  PW_ASSIGN_OR_RETURN(std::optional<TokenRecord> found, readToken(db, request.token_id));
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> existing, readAgent(db, request.agent_id));
  // The rules are the caller's (core/enrollment_policy.h); a refusal writes nothing.
  PW_RETURN_IF_ERROR(check(request, found, existing));
  if (!found.has_value()) return InternalError("enrollment check admitted an unknown token");
  const TokenRecord& token = *found;
  const std::string token_labels = encodeLabels(token.labels);
  if (existing.has_value()) {
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
  std::lock_guard lock(read_mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, reader_->prepare(std::string("SELECT ") + kAgentColumns +
                                                       " FROM agents ORDER BY id"));
  std::vector<AgentRecord> agents;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    PW_ASSIGN_OR_RETURN(AgentRecord agent, agentFromRow(*reader_, stmt));
    agents.push_back(std::move(agent));
  }
  return agents;
}

Result<std::vector<AgentProgress>> SqliteStore::listAgentProgress() {
  std::lock_guard lock(read_mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      reader_->prepare("SELECT id, last_seen, revoked, baseline_name, "
                                       "baseline_version, last_state, last_job_state "
                                       "FROM agents ORDER BY id"));
  std::vector<AgentProgress> agents;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    agents.push_back(AgentProgress{.id = stmt.columnText(0),
                                   .last_seen = stmt.columnInt(1),
                                   .revoked = stmt.columnInt(2) != 0,
                                   .baseline_name = stmt.columnText(3),
                                   .baseline_version = stmt.columnText(4),
                                   .last_state = stmt.columnText(5),
                                   .last_job_state = stmt.columnText(6)});
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
                                UnixMs now, const LabelMerge& merge) {
  PW_RETURN_IF_ERROR(checkUtf8("host name", hostname));
  PW_RETURN_IF_ERROR(checkUtf8("agent version", agent_version));
  PW_RETURN_IF_ERROR(checkUtf8("Postfix version", postfix_version));
  PW_RETURN_IF_ERROR(checkText(agent_labels, "agent label"));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  RelaxedDurability relaxed(db);
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  Labels merged;
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT token_labels FROM agents WHERE id = ?1"));
    stmt.bindText(1, id);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return NotFoundError("agent '" + id + "' not found");
    PW_ASSIGN_OR_RETURN(Labels token_labels, decodeLabels(db, stmt.columnText(0)));
    merged = merge(token_labels, agent_labels);
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

}  // namespace postwarden::controller::store
