#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/postgres_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

Result<AgentRecord> PostgresStore::enrollAgent(const EnrollmentRequest& request,
                                               const EnrollmentCheck& check) {
  if (request.agent_id.empty()) return InvalidArgumentError("agent id is empty");
  PW_RETURN_IF_ERROR(checkText(request));
  AgentRecord enrolled;
  PW_RETURN_IF_ERROR(runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(std::optional<TokenRecord> found, readToken(db, request.token_id));
        PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> existing, readAgent(db, request.agent_id));
        // The rules are the caller's (core/enrollment_policy.h); a refusal writes nothing.
        PW_RETURN_IF_ERROR(check(request, found, existing));
        if (!found.has_value()) return InternalError("enrollment check admitted an unknown token");
        const TokenRecord& token = *found;
        const std::string token_labels = encodeLabels(token.labels);
        Params params = Params()
                            .text(request.agent_id)
                            .text(request.hostname)
                            .text(token.id)
                            .text(token_labels)
                            .integer(request.now);
        if (existing.has_value()) {
          // last_seq stays: the agent's outbox sequence continues across re-enrollment.
          PW_RETURN_IF_ERROR(
              db.exec("UPDATE agents SET hostname = $2, token_id = $3, token_labels = $4, "
                      "agent_labels = '{}', labels = $4, enrolled_at = $5, "
                      "last_seen = greatest(last_seen, $5), reenroll_approved = false "
                      "WHERE id = $1",
                      params)
                  .status());
        } else {
          PW_RETURN_IF_ERROR(
              db.exec("INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, "
                      "labels, enrolled_at, last_seen) VALUES ($1, $2, $3, $4, '{}', $4, $5, $5)",
                      params)
                  .status());
        }
        PW_RETURN_IF_ERROR(db.exec("UPDATE tokens SET uses_left = uses_left - 1 WHERE id = $1",
                                   Params().text(token.id))
                               .status());
        std::string summary = std::string(existing.has_value() ? "re-enrolled" : "enrolled") +
                              " with token '" + token.id + "' as host '" + request.hostname + "'";
        PW_RETURN_IF_ERROR(insertHistory(db, request.agent_id, request.now, "enrolled", summary));
        PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, request.agent_id));
        if (!agent.has_value()) return InternalError("enrolled agent vanished");
        enrolled = std::move(*agent);
        return OkStatus();
      }));
  return enrolled;
}

Result<AgentRecord> PostgresStore::getAgent(const std::string& id) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(*db, id));
  if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
  return std::move(*agent);
}

Result<std::vector<AgentRecord>> PostgresStore::listAgents() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(
      Rows rows, db->exec(std::string("SELECT ") + kAgentColumns + " FROM agents ORDER BY id"));
  std::vector<AgentRecord> agents;
  agents.reserve(static_cast<size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    PW_ASSIGN_OR_RETURN(AgentRecord agent, agentFromRow(rows, r));
    agents.push_back(std::move(agent));
  }
  return agents;
}

Result<std::vector<AgentProgress>> PostgresStore::listAgentProgress() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec("SELECT id, last_seen, revoked, baseline_name, "
                                          "baseline_version, last_state, last_job_state "
                                          "FROM agents ORDER BY id"));
  std::vector<AgentProgress> agents;
  agents.reserve(static_cast<size_t>(rows.size()));
  for (int r = 0; r < rows.size(); ++r) {
    agents.push_back(AgentProgress{.id = rows.text(r, 0),
                                   .last_seen = rows.integer(r, 1),
                                   .revoked = rows.boolean(r, 2),
                                   .baseline_name = rows.text(r, 3),
                                   .baseline_version = rows.text(r, 4),
                                   .last_state = rows.bytes(r, 5),
                                   .last_job_state = rows.bytes(r, 6)});
  }
  return agents;
}

Result<std::vector<std::string>> PostgresStore::revokedAgents() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec("SELECT id FROM agents WHERE revoked ORDER BY id"));
  std::vector<std::string> ids;
  for (int r = 0; r < rows.size(); ++r) ids.push_back(rows.text(r, 0));
  return ids;
}

Status PostgresStore::revokeAgent(const std::string& id, UnixMs now) {
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, id));
        if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
        if (agent->revoked) return OkStatus();
        PW_RETURN_IF_ERROR(
            db.exec("UPDATE agents SET revoked = true, reenroll_approved = false WHERE id = $1",
                    Params().text(id))
                .status());
        PW_RETURN_IF_ERROR(pg::announce(db, kChangeTargeting));
        return insertHistory(db, id, now, "revoked", "identity revoked");
      });
}

Status PostgresStore::approveReenrollment(const std::string& id, UnixMs now) {
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(std::optional<AgentRecord> agent, readAgent(db, id));
        if (!agent.has_value()) return NotFoundError("agent '" + id + "' not found");
        if (agent->revoked) {
          return FailedPreconditionError("agent '" + id +
                                         "' is revoked and can never enroll again");
        }
        PW_RETURN_IF_ERROR(
            db.exec("UPDATE agents SET reenroll_approved = true WHERE id = $1", Params().text(id))
                .status());
        return insertHistory(db, id, now, "reenroll_approved", "one re-enrollment approved");
      });
}

Status PostgresStore::recordHello(const std::string& id, const std::string& hostname,
                                  const std::string& agent_version,
                                  const std::string& postfix_version, const Labels& agent_labels,
                                  UnixMs now, const LabelMerge& merge) {
  PW_RETURN_IF_ERROR(checkUtf8("host name", hostname));
  PW_RETURN_IF_ERROR(checkUtf8("agent version", agent_version));
  PW_RETURN_IF_ERROR(checkUtf8("Postfix version", postfix_version));
  PW_RETURN_IF_ERROR(checkText(agent_labels, "agent label"));
  // READ COMMITTED, the row locked first: the merge rests on the token's labels of this row
  // alone, and only this row is written. Under SERIALIZABLE a hello failed (40001, and was
  // rerun) whenever a report batch or heartbeat flush had updated the row since it began.
  return runTransaction(
      *pool_,
      {.relaxed_durability = true, .read_committed = true, .max_attempts = options_.max_attempts},
      [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(
            Rows rows,
            db.exec("SELECT token_labels FROM agents WHERE id = $1 FOR UPDATE", Params().text(id)));
        if (rows.empty()) return NotFoundError("agent '" + id + "' not found");
        PW_ASSIGN_OR_RETURN(Labels token_labels, decodeLabels(rows.text(0, 0)));
        Labels merged = merge(token_labels, agent_labels);
        return db
            .exec(
                "UPDATE agents SET hostname = $2, agent_version = $3, postfix_version = $4, "
                "agent_labels = $5, labels = $6, last_seen = greatest(last_seen, $7) "
                "WHERE id = $1",
                Params()
                    .text(id)
                    .text(hostname)
                    .text(agent_version)
                    .text(postfix_version)
                    .text(encodeLabels(agent_labels))
                    .text(encodeLabels(merged))
                    .integer(now))
            .status();
      });
}

Status PostgresStore::registerSimulatedAgent(const std::string& id, UnixMs now) {
  PW_RETURN_IF_ERROR(checkUtf8("agent id", id));
  // READ COMMITTED: the INSERT waits for a concurrent one of the same id, and the SELECT
  // (a statement of its own, so a snapshot of its own) then sees whichever row won.
  return runTransaction(
      *pool_,
      {.relaxed_durability = true, .read_committed = true, .max_attempts = options_.max_attempts},
      [&](Connection& db) -> Status {
        PW_RETURN_IF_ERROR(
            db.exec("INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, "
                    "labels, enrolled_at, last_seen, simulated) "
                    "VALUES ($1, $1, '', '{}', '{}', '{}', $2, $2, true) "
                    "ON CONFLICT (id) DO NOTHING",
                    Params().text(id).integer(now))
                .status());
        // The record may be older: only one the simulator made is the simulator's.
        PW_ASSIGN_OR_RETURN(
            Rows rows, db.exec("SELECT simulated FROM agents WHERE id = $1", Params().text(id)));
        if (rows.empty() || !rows.boolean(0, 0)) {
          return PermissionDeniedError("agent '" + id +
                                       "' is enrolled for real; the simulator cannot speak for it");
        }
        return OkStatus();
      });
}

Status PostgresStore::touchAgents(std::span<const std::pair<std::string, UnixMs>> seen) {
  if (seen.empty()) return OkStatus();
  // In id order, so two batches lock the rows they share in the same order.
  std::vector<std::pair<std::string, UnixMs>> sorted(seen.begin(), seen.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::string> ids, ats;
  for (const auto& [id, at] : sorted) {
    ids.push_back(id);
    ats.push_back(std::to_string(at));
  }
  // Two statements, not one per agent: lock in id order, then one UPDATE from the arrays.
  // greatest(): a later heartbeat stored first is not moved back.
  return runTransaction(
      *pool_,
      {.relaxed_durability = true, .read_committed = true, .max_attempts = options_.max_attempts},
      [&](Connection& db) -> Status {
        PW_RETURN_IF_ERROR(db.exec("SELECT 1 FROM agents WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                                   Params().textArray(ids))
                               .status());
        return db
            .exec(
                "UPDATE agents a SET last_seen = greatest(a.last_seen, v.at) FROM "
                "unnest($1::text[], $2::text[]::bigint[]) AS v (id, at) WHERE a.id = v.id",
                Params().textArray(ids).textArray(ats))
            .status();
      });
}

}  // namespace postwarden::controller::store
