// FakeClock: a Clock that moves only when told. sleepFor returns at once after advancing
// both clocks by the duration and recording it, so retry and backoff logic runs instantly
// and its waits can be asserted. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <vector>

#include "common/os/clock.h"

namespace postwarden::fakes {

class FakeClock final : public os::Clock {
 public:
  // 2024-01-01T00:00:00Z: a fixed, recognisable wall time. The steady clock starts at its
  // epoch plus one hour (so that "start - timeout" never goes below zero).
  static constexpr std::chrono::system_clock::time_point kDefaultStart{
      std::chrono::seconds(1704067200)};

  explicit FakeClock(std::chrono::system_clock::time_point start = kDefaultStart);

  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point steadyNow() const override;
  // Records `duration` and advances both clocks by it (a negative one moves nothing).
  void sleepFor(std::chrono::milliseconds duration) override;

  // Moves both clocks forward; not recorded as a sleep. A negative duration is a test bug.
  void advance(std::chrono::nanoseconds duration);
  // Sets the wall clock only (like an NTP step); the steady clock does not move.
  void setNow(std::chrono::system_clock::time_point now);

  // Every duration passed to sleepFor, in order.
  std::vector<std::chrono::milliseconds> sleeps() const;

 private:
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point now_;
  std::chrono::steady_clock::time_point steady_now_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace postwarden::fakes
