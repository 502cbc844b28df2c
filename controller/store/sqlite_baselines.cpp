#include <cstdint>
#include <mutex>
#include <utility>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/internal/sqlite_rows.h"
#include "controller/store/sqlite_store.h"
#include "controller/store/text.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

Result<bool> SqliteStore::putBaseline(const BaselineRecord& baseline) {
  PW_RETURN_IF_ERROR(checkText(baseline));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("SELECT content FROM baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, baseline.name).bindText(2, baseline.version);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) {
      if (stmt.columnText(0) != baseline.content) {
        return AlreadyExistsError("baseline '" + baseline.name + "' digest '" + baseline.version +
                                  "' is stored with different content");
      }
      return false;  // the transaction rolls back; nothing was written
    }
  }
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("INSERT INTO baselines (name, version, label, content, "
                                 "pushed_at) VALUES (?1, ?2, ?3, ?4, ?5)"));
  stmt.bindText(1, baseline.name)
      .bindText(2, baseline.version)
      .bindText(3, baseline.label)
      .bindText(4, baseline.content)
      .bindInt(5, baseline.pushed_at);
  PW_RETURN_IF_ERROR(stmt.run());
  PW_RETURN_IF_ERROR(txn->commit());
  return true;
}

Result<BaselineRecord> SqliteStore::getBaseline(const std::string& name,
                                                const std::string& version) {
  std::lock_guard lock(mu_);
  Database& db = *db_;
  {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare(std::string("SELECT ") + kBaselineColumns +
                                                   " FROM "
                                                   "baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, name).bindText(2, version);
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (row) return baselineFromRow(stmt);
  }
  if (version.size() < 4 || !isHex(version)) {
    return InvalidArgumentError("baseline digest '" + version +
                                "' is not a prefix of at least 4 hex digits");
  }
  const std::string prefix = toLower(version);
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare(std::string("SELECT ") + kBaselineColumns +
                                 " FROM "
                                 "baselines WHERE name = ?1 AND substr(version, 1, ?3) = ?2 "
                                 "ORDER BY version LIMIT 2"));
  stmt.bindText(1, name).bindText(2, prefix).bindInt(3, static_cast<int64_t>(prefix.size()));
  PW_ASSIGN_OR_RETURN(bool row, stmt.step());
  if (!row) {
    return NotFoundError("baseline '" + name + "' digest '" + version + "' not found");
  }
  BaselineRecord first = baselineFromRow(stmt);
  PW_ASSIGN_OR_RETURN(bool second, stmt.step());
  if (second) {
    return InvalidArgumentError("baseline '" + name + "' version prefix '" + version +
                                "' is ambiguous");
  }
  return first;
}

Result<std::vector<BaselineRecord>> SqliteStore::listBaselines() {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare(std::string("SELECT ") + kBaselineColumns +
                                                   " FROM "
                                                   "baselines ORDER BY name, pushed_at, version"));
  std::vector<BaselineRecord> baselines;
  while (true) {
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) break;
    baselines.push_back(baselineFromRow(stmt));
  }
  return baselines;
}

Result<std::string> SqliteStore::deleteBaseline(const std::string& name, const std::string& version,
                                                const AssignmentsToDrop& drop) {
  // Resolve the prefix first (getBaseline takes the lock itself).
  PW_ASSIGN_OR_RETURN(BaselineRecord baseline, getBaseline(name, version));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  // Read under the write lock: what `drop` decides on cannot change before the commit.
  PW_ASSIGN_OR_RETURN(std::vector<AssignmentRecord> all, readAssignments(db));
  PW_ASSIGN_OR_RETURN(std::vector<int64_t> dead, drop(baseline, all));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT rollout_id, count(*) FROM rollout_pins WHERE "
                                   "baseline_name = ?1 AND baseline_version = ?2 GROUP BY "
                                   "rollout_id ORDER BY rollout_id LIMIT 1"));
    stmt.bindText(1, baseline.name).bindText(2, baseline.version);
    PW_ASSIGN_OR_RETURN(bool pinned, stmt.step());
    if (pinned) {
      return FailedPreconditionError(
          "baseline '" + baseline.name + "' digest '" + baseline.version + "' holds " +
          std::to_string(stmt.columnInt(1)) + " host(s) of rollout '" + stmt.columnText(0) + "'");
    }
  }
  for (int64_t id : dead) {
    PW_ASSIGN_OR_RETURN(Statement stmt, db.prepare("DELETE FROM assignments WHERE id = ?1"));
    stmt.bindInt(1, id);
    PW_RETURN_IF_ERROR(stmt.run());
  }
  PW_ASSIGN_OR_RETURN(Statement stmt,
                      db.prepare("DELETE FROM baselines WHERE name = ?1 AND version = ?2"));
  stmt.bindText(1, baseline.name).bindText(2, baseline.version);
  PW_RETURN_IF_ERROR(stmt.run());
  if (db.changes() == 0) {
    return NotFoundError("baseline '" + name + "' digest '" + version + "' not found");
  }
  PW_RETURN_IF_ERROR(txn->commit());
  return baseline.version;
}

Result<AssignmentRecord> SqliteStore::addAssignment(const AssignmentRecord& assignment) {
  PW_RETURN_IF_ERROR(checkText(assignment));
  std::lock_guard lock(mu_);
  Database& db = *db_;
  PW_ASSIGN_OR_RETURN(auto txn, Transaction::begin(db));
  {
    PW_ASSIGN_OR_RETURN(Statement stmt,
                        db.prepare("SELECT 1 FROM baselines WHERE name = ?1 AND version = ?2"));
    stmt.bindText(1, assignment.baseline_name).bindText(2, assignment.baseline_version);
    PW_ASSIGN_OR_RETURN(bool found, stmt.step());
    if (!found) {
      return NotFoundError("baseline '" + assignment.baseline_name + "' digest '" +
                           assignment.baseline_version + "' not found");
    }
  }
  AssignmentRecord stored = assignment;
  {
    PW_ASSIGN_OR_RETURN(
        Statement stmt,
        db.prepare("INSERT INTO assignments (baseline_name, baseline_version, selector, mode, "
                   "created_at, repair_windows) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id"));
    stmt.bindText(1, assignment.baseline_name)
        .bindText(2, assignment.baseline_version)
        .bindText(3, encodeLabels(assignment.selector))
        .bindInt(4, static_cast<int64_t>(assignment.mode))
        .bindInt(5, assignment.created_at)
        .bindText(6, encodeWindows(assignment.repair_windows));
    PW_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) return InternalError("INSERT ... RETURNING id returned no row");
    stored.id = stmt.columnInt(0);
    PW_RETURN_IF_ERROR(stmt.run());  // finish the statement before COMMIT
  }
  PW_RETURN_IF_ERROR(txn->commit());
  return stored;
}

Status SqliteStore::removeAssignment(int64_t id) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare("DELETE FROM assignments WHERE id = ?1"));
  stmt.bindInt(1, id);
  PW_RETURN_IF_ERROR(stmt.run());
  if (db_->changes() == 0) return NotFoundError("assignment " + std::to_string(id) + " not found");
  return OkStatus();
}

Result<std::vector<AssignmentRecord>> SqliteStore::listAssignments() {
  std::lock_guard lock(mu_);
  return readAssignments(*db_);
}

}  // namespace postwarden::controller::store
