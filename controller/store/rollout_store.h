// The durable side of rollouts (controller/core/rollouts.h): each rollout's record, the pins
// that hold a host on the version a rollout gave it (or is giving it back), and the audit log of
// operator actions (on rollouts and elsewhere) and host transitions. A separate interface from
// Store so that a backend can offer it or not (the composition root wires rollouts only when it
// does). Plain values; the record and the pin's job are serialized protobuf messages the store does
// not read. Thread-safe.
//
// Several controllers may save the same rollout (an operator call on one replica, a step on the
// leader): each stored rollout has a revision, raised by every save, and a save names the
// revision it read and is refused (Aborted, nothing stored) when another save came first.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::store {

struct RolloutRow {
  std::string id;
  std::string record;  // serialized postwarden.v1.RolloutRecord
  bool active = true;  // not yet completed or aborted: the engine steps it
  UnixMs created_at = 0;
  UnixMs updated_at = 0;
  // The stored revision (1 when created, +1 by every save). A read returns it; a save passes
  // back the revision it read.
  int64_t revision = 1;
};

// The version a rollout holds one agent on; it overrides the agent's assignment.
struct PinRow {
  std::string agent_id;
  std::string baseline_name;
  std::string baseline_version;  // full digest
  std::string rollout_id;
  std::string job;  // serialized postwarden.v1.RolloutJob
};

struct AuditRow {
  int64_t id = 0;  // assigned by the store, increasing
  UnixMs at = 0;
  std::string actor;  // certificate identity, or "controller"
  std::string rollout_id;
  std::string action;
  std::string host;
  std::string detail;
};

class RolloutStore {
 public:
  virtual ~RolloutStore() = default;

  // A new rollout at revision 1 (`row.revision` is not read) with its first audit rows.
  // AlreadyExists on an id clash.
  virtual Status createRollout(const RolloutRow& row, std::span<const AuditRow> audit) = 0;
  // Replaces the rollout's record, writes `pins` (replacing each agent's pin) and appends
  // `audit`, in one transaction: a step is stored completely or not at all. Compare-and-set:
  // only while the stored revision is still `row.revision` (it becomes `row.revision + 1`);
  // Aborted, and nothing stored, when another save came first ("read it again"). NotFound.
  virtual Status saveRollout(const RolloutRow& row, std::span<const PinRow> pins,
                             std::span<const AuditRow> audit) = 0;
  // An operator action outside a rollout (an assignment, a revocation, a token): one row.
  virtual Status addAudit(const AuditRow& row) = 0;
  virtual Result<RolloutRow> getRollout(const std::string& id) = 0;            // NotFound
  virtual Result<std::vector<RolloutRow>> listRollouts(bool active_only) = 0;  // by created_at
  virtual Result<std::vector<PinRow>> listPins() = 0;                          // by agent
  // Oldest first; `rollout_id` empty: all; at most `limit` rows, the newest that match.
  virtual Result<std::vector<AuditRow>> audit(const std::string& rollout_id, UnixMs since,
                                              int limit) = 0;
};

// What saveRollout answers when the stored revision is no longer the one read; both backends
// say it the same way.
inline Status staleRolloutError(const std::string& id, int64_t read, int64_t stored) {
  return AbortedError("rollout '" + id + "' changed since it was read (revision " +
                      std::to_string(read) + ", now " + std::to_string(stored) +
                      "); read it again");
}

}  // namespace postwarden::controller::store
