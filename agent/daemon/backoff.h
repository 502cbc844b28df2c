// Backoff: exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff
// And Jitter"): attempt n waits uniform(0, min(cap, base * 2^n)). Spreading the waits over the
// whole window keeps a fleet of agents from reconnecting in lockstep after a controller
// outage. Deterministic for a given seed; never overflows, whatever the attempt count.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace postwarden::agent::daemon {

class Backoff {
 public:
  // `base` and `cap` are clamped to at least 0 and `cap` to at least `base`. Callers seed
  // from std::random_device; tests pass a fixed seed.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, uint64_t seed);

  // The wait before the next retry, uniform in [0, min(cap, base * 2^attempts())], and
  // counts the attempt. Not thread-safe.
  std::chrono::milliseconds next();

  // Back to attempt 0 (call after a success). The random sequence continues.
  void reset();

  // How many times next() was called since construction or the last reset().
  int attempts() const { return attempts_; }

 private:
  // min(cap, base * 2^attempts_), computed without overflow.
  std::chrono::milliseconds window() const;

  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::mt19937_64 random_;
  int attempts_ = 0;
};

}  // namespace postwarden::agent::daemon
