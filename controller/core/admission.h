// ConnectAdmission: admission control for new agent streams, so that a controller restart
// does not let a whole fleet in at once. A token bucket admits at most `per_second` new
// streams per second on average and `burst` at once; a refused caller is told when to come
// back, and those hints hand out consecutive 1/per_second slots, so the refused return spread
// at the admitted rate instead of all at the next free token. Pure (time from the injected
// Clock's steady clock) and thread-safe.
#pragma once

#include <chrono>
#include <mutex>

#include "common/os/clock.h"

namespace postwarden::controller::core {

struct AdmissionOptions {
  // New streams per second, on average. 0 (or less): no limit, everything is admitted.
  double per_second = 1000;
  // Streams admitted back to back; 0: a fiftieth of a second's worth (at least 1), so that
  // no 100 ms admits more than 1.2 times its share, even right after a start or a stall.
  double burst = 0;
  // The longest retry hint handed out, however long the queue of refused callers.
  std::chrono::milliseconds max_retry_after{30000};
};

// Default of `postwarden-controller serve --max-connects-per-second` (docs/performance.md:
// the controller takes hellos at ~2,000/s on 2 cores shared with the simulator; half of that
// leaves room for the reports and heartbeats of the agents already back).
inline constexpr double kDefaultMaxConnectsPerSecond = 1000;

// Trailing metadata key of a refused stream: the retry hint in whole milliseconds.
inline constexpr char kRetryAfterMsKey[] = "retry-after-ms";

struct AdmissionDecision {
  bool admitted = true;
  // When refused: the earliest time to try again (> 0). 0 when admitted.
  std::chrono::milliseconds retry_after{0};
};

class ConnectAdmission {
 public:
  // `clock` is borrowed and must outlive this object. The bucket starts full.
  ConnectAdmission(AdmissionOptions options, const os::Clock& clock);

  // Takes a token for one new stream, or refuses with a retry hint: the caller's slot behind
  // everyone refused before it (1/per_second apart), at most max_retry_after. Never fails.
  AdmissionDecision admit();

  bool limited() const { return per_second_ > 0; }
  double perSecond() const { return per_second_; }
  double burst() const { return burst_; }

 private:
  const double per_second_;
  const double burst_;
  const std::chrono::milliseconds max_retry_after_;
  const os::Clock& clock_;

  std::mutex mutex_;
  double tokens_;
  std::chrono::steady_clock::time_point refilled_at_;
  // The last slot promised to a refused caller; in the past when nobody is waiting.
  std::chrono::steady_clock::time_point last_slot_;
};

}  // namespace postwarden::controller::core
