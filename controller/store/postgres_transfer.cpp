// PostgresStore's side of a transfer (transfer.h). An export reads each table in pages inside
// one REPEATABLE READ snapshot, so it is consistent while replicas keep writing; an import
// writes each batch in one transaction, ids as they were (OVERRIDING SYSTEM VALUE), and then
// moves the identity sequences past them.
#include <algorithm>
#include <string>
#include <vector>

#include "controller/store/postgres_db.h"
#include "controller/store/postgres_store.h"

namespace postwarden::controller::store {

using namespace pg;  // NOLINT: the PostgreSQL layer of this one class

namespace {

constexpr int kPageRows = 5000;

TransferRow rowAt(const TransferTable& table, const Rows& rows, int r) {
  TransferRow values(table.columns.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const int column = static_cast<int>(i);
    switch (table.columns[i].type) {
      case ColumnType::kText:
        values[i] = rows.text(r, column);
        break;
      case ColumnType::kBytes:
        values[i] = rows.bytes(r, column);
        break;
      case ColumnType::kInt:
        values[i] = std::to_string(rows.integer(r, column));
        break;
      case ColumnType::kBool:
        values[i] = rows.boolean(r, column) ? "1" : "0";
        break;
    }
  }
  return values;
}

Result<Params> paramsOf(const TransferTable& table, const TransferRow& row) {
  Params params;
  for (size_t i = 0; i < row.size(); ++i) {
    const std::string& v = row[i];
    switch (table.columns[i].type) {
      case ColumnType::kText:
        params.text(v);
        break;
      case ColumnType::kBytes:
        params.bytes(v);
        break;
      case ColumnType::kInt:
        try {
          size_t used = 0;
          params.integer(std::stoll(v, &used));
          if (used != v.size()) throw std::invalid_argument(v);
        } catch (const std::exception&) {
          return InvalidArgumentError(table.name + "." + table.columns[i].name +
                                      " is not an integer: '" + v + "'");
        }
        break;
      case ColumnType::kBool:
        params.boolean(v == "1");
        break;
    }
  }
  return params;
}

}  // namespace

Status PostgresStore::exportRows(const TransferTable& table,
                                 const std::function<Status(const TransferRow&)>& row) {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_RETURN_IF_ERROR(db->execScript("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  Status status = [&]() -> Status {
    if (table.name == kIdSequencesTable) {
      // A sequence never used has no last value (NULL), as SQLite has no row for it.
      PW_ASSIGN_OR_RETURN(
          Rows rows, db->exec("SELECT name, seq FROM (SELECT t AS name, pg_sequence_last_value("
                              "pg_get_serial_sequence(t, 'id')::regclass) AS seq FROM "
                              "unnest($1::text[]) AS t) s WHERE seq IS NOT NULL ORDER BY name",
                              Params().textArray(identityTables())));
      for (int r = 0; r < rows.size(); ++r) PW_RETURN_IF_ERROR(row(rowAt(table, rows, r)));
      return OkStatus();
    }
    const std::string sql = "SELECT " + columnList(table) + " FROM " + table.name + " ORDER BY " +
                            table.postgres_order + " LIMIT $1 OFFSET $2";
    for (int64_t offset = 0;; offset += kPageRows) {
      PW_ASSIGN_OR_RETURN(Rows rows, db->exec(sql, Params().integer(kPageRows).integer(offset)));
      for (int r = 0; r < rows.size(); ++r) PW_RETURN_IF_ERROR(row(rowAt(table, rows, r)));
      if (rows.size() < kPageRows) return OkStatus();
    }
  }();
  if (!db->broken()) (void)db->execScript(status.ok() ? "COMMIT" : "ROLLBACK");
  return status;
}

Status PostgresStore::checkEmpty() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  PW_ASSIGN_OR_RETURN(Rows rows, db->exec("SELECT (SELECT count(*) FROM agents) + (SELECT "
                                          "count(*) FROM tokens) + (SELECT count(*) FROM "
                                          "baselines) + (SELECT count(*) FROM audit)"));
  if (rows.integer(0, 0) != 0) {
    return FailedPreconditionError(
        "the PostgreSQL database already holds agents, tokens, baselines or audit rows; import "
        "into a new, empty one (postwarden-controller migrate creates its schema)");
  }
  return OkStatus();
}

Status PostgresStore::importRows(const TransferTable& table, std::span<const TransferRow> rows) {
  if (table.name == kIdSequencesTable) return importIdSequences(table, rows);
  std::string placeholders;
  for (size_t i = 1; i <= table.columns.size(); ++i) {
    placeholders += (i == 1 ? "$" : ", $") + std::to_string(i);
  }
  const std::string sql = "INSERT INTO " + table.name + " (" + columnList(table) + ") " +
                          (table.identity_id ? "OVERRIDING SYSTEM VALUE " : "") + "VALUES (" +
                          placeholders + ")";
  return runTransaction(*pool_, {.max_attempts = options_.max_attempts},
                        [&](Connection& db) -> Status {
                          for (const TransferRow& row : rows) {
                            PW_ASSIGN_OR_RETURN(Params params, paramsOf(table, row));
                            PW_RETURN_IF_ERROR(db.exec(sql, params).status());
                          }
                          return OkStatus();
                        });
}

Status PostgresStore::importIdSequences(const TransferTable& table,
                                        std::span<const TransferRow> rows) {
  const std::vector<std::string> tables = identityTables();
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  for (const TransferRow& row : rows) {
    if (std::find(tables.begin(), tables.end(), row[0]) == tables.end()) continue;  // not ours
    PW_ASSIGN_OR_RETURN(Params params, paramsOf(table, row));
    PW_RETURN_IF_ERROR(
        db->exec("SELECT setval(pg_get_serial_sequence($1, 'id'), greatest($2, 1), $2 > 0)", params)
            .status());
  }
  return OkStatus();
}

Status PostgresStore::finishImport() {
  PW_ASSIGN_OR_RETURN(Pool::Lease db, pool_->acquire());
  for (const std::string& table : identityTables()) {
    // Past the imported ids and the source's highest (set from kIdSequencesTable); a sequence
    // neither touches stays unused.
    PW_RETURN_IF_ERROR(
        db->exec("SELECT setval(s, v, true) FROM (SELECT s, greatest(coalesce((SELECT max(id) "
                 "FROM " +
                     table +
                     "), 0), coalesce(pg_sequence_last_value(s), 0)) AS v FROM (SELECT "
                     "pg_get_serial_sequence($1, 'id')::regclass AS s) q) w WHERE v > 0",
                 Params().text(table))
            .status());
  }
  return OkStatus();
}

std::vector<std::string> PostgresStore::identityTables() {
  std::vector<std::string> names;
  for (const TransferTable& table : transferTables()) {
    if (table.identity_id) names.push_back(table.name);
  }
  return names;
}

}  // namespace postwarden::controller::store
