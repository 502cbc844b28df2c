// Over 400 lines on purpose: main.cf and master.cf planning and their refusals share one
// per-listener view of the effective values; each function stays short.
#include "agent/planner/planner.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "agent/params/value_syntax.h"
#include "agent/planner/service_view.h"
#include "agent/policy/applicability.h"
#include "agent/policy/baseline_validator.h"
#include "agent/postfix/effective_config.h"
#include "agent/postfix/main_cf_document.h"

namespace postwarden::agent::planner {
namespace {

using postfix::EffectiveValue;
using postfix::MainCfDocument;
using postfix::MasterCfDocument;
using postfix::ServiceKey;

// Standard ports of the roles a baseline may name (master(5) service names or numbers).
const std::multimap<std::string, std::string>& standardRolePorts() {
  static const auto* ports =
      new std::multimap<std::string, std::string>{{"smtp", "smtp"},
                                                  {"smtp", "25"},
                                                  {"submission", "submission"},
                                                  {"submission", "587"},
                                                  {"submissions", "submissions"},
                                                  {"submissions", "smtps"},
                                                  {"submissions", "465"}};
  return *ports;
}

std::string orUnset(const std::optional<std::string>& value) {
  return value ? *value : std::string("(unset)");
}

bool hasToken(std::string_view value, std::string_view token) {
  for (std::string_view t : params::splitListValue(value)) {
    if (t == token) return true;
  }
  return false;
}

// Collects refusals and warnings from the guards.
struct GuardReport {
  std::vector<std::string> refusals;
  std::vector<std::string> warnings;
  void add(bool caused_by_plan, std::string message) {
    (caused_by_plan ? refusals : warnings).push_back(std::move(message));
  }
};

// The smtpd services that talk to clients: inet listeners, and the "pass" services that
// postscreen(8) hands its clients to (they load the same TLS material).
std::vector<ServiceKey> smtpdInetServices(const MasterCfDocument& master) {
  std::vector<ServiceKey> keys;
  for (const postfix::MasterService& s : master.services()) {
    if ((s.key.type == "inet" || s.key.type == "pass") && s.command == "smtpd") {
      keys.push_back(s.key);
    }
  }
  return keys;
}

std::string shown(const std::string& value) { return value.empty() ? "(empty)" : value; }

// "master.cf:12: service 'smtp/inet' sets -o a 2 times (lines 12, 14); ...".
std::string duplicateOptionWarning(const postfix::DuplicateOption& d) {
  std::string lines;
  for (int line : d.lines) lines += (lines.empty() ? "" : ", ") + std::to_string(line);
  return "master.cf:" + std::to_string(d.lines.front()) + ": service '" + d.service.toString() +
         "' sets -o " + d.parameter + " " + std::to_string(d.lines.size()) + " times (lines " +
         lines + "); the daemon uses the last, '" + d.effective + "'";
}

// "1, 5" / "line 4" / "lines 1, 5".
std::string joinLines(const std::vector<int>& lines) {
  std::string text;
  for (int line : lines) text += (text.empty() ? "" : ", ") + std::to_string(line);
  return (lines.size() == 1 ? "line " : "lines ") + text;
}

// "main.cf:1: 'mynetworks' is defined 2 times (lines 1, 9); Postfix uses the last, ...".
std::string duplicateDefinitionWarning(const std::vector<postfix::MainCfDefinition>& defs) {
  std::vector<int> lines;
  for (const postfix::MainCfDefinition& d : defs) lines.push_back(d.first_line);
  return "main.cf:" + std::to_string(lines.front()) + ": '" + defs.front().name + "' is defined " +
         std::to_string(defs.size()) + " times (" + joinLines(lines) +
         "); Postfix uses the last, '" + defs.back().value +
         "', and warns \"overriding earlier entry\" for the others";
}

bool planTouches(const Plan& plan, std::initializer_list<std::string_view> parameters) {
  for (const Change& c : plan.changes) {
    if (c.kind == ChangeKind::kAddService) return true;
    for (std::string_view p : parameters) {
      if (c.parameter == p) return true;
    }
  }
  return false;
}

// The certificate and key files `view`'s smtpd loads (postconf(5), tls_certkey.c). The
// smtpd_tls_chain_files list, when set, replaces every per-algorithm file, so those are left
// out; otherwise the pairs whose certificate file is set. Values are $name-expanded
// (${config_directory} is the instance's directory: see ParameterCatalog::withConfigDirectory).
TlsMaterial tlsMaterialOf(const ServiceView& view, std::string service) {
  TlsMaterial material;
  material.service = std::move(service);
  const std::string chain_files = view.expanded("smtpd_tls_chain_files");
  for (std::string_view file : params::splitListValue(chain_files)) {
    material.chain_files.emplace_back(file);
  }
  if (!material.chain_files.empty()) return material;
  material.cert_file = view.expanded("smtpd_tls_cert_file");
  if (!material.cert_file.empty()) material.key_file = view.expanded("smtpd_tls_key_file");
  material.eccert_file = view.expanded("smtpd_tls_eccert_file");
  if (!material.eccert_file.empty()) material.eckey_file = view.expanded("smtpd_tls_eckey_file");
  material.dcert_file = view.expanded("smtpd_tls_dcert_file");
  if (!material.dcert_file.empty()) material.dkey_file = view.expanded("smtpd_tls_dkey_file");
  return material;
}

// Guards over the configuration the plan produces; also records the TLS material it needs. A risk
// the plan itself introduces is refused; the same risk already present on the host only warns, so
// that an unrelated fix is never blocked by it.
void checkGuards(Plan& plan, const MainCfDocument& before_main,
                 const MasterCfDocument& before_master, const MainCfDocument& main,
                 const MasterCfDocument& master, const params::ParameterCatalog& catalog,
                 const PlanOptions& options, GuardReport& report) {
  // RFC 3207: a publicly referenced MX must not require STARTTLS; senders that cannot do TLS
  // would be refused. `encrypt` belongs on submission, never on port 25.
  // The port-25 smtpd services, postscreen's smtpd "pass" service included: that is where the
  // level takes effect.
  for (const ServiceKey& key : governedServices(main, master, policy::Baseline{}, options)) {
    ServiceView after(main, master, key, catalog);
    if (after.expanded("smtpd_tls_security_level") != "encrypt") continue;
    ServiceView before(before_main, before_master, key, catalog);
    bool caused = before.expanded("smtpd_tls_security_level") != "encrypt";
    report.add(caused, "smtpd_tls_security_level = encrypt on the public port-25 service '" +
                           key.toString() +
                           "' would refuse mail from servers without TLS (RFC 3207: use 'may' "
                           "on port 25, 'encrypt' on submission)");
  }

  for (const ServiceKey& key : smtpdInetServices(master)) {
    ServiceView view(main, master, key, catalog);
    // smtpd_sasl_tls_security_options defaults to $smtpd_sasl_security_options: with
    // noplaintext and no explicit TLS options, PLAIN and LOGIN vanish over TLS too and
    // clients can no longer authenticate at all.
    if (view.expanded("smtpd_sasl_auth_enable") == "yes" &&
        hasToken(view.expanded("smtpd_sasl_security_options"), "noplaintext") &&
        view.raw("smtpd_sasl_tls_security_options").source == postfix::ValueSource::kDefault) {
      bool caused =
          planTouches(plan, {"smtpd_sasl_security_options", "smtpd_sasl_tls_security_options",
                             "smtpd_sasl_auth_enable"});
      report.add(caused, "service '" + key.toString() +
                             "': smtpd_sasl_security_options has noplaintext but "
                             "smtpd_sasl_tls_security_options is not set, so it copies it and "
                             "PLAIN/LOGIN are refused over TLS as well; set "
                             "smtpd_sasl_tls_security_options = noanonymous");
    }

    std::string level = view.expanded("smtpd_tls_security_level");
    bool wants_tls = level == "may" || level == "encrypt" ||
                     view.expanded("smtpd_tls_auth_only") == "yes" ||
                     view.expanded("smtpd_tls_wrappermode") == "yes";
    if (!wants_tls) continue;
    TlsMaterial material = tlsMaterialOf(view, key.toString());
    // The files themselves are checked by the caller (pre-flight): reading them is I/O.
    if (std::none_of(plan.tls_material.begin(), plan.tls_material.end(),
                     [&](const TlsMaterial& m) { return m.sameFiles(material); })) {
      plan.tls_material.push_back(std::move(material));
    }
  }
}

}  // namespace

std::string Change::describe() const {
  std::string where = service ? "master.cf " + service->toString() + ": " : "main.cf: ";
  switch (kind) {
    case ChangeKind::kAddService:
      return "master.cf: add service " + service->toString() + " running " + parameter;
    case ChangeKind::kSetServiceOption:
      return where + "-o " + parameter + ": " + orUnset(before) + " -> " + *after;
    case ChangeKind::kRemoveServiceOption: {
      std::string text = where + "-o " + parameter + ": " + orUnset(before) + " -> (removed)";
      if (master_cf_line > 0 || !reason.empty()) {
        text += " (";
        if (master_cf_line > 0) text += "master.cf line " + std::to_string(master_cf_line);
        if (master_cf_line > 0 && !reason.empty()) text += ": ";
        text += reason + ")";
      }
      return text;
    }
    case ChangeKind::kSetMain: {
      if (removed_main_cf_lines.empty()) {
        return where + parameter + ": " + orUnset(before) + " -> " + *after;
      }
      const size_t earlier = removed_main_cf_lines.size();
      const std::string collapse =
          "defined " + std::to_string(earlier + 1) + " times: the last entry " +
          (before == after ? "kept" : "rewritten") + ", the earlier " +
          (earlier == 1 ? "one at " : "ones at ") + joinLines(removed_main_cf_lines) + " removed)";
      if (before == after) return where + parameter + ": " + *after + " (unchanged; " + collapse;
      return where + parameter + ": " + orUnset(before) + " -> " + *after + " (" + collapse;
    }
    case ChangeKind::kRemoveMain:
      return where + parameter + ": " + orUnset(before) + " -> (removed)";
  }
  return where + parameter;
}

std::string AffectedService::describe() const {
  return service.toString() + ": " + parameter + ": " + shown(before) + " -> " + shown(after);
}

params::ApplyMode Plan::applyMode() const {
  for (const Change& c : changes) {
    if (c.mode == params::ApplyMode::kRestart) return params::ApplyMode::kRestart;
  }
  return params::ApplyMode::kReload;
}

bool isServiceRole(std::string_view name) {
  return std::find(std::begin(kServiceRoles), std::end(kServiceRoles), name) !=
         std::end(kServiceRoles);
}

std::vector<ServiceKey> resolveServices(const MasterCfDocument& master,
                                        const std::string& role_or_name, const std::string& type,
                                        const PlanOptions& options) {
  std::set<std::string> ports;
  auto collect = [&](const std::multimap<std::string, std::string>& table) {
    auto [first, last] = table.equal_range(role_or_name);
    for (auto it = first; it != last; ++it) ports.insert(it->second);
  };
  collect(standardRolePorts());
  collect(options.role_ports);

  std::vector<ServiceKey> keys;
  for (const postfix::MasterService& s : master.services()) {
    if (s.key.type != type) continue;
    bool by_role = type == "inet" && !ports.empty() && ports.count(s.port()) > 0;
    if (by_role || s.key.name == role_or_name) keys.push_back(s.key);
  }
  return keys;
}

std::optional<ServiceKey> servingSmtpd(const MainCfDocument& main, const MasterCfDocument& master,
                                       const ServiceKey& key) {
  std::optional<postfix::MasterService> s = master.find(key);
  if (!s) return std::nullopt;
  if (s->command == "smtpd") return key;
  if (s->command != "postscreen") return std::nullopt;
  // postscreen(8) hands a client that passed its tests to the smtpd "pass" service named by
  // smtpd_service_name (postconf(5); default "smtpd"), which is what the client then talks to:
  // that service's effective values are what a scanner sees.
  const std::string handoff = master.option(key, "smtpd_service_name")
                                  .value_or(main.get("smtpd_service_name").value_or("smtpd"));
  std::optional<postfix::MasterService> pass = master.find({handoff, "pass"});
  if (!pass || pass->command != "smtpd") return std::nullopt;
  return pass->key;
}

Result<std::vector<ServiceKey>> overrideTargets(const MainCfDocument& main,
                                                const MasterCfDocument& master,
                                                const policy::ServiceOverride& o,
                                                const PlanOptions& options) {
  std::vector<ServiceKey> targets;
  for (const ServiceKey& key : resolveServices(master, o.service, o.type, options)) {
    ServiceKey key_or_pass = key;
    std::optional<postfix::MasterService> entry = master.find(key);
    if (o.command == "smtpd" && entry && entry->command == "postscreen") {
      std::optional<ServiceKey> pass = servingSmtpd(main, master, key);
      if (!pass) {
        return FailedPreconditionError(
            o.where.file + ":" + std::to_string(o.where.line) + ":" +
            std::to_string(o.where.column) + ": master.cf " + key.toString() +
            " runs postscreen, and no smtpd pass service behind it takes the baseline's "
            "smtpd options");
      }
      key_or_pass = *pass;
    }
    if (std::find(targets.begin(), targets.end(), key_or_pass) == targets.end()) {
      targets.push_back(key_or_pass);
    }
  }
  return targets;
}

std::vector<ServiceKey> governedServices(const MainCfDocument& main, const MasterCfDocument& master,
                                         const policy::Baseline& baseline,
                                         const PlanOptions& options) {
  std::set<ServiceKey> governed;
  auto govern = [&](const std::string& role) {
    for (const ServiceKey& key : resolveServices(master, role, "inet", options)) {
      if (std::optional<ServiceKey> smtpd = servingSmtpd(main, master, key))
        governed.insert(*smtpd);
    }
  };
  govern("smtp");
  for (const policy::ServiceOverride& o : baseline.master_cf) {
    if (o.type == "inet" && isServiceRole(o.service)) govern(o.service);
  }
  std::vector<ServiceKey> keys;
  for (const postfix::MasterService& s : master.services()) {
    if (governed.erase(s.key) > 0) keys.push_back(s.key);
  }
  return keys;
}

namespace {

// makePlan for a baseline whose version conditions are resolved.
Result<Plan> planResolved(const policy::Baseline& baseline, const PostfixConfig& current,
                          const params::ParameterCatalog& catalog, const PlanOptions& options) {
  Plan plan;
  plan.baseline_name = baseline.name;
  plan.baseline_version = baseline.version;
  plan.main_cf_before = current.main_cf;
  plan.master_cf_before = current.master_cf;

  // "file:line:col: message": the caller says whether it is an error or a warning.
  std::string errors;
  for (const policy::Finding& f : policy::validateBaseline(baseline, catalog)) {
    std::string located = f.where.file + ":" + std::to_string(f.where.line) + ":" +
                          std::to_string(f.where.column) + ": " + f.message;
    if (f.severity == policy::Finding::Severity::kError) {
      errors += (errors.empty() ? "" : "\n") + located;
    } else {
      plan.warnings.push_back(std::move(located));
    }
  }
  if (!errors.empty()) return InvalidArgumentError(errors);

  const MainCfDocument before_main = MainCfDocument::parse(current.main_cf);
  const MasterCfDocument before_master = MasterCfDocument::parse(current.master_cf);
  MainCfDocument main = before_main;
  MasterCfDocument master = before_master;

  for (const postfix::DocumentProblem& p : main.problems()) {
    plan.warnings.push_back("main.cf:" + std::to_string(p.line) + ": " + p.message);
  }
  for (const postfix::DocumentProblem& p : master.problems()) {
    plan.warnings.push_back("master.cf:" + std::to_string(p.line) + ": " + p.message);
  }
  // Every definition of each name, in file order, with the lines of the file as it is.
  std::map<std::string, std::vector<postfix::MainCfDefinition>> definitions;
  for (postfix::MainCfDefinition& d : before_main.definitions()) {
    std::string name = d.name;
    definitions[name].push_back(std::move(d));
  }
  for (const std::string& name : main.duplicateNames()) {
    plan.warnings.push_back(duplicateDefinitionWarning(definitions[name]));
  }
  for (const postfix::DuplicateOption& d : master.duplicateOptions()) {
    plan.warnings.push_back(duplicateOptionWarning(d));
  }

  for (const policy::Setting& s : baseline.main_cf_set) {
    // The validator refuses these already; a document edit would abort on them.
    if (!MainCfDocument::isSettableName(s.name) || !MainCfDocument::isSettableValue(s.value)) {
      return InvalidArgumentError("main.cf cannot hold '" + s.name + "' with that value");
    }
    std::optional<std::string> now = main.get(s.name);
    // A governed parameter keeps one entry, the last (the one Postfix uses), also when its
    // value stays: every earlier one makes every Postfix program warn "overriding earlier
    // entry" whenever it reads main.cf, and with maillog_file such a burst at start-up can
    // wedge postlogd and with it every smtpd. Lines are those of main.cf as it is on the host.
    std::vector<int> earlier;
    if (auto it = definitions.find(s.name); it != definitions.end()) {
      for (size_t i = 0; i + 1 < it->second.size(); ++i)
        earlier.push_back(it->second[i].first_line);
    }
    if (now && catalog.equivalent(s.name, *now, s.value)) {
      if (earlier.empty()) continue;
      main.removeEarlierDefinitions(s.name);
      // The value in effect does not change: a reload re-reads main.cf, nothing more.
      Change change{.kind = ChangeKind::kSetMain, .parameter = s.name, .before = now, .after = now};
      change.removed_main_cf_lines = std::move(earlier);
      plan.changes.push_back(std::move(change));
      continue;
    }
    main.set(s.name, s.value);  // rewrites the last entry and removes the earlier ones
    Change change{.kind = ChangeKind::kSetMain,
                  .parameter = s.name,
                  .before = now,
                  .after = s.value,
                  .mode = catalog.applyMode(s.name)};
    change.removed_main_cf_lines = std::move(earlier);
    plan.changes.push_back(std::move(change));
  }
  for (const policy::Removal& r : baseline.main_cf_remove) {
    std::optional<std::string> now = main.get(r.name);
    if (!now || !main.remove(r.name)) continue;
    plan.changes.push_back({ChangeKind::kRemoveMain, std::nullopt, r.name, now, std::nullopt,
                            catalog.applyMode(r.name)});
  }

  // (service, parameter) pairs the baseline's own master.cf section decides.
  std::set<std::pair<ServiceKey, std::string>> baseline_overrides;
  for (const policy::ServiceOverride& o : baseline.master_cf) {
    PW_ASSIGN_OR_RETURN(std::vector<ServiceKey> keys, overrideTargets(main, master, o, options));
    if (keys.empty()) {
      if (o.only_if_exists) {
        plan.applicability.push_back("master.cf: the entry for '" + o.service + "' (" +
                                     o.where.file + ":" + std::to_string(o.where.line) + ":" +
                                     std::to_string(o.where.column) +
                                     ") does not apply to this host: master.cf has no " + o.type +
                                     " service playing that role (if_exists: yes)");
        continue;
      }
      if (!o.command) {
        return FailedPreconditionError(o.where.file + ":" + std::to_string(o.where.line) + ":" +
                                       std::to_string(o.where.column) + ": master.cf has no '" +
                                       o.service + "' " + o.type +
                                       " service; add `command:` to the baseline to create it");
      }
      ServiceKey key{o.service, o.type};
      PW_RETURN_IF_ERROR(master.addService(key, *o.command));
      // A new listener is only opened by a full restart of the master process.
      plan.changes.push_back({ChangeKind::kAddService, key, *o.command, std::nullopt, *o.command,
                              params::ApplyMode::kRestart});
      keys.push_back(key);
    }
    for (const ServiceKey& key : keys) {
      for (const policy::Setting& s : o.options) baseline_overrides.emplace(key, s.name);
      for (const policy::Removal& r : o.remove_options) baseline_overrides.emplace(key, r.name);
      for (const policy::Setting& s : o.options) {
        std::optional<std::string> now = master.option(key, s.name);
        if (now && catalog.equivalent(s.name, *now, s.value)) continue;
        PW_ASSIGN_OR_RETURN(bool changed, master.setOption(key, s.name, s.value));
        if (!changed) continue;
        plan.changes.push_back(
            {ChangeKind::kSetServiceOption, key, s.name, now, s.value, catalog.applyMode(s.name)});
      }
      for (const policy::Removal& r : o.remove_options) {
        std::optional<std::string> now = master.option(key, r.name);
        if (!now) continue;
        PW_ASSIGN_OR_RETURN(bool changed, master.removeOption(key, r.name));
        if (!changed) continue;
        plan.changes.push_back({ChangeKind::kRemoveServiceOption, key, r.name, now, std::nullopt,
                                catalog.applyMode(r.name)});
      }
    }
  }

  // A baseline's main.cf value is what the listeners it governs must effectively run with
  // (what `postconf -P` and `postconf -x` resolve, what a scanner sees on the wire): master(5)
  // "-o name=value" beats main.cf for that service, so a contradicting one is removed and the
  // service inherits main.cf again. The rest of the entry stays byte-identical.
  plan.governed_services = governedServices(main, master, baseline, options);
  for (const ServiceKey& key : plan.governed_services) {
    for (const policy::Setting& s : baseline.main_cf_set) {
      if (baseline_overrides.count({key, s.name}) > 0) continue;
      ServiceView view(main, master, key, catalog);
      EffectiveValue now = view.raw(s.name);
      if (now.source != postfix::ValueSource::kServiceOverride) continue;
      const std::string effective = view.expanded(s.name);
      if (catalog.equivalent(s.name, effective, view.expandedText(s.value))) continue;
      const int line = before_master.optionLine(key, s.name);
      PW_ASSIGN_OR_RETURN(bool changed, master.removeOption(key, s.name));
      if (!changed) continue;
      Change change{ChangeKind::kRemoveServiceOption, key, s.name, now.value, std::nullopt,
                    catalog.applyMode(s.name)};
      change.master_cf_line = line;
      change.reason = "the listener runs with " + s.name + " = " + shown(effective) +
                      ", the baseline requires main.cf's " + s.name + " = " + shown(s.value) +
                      " on it";
      plan.changes.push_back(std::move(change));
    }
  }

  // Every other smtpd service a main.cf change reaches is listed, never changed silently.
  {
    std::set<ServiceKey> skip(plan.governed_services.begin(), plan.governed_services.end());
    for (const postfix::MasterService& s : master.services()) {
      if (s.command != "smtpd" || !skip.insert(s.key).second) continue;
      if (!before_master.find(s.key)) continue;  // a new service is a change of its own
      ServiceView before(before_main, before_master, s.key, catalog);
      ServiceView after(main, master, s.key, catalog);
      for (const Change& c : plan.changes) {
        if (c.inMasterCf()) continue;
        std::string was = before.expanded(c.parameter);
        std::string will = after.expanded(c.parameter);
        if (catalog.equivalent(c.parameter, was, will)) continue;
        plan.also_affected.push_back({s.key, c.parameter, std::move(was), std::move(will)});
      }
    }
  }

  plan.main_cf_after = main.serialize();
  plan.master_cf_after = master.serialize();

  GuardReport guards;
  checkGuards(plan, before_main, before_master, main, master, catalog, options, guards);
  for (std::string& w : guards.warnings) plan.warnings.push_back(std::move(w));
  if (!guards.refusals.empty()) {
    std::string message = "refused: " + guards.refusals.front();
    for (size_t i = 1; i < guards.refusals.size(); ++i)
      message += "\nrefused: " + guards.refusals[i];
    return FailedPreconditionError(message);
  }
  return plan;
}

}  // namespace

Result<Plan> makePlan(const policy::Baseline& baseline, const PostfixConfig& current,
                      const params::ParameterCatalog& catalog, const PlanOptions& options) {
  std::optional<std::vector<int>> installed;
  if (std::optional<std::string> mail_version = catalog.defaultValue("mail_version")) {
    installed = policy::parsePostfixVersion(*mail_version);
  }
  policy::Applicability applicability = policy::resolveForHost(baseline, installed);
  if (!applicability.applies) {
    // Nothing of it is planned: the host is left as it is, and the plan says why.
    Plan plan;
    plan.baseline_name = baseline.name;
    plan.baseline_version = baseline.version;
    plan.main_cf_before = plan.main_cf_after = current.main_cf;
    plan.master_cf_before = plan.master_cf_after = current.master_cf;
    plan.applicability = std::move(applicability.notes);
    return plan;
  }
  PW_ASSIGN_OR_RETURN(Plan plan, planResolved(applicability.resolved, current, catalog, options));
  plan.applicability.insert(plan.applicability.begin(), applicability.notes.begin(),
                            applicability.notes.end());
  return plan;
}

}  // namespace postwarden::agent::planner
