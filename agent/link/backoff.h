// Backoff: the agent's reconnect waits (AWS Architecture Blog, "Exponential Backoff And
// Jitter"). The first wait after a reset (a lost stream) is full jitter, uniform(0, base), so a
// fleet that lost its controller at one instant spreads its return over the whole window. Each
// later wait follows a failed attempt and draws from the upper half of the doubled window,
// uniform(w/2, w) with w = min(cap, base * 2^n): a retry lands after the outage that failed it
// instead of near zero (where it would fail again and double again), which bounds the tail. A
// controller that sheds load names a wait; nextAfterHint() honours it plus jitter.
// Deterministic for a given seed; never overflows, whatever the attempt count.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace postwarden::agent::link {

// Trailing metadata key of a stream the controller refused with RESOURCE_EXHAUSTED: the wait
// it asks for, in whole milliseconds (kRetryAfterMsKey in controller/core/admission.h).
inline constexpr char kRetryAfterMsKey[] = "retry-after-ms";

// The hint in a retry-after-ms value: decimal digits only, > 0; anything else is no hint.
std::optional<std::chrono::milliseconds> parseRetryAfterMs(std::string_view value);

class Backoff {
 public:
  // `base` and `cap` are clamped to at least 0 and `cap` to at least `base`. Callers seed
  // from std::random_device; tests pass a fixed seed.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, uint64_t seed);

  // The wait before the next retry, and counts the attempt: uniform in [0, base] for the first
  // (attempts() == 0), uniform in [w/2, w], w = min(cap, base * 2^attempts()), after that.
  // Not thread-safe.
  std::chrono::milliseconds next();

  // The wait after the controller refused with a retry hint: at least `hint` (taken as `cap`
  // when larger, so a wrong hint cannot park the agent for longer than its own backoff would),
  // plus jitter uniform in [0, min(hint, base)] so that callers handed the same slot do not
  // return at the same millisecond. The controller was reachable, so the attempt count (the
  // exponential window) does not grow. A hint <= 0 is no hint: next().
  std::chrono::milliseconds nextAfterHint(std::chrono::milliseconds hint);

  // The short wait before trying another controller address after one failed, while others
  // are still untried (ReconnectPacer): uniform in [0, base / kAddressJitterDivisor], so a
  // fleet leaving a dead replica reaches the next one spread out, not in one instant. The
  // attempt count (the exponential window) does not grow.
  std::chrono::milliseconds nextAddress();
  static constexpr int kAddressJitterDivisor = 4;

  // Back to attempt 0 (call after a success). The random sequence continues.
  void reset();

  // How many times next() was called since construction or the last reset().
  int attempts() const { return attempts_; }

 private:
  // min(cap, base * 2^attempts_), computed without overflow.
  std::chrono::milliseconds window() const;
  int64_t uniform(int64_t low, int64_t high);

  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::mt19937_64 random_;
  int attempts_ = 0;
};

}  // namespace postwarden::agent::link
