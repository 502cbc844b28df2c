// The fleet simulator (bench/fleetsim, docs/fleetsim.md) on the controller's side: every
// hook it has in the controller starts here. The simulator presents one certificate (OU
// "simulator", from `postwarden-controller simulator-cert`) and names, in metadata, the sim-*
// agent each stream speaks for. That is accepted only when SimulatorOptions says so (`serve
// --allow-simulator`, never on a production controller); otherwise such a caller is refused
// before anything else happens. Downstream of the decision, a simulated agent is only a flag
// on its stream: Fleet::attach registers it (Store::registerSimulatedAgent) instead of
// requiring an enrollment, and it may not renew a certificate.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace postwarden::controller::rpc {

// The one switch, passed at construction (ServerOptions, AgentServiceOptions).
struct SimulatorOptions {
  bool accept = false;  // accept the simulator's certificate (serve --allow-simulator)
};

// Metadata key a simulator certificate names its agent with (bench/fleetsim/simulator.h).
inline constexpr char kSimulatedAgentKey[] = "x-postwarden-sim-agent";

// sim- followed by letters, digits and dashes; at most 64 characters.
bool validSimulatedId(std::string_view id);

// The agent a call made with the simulator's certificate speaks for. PermissionDenied when
// `options` does not accept the simulator; InvalidArgument when the metadata names no valid
// sim-* id.
Result<std::string> simulatedAgent(const SimulatorOptions& options,
                                   const grpc::ServerContextBase& context);

}  // namespace postwarden::controller::rpc
