#include "tests/fakes/fake_clock.h"

#include "common/check.h"

namespace postwarden::fakes {

FakeClock::FakeClock(std::chrono::system_clock::time_point start)
    : now_(start), steady_now_(std::chrono::hours(1)) {}

std::chrono::system_clock::time_point FakeClock::now() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return now_;
}

std::chrono::steady_clock::time_point FakeClock::steadyNow() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return steady_now_;
}

void FakeClock::sleepFor(std::chrono::milliseconds duration) {
  std::lock_guard<std::mutex> lock(mutex_);
  sleeps_.push_back(duration);
  if (duration <= std::chrono::milliseconds::zero()) return;
  now_ += duration;
  steady_now_ += duration;
}

void FakeClock::advance(std::chrono::nanoseconds duration) {
  PW_CHECK(duration >= std::chrono::nanoseconds::zero());
  std::lock_guard<std::mutex> lock(mutex_);
  now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
  steady_now_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
}

void FakeClock::setNow(std::chrono::system_clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  now_ = now;
}

std::vector<std::chrono::milliseconds> FakeClock::sleeps() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sleeps_;
}

}  // namespace postwarden::fakes
