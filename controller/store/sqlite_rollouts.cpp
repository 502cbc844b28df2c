// SqliteStore's RolloutStore half (rollout_store.h): a step (record, pins, audit) is one
// transaction, and the record is written only while its revision is the one the caller read.
#include <mutex>
#include <utility>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/sqlite_store.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

namespace {

Status insertAudit(Database& db, std::span<const AuditRow> rows) {
  for (const AuditRow& a : rows) {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("INSERT INTO audit (at, actor, rollout_id, action, host, "
                                   "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
    stmt.bindInt(1, a.at)
        .bindText(2, a.actor)
        .bindText(3, a.rollout_id)
        .bindText(4, a.action)
        .bindText(5, a.host)
        .bindText(6, a.detail);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  return OkStatus();
}

constexpr char kRolloutColumns[] = "id, record, active, created_at, updated_at, revision";

RolloutRow rolloutFromRow(Statement& stmt) {
  return RolloutRow{.id = stmt.columnText(0),
                    .record = stmt.columnText(1),
                    .active = stmt.columnInt(2) != 0,
                    .created_at = stmt.columnInt(3),
                    .updated_at = stmt.columnInt(4),
                    .revision = stmt.columnInt(5)};
}

// Why an update of rollout `row` changed no row: it is gone, or another save raised its
// revision since `row` was read.
Status whyNotSaved(Database& db, const RolloutRow& row) {
  PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("SELECT revision FROM rollouts WHERE id = ?1"));
  stmt.bindText(1, row.id);
  PW_ASSIGN_OR_RETURN(bool exists, stmt.step());
  if (!exists) return NotFoundError("rollout '" + row.id + "' not found");
  return staleRolloutError(row.id, row.revision, stmt.columnInt(0));
}

}  // namespace

Status SqliteStore::createRollout(const RolloutRow& row, std::span<const AuditRow> audit) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("SELECT 1 FROM rollouts WHERE id = ?1"));
    stmt.bindText(1, row.id);
    PW_ASSIGN_OR_RETURN(bool exists, stmt.step());
    if (exists) return AlreadyExistsError("rollout '" + row.id + "' exists");
  }
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("INSERT INTO rollouts (id, record, active, created_at, "
                                 "updated_at, revision) VALUES (?1, ?2, ?3, ?4, ?5, 1)"));
  stmt.bindText(1, row.id)
      .bindBlob(2, row.record)
      .bindInt(3, row.active ? 1 : 0)
      .bindInt(4, row.created_at)
      .bindInt(5, row.updated_at);
  PW_RETURN_IF_ERROR(stmt.run());
  PW_RETURN_IF_ERROR(insertAudit(db, audit));
  return txn->commit();
}

Status SqliteStore::saveRollout(const RolloutRow& row, std::span<const PinRow> pins,
                                std::span<const AuditRow> audit) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("UPDATE rollouts SET record = ?2, active = ?3, updated_at = "
                                   "?4, revision = revision + 1 WHERE id = ?1 AND revision = ?5"));
    stmt.bindText(1, row.id).bindBlob(2, row.record).bindInt(3, row.active ? 1 : 0);
    stmt.bindInt(4, row.updated_at).bindInt(5, row.revision);
    PW_RETURN_IF_ERROR(stmt.run());
    // Returning rolls the transaction back: nothing of this save is stored.
    if (db.changes() == 0) return whyNotSaved(db, row);
  }
  for (const PinRow& pin : pins) {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("INSERT OR REPLACE INTO rollout_pins (agent_id, baseline_name, "
                   "baseline_version, rollout_id, job) VALUES (?1, ?2, ?3, ?4, ?5)"));
    stmt.bindText(1, pin.agent_id)
        .bindText(2, pin.baseline_name)
        .bindText(3, pin.baseline_version)
        .bindText(4, pin.rollout_id)
        .bindBlob(5, pin.job);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  PW_RETURN_IF_ERROR(insertAudit(db, audit));
  return txn->commit();
}

Status SqliteStore::addAudit(const AuditRow& row) {
  std::lock_guard lock(mu_);
  return insertAudit(*db_, std::span(&row, 1));
}

Result<RolloutRow> SqliteStore::getRollout(const std::string& id) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare(std::string("SELECT ") + kRolloutColumns +
                                                   " FROM rollouts WHERE id = ?1"));
  stmt.bindText(1, id);
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) return NotFoundError("rollout '" + id + "' not found");
  return rolloutFromRow(stmt);
}

Result<std::vector<RolloutRow>> SqliteStore::listRollouts(bool active_only) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare(std::string("SELECT ") + kRolloutColumns +
                                   " FROM rollouts WHERE active >= ?1 ORDER BY created_at, id"));
  stmt.bindInt(1, active_only ? 1 : 0);
  std::vector<RolloutRow> out;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(rolloutFromRow(stmt));
  }
  return out;
}

Result<std::vector<PinRow>> SqliteStore::listPins() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db_->prepare("SELECT agent_id, baseline_name, baseline_version, "
                                   "rollout_id, job FROM rollout_pins ORDER BY agent_id"));
  std::vector<PinRow> out;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(PinRow{.agent_id = stmt.columnText(0),
                         .baseline_name = stmt.columnText(1),
                         .baseline_version = stmt.columnText(2),
                         .rollout_id = stmt.columnText(3),
                         .job = stmt.columnText(4)});
  }
  return out;
}

Result<std::vector<AuditRow>> SqliteStore::audit(const std::string& rollout_id, UnixMs since,
                                                 int limit) {
  std::lock_guard lock(mu_);
  // The newest `limit` rows that match, returned oldest first.
  PW_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->prepare("SELECT id, at, actor, rollout_id, action, host, detail FROM (SELECT * FROM "
                   "audit WHERE (?1 = '' OR rollout_id = ?1) AND at >= ?2 ORDER BY id DESC "
                   "LIMIT ?3) ORDER BY id"));
  stmt.bindText(1, rollout_id).bindInt(2, since).bindInt(3, limit);
  std::vector<AuditRow> out;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    out.push_back(AuditRow{.id = stmt.columnInt(0),
                           .at = stmt.columnInt(1),
                           .actor = stmt.columnText(2),
                           .rollout_id = stmt.columnText(3),
                           .action = stmt.columnText(4),
                           .host = stmt.columnText(5),
                           .detail = stmt.columnText(6)});
  }
  return out;
}

}  // namespace postwarden::controller::store
