#include "common/systemd/notify.h"

#include <systemd/sd-daemon.h>

#include <algorithm>

namespace postwarden::systemd {
namespace {

// sd_notify's errors (a full or vanished socket) are not the service's: systemd notices a
// missing READY or WATCHDOG itself, so they are ignored here.
void send(const std::string& state) { (void)sd_notify(0, state.c_str()); }

}  // namespace

void notifyReady() { send("READY=1"); }
void notifyStopping() { send("STOPPING=1"); }
void notifyWatchdog() { send("WATCHDOG=1"); }
void notifyStatus(const std::string& status) { send("STATUS=" + status); }

std::optional<std::chrono::microseconds> watchdogTimeout() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

std::chrono::milliseconds watchdogFeedInterval(std::chrono::microseconds timeout) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(timeout / 3));
}

}  // namespace postwarden::systemd
