// Agent ids: the CN of an agent's certificate, its name in the store, in operators' tables
// and in logs. Pure functions, thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"

namespace postwarden::controller::core {

// Agent ids are host names: [a-z0-9][a-z0-9.-]{0,252}.
bool validAgentId(std::string_view id);

// A name a real agent may enroll with: validAgentId, and not sim-* (the fleet simulator's
// names, docs/fleetsim.md). InvalidArgument saying which.
Status checkEnrollableAgentId(std::string_view id);

}  // namespace postwarden::controller::core
