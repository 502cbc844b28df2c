#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/postgres_store.h"
#include "controller/store/report_sequence.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

namespace {

using Counter = SequenceCounter;

// The counters of every agent of a batch, their rows locked (FOR UPDATE, in id order, so
// concurrent batches for the same agents queue instead of deadlocking), in one statement; or
// NotFound naming the first unknown agent in the batch's order (which fails the whole batch).
Result<std::map<std::string, Counter>> storedCounters(Connection& db,
                                                      std::span<const ReportWrite> writes) {
  std::map<std::string, Counter> counters;
  for (const ReportWrite& write : writes) counters.emplace(write.agent_id, Counter{});
  std::vector<std::string> ids;
  ids.reserve(counters.size());
  for (const auto& entry : counters) ids.push_back(entry.first);
  PW_ASSIGN_OR_RETURN(Rows rows, db.exec("SELECT id, seq_epoch, last_seq FROM agents "
                                         "WHERE id = ANY($1) ORDER BY id FOR UPDATE",
                                         Params().textArray(ids)));
  std::map<std::string, Counter> found;
  for (int r = 0; r < rows.size(); ++r) {
    found.emplace(rows.text(r, 0), Counter{static_cast<uint64_t>(rows.integer(r, 1)),
                                           static_cast<uint64_t>(rows.integer(r, 2))});
  }
  for (const ReportWrite& write : writes) {
    if (found.count(write.agent_id) == 0) {
      return NotFoundError("report from unknown agent '" + write.agent_id +
                           "'; no report of the batch was stored");
    }
  }
  return found;
}

// Retention for the agents of a batch, in two statements: each agent's newest
// kReportsKeptPerAgent reports by arrival (the identity column, which spans epochs), and its
// newest kHistoryKeptPerAgent history rows by (at, id), as insertHistory keeps them.
Status trimAgents(Connection& db, const std::vector<std::string>& ids) {
  PW_RETURN_IF_ERROR(db.exec("DELETE FROM reports r USING (SELECT a.id AS agent_id, "
                             "(SELECT id FROM reports WHERE agent_id = a.id ORDER BY id DESC "
                             "LIMIT 1 OFFSET $2) AS cutoff FROM unnest($1::text[]) AS a (id)) c "
                             "WHERE r.agent_id = c.agent_id AND r.id <= c.cutoff",
                             Params().textArray(ids).integer(PostgresStore::kReportsKeptPerAgent))
                         .status());
  return db
      .exec(
          "DELETE FROM history h USING (SELECT a.id AS agent_id, k.at, k.id FROM "
          "unnest($1::text[]) AS a (id) CROSS JOIN LATERAL (SELECT at, id FROM history "
          "WHERE agent_id = a.id ORDER BY at DESC, id DESC LIMIT 1 OFFSET $2) k) c "
          "WHERE h.agent_id = c.agent_id AND (h.at, h.id) <= (c.at, c.id)",
          Params().textArray(ids).integer(PostgresStore::kHistoryKeptPerAgent))
      .status();
}

// A state report's effect on the agent: its baseline and compliance, and its complete drift.
Status applyState(Connection& db, const std::string& agent_id, const ReportWrite::State& state) {
  PW_RETURN_IF_ERROR(db.exec("UPDATE agents SET baseline_name = $2, baseline_version = $3, "
                             "mode = $4, compliance = $5, last_state = $6 WHERE id = $1",
                             Params()
                                 .text(agent_id)
                                 .text(state.baseline_name)
                                 .text(state.baseline_version)
                                 .integer(static_cast<int64_t>(state.mode))
                                 .integer(static_cast<int64_t>(state.compliance))
                                 .bytes(state.serialized))
                         .status());
  if (!state.job_state.empty()) {
    PW_RETURN_IF_ERROR(db.exec("UPDATE agents SET last_job_state = $2 WHERE id = $1",
                               Params().text(agent_id).bytes(state.job_state))
                           .status());
  }
  // A state report carries the agent's complete drift: replace, don't merge.
  PW_RETURN_IF_ERROR(
      db.exec("DELETE FROM drift WHERE agent_id = $1", Params().text(agent_id)).status());
  for (const DriftRow& row : state.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
  return OkStatus();
}

// Stores one write against `counter`: true when stored, false for a redelivery.
Result<bool> applyReport(Connection& db, const ReportWrite& write, Counter& counter) {
  const std::string& agent_id = write.agent_id;
  PW_ASSIGN_OR_RETURN(bool fresh, admitReport(write, counter));
  if (!fresh) return false;  // a redelivery: already stored, acknowledge again
  const auto seq = static_cast<int64_t>(write.seq);
  const auto epoch = static_cast<int64_t>(write.epoch);  // bit pattern kept; only compared
  PW_RETURN_IF_ERROR(db.exec("INSERT INTO reports (agent_id, epoch, seq, kind, body, "
                             "received_at) VALUES ($1, $2, $3, $4, $5, $6)",
                             Params()
                                 .text(agent_id)
                                 .integer(epoch)
                                 .integer(seq)
                                 .text(write.kind)
                                 .bytes(write.body)
                                 .integer(write.received_at))
                         .status());
  if (write.state.has_value()) PW_RETURN_IF_ERROR(applyState(db, agent_id, *write.state));
  for (const DriftRow& row : write.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
  // One statement for the rest of the agent's row (fewer round trips than SQLite's three):
  // drifted by a drift event, the drift count when drift changed, the counter, last_seen.
  const bool drift_event = !write.drift.empty();
  const bool drift_changed = drift_event || write.state.has_value();
  PW_RETURN_IF_ERROR(
      db.exec("UPDATE agents SET compliance = CASE WHEN $5 THEN $6 ELSE compliance END, "
              "drifted_parameters = CASE WHEN $7 THEN "
              "(SELECT count(*) FROM drift WHERE agent_id = $1) ELSE drifted_parameters END, "
              "seq_epoch = $2, last_seq = $3, last_seen = greatest(last_seen, $4) WHERE id = $1",
              Params()
                  .text(agent_id)
                  .integer(epoch)
                  .integer(seq)
                  .integer(write.received_at)
                  .boolean(drift_event)
                  .integer(static_cast<int64_t>(Compliance::kDrifted))
                  .boolean(drift_changed))
          .status());
  if (!write.history.kind.empty()) {
    // Trimmed once per agent before the batch commits (recordReports).
    UnixMs at = write.history.at != 0 ? write.history.at : write.received_at;
    PW_RETURN_IF_ERROR(
        insertHistoryUntrimmed(db, agent_id, at, write.history.kind, write.history.summary));
  }
  return true;
}

}  // namespace

Result<std::vector<bool>> PostgresStore::recordReports(std::span<const ReportWrite> writes) {
  PW_RETURN_IF_ERROR(checkReportWrites(writes));
  std::vector<bool> stored;
  if (writes.empty()) return stored;
  // All of the batch in one transaction (group commit): one WAL flush for every report in it.
  // READ COMMITTED: storedCounters locks the batch's agents first, and every row written
  // belongs to one of them; the sequence rule is decided on the locked, current counters.
  PW_RETURN_IF_ERROR(runTransaction(
      *pool_, {.read_committed = true, .max_attempts = options_.max_attempts},
      [&](Connection& db) -> Status {
        stored.clear();  // a retry starts over
        stored.reserve(writes.size());
        PW_ASSIGN_OR_RETURN(auto counters, storedCounters(db, writes));
        bool job_report = false;
        for (const ReportWrite& write : writes) {
          PW_ASSIGN_OR_RETURN(bool was_new, applyReport(db, write, counters[write.agent_id]));
          stored.push_back(was_new);
          job_report = job_report || (was_new && write.state && !write.state->job_state.empty());
        }
        // A rollout job's outcome: whichever replica stored it, the leader's rollout loop
        // steps on it at once (coordination.h), as it does for the reports it stores itself.
        if (job_report) PW_RETURN_IF_ERROR(pg::announce(db, kChangeJobReport));
        std::vector<std::string> ids;
        ids.reserve(counters.size());
        for (const auto& entry : counters) ids.push_back(entry.first);
        PW_RETURN_IF_ERROR(trimAgents(db, ids));
        return OkStatus();
      }));
  return stored;
}

Result<std::vector<DriftRow>> PostgresStore::listDrift() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec(std::string("SELECT ") + kDriftColumns +
                                          " FROM drift ORDER BY agent_id, file, service, "
                                          "parameter"));
  std::vector<DriftRow> out;
  for (int r = 0; r < rows.size(); ++r) out.push_back(driftFromRow(rows, r));
  return out;
}

Result<std::vector<DriftRow>> PostgresStore::agentDrift(const std::string& id) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec(std::string("SELECT ") + kDriftColumns +
                                              " FROM drift WHERE agent_id = $1 "
                                              "ORDER BY file, service, parameter",
                                          Params().text(id)));
  std::vector<DriftRow> out;
  for (int r = 0; r < rows.size(); ++r) out.push_back(driftFromRow(rows, r));
  return out;
}

Result<std::vector<HistoryRow>> PostgresStore::history(const std::string& id, int limit) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  // LIMIT NULL: no limit.
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec("SELECT agent_id, at, kind, summary FROM history "
                                          "WHERE agent_id = $1 ORDER BY at DESC, id DESC "
                                          "LIMIT CASE WHEN $2 > 0 THEN $2 END",
                                          Params().text(id).integer(limit)));
  std::vector<HistoryRow> out;
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back(HistoryRow{.agent_id = rows.text(r, 0),
                             .at = rows.integer(r, 1),
                             .kind = rows.text(r, 2),
                             .summary = rows.text(r, 3)});
  }
  return out;
}

Status PostgresStore::addHistory(const HistoryRow& row) {
  PW_RETURN_IF_ERROR(checkText(row));
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(
            Rows found, db.exec("SELECT 1 FROM agents WHERE id = $1", Params().text(row.agent_id)));
        if (found.empty()) return NotFoundError("agent '" + row.agent_id + "' not found");
        return insertHistory(db, row.agent_id, row.at, row.kind, row.summary);
      });
}

}  // namespace postwarden::controller::store
