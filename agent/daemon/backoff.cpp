#include "agent/daemon/backoff.h"

#include <algorithm>
#include <limits>

namespace postwarden::agent::daemon {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, uint64_t seed)
    : base_(std::max(base, std::chrono::milliseconds(0))),
      cap_(std::max(cap, base_)),
      random_(seed) {}

std::chrono::milliseconds Backoff::window() const {
  const int64_t base = base_.count();
  const int64_t cap = cap_.count();
  if (base == 0) return std::chrono::milliseconds(0);
  // Doubling stops as soon as the cap is reached, so base * 2^n is never formed for large n
  // and nothing can overflow.
  int64_t w = base;
  for (int i = 0; i < attempts_ && w < cap; ++i) {
    w = (w > cap / 2) ? cap : w * 2;
  }
  return std::chrono::milliseconds(std::min(w, cap));
}

std::chrono::milliseconds Backoff::next() {
  const int64_t upper = window().count();
  if (attempts_ < std::numeric_limits<int>::max()) ++attempts_;
  std::uniform_int_distribution<int64_t> pick(0, upper);
  return std::chrono::milliseconds(pick(random_));
}

void Backoff::reset() { attempts_ = 0; }

}  // namespace postwarden::agent::daemon
