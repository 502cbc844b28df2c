#include "agent/link/backoff.h"

#include <algorithm>
#include <limits>

namespace postwarden::agent::link {

std::optional<std::chrono::milliseconds> parseRetryAfterMs(std::string_view value) {
  if (value.empty() || value.size() > 12) return std::nullopt;  // 10^12 ms: 30 years
  int64_t ms = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  if (ms <= 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

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

int64_t Backoff::uniform(int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(random_);
}

std::chrono::milliseconds Backoff::next() {
  const int64_t upper = window().count();
  // The first wait spreads a fleet over the whole window; a retry after a failure stays in
  // the upper half, clear of the outage it just met.
  const int64_t lower = attempts_ == 0 ? 0 : upper / 2;
  if (attempts_ < std::numeric_limits<int>::max()) ++attempts_;
  return std::chrono::milliseconds(uniform(lower, upper));
}

std::chrono::milliseconds Backoff::nextAfterHint(std::chrono::milliseconds hint) {
  if (hint.count() <= 0) return next();
  const int64_t wait = std::min(hint, cap_).count();
  const int64_t jitter = std::min(wait, base_.count());
  // A cap near milliseconds::max() would overflow wait + jitter: saturate rather than wrap.
  const int64_t extra = uniform(0, jitter);
  if (wait > std::numeric_limits<int64_t>::max() - extra) {
    return std::chrono::milliseconds::max();
  }
  return std::chrono::milliseconds(wait + extra);
}

std::chrono::milliseconds Backoff::nextAddress() {
  return std::chrono::milliseconds(uniform(0, base_.count() / kAddressJitterDivisor));
}

void Backoff::reset() { attempts_ = 0; }

}  // namespace postwarden::agent::link
