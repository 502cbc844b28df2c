#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <set>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/internal/sqlite_rows.h"
#include "controller/store/report_sequence.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

namespace {

using Counter = SequenceCounter;

// The agent's counter as stored, or NotFound (which fails the whole batch).
Result<Counter> storedCounter(Database& db, const std::string& agent_id) {
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("SELECT seq_epoch, last_seq FROM agents WHERE id = ?1"));
  stmt.bindText(1, agent_id);
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) {
    return NotFoundError("report from unknown agent '" + agent_id +
                         "'; no report of the batch was stored");
  }
  return Counter{static_cast<uint64_t>(stmt.columnInt(0)),
                 static_cast<uint64_t>(stmt.columnInt(1))};
}

// A state report's effect on the agent: its baseline and compliance, and its complete drift.
Status applyState(Database& db, const std::string& agent_id, const ReportWrite::State& state) {
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
  if (!state.job_state.empty()) {
    PW_ASSIGN_OR_RETURN(Statement job,
                        db.prepare("UPDATE agents SET last_job_state = ?2 WHERE id = ?1"));
    job.bindText(1, agent_id).bindBlob(2, state.job_state);
    PW_RETURN_IF_ERROR(job.run());
  }
  // A state report carries the agent's complete drift: replace, don't merge.
  PW_RETURN_IF_ERROR(runForAgent(db, "DELETE FROM drift WHERE agent_id = ?1", agent_id));
  for (const DriftRow& row : state.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
  return OkStatus();
}

// Stores one write against `counter`: true when stored, false for a redelivery.
Result<bool> applyReport(Database& db, const ReportWrite& write, Counter& counter) {
  const std::string& agent_id = write.agent_id;
  PW_ASSIGN_OR_RETURN(bool fresh, admitReport(write, counter));
  if (!fresh) return false;  // a redelivery: already stored, acknowledge again
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
    PW_RETURN_IF_ERROR(applyState(db, agent_id, *write.state));
    drift_changed = true;
  }
  if (!write.drift.empty()) {
    for (const DriftRow& row : write.drift) PW_RETURN_IF_ERROR(upsertDrift(db, agent_id, row));
    PW_RETURN_IF_ERROR(runForAgent(db, "UPDATE agents SET compliance = ?2 WHERE id = ?1", agent_id,
                                   {static_cast<int64_t>(Compliance::kDrifted)}));
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
    PW_RETURN_IF_ERROR(insertHistory(db, agent_id, at, write.history.kind, write.history.summary));
  }
  return true;
}

}  // namespace

Result<std::vector<bool>> SqliteStore::recordReports(std::span<const ReportWrite> writes) {
  PW_RETURN_IF_ERROR(checkReportWrites(writes));
  std::vector<bool> stored;
  stored.reserve(writes.size());
  if (writes.empty()) return stored;

  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  std::map<std::string, Counter> counters;
  std::set<std::string> grown;  // agents with new rows: only they may exceed the limit
  for (const ReportWrite& write : writes) {
    auto it = counters.find(write.agent_id);
    if (it == counters.end()) {
      PW_ASSIGN_OR_RETURN(Counter counter, storedCounter(db, write.agent_id));
      it = counters.emplace(write.agent_id, counter).first;
    }
    PW_ASSIGN_OR_RETURN(bool was_new, applyReport(db, write, it->second));
    stored.push_back(was_new);
    if (was_new) grown.insert(write.agent_id);
  }
  for (const std::string& agent_id : grown) {
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

}  // namespace postwarden::controller::store
