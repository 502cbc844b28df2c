#include "controller/rpc/identity.h"

#include <array>
#include <utility>

#include "common/pki/pki.h"

namespace postwarden::controller::rpc {
namespace {

constexpr std::array<std::pair<std::string_view, Role>, 4> kRoles{{
    {"viewer", Role::kViewer},
    {"operator", Role::kOperator},
    {"approver", Role::kApprover},
    {"admin", Role::kAdmin},
}};

Status unauthenticated(std::string message) {
  return Status(StatusCode::kUnauthenticated, std::move(message));
}

}  // namespace

std::string_view roleName(Role role) {
  for (const auto& [name, r] : kRoles) {
    if (r == role) return name;
  }
  return "none";
}

Result<Role> parseRole(std::string_view name) {
  for (const auto& [n, r] : kRoles) {
    if (n == name) return r;
  }
  return InvalidArgumentError("unknown role '" + std::string(name) +
                              "' (viewer, operator, approver or admin)");
}

std::string Peer::describe() const {
  std::string kind_name = kind == PeerKind::kAgent      ? "agent"
                          : kind == PeerKind::kOperator ? "operator"
                                                        : "simulator";
  return kind_name + " " + id + (address.empty() ? "" : " (" + address + ")");
}

Result<Peer> peerFromSubject(std::string_view common_name, std::string_view unit) {
  if (common_name.empty()) return unauthenticated("client certificate has no common name");
  Peer peer;
  peer.id = std::string(common_name);
  if (unit == kAgentUnit) {
    peer.kind = PeerKind::kAgent;
  } else if (unit == kSimulatorUnit) {
    peer.kind = PeerKind::kSimulator;
  } else if (unit.starts_with(kOperatorUnitPrefix)) {
    Result<Role> role = parseRole(unit.substr(kOperatorUnitPrefix.size()));
    if (!role.ok()) return unauthenticated("operator certificate with " + role.status().message());
    peer.kind = PeerKind::kOperator;
    peer.role = *role;
  } else {
    return unauthenticated("client certificate of an unknown kind (OU '" + std::string(unit) +
                           "')");
  }
  return peer;
}

Result<Peer> authenticate(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) {
    return unauthenticated("no verified client certificate");
  }
  std::vector<grpc::string_ref> pem = auth->FindPropertyValues("x509_pem_cert");
  if (pem.empty()) return unauthenticated("no client certificate");
  Result<pki::CertificateInfo> info =
      pki::inspectCertificate(std::string(pem.front().data(), pem.front().size()));
  if (!info.ok()) return unauthenticated("unreadable client certificate");
  PW_ASSIGN_OR_RETURN(Peer peer, peerFromSubject(info->common_name, info->organizational_unit));
  peer.address = context.peer();
  return peer;
}

Status authorize(const Peer& peer, Role needed, std::string_view action) {
  if (peer.kind != PeerKind::kOperator) {
    return PermissionDeniedError("only operators may " + std::string(action));
  }
  if (peer.role < needed) {
    return PermissionDeniedError("role " + std::string(roleName(peer.role)) + " may not " +
                                 std::string(action) + " (needs " + std::string(roleName(needed)) +
                                 ")");
  }
  return OkStatus();
}

}  // namespace postwarden::controller::rpc
