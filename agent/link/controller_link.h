// The agent's side of the stream to the controller, on its own thread:
//   connect (mutual TLS) -> hello -> every unacknowledged outbox report in order -> heartbeats;
//   assignments and commands that arrive are handed to callbacks; acks trim the outbox.
// When the stream breaks it reconnects after a jittered backoff (Backoff: full jitter
// over the base window first, so that a thousand agents do not return in lock step after a
// controller restart); a controller that sheds the reconnect (RESOURCE_EXHAUSTED with
// "retry-after-ms" trailing metadata) is retried no sooner than it asked. Reports wait in the
// durable outbox meanwhile (nothing is lost across an outage or an agent restart). The client
// certificate is renewed over the stream's channel once two thirds of its lifetime are gone.
// With several controller addresses (replicas) each reconnect goes to the next one; one that
// failed is left for the next promptly, and the backoff grows once every address has failed
// in turn (ReconnectPacer).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/link/channel.h"
#include "agent/link/outbox.h"
#include "agent/link/reconnect_pacer.h"
#include "common/os/env.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::agent::link {

struct LinkOptions {
  ChannelOptions channel;  // address, name, pinned CA
  // Controller replicas: every address, tried in turn (AddressRotation); empty: only
  // channel.address. The name and CA are the same for all.
  std::vector<std::string> addresses;
  std::string state_dir;  // the identity (agent.pem)
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{60000};
};

// The link as it changes: connected (the first ack), or ended with an error; `revoked` when
// the controller refused this identity for good.
struct LinkState {
  bool connected = false;
  std::string error;
  bool revoked = false;
  std::chrono::system_clock::time_point at;
};

struct LinkCallbacks {
  std::function<v1::Hello()> hello;  // the current hello, built at each connect
  std::function<void(const v1::Assignment&)> on_assignment;
  std::function<void(const v1::Command&)> on_command;
  std::function<void(const LinkState&)> on_link_state;  // optional; on the link's thread
};

class ControllerLink {
 public:
  // The outbox is shared with nobody else: the link serializes access to it.
  // The Env's file system holds the identity; its clock and randomness drive heartbeats,
  // backoff and renewal.
  ControllerLink(const os::Env& env, Outbox& outbox, LinkOptions options, LinkCallbacks callbacks);
  ~ControllerLink();  // stop()

  void start();
  void stop();

  // Stores a durable report (state or drift; `message.seq` is assigned here) and wakes the
  // sender. Errors when the outbox cannot be written (disk full): nothing is half-written.
  Result<uint64_t> enqueue(v1::AgentMessage message);

  bool connected() const { return connected_; }

 private:
  struct SessionEnd {
    grpc::Status status;
    std::optional<std::chrono::milliseconds> retry_after;  // the controller's hint, if any
  };
  void run();
  // One connection: returns when the stream ends or stop() is called.
  SessionEnd session(const AgentIdentity& identity);
  void renewIfDue(const std::shared_ptr<grpc::Channel>& channel, const AgentIdentity& identity);
  void acknowledge(uint64_t seq);
  void logRevoked(const AgentIdentity& identity);
  void logReconnect(const std::string& address, const SessionEnd& end,
                    const ReconnectWait& wait) const;
  void noteLinkState(bool connected, const std::string& error, bool revoked);

  // A revoked identity is not offered again; its file is looked at this often for a new one.
  static constexpr std::chrono::seconds kRevokedRecheck{60};
  // A stream that lived this long was a success: the backoff starts small again.
  static constexpr std::chrono::seconds kLivedSession{10};

  os::Env env_;
  Outbox& outbox_;
  LinkOptions options_;
  LinkCallbacks callbacks_;
  AddressRotation rotation_;  // the link thread's
  std::thread thread_;
  std::atomic<bool> connected_{false};

  mutable std::mutex mutex_;  // outbox_, stop_, context_
  std::condition_variable wake_;
  bool stop_ = false;
  grpc::ClientContext* context_ = nullptr;  // the live stream's, for stop()
  uint64_t acked_ = 0;                      // highest ack seen on this connection
  std::string revoked_certificate_;         // the certificate the controller revoked (link thread)
};

}  // namespace postwarden::agent::link
