// Who is calling: taken from the verified client certificate gRPC hands us, never from a
// message field. The certificate's OU says what kind of peer it is (the controller CA writes
// it, so a peer cannot choose it): "agent" (CN = agent id), "operator:<role>" (CN = operator
// name), "simulator" (bench/fleetsim; accepted only when the controller allows it).
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "common/status.h"
#include "controller/credentials/authority.h"

namespace postwarden::controller::rpc {

using credentials::kAgentUnit;
using credentials::kOperatorUnitPrefix;
using credentials::kSimulatorUnit;

enum class PeerKind { kAgent, kOperator, kSimulator };

// Operator roles, each allowed what the ones below it may do.
enum class Role { kNone = 0, kViewer, kOperator, kApprover, kAdmin };

std::string_view roleName(Role role);
Result<Role> parseRole(std::string_view name);  // InvalidArgument for an unknown name

struct Peer {
  PeerKind kind = PeerKind::kAgent;
  std::string id;  // agent id or operator name
  Role role = Role::kNone;
  std::string address;           // "ipv4:127.0.0.1:51234", for logs
  std::string describe() const;  // "agent mx1 (ipv4:...)"
};

// Pure: the peer a certificate's CN and OU describe. Unauthenticated for an OU the controller
// never issues or an empty CN.
Result<Peer> peerFromSubject(std::string_view common_name, std::string_view unit);

// The caller of a call on the mTLS listener. Unauthenticated when there is no verified
// certificate (cannot happen on a listener that requires one, checked anyway).
Result<Peer> authenticate(const grpc::ServerContextBase& context);

// OK when `peer` is an operator whose role is at least `needed`; PermissionDenied otherwise.
Status authorize(const Peer& peer, Role needed, std::string_view action);

}  // namespace postwarden::controller::rpc
