#include "common/os/clock.h"

#include <thread>

namespace postwarden::os {

void SystemClock::sleepFor(std::chrono::milliseconds duration) {
  // std::this_thread::sleep_for resumes after EINTR and sleeps at least `duration`; a
  // non-positive duration returns at once.
  if (duration > std::chrono::milliseconds::zero()) std::this_thread::sleep_for(duration);
}

}  // namespace postwarden::os
