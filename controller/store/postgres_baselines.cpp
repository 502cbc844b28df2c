#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_rows.h"
#include "controller/store/postgres_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

namespace {

// getBaseline's lookup on `db`: the exact version, else the one version `version` is a unique
// hex prefix of.
Result<BaselineRecord> findBaseline(Connection& db, const std::string& name,
                                    const std::string& version) {
  {
    PW_ASSIGN_OR_RETURN(Rows rows, db.exec(std::string("SELECT ") + kBaselineColumns +
                                               " FROM baselines WHERE name = $1 AND version = $2",
                                           Params().text(name).text(version)));
    if (!rows.empty()) return baselineFromRow(rows, 0);
  }
  if (version.size() < 4 || !isHex(version)) {
    return InvalidArgumentError("baseline digest '" + version +
                                "' is not a prefix of at least 4 hex digits");
  }
  const std::string prefix = toLower(version);
  PW_ASSIGN_OR_RETURN(Rows rows,
                      db.exec(std::string("SELECT ") + kBaselineColumns +
                                  " FROM baselines WHERE name = $1 AND starts_with(version, $2) "
                                  "ORDER BY version LIMIT 2",
                              Params().text(name).text(prefix)));
  if (rows.empty()) {
    return NotFoundError("baseline '" + name + "' digest '" + version + "' not found");
  }
  if (rows.size() > 1) {
    return InvalidArgumentError("baseline '" + name + "' version prefix '" + version +
                                "' is ambiguous");
  }
  return baselineFromRow(rows, 0);
}

// FailedPrecondition naming a rollout while one of its pins holds hosts on `baseline` (the
// foreign key would refuse the delete too, but without saying which rollout).
Status refusePinned(Connection& db, const BaselineRecord& baseline) {
  PW_ASSIGN_OR_RETURN(Rows rows, db.exec("SELECT rollout_id, count(*) FROM rollout_pins WHERE "
                                         "baseline_name = $1 AND baseline_version = $2 GROUP BY "
                                         "rollout_id ORDER BY rollout_id LIMIT 1",
                                         Params().text(baseline.name).text(baseline.version)));
  if (rows.empty()) return OkStatus();
  return FailedPreconditionError("baseline '" + baseline.name + "' digest '" + baseline.version +
                                 "' holds " + std::to_string(rows.integer(0, 1)) +
                                 " host(s) of rollout '" + rows.text(0, 0) + "'");
}

}  // namespace

Result<bool> PostgresStore::putBaseline(const BaselineRecord& baseline) {
  PW_RETURN_IF_ERROR(checkText(baseline));
  bool inserted = false;
  PW_RETURN_IF_ERROR(runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(
            Rows rows, db.exec("SELECT content FROM baselines WHERE name = $1 AND version = $2",
                               Params().text(baseline.name).text(baseline.version)));
        if (!rows.empty()) {
          if (rows.text(0, 0) != baseline.content) {
            return AlreadyExistsError("baseline '" + baseline.name + "' digest '" +
                                      baseline.version + "' is stored with different content");
          }
          inserted = false;
          return OkStatus();
        }
        PW_RETURN_IF_ERROR(db.exec("INSERT INTO baselines (name, version, label, content, "
                                   "pushed_at) VALUES ($1, $2, $3, $4, $5)",
                                   Params()
                                       .text(baseline.name)
                                       .text(baseline.version)
                                       .text(baseline.label)
                                       .text(baseline.content)
                                       .integer(baseline.pushed_at))
                               .status());
        inserted = true;
        return pg::announce(db, kChangeTargeting);
      }));
  return inserted;
}

Result<BaselineRecord> PostgresStore::getBaseline(const std::string& name,
                                                  const std::string& version) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  return findBaseline(*db, name, version);
}

Result<std::vector<BaselineRecord>> PostgresStore::listBaselines() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec(std::string("SELECT ") + kBaselineColumns +
                                          " FROM baselines ORDER BY name, pushed_at, version"));
  std::vector<BaselineRecord> baselines;
  for (int r = 0; r < rows.size(); ++r) baselines.push_back(baselineFromRow(rows, r));
  return baselines;
}

Result<std::string> PostgresStore::deleteBaseline(const std::string& name,
                                                  const std::string& version,
                                                  const AssignmentsToDrop& drop) {
  std::string deleted;
  PW_RETURN_IF_ERROR(runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        // Resolved, and the assignments read, in the transaction that deletes: what `drop`
        // decides on cannot change before the commit.
        PW_ASSIGN_OR_RETURN(BaselineRecord baseline, findBaseline(db, name, version));
        PW_ASSIGN_OR_RETURN(std::vector<AssignmentRecord> all, readAssignments(db));
        PW_ASSIGN_OR_RETURN(std::vector<int64_t> dead, drop(baseline, all));
        PW_RETURN_IF_ERROR(refusePinned(db, baseline));
        for (int64_t id : dead) {
          PW_RETURN_IF_ERROR(
              db.exec("DELETE FROM assignments WHERE id = $1", Params().integer(id)).status());
        }
        PW_ASSIGN_OR_RETURN(Rows rows,
                            db.exec("DELETE FROM baselines WHERE name = $1 AND version = $2",
                                    Params().text(baseline.name).text(baseline.version)));
        if (rows.affected() == 0) {
          return NotFoundError("baseline '" + name + "' digest '" + version + "' not found");
        }
        deleted = baseline.version;
        return pg::announce(db, kChangeTargeting);
      }));
  return deleted;
}

Result<AssignmentRecord> PostgresStore::addAssignment(const AssignmentRecord& assignment) {
  PW_RETURN_IF_ERROR(checkText(assignment));
  AssignmentRecord stored = assignment;
  PW_RETURN_IF_ERROR(runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(
            Rows found,
            db.exec("SELECT 1 FROM baselines WHERE name = $1 AND version = $2 FOR SHARE",
                    Params().text(assignment.baseline_name).text(assignment.baseline_version)));
        if (found.empty()) {
          return NotFoundError("baseline '" + assignment.baseline_name + "' digest '" +
                               assignment.baseline_version + "' not found");
        }
        PW_ASSIGN_OR_RETURN(
            Rows rows,
            db.exec("INSERT INTO assignments (baseline_name, baseline_version, selector, mode, "
                    "created_at, repair_windows) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    Params()
                        .text(assignment.baseline_name)
                        .text(assignment.baseline_version)
                        .text(encodeLabels(assignment.selector))
                        .integer(static_cast<int64_t>(assignment.mode))
                        .integer(assignment.created_at)
                        .text(encodeWindows(assignment.repair_windows))));
        if (rows.empty()) return InternalError("INSERT ... RETURNING id returned no row");
        stored.id = rows.integer(0, 0);
        return pg::announce(db, kChangeTargeting);
      }));
  return stored;
}

Status PostgresStore::removeAssignment(int64_t id) {
  return runTransaction(
      *pool_, {.max_attempts = options_.max_attempts}, [&](Connection& db) -> Status {
        PW_ASSIGN_OR_RETURN(Rows rows,
                            db.exec("DELETE FROM assignments WHERE id = $1", Params().integer(id)));
        if (rows.affected() == 0) {
          return NotFoundError("assignment " + std::to_string(id) + " not found");
        }
        return pg::announce(db, kChangeTargeting);
      });
}

Result<std::vector<AssignmentRecord>> PostgresStore::listAssignments() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  return readAssignments(*db);
}

}  // namespace postwarden::controller::store
