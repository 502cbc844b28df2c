// The health gates of a soaking host: its last figures against the spec's thresholds
// (HealthGate). The absolute gates (deferred growth, fatal lines, TLS failures) always apply;
// the traffic gates compare the soak so far with an equally long period just before the change
// and apply only when the agent could count that period (before_known):
// - SASL failures fail the host when they are above `sasl_failure_floor` and above the period
//   before by more than `max_sasl_failure_increase` percent;
// - inbound connections and deliveries fail it when they fall below `min_connection_ratio` /
//   `min_delivery_ratio` percent of the period before, if that period had at least
//   `min_events_before` of them.
// Pure; the reason names each figure, its value and its threshold (it goes to the audit log).
#pragma once

#include <string>

#include "controller/rollout/rollout_spec.h"
#include "controller/rollout/rollout_state.h"

namespace postwarden::controller::rollout {

// "" when every gate holds; else "deferred growth 120 > 100, deliveries 3 < 50% of 40 before".
std::string exceededGates(const HealthGate& gate, const GateFigures& figures);

}  // namespace postwarden::controller::rollout
