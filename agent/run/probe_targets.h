// Which listeners to probe, and for which expectations: the baseline's `verify:` entries
// resolved against master.cf (a role such as smtp becomes the inet services on its port), the
// address taken from the service name or main.cf's inet_interfaces, always on this host.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/applier/transaction.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline.h"
#include "agent/run/host.h"
#include "agent/verify/smtp_prober.h"

namespace postwarden::agent::run {

// What is the same for every probe of a run.
struct ProbeSettings {
  std::chrono::milliseconds timeout{5000};
  std::optional<verify::Credentials> login;
  std::optional<verify::TestMessage> message;
};

// One ProbeCheck per (expectation, listener). With `probe` set, every expectation is checked
// on that address. A baseline without expectations gets a health check (banner, EHLO, a
// working STARTTLS when offered) of its smtp listeners. FailedPrecondition when an
// expectation's service has no listener in master.cf.
Result<std::vector<applier::ProbeCheck>> probeChecks(const policy::Baseline& baseline,
                                                     const planner::PostfixConfig& config,
                                                     const planner::PlanOptions& plan_options,
                                                     const std::optional<HostPort>& probe,
                                                     const ProbeSettings& settings);

// What the configuration alone says the probe of `baseline`'s verify entries will see on
// each listener of `config` (the configuration a change would produce), as sentences naming
// the listener and the deciding parameter: AUTH required after TLS where SASL AUTH is off,
// STARTTLS required where no TLS level offers it. Empty when nothing predicts a failure.
// plan and apply refuse such a change instead of applying it and rolling it back.
std::vector<std::string> predictedProbeFailures(const policy::Baseline& baseline,
                                                const planner::PostfixConfig& config,
                                                const planner::PlanOptions& plan_options);

// Health checks (banner, EHLO, a working STARTTLS when offered) of every smtpd listener in
// master.cf, or of `probe` when set: what "the service works again" means after a rollback.
Result<std::vector<applier::ProbeCheck>> healthChecks(const planner::PostfixConfig& config,
                                                      const std::optional<HostPort>& probe,
                                                      const ProbeSettings& settings);

// The loopback address a master.cf inet service listens on, given main.cf's
// inet_interfaces: "127.0.0.1:2525" -> 127.0.0.1:2525; "smtp" -> 127.0.0.1:25 (inet_interfaces
// all/loopback-only/localhost) or the first address inet_interfaces names.
Result<HostPort> listenerAddress(std::string_view service_name, std::string_view inet_interfaces);

}  // namespace postwarden::agent::run
