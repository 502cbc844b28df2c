// The controller's durable state behind one interface: SQLite (sqlite_store.h) is the
// embedded default; a PostgreSQL backend can implement the same interface. Plain values in,
// plain values out; the controller's core (controller/core) maps them to and from the wire
// protocol and owns the rules: where a rule must be checked in the same transaction as the
// write (enrollment, baseline deletion) the caller passes it in and the store runs it on what
// it read. The store itself only stores. Built by the composition root (controller/main).
// Implementations are thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::controller::store {

using Labels = std::map<std::string, std::string>;
using UnixMs = int64_t;  // milliseconds since the epoch, UTC

// The largest step a report's seq may take above the last one stored in the same epoch.
inline constexpr uint64_t kMaxSeqJump = uint64_t{1} << 32;

// A bootstrap token. Only a hash of its secret is stored.
struct TokenRecord {
  std::string id;
  std::string secret_sha256;  // hex
  Labels labels;
  UnixMs created_at = 0;
  UnixMs expires_at = 0;
  int uses_left = 0;
  bool revoked = false;
  std::string bound_agent_id;  // empty: any new identity
};

// Mirrors postwarden.v1.Compliance and BaselineMode (same numbers).
enum class Compliance {
  kUnspecified = 0,
  kCompliant,
  kDrifted,
  kFailing,
  kRefused,
  kNeedsHuman,
  kRolledBack,
};
enum class Mode { kUnspecified = 0, kEnforce, kDetect };

struct AgentRecord {
  std::string id;  // the CN of its certificate
  std::string hostname;
  Labels labels;  // the token's labels, then the agent's own (token wins on conflicts)
  UnixMs enrolled_at = 0;
  UnixMs last_seen = 0;
  bool revoked = false;
  bool reenroll_approved = false;  // an operator allowed one re-enrollment
  std::string agent_version;
  std::string postfix_version;
  std::string baseline_name;  // as last reported by the agent
  std::string baseline_version;
  Mode mode = Mode::kUnspecified;
  Compliance compliance = Compliance::kUnspecified;
  uint64_t seq_epoch = 0;  // the outbox (epoch) last_seq counts in; 0: an agent without one
  uint64_t last_seq = 0;   // highest durable report sequence number stored in seq_epoch
  std::string last_state;  // serialized postwarden.v1.StateReport, empty before the first
  // The last state report that carried a rollout job's outcome (StateReport.job_id and
  // outcome set): later reports of the same agent must not hide a job's result from the
  // rollout engine. Empty before the first.
  std::string last_job_state;
  int drifted_parameters = 0;
};

// What the rollout loop reads of every agent at each step (controller/core/rollouts.cpp):
// only the columns it uses, so that a step over a large fleet stays cheap.
struct AgentProgress {
  std::string id;
  UnixMs last_seen = 0;
  bool revoked = false;
  std::string baseline_name;  // as last reported by the agent
  std::string baseline_version;
  std::string last_state;      // as AgentRecord's
  std::string last_job_state;  // as AgentRecord's
};

// One parameter out of line on one agent.
struct DriftRow {
  std::string agent_id;
  std::string file;     // "main.cf" / "master.cf"
  std::string service;  // empty for main.cf
  std::string parameter;
  std::string expected;
  std::string actual;
  bool expected_absent = false;
  bool actual_absent = false;
  UnixMs detected_at = 0;
};

struct HistoryRow {
  std::string agent_id;
  UnixMs at = 0;
  std::string kind;  // "enrolled", "state", "drift", "revoked", ...
  std::string summary;
};

// What one durable report does to the agent's record, computed by the service layer.
struct ReportWrite {
  std::string agent_id;
  // The agent's outbox (AgentMessage.seq_epoch; 0 for agents that send none). A report of
  // another epoch than the stored one starts that epoch: last_seq counts from 0 again.
  uint64_t epoch = 0;
  // Must be > the agent's last_seq (in the same epoch), else the report is a duplicate; and
  // at most kMaxSeqJump above it (when last_seq > 0), else the write is refused.
  uint64_t seq = 0;
  std::string kind;  // "state" / "drift"
  std::string body;  // serialized proto, kept for audit
  UnixMs received_at = 0;
  // A state report: the agent's compliance and baseline, and its complete drift (replaces
  // every drift row of the agent).
  struct State {
    std::string baseline_name;
    std::string baseline_version;
    Mode mode = Mode::kUnspecified;
    Compliance compliance = Compliance::kUnspecified;
    std::string serialized;  // stored as last_state
    std::string job_state;   // stored as last_job_state when not empty
    std::vector<DriftRow> drift;
  };
  std::optional<State> state;
  // A drift event: these rows are added (replacing rows for the same file/service/parameter)
  // and the agent becomes kDrifted.
  std::vector<DriftRow> drift;
  HistoryRow history;
};

struct BaselineRecord {
  std::string name;
  std::string version;  // first 12 hex digits of sha256(content)
  std::string label;    // the YAML's own `version`
  std::string content;
  UnixMs pushed_at = 0;
};

struct AssignmentRecord {
  int64_t id = 0;  // assigned by the store, increasing
  std::string baseline_name;
  std::string baseline_version;
  Labels selector;  // every pair must match the agent's labels; empty matches all
  Mode mode = Mode::kEnforce;
  UnixMs created_at = 0;
  // Enforce mode: drift is repaired only while one of these is open by the agent's clock
  // ("DAYS HH:MM-HH:MM ZONE", checked by the operator call); empty: at once.
  std::vector<std::string> repair_windows;
};

// What enrollment asks of the store, checked and applied in one transaction.
struct EnrollmentRequest {
  std::string token_id;
  std::string secret_sha256;
  std::string agent_id;
  std::string hostname;
  UnixMs now = 0;
};

// The enrollment policy (controller/core/enrollment_policy.h), shown what enrollAgent read
// inside its transaction: the token the request names (nullopt: no such id) and the agent of
// the requested id (nullopt: a new identity). Non-OK refuses the enrollment.
using EnrollmentCheck =
    std::function<Status(const EnrollmentRequest& request, const std::optional<TokenRecord>& token,
                         const std::optional<AgentRecord>& existing)>;

// The deletion rule (controller/core/targeting.h), shown the baseline version being deleted
// and every assignment (by id) inside deleteBaseline's transaction: the ids of the
// assignments to delete with it, or why the baseline may not go.
using AssignmentsToDrop = std::function<Result<std::vector<int64_t>>(
    const BaselineRecord& baseline, const std::vector<AssignmentRecord>& all)>;

// The labeling rule (controller/core/targeting.h): the labels an agent is known by, from its
// token's and its own (sent with every hello).
using LabelMerge = std::function<Labels(const Labels& token_labels, const Labels& agent_labels)>;

class Store {
 public:
  virtual ~Store() = default;

  // Tokens.
  virtual Status createToken(const TokenRecord& token) = 0;  // AlreadyExists on id clash
  virtual Result<std::vector<TokenRecord>> listTokens() = 0;
  virtual Status revokeToken(const std::string& id) = 0;  // NotFound

  // Runs `check` on the token and the existing record, and records the agent, atomically.
  // When `check` refuses, its error is returned and nothing is written. On success one use
  // of the token is consumed, the approval (if any) is spent, and the record (labels from the
  // token) is returned.
  virtual Result<AgentRecord> enrollAgent(const EnrollmentRequest& request,
                                          const EnrollmentCheck& check) = 0;

  // Agents.
  virtual Result<AgentRecord> getAgent(const std::string& id) = 0;     // NotFound
  virtual Result<std::vector<AgentRecord>> listAgents() = 0;           // sorted by id
  virtual Result<std::vector<AgentProgress>> listAgentProgress() = 0;  // sorted by id
  virtual Result<std::vector<std::string>> revokedAgents() = 0;
  virtual Status revokeAgent(const std::string& id, UnixMs now) = 0;          // NotFound
  virtual Status approveReenrollment(const std::string& id, UnixMs now) = 0;  // NotFound
  // A hello: versions, host name and the agent's own labels. The labels the agent is known
  // by become merge(its token's labels, its own).
  virtual Status recordHello(const std::string& id, const std::string& hostname,
                             const std::string& agent_version, const std::string& postfix_version,
                             const Labels& agent_labels, UnixMs now, const LabelMerge& merge) = 0;
  // The fleet simulator's agents (bench/fleetsim) have no token: created on their first hello,
  // only when the controller runs with --allow-simulator, and marked as simulated. Existing
  // simulated records are left alone; PermissionDenied for a record enrolled for real.
  virtual Status registerSimulatedAgent(const std::string& id, UnixMs now) = 0;
  // Heartbeats, batched: last_seen of each agent, in one transaction.
  virtual Status touchAgents(std::span<const std::pair<std::string, UnixMs>> seen) = 0;

  // Durable reports, exactly once, all in one transaction (group commit). For each write:
  // true when stored, false when its seq was already stored (a redelivery; nothing changes).
  // InvalidArgument, and nothing of the batch is stored, when a write's seq jumps more than
  // kMaxSeqJump above its agent's last_seq in the same epoch: adopting it would hide every
  // later report of the agent as a "redelivery".
  virtual Result<std::vector<bool>> recordReports(std::span<const ReportWrite> writes) = 0;

  virtual Result<std::vector<DriftRow>> listDrift() = 0;  // sorted by agent, parameter
  virtual Result<std::vector<DriftRow>> agentDrift(const std::string& id) = 0;
  virtual Result<std::vector<HistoryRow>> history(const std::string& id, int limit) = 0;
  virtual Status addHistory(const HistoryRow& row) = 0;

  // Baselines: immutable, content-addressed. true when new, false when already stored.
  virtual Result<bool> putBaseline(const BaselineRecord& baseline) = 0;
  // `version` may be a unique prefix of at least 4 hex digits. NotFound / InvalidArgument
  // (ambiguous prefix).
  virtual Result<BaselineRecord> getBaseline(const std::string& name,
                                             const std::string& version) = 0;
  virtual Result<std::vector<BaselineRecord>> listBaselines() = 0;  // by name, pushed_at
  // Deletes one baseline version (`version` as getBaseline) with the assignments `drop`
  // names, in one transaction. Returns the full version deleted. NotFound; InvalidArgument
  // (ambiguous prefix); `drop`'s error (nothing deleted).
  virtual Result<std::string> deleteBaseline(const std::string& name, const std::string& version,
                                             const AssignmentsToDrop& drop) = 0;
  virtual Result<AssignmentRecord> addAssignment(const AssignmentRecord& assignment) = 0;
  virtual Result<std::vector<AssignmentRecord>> listAssignments() = 0;  // by id
  // Withdraws an assignment. NotFound.
  virtual Status removeAssignment(int64_t id) = 0;
};

}  // namespace postwarden::controller::store
