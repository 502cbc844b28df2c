// The durable side of rollouts (controller/core/rollouts.h): each rollout's record, the pins
// that hold a host on the version a rollout gave it (or is giving it back), and the audit log of
// operator actions (on rollouts and elsewhere) and host transitions. A separate interface from
// Store so that a backend can offer it or not (the composition root wires rollouts only when it
// does). Plain values; the record and the pin's job are serialized protobuf messages the store does
// not read. Thread-safe.
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

  // A new rollout with its first audit rows. AlreadyExists on an id clash.
  virtual Status createRollout(const RolloutRow& row, std::span<const AuditRow> audit) = 0;
  // Replaces the rollout's record, writes `pins` (replacing each agent's pin) and appends
  // `audit`, in one transaction: a step is stored completely or not at all. NotFound.
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

}  // namespace postwarden::controller::store
