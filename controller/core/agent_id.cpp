#include "controller/core/agent_id.h"

#include <string>

namespace postwarden::controller::core {

bool validAgentId(std::string_view id) {
  if (id.empty() || id.size() > 253) return false;
  auto allowed = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!allowed(id.front())) return false;
  for (char c : id) {
    if (!allowed(c) && c != '.' && c != '-') return false;
  }
  return true;
}

Status checkEnrollableAgentId(std::string_view id) {
  if (!validAgentId(id)) {
    return InvalidArgumentError("agent id '" + std::string(id) + "' is not a lowercase host name");
  }
  // The simulator speaks for sim-* agents (with --allow-simulator); a real agent of that name
  // could be confused with, or taken over by, the simulator.
  if (id.starts_with("sim-")) {
    return InvalidArgumentError("agent id '" + std::string(id) +
                                "' is reserved for the fleet simulator (sim-*)");
  }
  return OkStatus();
}

}  // namespace postwarden::controller::core
