#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <tuple>
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

// Retention in one statement, only for the agents that may have grown past a limit: each
// agent with new reports keeps its newest kReportsKeptPerAgent reports by arrival (the
// identity column, which spans epochs), each agent with new history rows its newest
// kHistoryKeptPerAgent history rows by (at, id), as insertHistory keeps them. An agent
// without new rows of a table has at most the limit there already.
Status trimAgents(Connection& db, const std::vector<std::string>& report_ids,
                  const std::vector<std::string>& history_ids) {
  return db
      .exec(
          "WITH trimmed_reports AS (DELETE FROM reports r USING (SELECT a.id AS agent_id, "
          "(SELECT id FROM reports WHERE agent_id = a.id ORDER BY id DESC LIMIT 1 OFFSET $3) "
          "AS cutoff FROM unnest($1::text[]) AS a (id)) c "
          "WHERE r.agent_id = c.agent_id AND r.id <= c.cutoff) "
          "DELETE FROM history h USING (SELECT a.id AS agent_id, k.at, k.id FROM "
          "unnest($2::text[]) AS a (id) CROSS JOIN LATERAL (SELECT at, id FROM history "
          "WHERE agent_id = a.id ORDER BY at DESC, id DESC LIMIT 1 OFFSET $4) k) c "
          "WHERE h.agent_id = c.agent_id AND (h.at, h.id) <= (c.at, c.id)",
          Params()
              .textArray(report_ids)
              .textArray(history_ids)
              .integer(PostgresStore::kReportsKeptPerAgent)
              .integer(PostgresStore::kHistoryKeptPerAgent))
      .status();
}

// What one batch does to one agent, folded from its stored reports in batch order: the net
// effect of applying them one after the other, as SqliteStore does, written in one go.
struct AgentEffect {
  uint64_t epoch = 0;  // of the last stored report
  uint64_t seq = 0;
  UnixMs seen = 0;                            // the latest received_at
  std::optional<Compliance> compliance;       // as the last state report or drift event left it
  const ReportWrite::State* state = nullptr;  // the last state report's
  const std::string* job_state = nullptr;     // the last non-empty job state
  bool drift_cleared = false;                 // a state report replaced the agent's drift
  bool drift_changed = false;
  // The drift rows to upsert, one per key: a later row replaces an earlier one, as a later
  // upsert does (one INSERT ... ON CONFLICT may not touch a row twice).
  std::map<std::tuple<std::string, std::string, std::string>, const DriftRow*> drift;
};

void foldDrift(AgentEffect& effect, const std::vector<DriftRow>& rows) {
  for (const DriftRow& row : rows) effect.drift[{row.file, row.service, row.parameter}] = &row;
}

void fold(AgentEffect& effect, const ReportWrite& write) {
  effect.epoch = write.epoch;
  effect.seq = write.seq;
  effect.seen = std::max(effect.seen, write.received_at);
  if (write.state.has_value()) {
    // A state report carries the agent's complete drift: replace, don't merge.
    effect.state = &*write.state;
    if (!write.state->job_state.empty()) effect.job_state = &write.state->job_state;
    effect.compliance = write.state->compliance;
    effect.drift_cleared = true;
    effect.drift_changed = true;
    effect.drift.clear();
    foldDrift(effect, write.state->drift);
  }
  if (!write.drift.empty()) {  // a drift event: rows added, the agent drifted
    effect.compliance = Compliance::kDrifted;
    effect.drift_changed = true;
    foldDrift(effect, write.drift);
  }
}

// The columns of a batch's new rows, one array per column, in batch order (the identity
// columns then number them in arrival order, which retention keeps by).
struct BatchRows {
  std::vector<std::string> agent, kind, body;
  std::vector<int64_t> epoch, seq, received_at;
  std::vector<std::string> history_agent, history_kind, history_summary;
  std::vector<int64_t> history_at;
  bool job_report = false;  // a rollout job's outcome among them

  void add(const ReportWrite& write) {
    agent.push_back(write.agent_id);
    epoch.push_back(static_cast<int64_t>(write.epoch));  // bit pattern kept; only compared
    seq.push_back(static_cast<int64_t>(write.seq));
    kind.push_back(write.kind);
    body.push_back(write.body);
    received_at.push_back(write.received_at);
    if (!write.history.kind.empty()) {
      history_agent.push_back(write.agent_id);
      history_at.push_back(write.history.at != 0 ? write.history.at : write.received_at);
      history_kind.push_back(write.history.kind);
      history_summary.push_back(write.history.summary);
    }
    job_report = job_report || (write.state && !write.state->job_state.empty());
  }
};

Status insertRows(Connection& db, const BatchRows& rows) {
  PW_RETURN_IF_ERROR(
      db.exec("INSERT INTO reports (agent_id, epoch, seq, kind, body, received_at) "
              "SELECT agent_id, epoch, seq, kind, body, received_at FROM unnest($1::text[], "
              "$2::bigint[], $3::bigint[], $4::text[], $5::bytea[], $6::bigint[]) WITH ORDINALITY "
              "AS v (agent_id, epoch, seq, kind, body, received_at, n) ORDER BY n",
              Params()
                  .textArray(rows.agent)
                  .integerArray(rows.epoch)
                  .integerArray(rows.seq)
                  .textArray(rows.kind)
                  .bytesArray(rows.body)
                  .integerArray(rows.received_at))
          .status());
  if (rows.history_agent.empty()) return OkStatus();
  // Trimmed once per agent before the batch commits (trimAgents).
  return db
      .exec(
          "INSERT INTO history (agent_id, at, kind, summary) SELECT agent_id, at, kind, "
          "summary FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) WITH "
          "ORDINALITY AS v (agent_id, at, kind, summary, n) ORDER BY n",
          Params()
              .textArray(rows.history_agent)
              .integerArray(rows.history_at)
              .textArray(rows.history_kind)
              .textArray(rows.history_summary))
      .status();
}

// The drift of every agent of the batch: the replaced drift deleted, then one upsert of every
// row left to write, from arrays.
Status writeDrift(Connection& db, const std::map<std::string, AgentEffect>& effects) {
  std::vector<std::string> cleared, agent, file, service, parameter, expected, actual;
  std::vector<bool> expected_absent, actual_absent;
  std::vector<int64_t> detected_at;
  for (const auto& [id, effect] : effects) {
    if (effect.drift_cleared) cleared.push_back(id);
    for (const auto& [key, row] : effect.drift) {
      agent.push_back(id);
      file.push_back(row->file);
      service.push_back(row->service);
      parameter.push_back(row->parameter);
      expected.push_back(row->expected);
      actual.push_back(row->actual);
      expected_absent.push_back(row->expected_absent);
      actual_absent.push_back(row->actual_absent);
      detected_at.push_back(row->detected_at);
    }
  }
  if (!cleared.empty()) {
    PW_RETURN_IF_ERROR(
        db.exec("DELETE FROM drift WHERE agent_id = ANY($1)", Params().textArray(cleared))
            .status());
  }
  if (agent.empty()) return OkStatus();
  return db
      .exec(std::string("INSERT INTO drift (") + kDriftColumns +
                ") SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
                "$5::text[], $6::text[], $7::boolean[], $8::boolean[], $9::bigint[]) "
                "ON CONFLICT (agent_id, file, service, parameter) DO UPDATE SET "
                "expected = excluded.expected, actual = excluded.actual, "
                "expected_absent = excluded.expected_absent, "
                "actual_absent = excluded.actual_absent, detected_at = excluded.detected_at",
            Params()
                .textArray(agent)
                .textArray(file)
                .textArray(service)
                .textArray(parameter)
                .textArray(expected)
                .textArray(actual)
                .booleanArray(expected_absent)
                .booleanArray(actual_absent)
                .integerArray(detected_at))
      .status();
}

// Every agent row the batch changes, in one UPDATE from arrays: the last state report's
// baseline, mode and state, the last job state, compliance, the drift count (after
// writeDrift), the counter and last_seen. Columns a report did not touch keep their value.
Status updateAgents(Connection& db, const std::map<std::string, AgentEffect>& effects) {
  std::vector<std::string> ids, baseline_name, baseline_version, last_state, job_state;
  std::vector<int64_t> epoch, seq, seen, compliance, mode;
  std::vector<bool> drift_changed, has_state, has_job;
  for (const auto& [id, effect] : effects) {
    const ReportWrite::State* state = effect.state;
    ids.push_back(id);
    epoch.push_back(static_cast<int64_t>(effect.epoch));
    seq.push_back(static_cast<int64_t>(effect.seq));
    seen.push_back(effect.seen);
    compliance.push_back(effect.compliance ? static_cast<int64_t>(*effect.compliance) : -1);
    drift_changed.push_back(effect.drift_changed);
    has_state.push_back(state != nullptr);
    baseline_name.push_back(state ? state->baseline_name : "");
    baseline_version.push_back(state ? state->baseline_version : "");
    mode.push_back(state ? static_cast<int64_t>(state->mode) : 0);
    last_state.push_back(state ? state->serialized : "");
    has_job.push_back(effect.job_state != nullptr);
    job_state.push_back(effect.job_state ? *effect.job_state : "");
  }
  return db
      .exec(
          "UPDATE agents a SET "
          "baseline_name = CASE WHEN v.has_state THEN v.baseline_name ELSE a.baseline_name END, "
          "baseline_version = CASE WHEN v.has_state THEN v.baseline_version "
          "ELSE a.baseline_version END, "
          "mode = CASE WHEN v.has_state THEN v.mode ELSE a.mode END, "
          "last_state = CASE WHEN v.has_state THEN v.last_state ELSE a.last_state END, "
          "last_job_state = CASE WHEN v.has_job THEN v.job_state ELSE a.last_job_state END, "
          "compliance = CASE WHEN v.compliance >= 0 THEN v.compliance ELSE a.compliance END, "
          "drifted_parameters = CASE WHEN v.drift_changed THEN "
          "(SELECT count(*) FROM drift d WHERE d.agent_id = a.id) ELSE a.drifted_parameters END, "
          "seq_epoch = v.epoch, last_seq = v.seq, last_seen = greatest(a.last_seen, v.seen) "
          "FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], "
          "$6::boolean[], $7::boolean[], $8::text[], $9::text[], $10::bigint[], $11::bytea[], "
          "$12::boolean[], $13::bytea[]) AS v (id, epoch, seq, seen, compliance, drift_changed, "
          "has_state, baseline_name, baseline_version, mode, last_state, has_job, job_state) "
          "WHERE a.id = v.id",
          Params()
              .textArray(ids)
              .integerArray(epoch)
              .integerArray(seq)
              .integerArray(seen)
              .integerArray(compliance)
              .booleanArray(drift_changed)
              .booleanArray(has_state)
              .textArray(baseline_name)
              .textArray(baseline_version)
              .integerArray(mode)
              .bytesArray(last_state)
              .booleanArray(has_job)
              .bytesArray(job_state))
      .status();
}

// One batch in a constant number of statements, whatever its size: the counters locked, the
// sequence rule applied here, then every table written once from arrays. `stored` gets one
// entry per write: true when stored, false for a redelivery. Writes nothing on an error.
Status writeBatch(Connection& db, std::span<const ReportWrite> writes, std::vector<bool>& stored) {
  stored.clear();  // a retry starts over
  stored.reserve(writes.size());
  PW_ASSIGN_OR_RETURN(auto counters, storedCounters(db, writes));
  std::map<std::string, AgentEffect> effects;
  BatchRows rows;
  for (const ReportWrite& write : writes) {
    PW_ASSIGN_OR_RETURN(bool fresh, admitReport(write, counters[write.agent_id]));
    stored.push_back(fresh);
    if (!fresh) continue;  // a redelivery: already stored, acknowledge again
    fold(effects[write.agent_id], write);
    rows.add(write);
  }
  if (effects.empty()) return OkStatus();
  PW_RETURN_IF_ERROR(insertRows(db, rows));
  PW_RETURN_IF_ERROR(writeDrift(db, effects));
  PW_RETURN_IF_ERROR(updateAgents(db, effects));
  // A rollout job's outcome: whichever replica stored it, the leader's rollout loop steps on
  // it at once (coordination.h), as it does for the reports it stores itself.
  if (rows.job_report) PW_RETURN_IF_ERROR(pg::announce(db, kChangeJobReport));
  std::vector<std::string> ids;
  ids.reserve(effects.size());
  for (const auto& entry : effects) ids.push_back(entry.first);
  std::vector<std::string> history_ids(rows.history_agent);
  std::sort(history_ids.begin(), history_ids.end());
  history_ids.erase(std::unique(history_ids.begin(), history_ids.end()), history_ids.end());
  return trimAgents(db, ids, history_ids);
}

}  // namespace

Result<std::vector<bool>> PostgresStore::recordReports(std::span<const ReportWrite> writes) {
  PW_RETURN_IF_ERROR(checkReportWrites(writes));
  std::vector<bool> stored;
  if (writes.empty()) return stored;
  // All of the batch in one transaction (group commit): one WAL flush for every report in it.
  // READ COMMITTED: storedCounters locks the batch's agents first, and every row written
  // belongs to one of them; the sequence rule is decided on the locked, current counters.
  PW_RETURN_IF_ERROR(
      runTransaction(reportPool(), {.read_committed = true, .max_attempts = options_.max_attempts},
                     [&](Connection& db) -> Status { return writeBatch(db, writes, stored); }));
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
