// What several controller replicas on one shared store need from it beyond Store: a lease
// (at most one holder at a time, freed when the holder dies) for the work that must run once,
// and a feed of changes other replicas committed, so each wakes its connected agents.
// A backend offers it or not (PostgresStore does; SQLite is one process, always alone): the
// composition root asks with dynamic_cast, as for RolloutStore.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"

namespace postwarden::controller::store {

// One named lock on a connection of its own. Not thread-safe: one caller (the leadership
// loop, controller/core/leadership.h).
class Lease {
 public:
  virtual ~Lease() = default;
  // Takes the lease when free: true when held now. Unavailable when the store is unreachable.
  virtual Result<bool> tryAcquire() = 0;
  // Whether the lease is still held (its connection answers). false or an error: lost, and
  // the caller must stop the work at once.
  virtual Result<bool> stillHeld() = 0;
  // Gives the lease up (closes its connection, which frees it even when the server cannot be
  // told).
  virtual void release() = 0;
};

// The kinds of change a replica announces; the payload a listener gets.
inline constexpr char kChangeTargeting[] = "targeting";  // assignments, baselines, revocations
inline constexpr char kChangeRollout[] = "rollout";      // a rollout's record or pins
inline constexpr char kChangeCommand[] = "command";      // "command AGENT_ID BASE64"
// A state report of a rollout job was stored: the leader steps; nothing to resync.
inline constexpr char kChangeJobReport[] = "job-report";

// Stops listening when destroyed.
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
};

class Coordination {
 public:
  virtual ~Coordination() = default;
  // The lease named `key` (one per kind of singleton work).
  virtual std::unique_ptr<Lease> lease(int64_t key) = 0;
  // Calls `on_change(payload)` from a thread of its own for every change committed by any
  // replica (this one's too: a handler must be idempotent), and once with an empty payload
  // after every (re)connection, when changes may have been missed. Never fails: while the
  // store is unreachable it keeps reconnecting.
  virtual std::unique_ptr<ChangeListener> listen(
      std::function<void(const std::string& payload)> on_change) = 0;
  // Announces a change outside a store write (a command for an agent connected elsewhere).
  virtual Status announce(const std::string& payload) = 0;
};

}  // namespace postwarden::controller::store
