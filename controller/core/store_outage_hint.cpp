#include "controller/core/store_outage_hint.h"

#include <algorithm>

#include "controller/core/admission.h"

namespace postwarden::controller::core {

using std::chrono::milliseconds;

milliseconds storeOutageWindow(size_t agents, milliseconds down_for,
                               const StoreOutageHintOptions& options) {
  const double rate =
      options.returns_per_second > 0 ? options.returns_per_second : kDefaultMaxConnectsPerSecond;
  const milliseconds by_outage = options.min_window + std::max(down_for, milliseconds(0)) /
                                                          std::max(options.outage_divisor, 1);
  const milliseconds by_agents(static_cast<int64_t>(static_cast<double>(agents) * 1000 / rate));
  const milliseconds cap = std::max(options.max_window, milliseconds(1));
  return std::clamp(std::max(by_outage, by_agents), milliseconds(1), cap);
}

milliseconds storeOutageRetryAfter(size_t agents, milliseconds down_for, double unit,
                                   const StoreOutageHintOptions& options) {
  const milliseconds window = storeOutageWindow(agents, down_for, options);
  unit = std::clamp(unit, 0.0, 1.0);
  const auto hint = static_cast<int64_t>(static_cast<double>(window.count()) * (1 + unit) / 2);
  return std::clamp(milliseconds(hint), milliseconds(1), window);
}

StoreOutageHints::StoreOutageHints(StoreOutageHintOptions options, const os::Clock& clock,
                                   uint64_t seed)
    : options_(options), clock_(clock), random_(seed) {}

milliseconds StoreOutageHints::retryAfter(size_t agents) {
  const auto now = clock_.steadyNow();
  std::lock_guard lock(mutex_);
  if (!down_.load(std::memory_order_relaxed)) {
    down_since_ = now;
    peak_agents_ = 0;
    down_.store(true, std::memory_order_relaxed);
  }
  // The most agents held since the outage began: the replica empties as it ends their
  // streams, yet they all come back when the store does.
  peak_agents_ = std::max(peak_agents_, agents);
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  return storeOutageRetryAfter(
      peak_agents_, std::chrono::duration_cast<milliseconds>(now - down_since_), unit, options_);
}

void StoreOutageHints::storeAnswered() {
  if (!down_.load(std::memory_order_relaxed)) return;
  std::lock_guard lock(mutex_);
  down_.store(false, std::memory_order_relaxed);
}

}  // namespace postwarden::controller::core
