// SqliteStore: the embedded, durable Store. One SQLite file (WAL journal, synchronous=FULL:
// a committed change, e.g. a report acknowledged to an agent, survives a crash or power loss),
// schema versioned with PRAGMA user_version. Every multi-row change is one IMMEDIATE
// transaction: it is applied completely or not at all.
// Thread-safe: one connection for everything, serialized by a mutex (SQLite's single writer
// makes a pool buy little here), plus a second, read-only one for the whole-fleet reads
// (listAgents, listAgentProgress): in WAL mode a reader neither waits for a commit's fsync nor
// holds up the writer, so the rollout loop's read of 50,000 agents does not delay reports.
#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "controller/store/rollout_store.h"
#include "controller/store/store.h"
#include "controller/store/transfer.h"

namespace postwarden::controller::store {

namespace internal {
class Database;
}  // namespace internal

class SqliteStore final : public Store, public RolloutStore, public Transferable {
 public:
  // The schema version this code writes; user_version of a database it created.
  static constexpr int kSchemaVersion = 5;
  // Retention, enforced in the transaction that adds rows: the newest reports (by seq) and
  // history rows (by time) of each agent are kept, older ones deleted.
  static constexpr int kReportsKeptPerAgent = 1000;
  static constexpr int kHistoryKeptPerAgent = 200;

  // Opens the database at `path`, creating the file (mode 0600) and the schema when missing.
  // Errors: DataLoss when the file is not a SQLite database (it is left untouched);
  // FailedPrecondition when its schema is newer than kSchemaVersion, or it holds tables of
  // something else; NotFound / PermissionDenied for the path itself; Unavailable when another
  // process holds the write lock for longer than the 5 s busy timeout.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  // AlreadyExists on an id clash; InvalidArgument for an empty id.
  Status createToken(const TokenRecord& token) override;
  Result<std::vector<TokenRecord>> listTokens() override;  // sorted by id
  Status revokeToken(const std::string& id) override;

  // As Store::enrollAgent. Also InvalidArgument for an empty agent id. Re-enrollment keeps
  // last_seq, last state and drift; it resets labels to the token's (the agent's own return
  // with its next hello), sets enrolled_at to `now`, and adds an "enrolled" history row.
  Result<AgentRecord> enrollAgent(const EnrollmentRequest& request,
                                  const EnrollmentCheck& check) override;

  Result<AgentRecord> getAgent(const std::string& id) override;
  Result<std::vector<AgentRecord>> listAgents() override;
  Result<std::vector<AgentProgress>> listAgentProgress() override;
  Result<std::vector<std::string>> revokedAgents() override;  // sorted
  // Also spends any pending re-enrollment approval; adds a "revoked" history row the first
  // time. Revoking a revoked agent is OK and changes nothing.
  Status revokeAgent(const std::string& id, UnixMs now) override;
  // FailedPrecondition when the agent is revoked (a revoked identity never re-enrolls).
  // Adds a "reenroll_approved" history row.
  Status approveReenrollment(const std::string& id, UnixMs now) override;
  // NotFound for an unknown agent. last_seen becomes max(last_seen, now).
  Status recordHello(const std::string& id, const std::string& hostname,
                     const std::string& agent_version, const std::string& postfix_version,
                     const Labels& agent_labels, UnixMs now, const LabelMerge& merge) override;
  // Unknown ids are ignored; last_seen never moves backwards.
  Status registerSimulatedAgent(const std::string& id, UnixMs now) override;
  Status touchAgents(std::span<const std::pair<std::string, UnixMs>> seen) override;

  // Writes are applied in order, so seq 5 then 6 of one agent in one batch are both stored.
  // The whole batch fails, and nothing is written, with NotFound when any write names an
  // unknown agent, or InvalidArgument when a seq exceeds INT64_MAX. last_seen becomes
  // max(last_seen, received_at). A write's history row (if its kind is non-empty) is stored
  // under the write's agent id, at received_at when its `at` is 0.
  Result<std::vector<bool>> recordReports(std::span<const ReportWrite> writes) override;

  // Sorted by agent id, file, service, parameter.
  Result<std::vector<DriftRow>> listDrift() override;
  Result<std::vector<DriftRow>> agentDrift(const std::string& id) override;  // same order
  // Newest first (by `at`, then insertion); at most `limit` rows, all kept rows when
  // limit <= 0. An unknown agent has no history (empty, not NotFound).
  Result<std::vector<HistoryRow>> history(const std::string& id, int limit) override;
  // NotFound for an unknown agent.
  Status addHistory(const HistoryRow& row) override;

  // AlreadyExists when (name, version) is stored with different content (a caller bug: the
  // version is derived from the content).
  Result<bool> putBaseline(const BaselineRecord& baseline) override;
  // `version` matches a stored version exactly, or else is a case-insensitive hex prefix of
  // one. NotFound; InvalidArgument when the prefix is ambiguous, or (with no exact match) is
  // shorter than 4 characters or not hex.
  Result<BaselineRecord> getBaseline(const std::string& name, const std::string& version) override;
  Result<std::vector<BaselineRecord>> listBaselines() override;  // by name, pushed_at, version
  Result<std::string> deleteBaseline(const std::string& name, const std::string& version,
                                     const AssignmentsToDrop& drop) override;
  // NotFound when the baseline (exact name and version) is not stored. The returned record
  // carries the new id; ids increase and are never reused.
  Result<AssignmentRecord> addAssignment(const AssignmentRecord& assignment) override;
  Result<std::vector<AssignmentRecord>> listAssignments() override;
  Status removeAssignment(int64_t id) override;

  // Rollouts (sqlite_rollouts.cpp).
  Status createRollout(const RolloutRow& row, std::span<const AuditRow> audit) override;
  Status saveRollout(const RolloutRow& row, std::span<const PinRow> pins,
                     std::span<const AuditRow> audit) override;
  Status addAudit(const AuditRow& row) override;
  Result<RolloutRow> getRollout(const std::string& id) override;
  Result<std::vector<RolloutRow>> listRollouts(bool active_only) override;
  Result<std::vector<PinRow>> listPins() override;
  Result<std::vector<AuditRow>> audit(const std::string& rollout_id, UnixMs since,
                                      int limit) override;

  // Transfers (sqlite_transfer.cpp): exports only; the import calls are Unimplemented.
  Status exportRows(const TransferTable& table,
                    const std::function<Status(const TransferRow&)>& row) override;
  Status checkEmpty() override;
  Status importRows(const TransferTable& table, std::span<const TransferRow> rows) override;
  Status finishImport() override;

 private:
  SqliteStore(std::unique_ptr<internal::Database> db, std::unique_ptr<internal::Database> reader);
  static Status importRefused();

  std::mutex mu_;
  std::unique_ptr<internal::Database> db_;  // guarded by mu_
  std::mutex read_mu_;
  std::unique_ptr<internal::Database> reader_;  // guarded by read_mu_; query_only
};

}  // namespace postwarden::controller::store
