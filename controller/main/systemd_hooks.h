// The controller under systemd (Type=notify, WatchdogSec=): READY=1 once it serves,
// STOPPING=1 when a stop signal came, and WATCHDOG=1 only after the controller answered a
// real call. A wedge looks like this: the gRPC threads, the store (a SQLite lock never
// released, a PostgreSQL connection that hangs) or a lock in the call path stop answering
// while the process lives on. So the watchdog is fed by the main thread only after a
// self-check went the way an operator's call goes: a TLS connection to the controller's own
// mTLS listener, authenticated with a viewer certificate the controller issues itself (in
// memory, renewed daily), GetAgent of an id no agent has, through the operator service and a
// store read. No answer within the feed interval: no WATCHDOG=1, and systemd restarts the
// controller once WatchdogSec passes. Without NOTIFY_SOCKET/WATCHDOG_USEC nothing is checked
// and nothing is sent.
#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>

#include "controller/credentials/authority.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller {

class SelfCheck {
 public:
  // `target`: "HOST:PORT" of the controller's own mTLS listener (selfCheckTarget).
  SelfCheck(credentials::Authority authority, std::string target);

  // True when the controller answered within `deadline`: any answer counts (NotFound is the
  // expected one; a refused TLS handshake, e.g. a server certificate without "localhost", is
  // logged once and says nothing about a wedge). False only when no answer came in time.
  bool answers(std::chrono::milliseconds deadline);

 private:
  void renewIdentity();

  credentials::Authority authority_;
  std::string target_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
  std::chrono::steady_clock::time_point renew_at_{};
  bool warned_ = false;
};

// The address to dial for the listener `listen` ("0.0.0.0:7443", "[::]:7443", "host:7443")
// now bound to `port`: the wildcard addresses become loopback.
std::string selfCheckTarget(const std::string& listen, int port);

// Sends READY=1 and waits for one of `stop_signals` (blocked in every thread); with systemd's
// watchdog on, runs `self_check` every third of WatchdogSec meanwhile and feeds the watchdog
// when it answers. Sends STOPPING=1 before returning. `self_check` is borrowed, may be null.
void serveUntilStopped(const sigset_t& stop_signals, SelfCheck* self_check);

}  // namespace postwarden::controller
