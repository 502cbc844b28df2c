// systemd's service notifications (sd_notify(3)) for Type=notify units: readiness, stopping
// and the watchdog. Every call does nothing when the process was not started by systemd with
// a notification socket (NOTIFY_SOCKET unset): tests and terminals are unaffected.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace postwarden::systemd {

// "READY=1": the service is up (the controller serves, the agent made its first check).
void notifyReady();
// "STOPPING=1": shutdown has begun.
void notifyStopping();
// "WATCHDOG=1": the process is not wedged. Send it only from a place that proves it.
void notifyWatchdog();
// "STATUS=...": one line `systemctl status` shows.
void notifyStatus(const std::string& status);

// The watchdog timeout systemd set for this process (WatchdogSec=, as WATCHDOG_USEC for our
// pid); nullopt when there is none. Feed it at least every half of this.
std::optional<std::chrono::microseconds> watchdogTimeout();

// How often to feed a watchdog of `timeout`: a third of it, leaving one missed beat of slack.
std::chrono::milliseconds watchdogFeedInterval(std::chrono::microseconds timeout);

}  // namespace postwarden::systemd
