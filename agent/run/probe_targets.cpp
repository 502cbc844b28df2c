#include "agent/run/probe_targets.h"

#include <netdb.h>

#include <charconv>

#include "agent/params/parameter_catalog.h"
#include "agent/params/value_syntax.h"
#include "agent/planner/service_view.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "agent/verify/expectation.h"

namespace postwarden::agent::run {
namespace {

Result<uint16_t> portNumber(std::string_view port) {
  int number = 0;
  auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (error == std::errc() && end == port.data() + port.size()) {
    if (number < 1 || number > 65535)
      return InvalidArgumentError("bad port '" + std::string(port) + "'");
    return static_cast<uint16_t>(number);
  }
  // master(5): a service name is looked up in the services database.
  servent* entry = getservbyname(std::string(port).c_str(), "tcp");
  if (entry == nullptr) return NotFoundError("unknown service port '" + std::string(port) + "'");
  return static_cast<uint16_t>(ntohs(static_cast<uint16_t>(entry->s_port)));
}

std::string loopbackFor(std::string_view host) {
  if (host.empty() || host == "*" || host == "0.0.0.0" || host == "localhost") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  if (host.starts_with('[') && host.ends_with(']'))
    return std::string(host.substr(1, host.size() - 2));
  return std::string(host);
}

applier::ProbeCheck makeCheck(const policy::ProbeExpectation& e, const HostPort& address,
                              const ProbeSettings& settings) {
  applier::ProbeCheck check;
  check.expectation = e;
  check.target.host = address.host;
  check.target.port = address.port;
  check.target.timeout = settings.timeout;
  check.target.expected_certificate_name = e.certificate_name;
  check.target.login = settings.login;
  check.target.message = settings.message;
  verify::requestChecksFor(e, check.target);
  return check;
}

// The effective, $name-expanded value of `parameter` in the daemon of `key`. The built-in
// catalog's defaults suffice: none of the parameters asked for names a path.
std::string effectiveSetting(const postfix::MainCfDocument& main,
                             const postfix::MasterCfDocument& master,
                             const postfix::ServiceKey& key, std::string_view parameter) {
  static const params::ParameterCatalog catalog = params::ParameterCatalog::builtin();
  return std::string(
      params::trimBlanks(planner::ServiceView(main, master, key, catalog).expanded(parameter)));
}

// Whether the daemon of `key` offers STARTTLS: a TLS level of may/encrypt/dane/..., or the
// legacy smtpd_use_tls/smtpd_enforce_tls when no level is set (postconf(5)).
bool offersStarttls(const postfix::MainCfDocument& main, const postfix::MasterCfDocument& master,
                    const postfix::ServiceKey& key) {
  const std::string level = effectiveSetting(main, master, key, "smtpd_tls_security_level");
  if (!level.empty()) return level != "none";
  return effectiveSetting(main, master, key, "smtpd_use_tls") == "yes" ||
         effectiveSetting(main, master, key, "smtpd_enforce_tls") == "yes";
}

std::string joinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

policy::ProbeExpectation healthExpectation() {
  policy::ProbeExpectation health;
  health.starttls = policy::StartTls::kOptional;
  return health;
}

}  // namespace

Result<HostPort> listenerAddress(std::string_view service_name, std::string_view inet_interfaces) {
  std::string_view host;
  std::string_view port = service_name;
  size_t colon = service_name.rfind(':');
  if (colon != std::string_view::npos) {
    host = service_name.substr(0, colon);
    port = service_name.substr(colon + 1);
  }
  if (host.empty()) {
    // The first address Postfix binds: inet_interfaces "all" and "loopback-only" include
    // 127.0.0.1; an explicit list is used as written.
    std::string_view first = inet_interfaces.substr(0, inet_interfaces.find_first_of(", \t"));
    host = (first.empty() || first == "all" || first == "loopback-only") ? "" : first;
  }
  PW_ASSIGN_OR_RETURN(uint16_t number, portNumber(port));
  return HostPort{loopbackFor(host), number};
}

Result<std::vector<applier::ProbeCheck>> probeChecks(const policy::Baseline& baseline,
                                                     const planner::PostfixConfig& config,
                                                     const planner::PlanOptions& plan_options,
                                                     const std::optional<HostPort>& probe,
                                                     const ProbeSettings& settings) {
  if (baseline.verify.empty()) return healthChecks(config, probe, settings);
  const std::vector<policy::ProbeExpectation>& expectations = baseline.verify;
  std::vector<applier::ProbeCheck> checks;
  if (probe) {
    for (const policy::ProbeExpectation& e : expectations) {
      checks.push_back(makeCheck(e, *probe, settings));
    }
    return checks;
  }
  const postfix::MasterCfDocument master = postfix::MasterCfDocument::parse(config.master_cf);
  const postfix::MainCfDocument main = postfix::MainCfDocument::parse(config.main_cf);
  const std::string inet_interfaces = main.get("inet_interfaces").value_or("all");
  for (const policy::ProbeExpectation& e : expectations) {
    std::vector<postfix::ServiceKey> keys =
        planner::resolveServices(master, e.service, "inet", plan_options);
    if (keys.empty()) {
      return FailedPreconditionError(
          "no listener for verify service '" + e.service +
          "' in master.cf; name one with --probe HOST:PORT" +
          (planner::isServiceRole(e.service) ? ", or --role " + e.service + "=PORT" : ""));
    }
    for (const postfix::ServiceKey& key : keys) {
      Result<HostPort> address = listenerAddress(key.name, inet_interfaces);
      if (!address.ok()) return address.status().withContext("master.cf service " + key.name);
      policy::ProbeExpectation here = e;
      // Behind postscreen the client ends up talking to its smtpd "pass" service.
      const postfix::ServiceKey serving = planner::servingSmtpd(main, master, key).value_or(key);
      if (e.certificate_name && e.certificate_name->starts_with('$')) {
        // "$myhostname": the name this listener's smtpd uses, as main.cf and its -o say. A
        // parameter set in neither has a host-dependent default (myhostname comes from the
        // system's host name) that the built-in catalog cannot know: the reference is left
        // as written and the check says so (verify/expectation.cpp).
        static const params::ParameterCatalog catalog = params::ParameterCatalog::builtin();
        const planner::ServiceView view(main, master, serving, catalog);
        std::string_view name = std::string_view(*e.certificate_name).substr(1);
        if (name.starts_with('{') && name.ends_with('}')) name = name.substr(1, name.size() - 2);
        const postfix::ValueSource source = view.raw(name).source;
        if (source == postfix::ValueSource::kMainCf ||
            source == postfix::ValueSource::kServiceOverride) {
          here.certificate_name =
              std::string(params::trimBlanks(view.expandedText(*e.certificate_name)));
        }
      }
      if (e.require_auth_only_where_sasl_enabled &&
          effectiveSetting(main, master, serving, "smtpd_sasl_auth_enable") != "yes") {
        here.require_auth_after_tls.clear();  // no AUTH on this listener: nothing to require
      }
      checks.push_back(makeCheck(here, *address, settings));
    }
  }
  return checks;
}

std::vector<std::string> predictedProbeFailures(const policy::Baseline& baseline,
                                                const planner::PostfixConfig& config,
                                                const planner::PlanOptions& plan_options) {
  const postfix::MasterCfDocument master = postfix::MasterCfDocument::parse(config.master_cf);
  const postfix::MainCfDocument main = postfix::MainCfDocument::parse(config.main_cf);
  std::vector<std::string> failures;
  for (const policy::ProbeExpectation& e : baseline.verify) {
    for (const postfix::ServiceKey& key :
         planner::resolveServices(master, e.service, "inet", plan_options)) {
      const std::string where = "verify " + e.service + " on " + key.toString() + ": ";
      // Behind postscreen the client ends up talking to its smtpd "pass" service.
      const postfix::ServiceKey serving = planner::servingSmtpd(main, master, key).value_or(key);
      const bool wrapper =
          effectiveSetting(main, master, serving, "smtpd_tls_wrappermode") == "yes";
      if (e.starttls == policy::StartTls::kRequired && !wrapper &&
          !offersStarttls(main, master, serving)) {
        failures.push_back(where +
                           "requires STARTTLS, but no TLS level offers it there "
                           "(smtpd_tls_security_level is '" +
                           effectiveSetting(main, master, serving, "smtpd_tls_security_level") +
                           "')");
      }
      const std::string sasl = effectiveSetting(main, master, serving, "smtpd_sasl_auth_enable");
      if (!e.require_auth_after_tls.empty() && !e.require_auth_only_where_sasl_enabled &&
          sasl != "yes") {
        failures.push_back(where + "requires AUTH " + joinWords(e.require_auth_after_tls) +
                           " after STARTTLS, but SASL AUTH is off there "
                           "(smtpd_sasl_auth_enable is '" +
                           sasl +
                           "'); this host offers no AUTH on that listener, or the baseline "
                           "should say require_auth_after_tls_where: sasl_enabled");
      }
    }
  }
  return failures;
}

Result<std::vector<applier::ProbeCheck>> healthChecks(const planner::PostfixConfig& config,
                                                      const std::optional<HostPort>& probe,
                                                      const ProbeSettings& settings) {
  if (probe)
    return std::vector<applier::ProbeCheck>{makeCheck(healthExpectation(), *probe, settings)};
  const postfix::MasterCfDocument master = postfix::MasterCfDocument::parse(config.master_cf);
  const std::string inet_interfaces =
      postfix::MainCfDocument::parse(config.main_cf).get("inet_interfaces").value_or("all");
  std::vector<applier::ProbeCheck> checks;
  for (const postfix::MasterService& service : master.services()) {
    if (service.key.type != "inet" || service.command != "smtpd") continue;
    Result<HostPort> address = listenerAddress(service.key.name, inet_interfaces);
    if (!address.ok()) return address.status().withContext("master.cf service " + service.key.name);
    checks.push_back(makeCheck(healthExpectation(), *address, settings));
  }
  if (checks.empty()) {
    return FailedPreconditionError(
        "master.cf has no smtpd listener to probe; name one with "
        "--probe HOST:PORT");
  }
  return checks;
}

}  // namespace postwarden::agent::run
