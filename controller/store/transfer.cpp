#include "controller/store/transfer.h"

#include <absl/strings/escaping.h>

#include <string_view>

namespace postwarden::controller::store {
namespace {

constexpr char kHeader[] = "postwarden-export 1";
constexpr size_t kBatchRows = 500;

using enum ColumnType;

std::vector<TransferTable> makeTables() {
  const TransferColumn agent_id{"agent_id", kText};
  return {
      {"tokens",
       {{"id", kText},
        {"secret_sha256", kText},
        {"labels", kText},
        {"created_at", kInt},
        {"expires_at", kInt},
        {"uses_left", kInt},
        {"revoked", kBool},
        {"bound_agent_id", kText}},
       "id",
       "id"},
      {"agents",
       {{"id", kText},
        {"hostname", kText},
        {"token_id", kText},
        {"token_labels", kText},
        {"agent_labels", kText},
        {"labels", kText},
        {"enrolled_at", kInt},
        {"last_seen", kInt},
        {"revoked", kBool},
        {"reenroll_approved", kBool},
        {"agent_version", kText},
        {"postfix_version", kText},
        {"baseline_name", kText},
        {"baseline_version", kText},
        {"mode", kInt},
        {"compliance", kInt},
        {"last_seq", kInt},
        {"last_state", kBytes},
        {"drifted_parameters", kInt},
        {"seq_epoch", kInt},
        {"simulated", kBool},
        {"last_job_state", kBytes}},
       "id",
       "id"},
      {"baselines",
       {{"name", kText},
        {"version", kText},
        {"label", kText},
        {"content", kText},
        {"pushed_at", kInt}},
       "name, version",
       "name, version"},
      {"assignments",
       {{"id", kInt},
        {"baseline_name", kText},
        {"baseline_version", kText},
        {"selector", kText},
        {"mode", kInt},
        {"created_at", kInt},
        {"repair_windows", kText}},
       "id",
       "id",
       true},
      {"reports",
       {agent_id,
        {"epoch", kInt},
        {"seq", kInt},
        {"kind", kText},
        {"body", kBytes},
        {"received_at", kInt}},
       "rowid",
       "id"},
      {"drift",
       {agent_id,
        {"file", kText},
        {"service", kText},
        {"parameter", kText},
        {"expected", kText},
        {"actual", kText},
        {"expected_absent", kBool},
        {"actual_absent", kBool},
        {"detected_at", kInt}},
       "agent_id, file, service, parameter",
       "agent_id, file, service, parameter"},
      {"history",
       {{"id", kInt}, agent_id, {"at", kInt}, {"kind", kText}, {"summary", kText}},
       "id",
       "id",
       true},
      // Without `revision`: an import starts every rollout at revision 1 (the column's
      // default). A revision only orders the saves of one database, and no controller holds a
      // read of the new one yet; the format stays the one earlier controllers read and write.
      {"rollouts",
       {{"id", kText},
        {"record", kBytes},
        {"active", kBool},
        {"created_at", kInt},
        {"updated_at", kInt}},
       "id",
       "id"},
      {"rollout_pins",
       {agent_id,
        {"baseline_name", kText},
        {"baseline_version", kText},
        {"rollout_id", kText},
        {"job", kBytes}},
       "agent_id",
       "agent_id"},
      {"audit",
       {{"id", kInt},
        {"at", kInt},
        {"actor", kText},
        {"rollout_id", kText},
        {"action", kText},
        {"host", kText},
        {"detail", kText}},
       "id",
       "id",
       true},
      // Last: the highest id each generated-id table above has handed out (SQLite keeps it in
      // sqlite_sequence for its AUTOINCREMENT tables; PostgreSQL in the identity sequences),
      // so that the ids of deleted rows (a withdrawn assignment) are not handed out again.
      {kIdSequencesTable, {{"name", kText}, {"seq", kInt}}, "name", "name"},
  };
}

const TransferTable* findTable(std::string_view name) {
  for (const TransferTable& table : transferTables()) {
    if (table.name == name) return &table;
  }
  return nullptr;
}

std::vector<std::string_view> splitTabs(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

}  // namespace

std::string columnList(const TransferTable& table) {
  std::string columns;
  for (const TransferColumn& c : table.columns) {
    if (!columns.empty()) columns += ", ";
    columns += c.name;
  }
  return columns;
}

const std::vector<TransferTable>& transferTables() {
  static const std::vector<TransferTable> tables = makeTables();
  return tables;
}

Result<TransferCounts> exportStore(Transferable& from, std::ostream& out) {
  TransferCounts counts;
  int64_t total = 0;
  out << kHeader << "\n";
  for (const TransferTable& table : transferTables()) {
    int64_t& n = counts[table.name];
    PW_RETURN_IF_ERROR(from.exportRows(table, [&](const TransferRow& row) -> Status {
      out << table.name;
      for (const std::string& value : row) out << '\t' << absl::Base64Escape(value);
      out << '\n';
      ++n;
      return out ? OkStatus() : UnavailableError("cannot write the export");
    }));
    total += n;
  }
  out << "end " << total << "\n";
  out.flush();
  if (!out) return UnavailableError("cannot write the export");
  return counts;
}

Result<TransferCounts> importStore(Transferable& to, std::istream& in) {
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    return InvalidArgumentError("line 1: not a Postwarden export (expected '" +
                                std::string(kHeader) + "')");
  }
  PW_RETURN_IF_ERROR(to.checkEmpty());
  TransferCounts counts;
  int64_t total = 0;
  int line_no = 1;
  const TransferTable* batch_table = nullptr;
  std::vector<TransferRow> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return OkStatus();
    PW_RETURN_IF_ERROR(
        to.importRows(*batch_table, batch).withContext("importing " + batch_table->name));
    counts[batch_table->name] += static_cast<int64_t>(batch.size());
    batch.clear();
    return OkStatus();
  };
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (line.starts_with("end ")) {
      PW_RETURN_IF_ERROR(flush());
      if (line.substr(4) != std::to_string(total)) {
        return InvalidArgumentError(where + "the export counts " + line.substr(4) +
                                    " rows, the file holds " + std::to_string(total));
      }
      PW_RETURN_IF_ERROR(to.finishImport());
      return counts;
    }
    const std::vector<std::string_view> fields = splitTabs(line);
    const TransferTable* table = findTable(fields[0]);
    if (table == nullptr)
      return InvalidArgumentError(where + "unknown table '" + std::string(fields[0]) + "'");
    if (fields.size() != table->columns.size() + 1) {
      return InvalidArgumentError(where + table->name + " rows have " +
                                  std::to_string(table->columns.size()) + " values");
    }
    if (table != batch_table || batch.size() >= kBatchRows) {
      PW_RETURN_IF_ERROR(flush());
      batch_table = table;
    }
    TransferRow row(table->columns.size());
    for (size_t i = 0; i < row.size(); ++i) {
      if (!absl::Base64Unescape(absl::string_view(fields[i + 1].data(), fields[i + 1].size()),
                                &row[i])) {
        return InvalidArgumentError(where + "value " + std::to_string(i + 1) + " is not base64");
      }
    }
    batch.push_back(std::move(row));
    ++total;
  }
  return InvalidArgumentError("line " + std::to_string(line_no) +
                              ": the export ends without its 'end' line (truncated?)");
}

}  // namespace postwarden::controller::store
