#include "controller/core/baseline_check.h"

#include "agent/params/parameter_catalog.h"
#include "agent/policy/baseline_loader.h"
#include "agent/policy/baseline_validator.h"
#include "controller/store/text.h"

namespace postwarden::controller::core {

Result<CheckedBaseline> checkBaseline(std::string_view content, std::string_view file_name) {
  const std::string name = file_name.empty() ? "baseline" : std::string(file_name);
  PW_RETURN_IF_ERROR(store::checkUtf8("baseline file name", name));
  // Before YAML sees it: yaml-cpp passes invalid UTF-8 through into the label, and every
  // text the controller stores and sends must be UTF-8 (store/text.h).
  PW_RETURN_IF_ERROR(store::checkUtf8(name, content));
  PW_ASSIGN_OR_RETURN(agent::policy::Baseline baseline, agent::policy::loadBaseline(content, name));
  // The catalog the agent daemon plans with (agent/daemon/agent_daemon.cpp), and the format of
  // planner::makePlan's refusal.
  CheckedBaseline checked;
  std::string errors;
  for (const agent::policy::Finding& f :
       agent::policy::validateBaseline(baseline, agent::params::ParameterCatalog::builtin())) {
    std::string located = f.where.file + ":" + std::to_string(f.where.line) + ":" +
                          std::to_string(f.where.column) + ": " + f.message;
    if (f.severity == agent::policy::Finding::Severity::kError) {
      errors += (errors.empty() ? "" : "\n") + located;
    } else {
      checked.warnings.push_back(std::move(located));
    }
  }
  if (!errors.empty()) return InvalidArgumentError(errors);
  checked.baseline = std::move(baseline);
  return checked;
}

}  // namespace postwarden::controller::core
