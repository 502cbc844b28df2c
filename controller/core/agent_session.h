// AgentSession: one agent's stream as the fleet sees it, implemented by the gRPC reactor
// (controller/rpc/agent_service.cpp) and by fakes in tests. The seam between core and
// transport.
#pragma once

#include "common/status.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::core {

// One agent's stream, as the fleet sees it. Implemented by the gRPC reactor.
class AgentSession {
 public:
  virtual ~AgentSession() = default;
  // Queues a message to the agent; never blocks. Ignored after close().
  virtual void send(v1::ControllerMessage message) = 0;
  // Ends the stream with `status` (revoked, superseded, bad input).
  virtual void close(Status status) = 0;
};

}  // namespace postwarden::controller::core
