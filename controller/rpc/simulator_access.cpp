#include "controller/rpc/simulator_access.h"

#include <cctype>

namespace postwarden::controller::rpc {

bool validSimulatedId(std::string_view id) {
  if (!id.starts_with("sim-") || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

Result<std::string> simulatedAgent(const SimulatorOptions& options,
                                   const grpc::ServerContextBase& context) {
  if (!options.accept) {
    return PermissionDeniedError("simulator certificates are not accepted by this controller");
  }
  auto it = context.client_metadata().find(kSimulatedAgentKey);
  std::string id = it == context.client_metadata().end()
                       ? std::string()
                       : std::string(it->second.data(), it->second.size());
  if (!validSimulatedId(id)) return InvalidArgumentError("simulated agent id must be sim-*");
  return id;
}

}  // namespace postwarden::controller::rpc
