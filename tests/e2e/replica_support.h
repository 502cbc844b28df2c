// What the replica e2e tests (replicas_e2e_test, replicas_faults_e2e_test) share: reading the
// private PostgreSQL behind the controllers' backs, an agent's drift history as a replica
// serves it, and the check that an agent's outbox and the store agree (nothing lost, nothing
// stored twice).
#pragma once

#include <chrono>
#include <string>

#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {

double secondsSince(std::chrono::steady_clock::time_point start);

// The first column of the first row of constant `sql` as text ("" on error, with a failure).
std::string queryText(const std::string& conninfo, const std::string& sql);

// History entries of `kind` whose summary holds `needle` that `c` shows for agent `id`; -1
// when `c` cannot answer.
int historyCount(Controller& c, const std::string& id, const std::string& kind,
                 const std::string& needle);

// Stops `agent` and checks its outbox against the store at `conninfo`: every sequence number
// it handed out is stored once (the store's key, without a gap) or still pending (made just
// before the stop), and the agent's counter in the store is the highest stored.
void expectOutboxStoredOnce(FleetAgent& agent, const std::string& conninfo);

}  // namespace postwarden::testing
