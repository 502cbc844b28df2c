// PostgresStore: the Store on a PostgreSQL server (15 or later), for controllers that outgrow
// one SQLite file. Same semantics as SqliteStore (sqlite_store.h), method by method: the
// same errors, orders, retention and exactly-once rule for reports. Where they differ:
// - text cannot hold a NUL byte in PostgreSQL: such a value is refused with InvalidArgument
//   (SqliteStore stores it); report bodies and last states are bytea and keep any byte;
// - ordering by text is bytewise (columns are COLLATE "C"), as SQLite's, whatever the
//   database's locale.
// Every change is one SERIALIZABLE transaction, retried as a whole on a serialization failure
// or deadlock (the rules handed in, EnrollmentCheck and AssignmentsToDrop, may then run more
// than once; they are pure). Commits wait for the WAL flush (synchronous_commit as the server
// is set, on by default), except hellos and heartbeats, as SqliteStore.
// The schema is versioned in the table postwarden_schema_migrations and migrated at open,
// under an advisory lock so that several controllers starting at once migrate once.
// Thread-safe: a small pool of connections, each used by one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "controller/store/coordination.h"
#include "controller/store/rollout_store.h"
#include "controller/store/store.h"
#include "controller/store/transfer.h"

namespace postwarden::controller::store {

namespace pg {
class Pool;
}  // namespace pg

struct PostgresOptions {
  int pool_size = 4;  // connections, made on demand
  // recordReports on a connection of its own (one more than pool_size): the report writer
  // never waits behind hellos and reads for a pooled one. False: it shares the pool.
  bool report_connection = true;
  int statement_timeout_ms = 10000;  // per statement; DeadlineExceeded beyond it
  int max_attempts = 10;             // per transaction, on serialization failures
};

class PostgresStore final : public Store,
                            public RolloutStore,
                            public Coordination,
                            public Transferable {
 public:
  // The schema version this code writes (the highest migration it knows).
  static constexpr int kSchemaVersion = 5;
  static constexpr int kReportsKeptPerAgent = 1000;
  static constexpr int kHistoryKeptPerAgent = 200;

  // Connects with `conninfo` (libpq's "host=... dbname=..." or a postgresql:// URI) and
  // applies the missing migrations. Unavailable when the server cannot be reached;
  // FailedPrecondition when the schema is newer than kSchemaVersion, or the database's schema
  // (search_path) holds Postwarden's table names without its migration table.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& conninfo,
                                                     const PostgresOptions& options = {});
  // The schema version stored in the database at `conninfo` (0: none), without changing it.
  static Result<int> storedSchemaVersion(const std::string& conninfo);

  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;
  ~PostgresStore() override;

  Status createToken(const TokenRecord& token) override;
  Result<std::vector<TokenRecord>> listTokens() override;
  Status revokeToken(const std::string& id) override;
  Result<AgentRecord> enrollAgent(const EnrollmentRequest& request,
                                  const EnrollmentCheck& check) override;
  Result<AgentRecord> getAgent(const std::string& id) override;
  Result<std::vector<AgentRecord>> listAgents() override;
  Result<std::vector<AgentProgress>> listAgentProgress() override;
  Result<std::vector<std::string>> revokedAgents() override;
  Status revokeAgent(const std::string& id, UnixMs now) override;
  Status approveReenrollment(const std::string& id, UnixMs now) override;
  Status recordHello(const std::string& id, const std::string& hostname,
                     const std::string& agent_version, const std::string& postfix_version,
                     const Labels& agent_labels, UnixMs now, const LabelMerge& merge) override;
  Status registerSimulatedAgent(const std::string& id, UnixMs now) override;
  Status touchAgents(std::span<const std::pair<std::string, UnixMs>> seen) override;
  Result<std::vector<bool>> recordReports(std::span<const ReportWrite> writes) override;
  Result<std::vector<DriftRow>> listDrift() override;
  Result<std::vector<DriftRow>> agentDrift(const std::string& id) override;
  Result<std::vector<HistoryRow>> history(const std::string& id, int limit) override;
  Status addHistory(const HistoryRow& row) override;
  Result<bool> putBaseline(const BaselineRecord& baseline) override;
  Result<BaselineRecord> getBaseline(const std::string& name, const std::string& version) override;
  Result<std::vector<BaselineRecord>> listBaselines() override;
  Result<std::string> deleteBaseline(const std::string& name, const std::string& version,
                                     const AssignmentsToDrop& drop) override;
  Result<AssignmentRecord> addAssignment(const AssignmentRecord& assignment) override;
  Result<std::vector<AssignmentRecord>> listAssignments() override;
  Status removeAssignment(int64_t id) override;

  // Rollouts (postgres_rollouts.cpp).
  Status createRollout(const RolloutRow& row, std::span<const AuditRow> audit) override;
  Status saveRollout(const RolloutRow& row, std::span<const PinRow> pins,
                     std::span<const AuditRow> audit) override;
  Status addAudit(const AuditRow& row) override;
  Result<RolloutRow> getRollout(const std::string& id) override;
  Result<std::vector<RolloutRow>> listRollouts(bool active_only) override;
  Result<std::vector<PinRow>> listPins() override;
  Result<std::vector<AuditRow>> audit(const std::string& rollout_id, UnixMs since,
                                      int limit) override;

  // Replicas (postgres_coordination.cpp). Every write that changes what an agent should get
  // (assignments, baselines, revocations, rollouts) announces itself in its transaction.
  std::unique_ptr<Lease> lease(int64_t key) override;
  std::unique_ptr<ChangeListener> listen(
      std::function<void(const std::string& payload)> on_change) override;
  Status announce(const std::string& payload) override;

  // Transfers (postgres_transfer.cpp): exports, and imports into an empty database.
  Status exportRows(const TransferTable& table,
                    const std::function<Status(const TransferRow&)>& row) override;
  Status checkEmpty() override;
  Status importRows(const TransferTable& table, std::span<const TransferRow> rows) override;
  Status finishImport() override;

 private:
  // kIdSequencesTable's rows: each identity sequence set to the source's highest id.
  Status importIdSequences(const TransferTable& table, std::span<const TransferRow> rows);
  // The tables whose ids are generated (TransferTable::identity_id).
  static std::vector<std::string> identityTables();
  PostgresStore(std::string conninfo, std::unique_ptr<pg::Pool> pool,
                const PostgresOptions& options);
  pg::Pool& reportPool() { return report_pool_ ? *report_pool_ : *pool_; }

  const std::string conninfo_;
  std::unique_ptr<pg::Pool> pool_;
  std::unique_ptr<pg::Pool> report_pool_;  // PostgresOptions::report_connection, else null
  PostgresOptions options_;
};

}  // namespace postwarden::controller::store
