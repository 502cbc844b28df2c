// Rollouts on a live fleet: the operators' calls (plan, create, approve, roll back) and the
// loop that steps every active rollout's pure engine (controller/rollout) against what the
// agents report, stores each step (record, pins, audit rows) in one transaction, and only then
// sends the jobs. A controller killed at any point resumes from the stored record: the next
// step re-derives the same decisions, and a job sent twice has the same id, which the agent
// runs once. Thread-safe: operator calls and steps are serialized.
//
// Several controllers (replicas) may change one rollout: every save names the revision it read
// (RolloutStore::saveRollout). A step that loses stores and sends nothing and steps again from
// the stored record at the loop's next turn; an operator call reads, decides and saves again,
// at most kOperatorAttempts times, then answers Aborted.
#pragma once

#include <absl/time/time.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "controller/core/fleet.h"
#include "controller/rollout/rollout_state.h"
#include "controller/store/rollout_store.h"
#include "controller/store/store.h"
#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::core {

struct RolloutsOptions {
  std::function<absl::Time()> now;  // default: the system clock
  // At most one step per interval. An active rollout steps when a state report was stored,
  // an operator changed something, the engine's wake time passed, or idle_step_interval
  // went by without any of these.
  absl::Duration step_interval = absl::Milliseconds(250);
  absl::Duration idle_step_interval = absl::Seconds(5);
  // After a step that used D of CPU, the loop rests D times this (within step_interval and
  // idle_step_interval) before the next one: at 3 the loop takes about a quarter of a core
  // however large the fleet, leaving the rest to the agents' streams (restAfterStep).
  int step_rest_factor = 3;
  // Replicas: the loop steps only while this says so (the replica holding the lease,
  // leadership.h); operator calls are served on every replica. Empty: always.
  std::function<bool()> leads;
};

// How long the loop waits after a step that used `step_cpu` of CPU (see step_rest_factor).
absl::Duration restAfterStep(absl::Duration step_cpu, const RolloutsOptions& options);

class Rollouts {
 public:
  // How often an operator call is decided again on a fresh read when another controller saved
  // the rollout between its read and its save.
  static constexpr int kOperatorAttempts = 3;

  Rollouts(store::Store& store, store::RolloutStore& rollouts, Fleet& fleet,
           RolloutsOptions options = {});
  ~Rollouts();  // stops the loop

  // Gives the fleet the stored pins and starts stepping.
  Status start();
  void stop();

  // What a spec would do now, creating nothing: waves and their hosts, next windows, the
  // baseline diffs. The spec's errors as `FILE:LINE:COL: message`.
  Result<v1::RolloutPlan> plan(const std::string& spec_yaml, const std::string& file);
  // Creates the rollout (waiting for approvals when the spec asks for some). FailedPrecondition
  // when a selected host runs no baseline (nothing known-good to roll back to) or is already
  // in an active rollout.
  Result<v1::RolloutRecord> create(const std::string& spec_yaml, const std::string& file,
                                   const std::string& creator);
  Result<std::vector<v1::RolloutRecord>> list();
  // The record with each wave's phase_counts; `summary`: only the hosts that need attention
  // (rollout_summary.h).
  Result<v1::RolloutRecord> get(const std::string& id, bool summary = false);
  Result<v1::RolloutRecord> approve(const std::string& id, const std::string& approver);
  Result<v1::RolloutRecord> rollback(const std::string& id, const std::string& actor,
                                     const std::string& reason);
  // An operator's hold: in-flight hosts finish, no new host starts until resume.
  Result<v1::RolloutRecord> pause(const std::string& id, const std::string& actor);
  Result<v1::RolloutRecord> resume(const std::string& id, const std::string& actor);
  Result<std::vector<store::AuditRow>> audit(const std::string& rollout_id, store::UnixMs since,
                                             int limit);
  // Records an operator's action outside rollouts (who, what, the outcome) in the audit log.
  void recordAction(const std::string& actor, const std::string& action, const std::string& detail);

  // Steps every active rollout once (the loop calls it; tests may too).
  void stepAll();
  // A rollout may have changed elsewhere (another replica's operator call, or this replica
  // just took the lead): the loop reads the store at its next turn, which comes at once.
  void wake();

 private:
  struct Prepared;
  Result<Prepared> prepare(const std::string& spec_yaml, const std::string& file);
  // `wake`: lowered to the engine's next wake time for this rollout.
  Status stepLocked(const store::RolloutRow& row, absl::Time now, absl::Time& wake);
  // Whether the loop should step now (see RolloutsOptions); consumes a pending request.
  bool stepDue();
  void requestStep();
  // `revision`, when given: the stored revision that was read.
  Result<v1::RolloutRecord> loadLocked(const std::string& id, int64_t* revision = nullptr);
  // What an operator call decides on the stored record: the state to store and the audit row.
  struct OperatorChange {
    rollout::RolloutState next;
    store::AuditRow audit;
  };
  using DecideChange =
      std::function<Result<OperatorChange>(const v1::RolloutRecord&, const rollout::RolloutState&)>;
  // Reads the rollout, decides with `decide` and saves over the revision read; again from a
  // fresh read while another save comes first (kOperatorAttempts). The stored record.
  Result<v1::RolloutRecord> changeLocked(const std::string& id, const DecideChange& decide);
  Status saveOperatorChange(v1::RolloutRecord record, int64_t revision,
                            const rollout::RolloutState& next, store::AuditRow audit);
  void loop();

  store::Store& store_;
  store::RolloutStore& rollouts_;
  Fleet& fleet_;
  RolloutsOptions options_;

  std::mutex mu_;  // serializes operator calls and steps
  std::mutex loop_mutex_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;
  // Whether a rollout may be active: the loop reads the store only then (a controller without
  // rollouts pays nothing for the loop). Set by create and operator changes, cleared by a step
  // that finds none active.
  std::atomic<bool> maybe_active_{true};
  // A state report was stored or an operator acted since the last step.
  std::atomic<bool> step_requested_{true};
  std::mutex wake_mutex_;
  absl::Time next_step_ = absl::InfinitePast();  // guarded by wake_mutex_
  std::thread loop_;
};

}  // namespace postwarden::controller::core
