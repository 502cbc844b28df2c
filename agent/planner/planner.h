// The planner: Plan = diff(Baseline, current main.cf + master.cf). Pure: no I/O, no logging,
// deterministic for the same inputs. It refuses (never plans) a change that would leave the
// configuration unsafe: unknown parameters, values Postfix would choke on, `encrypt` on the
// public port-25 service, `noplaintext` that silently strips AUTH over TLS too. Compliance is
// judged per listener, not per file: a compliant plan means every governed service
// effectively runs with the baseline's values, master.cf "-o" overrides included.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "agent/params/parameter_catalog.h"
#include "agent/planner/plan.h"
#include "agent/policy/baseline.h"
#include "agent/postfix/main_cf_document.h"
#include "common/status.h"

namespace postwarden::agent::planner {

// The bytes of the configuration being planned against.
struct PostfixConfig {
  std::string main_cf;
  std::string master_cf;
};

struct PlanOptions {
  // Extra ports per role, for listeners on non-standard ports: {"smtp", "2525"} makes the
  // inet service on port 2525 the smtp (MX, port 25) service. Standard ports always count.
  std::multimap<std::string, std::string> role_ports;
};

// Computes the plan. A main.cf value of the baseline is the value every governed service
// (governedServices()) must effectively have: a "-o" on one of them that contradicts it,
// once expanded, is removed (kRemoveServiceOption with its master.cf line), unless the
// baseline's own master.cf section sets that parameter for the service. Other smtpd services
// whose effective value a main.cf change alters are listed in Plan::also_affected. A "-o"
// given more than once in one entry, and a main.cf parameter defined more than once, is a
// warning; a main.cf parameter the baseline sets keeps exactly one entry, the last (rewritten
// when the value changes, kept when it already agrees: Change::removed_main_cf_lines). Errors:
//   InvalidArgument: the baseline has errors (every finding, one per line, file:line:col);
//   FailedPrecondition: the result would be unsafe (a guard refused it), or the baseline
//     targets a master.cf service that does not exist and may not be created.
Result<Plan> makePlan(const policy::Baseline& baseline, const PostfixConfig& current,
                      const params::ParameterCatalog& catalog, const PlanOptions& options = {});

// The roles a baseline may name instead of a master.cf service: smtp (port 25, the public
// MX), submission (587), submissions (465, also known as smtps).
inline constexpr std::string_view kServiceRoles[] = {"smtp", "submission", "submissions"};
bool isServiceRole(std::string_view name);

// The master.cf inet services that play `role_or_name`: services whose port is the role's
// standard port (smtp 25, submission 587, submissions/smtps 465) or one given in options;
// otherwise services literally named so. Sorted by position in master.cf.
std::vector<postfix::ServiceKey> resolveServices(const postfix::MasterCfDocument& master,
                                                 const std::string& role_or_name,
                                                 const std::string& type,
                                                 const PlanOptions& options);

// The master.cf services a baseline override applies to: resolveServices(), except that an
// override of an smtpd listener (`command: smtpd`) whose entry runs postscreen(8) applies to
// the smtpd "pass" service behind it (servingSmtpd): postscreen does not pass its own "-o"
// options on, so an smtpd option written there would change nothing a client sees.
// FailedPrecondition when such a listener has no smtpd pass service. In master.cf order, each
// service once.
Result<std::vector<postfix::ServiceKey>> overrideTargets(const postfix::MainCfDocument& main,
                                                         const postfix::MasterCfDocument& master,
                                                         const policy::ServiceOverride& override,
                                                         const PlanOptions& options);

// The smtpd service a client of the inet listener `key` ends up talking to, whose effective
// values (TLS level, SASL) are what the client sees: the listener itself when it runs smtpd;
// for postscreen(8), the smtpd "pass" service its smtpd_service_name names (a "-o" of the
// listener, else main.cf, else "smtpd"). nullopt for other commands or a missing pass service.
std::optional<postfix::ServiceKey> servingSmtpd(const postfix::MainCfDocument& main,
                                                const postfix::MasterCfDocument& master,
                                                const postfix::ServiceKey& key);

// The smtpd services whose effective values must be the baseline's main.cf values (see
// docs/baselines.md, "Effective values per listener"): every smtpd inet service on port 25
// (name "smtp", "*:smtp", "*:25", or a port options.role_ports gives the smtp role), the
// smtpd "pass" service a postscreen on such a port hands connections to (its
// smtpd_service_name, default "smtpd"), and the same for every role (smtp, submission,
// submissions) the baseline's master.cf section names. In master.cf order, no repeats.
// `main` gives smtpd_service_name when master.cf does not.
std::vector<postfix::ServiceKey> governedServices(const postfix::MainCfDocument& main,
                                                  const postfix::MasterCfDocument& master,
                                                  const policy::Baseline& baseline,
                                                  const PlanOptions& options);

}  // namespace postwarden::agent::planner
