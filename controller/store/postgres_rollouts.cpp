// PostgresStore's RolloutStore half (rollout_store.h), as SqliteStore's sqlite_rollouts.cpp:
// a step (record, pins, audit) is one transaction, writing the record only while its revision
// is the one the caller read; audit ids come from an identity column and increase. A pin naming a
// missing baseline fails the step with FailedPrecondition (the foreign key, SQLSTATE 23503), and
// nothing of it is stored.
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/postgres_store.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

namespace {

Status insertAudit(Connection& db, std::span<const AuditRow> rows) {
  for (const AuditRow& a : rows) {
    PW_RETURN_IF_ERROR(db.exec("INSERT INTO audit (at, actor, rollout_id, action, host, detail) "
                               "VALUES ($1, $2, $3, $4, $5, $6)",
                               Params()
                                   .integer(a.at)
                                   .text(a.actor)
                                   .text(a.rollout_id)
                                   .text(a.action)
                                   .text(a.host)
                                   .text(a.detail))
                           .status());
  }
  return OkStatus();
}

constexpr char kRolloutColumns[] = "id, record, active, created_at, updated_at, revision";

RolloutRow rolloutFromRow(const Rows& rows, int r) {
  return RolloutRow{.id = rows.text(r, 0),
                    .record = rows.bytes(r, 1),
                    .active = rows.boolean(r, 2),
                    .created_at = rows.integer(r, 3),
                    .updated_at = rows.integer(r, 4),
                    .revision = rows.integer(r, 5)};
}

// Why an update of rollout `row` changed no row: it is gone, or another save raised its
// revision since `row` was read.
Status whyNotSaved(Connection& db, const RolloutRow& row) {
  PW_ASSIGN_OR_RETURN(
      Rows rows, db.exec("SELECT revision FROM rollouts WHERE id = $1", Params().text(row.id)));
  if (rows.empty()) return NotFoundError("rollout '" + row.id + "' not found");
  return staleRolloutError(row.id, row.revision, rows.integer(0, 0));
}

}  // namespace

Status PostgresStore::createRollout(const RolloutRow& row, std::span<const AuditRow> audit) {
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(Rows rows,
                            db.exec(std::string("INSERT INTO rollouts (") + kRolloutColumns +
                                        ") VALUES ($1, $2, $3, $4, $5, 1) "
                                        "ON CONFLICT (id) DO NOTHING",
                                    Params()
                                        .text(row.id)
                                        .bytes(row.record)
                                        .boolean(row.active)
                                        .integer(row.created_at)
                                        .integer(row.updated_at)));
        if (rows.affected() == 0) return AlreadyExistsError("rollout '" + row.id + "' exists");
        PW_RETURN_IF_ERROR(pg::announce(db, kChangeRollout));
        return insertAudit(db, audit);
      });
}

Status PostgresStore::saveRollout(const RolloutRow& row, std::span<const PinRow> pins,
                                  std::span<const AuditRow> audit) {
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(
            Rows updated,
            db.exec("UPDATE rollouts SET record = $2, active = $3, updated_at = $4, revision = "
                    "revision + 1 WHERE id = $1 AND revision = $5",
                    Params()
                        .text(row.id)
                        .bytes(row.record)
                        .boolean(row.active)
                        .integer(row.updated_at)
                        .integer(row.revision)));
        // Returning rolls the transaction back: nothing of this save is stored.
        if (updated.affected() == 0) return whyNotSaved(db, row);
        for (const PinRow& pin : pins) {
          PW_RETURN_IF_ERROR(
              db.exec("INSERT INTO rollout_pins (agent_id, baseline_name, baseline_version, "
                      "rollout_id, job) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agent_id) DO "
                      "UPDATE SET baseline_name = excluded.baseline_name, baseline_version = "
                      "excluded.baseline_version, rollout_id = excluded.rollout_id, job = "
                      "excluded.job",
                      Params()
                          .text(pin.agent_id)
                          .text(pin.baseline_name)
                          .text(pin.baseline_version)
                          .text(pin.rollout_id)
                          .bytes(pin.job))
                  .status()
                  .withContext("pinning '" + pin.agent_id + "'"));
        }
        PW_RETURN_IF_ERROR(pg::announce(db, kChangeRollout));
        return insertAudit(db, audit);
      });
}

Status PostgresStore::addAudit(const AuditRow& row) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  return insertAudit(*db, std::span(&row, 1));
}

Result<RolloutRow> PostgresStore::getRollout(const std::string& id) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(
      Rows rows, db->exec(std::string("SELECT ") + kRolloutColumns + " FROM rollouts WHERE id = $1",
                          Params().text(id)));
  if (rows.empty()) return NotFoundError("rollout '" + id + "' not found");
  return rolloutFromRow(rows, 0);
}

Result<std::vector<RolloutRow>> PostgresStore::listRollouts(bool active_only) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec(std::string("SELECT ") + kRolloutColumns +
                                              " FROM rollouts WHERE active OR NOT $1 "
                                              "ORDER BY created_at, id",
                                          Params().boolean(active_only)));
  std::vector<RolloutRow> out;
  out.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) out.push_back(rolloutFromRow(rows, r));
  return out;
}

Result<std::vector<PinRow>> PostgresStore::listPins() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec("SELECT agent_id, baseline_name, baseline_version, "
                                          "rollout_id, job FROM rollout_pins ORDER BY agent_id"));
  std::vector<PinRow> out;
  out.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back(PinRow{.agent_id = rows.text(r, 0),
                         .baseline_name = rows.text(r, 1),
                         .baseline_version = rows.text(r, 2),
                         .rollout_id = rows.text(r, 3),
                         .job = rows.bytes(r, 4)});
  }
  return out;
}

Result<std::vector<AuditRow>> PostgresStore::audit(const std::string& rollout_id, UnixMs since,
                                                   int limit) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  // The newest `limit` rows that match (a negative limit: all, as SQLite's), oldest first.
  PW_ASSIGN_OR_RETURN(
      Rows rows,
      db->exec("SELECT id, at, actor, rollout_id, action, host, detail FROM (SELECT * FROM "
               "audit WHERE ($1 = '' OR rollout_id = $1) AND at >= $2 ORDER BY id DESC "
               "LIMIT $3) newest ORDER BY id",
               Params()
                   .text(rollout_id)
                   .integer(since)
                   .integer(limit < 0 ? std::numeric_limits<int64_t>::max() : limit)));
  std::vector<AuditRow> out;
  out.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    out.push_back(AuditRow{.id = rows.integer(r, 0),
                           .at = rows.integer(r, 1),
                           .actor = rows.text(r, 2),
                           .rollout_id = rows.text(r, 3),
                           .action = rows.text(r, 4),
                           .host = rows.text(r, 5),
                           .detail = rows.text(r, 6)});
  }
  return out;
}

}  // namespace postwarden::controller::store
