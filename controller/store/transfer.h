// Moving a controller's data between stores (`postwarden-controller export | import`, mainly
// SQLite -> PostgreSQL when a controller outgrows one file): every table, row for row: agents
// with their counters, tokens as their hashes (a secret is never stored, so none is moved),
// baselines, assignments with their ids, reports (in arrival order), drift, history, rollouts,
// their pins and the audit log (a rollout's revision is not moved: it starts again at 1).
// The export is text, one row a line: "TABLE" then each value, tab-separated, in base64 (any
// byte survives: report bodies, serialized records), between a header line and an "end N"
// trailer that counts the rows, so a truncated file is refused. Both backends have the same
// tables and columns (their schemas are kept in step), listed in transferTables().
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::controller::store {

enum class ColumnType { kText, kInt, kBool, kBytes };

struct TransferColumn {
  std::string name;
  ColumnType type;
};

struct TransferTable {
  std::string name;
  std::vector<TransferColumn> columns;
  // A stable order that both backends share (arrival order where the row has no id:
  // SQLite's rowid, PostgreSQL's identity column).
  std::string sqlite_order;
  std::string postgres_order;
  bool identity_id = false;  // the first column "id" is generated: kept on import
};

// Not a table of its own on PostgreSQL: rows (table name, highest id handed out) that set the
// identity sequences on import.
inline constexpr char kIdSequencesTable[] = "sqlite_sequence";

// Every table, parents before children.
const std::vector<TransferTable>& transferTables();
// "a, b, c": the table's columns for a SELECT or INSERT.
std::string columnList(const TransferTable& table);

// One row: each value as bytes (integers in decimal, booleans "0"/"1").
using TransferRow = std::vector<std::string>;

// What a backend offers for a transfer.
class Transferable {
 public:
  virtual ~Transferable() = default;
  // Calls `row` for every row of `table`, in its stable order.
  virtual Status exportRows(const TransferTable& table,
                            const std::function<Status(const TransferRow&)>& row) = 0;
  // An import goes into a store without agents, tokens or baselines (FailedPrecondition else).
  virtual Status checkEmpty() = 0;
  // Inserts rows as they are (ids too). Unimplemented where the backend takes no imports.
  virtual Status importRows(const TransferTable& table, std::span<const TransferRow> rows) = 0;
  // After the last row: generated ids continue after the imported ones, and after the
  // highest id the source had handed out (kIdSequencesTable).
  virtual Status finishImport() = 0;
};

// Rows written, by table.
using TransferCounts = std::map<std::string, int64_t>;

Result<TransferCounts> exportStore(Transferable& from, std::ostream& out);
// InvalidArgument naming the line for a malformed or truncated file; rows are imported in
// batches, so a failed import leaves a partial database: recreate it before trying again.
Result<TransferCounts> importStore(Transferable& to, std::istream& in);

}  // namespace postwarden::controller::store
