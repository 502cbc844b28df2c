// Which replica does the work that must run once (the rollout engine's steps): the one holding
// a store Lease (controller/store/coordination.h). Without a lease (SQLite: one process) this
// replica always leads. With one, a thread tries to take it every `check_interval` while not
// leading and checks it is still held while leading; it stops leading at the first check that
// cannot prove the lease (an error counts as lost), so two replicas never lead at once as long
// as the lease holds; a holder killed frees the lease with its session, and another replica
// takes over at its next try. The decision is leadershipStep, pure and unit tested.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "controller/store/coordination.h"

namespace postwarden::controller::core {

// What one check decides: lead or not, and whether to drop the lease's connection (after a
// failed check, so a lease the server still holds for a half-dead session is not kept).
struct LeadershipDecision {
  bool leader = false;
  bool release = false;
};

// `leading`: before the check; `answer`: tryAcquire()'s when not leading, stillHeld()'s when
// leading.
LeadershipDecision leadershipStep(bool leading, const Result<bool>& answer);

struct LeadershipOptions {
  std::chrono::milliseconds check_interval{1000};
  // Called from the leadership thread on every change (true: now leading).
  std::function<void(bool leader)> on_change;
};

class Leadership {
 public:
  // `lease` null: always the leader. Borrowed; must outlive this.
  Leadership(store::Lease* lease, LeadershipOptions options = {});
  ~Leadership();  // stops; gives the lease up

  void start();
  void stop();
  bool isLeader() const { return leader_; }
  // One check now (the thread calls it; tests may too).
  void check();

 private:
  void loop();

  store::Lease* lease_;
  LeadershipOptions options_;
  std::atomic<bool> leader_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace postwarden::controller::core
