// The fleet: what the controller knows about connected agents beyond the store. It routes
// messages between agent streams, the store and operators:
//   - hello: records the agent, replaces an older stream of the same agent, sends the ack of
//     what is already stored and the agent's assignment;
//   - heartbeats: kept in memory, written to the store in one transaction per second by a
//     thread of their own, so a slow flush never delays a durable report waiting for the
//     writer (reports and heartbeats both only raise last_seen, so their order is free);
//   - durable reports (state, drift): queued to one writer thread that commits them in
//     batches (group commit) and acks each one only once it is durable;
//   - operators: assignments are pushed to every connected agent they select; revocation
//     closes the agent's stream at once and is checked on every call;
//   - enrollment: the enrollment policy (enrollment_policy.h), applied by the store in one
//     transaction.
// The transport (controller/rpc) reaches the store only through these operations. Targeting
// (which assignment an agent gets) is targeting.h's; rollouts extend it there.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/metrics/registry.h"
#include "controller/core/agent_session.h"
#include "controller/store/rollout_store.h"
#include "controller/store/store.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::core {

// What the fleet counts for /metrics (fleet_metrics.h registers them); null: not counted.
struct FleetMetrics {
  metrics::Histogram* commit_latency = nullptr;  // report queued -> durable, seconds
  metrics::Counter* drift_events = nullptr;      // drift reports stored (not redeliveries)
};

struct FleetOptions {
  std::chrono::milliseconds heartbeat_flush{1000};
  size_t max_batch = 2000;             // durable reports per transaction
  std::function<store::UnixMs()> now;  // default: the system clock
  FleetMetrics metrics;
  // Replicas: a command for an agent not connected here is handed to this (which announces it
  // to the other replicas, where deliverCommand sends it). Empty: Unavailable instead.
  std::function<Status(const std::string& agent_id, const v1::Command& command)> relay_command;
};

struct FleetStats {
  uint64_t heartbeats = 0;
  uint64_t reports_stored = 0;
  uint64_t reports_duplicate = 0;
  uint64_t batches = 0;
};

class Fleet {
 public:
  Fleet(store::Store& store, FleetOptions options = {});
  ~Fleet();  // stops the writer after flushing what is queued, then the heartbeat flusher

  // Loads the revocation list and assignments, starts the writer and heartbeat threads.
  Status start();
  void stop();

  bool isRevoked(const std::string& agent_id) const;

  // The agent's stream is open and said hello. A simulated agent (bench/fleetsim) is
  // registered on its first hello.
  Status attach(const std::string& agent_id, AgentSession* session, const v1::Hello& hello,
                bool simulated = false);
  // The stream ended; a newer stream of the same agent is left alone.
  void detach(const std::string& agent_id, AgentSession* session);
  void heartbeat(const std::string& agent_id);
  // Queues a durable report; the session gets its Ack once the report is committed.
  // InvalidArgument for a malformed report (nothing queued).
  Status report(const std::string& agent_id, const v1::AgentMessage& message);

  // Enrollment of a new agent (or an approved re-enrollment). Errors as
  // core::checkEnrollment; nothing is written when refused.
  Result<store::AgentRecord> enroll(const store::EnrollmentRequest& request);

  // Operators: reads.
  Result<std::vector<store::AgentRecord>> agents();               // sorted by id
  Result<store::AgentRecord> agent(const std::string& agent_id);  // NotFound
  Result<std::vector<store::HistoryRow>> history(const std::string& agent_id, int limit);
  Result<std::vector<store::DriftRow>> drift();  // every agent's
  Result<std::vector<store::BaselineRecord>> baselines();
  Result<store::BaselineRecord> baseline(const std::string& name, const std::string& version);
  Result<std::vector<store::TokenRecord>> tokens();

  // Operators: changes.
  Result<bool> putBaseline(const store::BaselineRecord& baseline);  // true when new
  Status approveReenrollment(const std::string& agent_id);
  Status createToken(const store::TokenRecord& token);
  Status revokeToken(const std::string& token_id);
  struct Assigned {
    int64_t id = 0;   // the stored assignment's id
    int matched = 0;  // agents its selector matches now
  };
  Result<Assigned> assign(const store::AssignmentRecord& assignment);
  Result<std::vector<store::AssignmentRecord>> assignments();  // by id
  // Withdraws an assignment; connected agents it applied to get the one that applies now
  // (an older match), if any, else keep the baseline they have. Returns how many agents it
  // applied to. NotFound.
  Result<int> unassign(int64_t assignment_id);
  // Deletes a baseline version (Store::deleteBaseline) and forgets the dead assignments that
  // named it. Returns the full version. NotFound, InvalidArgument, FailedPrecondition while a
  // live assignment names it.
  Result<std::string> deleteBaseline(const std::string& name, const std::string& version);
  Status revoke(const std::string& agent_id);
  // Rollouts (rollouts.h) hold agents on versions with pins, which override assignments. Pins
  // are stored by the rollout engine first; these keep the fleet's copy and push the pinned
  // version, with its job, to the agent if it is connected.
  void setPins(const std::vector<store::PinRow>& pins);
  void pin(const store::PinRow& pin);
  // Called on the writer thread after state reports were stored (rollouts step on them
  // instead of polling). Set once, before reports flow; must not block.
  void onStateStored(std::function<void()> listener);
  Status command(const std::string& agent_id, const v1::Command& command);
  // Replicas (replica_sync.cpp). Another replica changed the store: reloads revocations,
  // assignments and (when given) the rollout pins, closes the streams of newly revoked agents
  // and sends each connected agent whose target (pin or assignment) changed its new one.
  // Idempotent: an agent whose target is unchanged gets nothing.
  Status resync(const std::optional<std::vector<store::PinRow>>& pins);
  // A command relayed by another replica: sent when the agent is connected here.
  bool deliverCommand(const std::string& agent_id, const v1::Command& command);
  bool connected(const std::string& agent_id) const;
  size_t connectedCount() const;
  FleetStats stats() const;

  store::UnixMs now() const { return options_.now(); }
  // Every report received before this time is stored: the oldest receive time still queued
  // or being written, else now. Rollouts judge silence as of it (FleetView::stored_through).
  // Heartbeats are not counted: they reach last_seen within about heartbeat_flush, as they
  // always did, and silence is judged over several report intervals.
  store::UnixMs storedThrough() const;

 private:
  struct Pending {
    store::ReportWrite write;
    std::chrono::steady_clock::time_point queued{};
  };
  void writerLoop();
  void flush(std::vector<Pending>& batch);
  void heartbeatLoop();
  void flushHeartbeats();
  // Commit latency and new drift events of a flushed batch (results: index, stored as new).
  void observeCommitted(const std::vector<store::ReportWrite>& writes,
                        const std::vector<std::chrono::steady_clock::time_point>& queued,
                        const std::vector<std::pair<size_t, bool>>& results);
  void ackLocked(const std::string& agent_id, uint64_t epoch, uint64_t seq);
  // The agent's pin, or the assignment for `labels`, with its baseline; sessions_mutex_ held.
  std::optional<v1::ControllerMessage> assignmentMessageLocked(const std::string& agent_id,
                                                               const store::Labels& labels);
  std::optional<v1::ControllerMessage> pinMessage(const store::PinRow& pin);
  // What decides the agent's target ("" none): resync sends only when it changed.
  std::string targetKeyLocked(const std::string& agent_id, const store::Labels& labels) const;
  static v1::ControllerMessage assignmentMessage(const store::BaselineRecord& baseline,
                                                 store::Mode mode,
                                                 const std::vector<std::string>& repair_windows);

  store::Store& store_;
  FleetOptions options_;

  mutable std::mutex sessions_mutex_;
  std::unordered_map<std::string, AgentSession*> sessions_;
  std::unordered_map<std::string, store::Labels> session_labels_;
  std::set<std::string> revoked_;
  std::vector<store::AssignmentRecord> assignments_;
  std::unordered_map<std::string, store::PinRow> pins_;  // by agent id

  std::mutex listener_mutex_;
  std::function<void()> state_stored_;  // guarded by listener_mutex_
  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  store::UnixMs writing_since_ = 0;  // the batch being written: its oldest receive time
  std::unordered_map<std::string, store::UnixMs> seen_;
  bool stopping_ = false;
  FleetStats stats_;
  std::thread writer_;
  // The heartbeat flusher's wake-up: its own, so reports never wake it.
  std::mutex heartbeat_mutex_;
  std::condition_variable heartbeat_cv_;
  bool heartbeat_stopping_ = false;  // guarded by heartbeat_mutex_
  std::thread heartbeat_flusher_;
};

}  // namespace postwarden::controller::core
