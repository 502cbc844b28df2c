// SqliteStore's side of a transfer (transfer.h): it exports; imports go to PostgreSQL.
#include <string>

#include "controller/store/internal/sqlite_db.h"
#include "controller/store/sqlite_store.h"

namespace postwarden::controller::store {

using namespace internal;  // NOLINT: the SQLite layer of this one class

Status SqliteStore::exportRows(const TransferTable& table,
                               const std::function<Status(const TransferRow&)>& row) {
  std::lock_guard lock(mu_);
  PW_ASSIGN_OR_RETURN(Statement stmt, db_->prepare("SELECT " + columnList(table) + " FROM " +
                                                   table.name + " ORDER BY " + table.sqlite_order));
  TransferRow values(table.columns.size());
  while (true) {
    PW_ASSIGN_OR_RETURN(bool more, stmt.step());
    if (!more) return OkStatus();
    for (size_t i = 0; i < values.size(); ++i) {
      const int index = static_cast<int>(i);
      switch (table.columns[i].type) {
        case ColumnType::kText:
        case ColumnType::kBytes:
          values[i] = stmt.columnText(index);
          break;
        case ColumnType::kInt:
          values[i] = std::to_string(stmt.columnInt(index));
          break;
        case ColumnType::kBool:
          values[i] = stmt.columnInt(index) != 0 ? "1" : "0";
          break;
      }
    }
    PW_RETURN_IF_ERROR(row(values));
  }
}

Status SqliteStore::checkEmpty() { return importRefused(); }

Status SqliteStore::importRows(const TransferTable&, std::span<const TransferRow>) {
  return importRefused();
}

Status SqliteStore::finishImport() { return importRefused(); }

Status SqliteStore::importRefused() {
  return Status(
      StatusCode::kUnimplemented,
      "imports go into PostgreSQL (--store postgres:CONNINFO); a SQLite controller starts from "
      "its own data directory");
}

}  // namespace postwarden::controller::store
