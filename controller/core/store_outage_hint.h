// StoreOutageHints: the retry hint ("retry-after-ms", kRetryAfterMsKey) a replica gives an
// agent whose stream it ends, or whose hello it refuses, because its store is unavailable.
// Without a hint the agent's backoff grows per failed round up to its cap (a minute), so after
// the store returns it comes back up to a minute late; with one it polls again within seconds
// and its backoff does not grow. The hints are spread so that the turned-away fleet does not
// come back in one wave: uniform over the upper half of a window that is at least a few
// seconds, grows with how long the store has been down (a long outage is polled less often),
// and with how many agents the replica held (their return is spread at about the admitted
// rate), never beyond the agents' backoff cap. Pure rule + a small thread-safe tracker (time
// from the injected Clock's steady clock).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <random>

#include "common/os/clock.h"

namespace postwarden::controller::core {

struct StoreOutageHintOptions {
  // The rate at which the turned-away agents should come back, per second: the replica's
  // admission rate (--max-connects-per-second), so that the window holds all of them at that
  // rate and admission has little left to shed. <= 0: kDefaultMaxConnectsPerSecond.
  double returns_per_second = 1000;
  // The smallest window: a few seconds, so one or two agents poll a down store at most about
  // once a second each (with the agent's own jitter), yet are back within seconds of it.
  std::chrono::milliseconds min_window{2000};
  // A tenth of the outage so far is added: after a minute down agents poll every 4-8 s; after
  // ten minutes every 30-60 s, where the backoff would have been anyway.
  int outage_divisor = 10;
  // The agents' backoff cap (ControllerLinkOptions::backoff_cap): a hint beyond it would be
  // capped by the agent anyway (Backoff::nextAfterHint), and would be slower than no hint.
  std::chrono::milliseconds max_window{60000};
};

// The window: max(min_window + down_for / outage_divisor, agents / returns_per_second), at
// most max_window (and never below 1 ms).
std::chrono::milliseconds storeOutageWindow(size_t agents, std::chrono::milliseconds down_for,
                                            const StoreOutageHintOptions& options);

// The hint for `unit` in [0, 1) (a uniform draw): window * (1 + unit) / 2, the window's upper
// half, so no agent is told to come back at once (where it would only be refused again).
std::chrono::milliseconds storeOutageRetryAfter(size_t agents, std::chrono::milliseconds down_for,
                                                double unit, const StoreOutageHintOptions& options);

// The outage as one replica sees it: from the first stream ended for the store, until the
// store answers again (a hello stored); the most agents the replica held meanwhile.
class StoreOutageHints {
 public:
  // `clock` is borrowed and must outlive this object.
  StoreOutageHints(StoreOutageHintOptions options, const os::Clock& clock, uint64_t seed);

  // The hint for a stream ended because the store is unavailable; `agents`: the streams this
  // replica holds now. Starts the outage if none is running.
  std::chrono::milliseconds retryAfter(size_t agents);

  // The store answered: the outage, if any, is over. Cheap when none is running (one atomic
  // load), since every stored hello calls it.
  void storeAnswered();

  bool outage() const { return down_.load(std::memory_order_relaxed); }

 private:
  const StoreOutageHintOptions options_;
  const os::Clock& clock_;
  std::atomic<bool> down_{false};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point down_since_{};
  size_t peak_agents_ = 0;
  std::mt19937_64 random_;
};

}  // namespace postwarden::controller::core
