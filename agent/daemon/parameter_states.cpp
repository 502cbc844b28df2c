#include "agent/daemon/parameter_states.h"

#include <map>
#include <set>
#include <tuple>

#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"

namespace postwarden::agent::daemon {
namespace {

v1::ParameterState state(std::string file, std::string service, std::string parameter,
                         const std::optional<std::string>& expected,
                         const std::optional<std::string>& actual) {
  v1::ParameterState s;
  s.set_file(std::move(file));
  s.set_service(std::move(service));
  s.set_parameter(std::move(parameter));
  s.set_expected(expected.value_or(""));
  s.set_expected_absent(!expected.has_value());
  s.set_actual(actual.value_or(""));
  s.set_actual_absent(!actual.has_value());
  return s;
}

}  // namespace

std::vector<v1::ParameterState> parameterStates(const policy::Baseline& baseline,
                                                const planner::PostfixConfig& config,
                                                const planner::PlanOptions& options) {
  std::vector<v1::ParameterState> states;
  postfix::MainCfDocument main = postfix::MainCfDocument::parse(config.main_cf);
  for (const policy::Setting& s : baseline.main_cf_set) {
    states.push_back(state("main.cf", "", s.name, s.value, main.get(s.name)));
  }
  for (const policy::Removal& r : baseline.main_cf_remove) {
    states.push_back(state("main.cf", "", r.name, std::nullopt, main.get(r.name)));
  }
  postfix::MasterCfDocument master = postfix::MasterCfDocument::parse(config.master_cf);
  for (const policy::ServiceOverride& o : baseline.master_cf) {
    Result<std::vector<postfix::ServiceKey>> targets =
        planner::overrideTargets(main, master, o, options);
    // (The planner refuses a baseline whose targets cannot be resolved; the states then name
    // the services as master.cf does.)
    std::vector<postfix::ServiceKey> keys =
        targets.ok() ? *targets : planner::resolveServices(master, o.service, o.type, options);
    if (keys.empty()) {
      // A service the baseline wants that does not exist: every override is missing.
      for (const policy::Setting& s : o.options) {
        states.push_back(
            state("master.cf", o.service + "/" + o.type, s.name, s.value, std::nullopt));
      }
      continue;
    }
    for (const postfix::ServiceKey& key : keys) {
      std::string service = key.name + "/" + key.type;
      for (const policy::Setting& s : o.options) {
        states.push_back(state("master.cf", service, s.name, s.value, master.option(key, s.name)));
      }
      for (const policy::Removal& r : o.remove_options) {
        states.push_back(
            state("master.cf", service, r.name, std::nullopt, master.option(key, r.name)));
      }
    }
  }
  return states;
}

void alignWithPlan(std::vector<v1::ParameterState>& states, const planner::Plan& plan) {
  std::set<std::tuple<std::string, std::string, std::string>> changed;
  for (const planner::Change& c : plan.changes) {
    changed.emplace(c.inMasterCf() ? "master.cf" : "main.cf",
                    c.service ? c.service->toString() : "", c.parameter);
  }
  // A change that only collapses duplicate main.cf entries leaves the value as it is: the
  // state says how many definitions there are, or the drift would name no parameter at all.
  std::map<std::string, size_t> duplicated;
  for (const planner::Change& c : plan.changes) {
    if (!c.inMasterCf() && !c.removed_main_cf_lines.empty() && c.before == c.after) {
      duplicated[c.parameter] = c.removed_main_cf_lines.size() + 1;
    }
  }
  std::set<std::tuple<std::string, std::string, std::string>> covered;
  for (v1::ParameterState& s : states) {
    covered.emplace(s.file(), s.service(), s.parameter());
    if (auto d = duplicated.find(s.parameter()); s.file() == "main.cf" && d != duplicated.end()) {
      s.set_actual(s.actual() + " (defined " + std::to_string(d->second) + " times)");
      continue;
    }
    if (changed.contains({s.file(), s.service(), s.parameter()}) || !outOfLine(s)) continue;
    s.set_expected(s.actual());
    s.set_expected_absent(s.actual_absent());
  }
  // A governed listener's -o that contradicts a main.cf value is no setting of the baseline's
  // own, so no state above names it; the drift must, or the host is out of line for nothing.
  for (const planner::Change& c : plan.changes) {
    if (c.kind != planner::ChangeKind::kRemoveServiceOption || !c.service ||
        !covered.emplace("master.cf", c.service->toString(), c.parameter).second) {
      continue;
    }
    states.push_back(
        state("master.cf", c.service->toString(), c.parameter, std::nullopt, c.before));
  }
}

std::vector<v1::ParameterState> outOfLineStates(const std::vector<v1::ParameterState>& states) {
  std::vector<v1::ParameterState> out;
  for (const v1::ParameterState& s : states) {
    if (outOfLine(s)) out.push_back(s);
  }
  return out;
}

}  // namespace postwarden::agent::daemon
