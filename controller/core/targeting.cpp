#include "controller/core/targeting.h"

#include "common/schedule/maintenance_window.h"

namespace postwarden::controller::core {

bool selectorMatches(const store::Labels& selector, const store::Labels& labels) {
  for (const auto& [key, value] : selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

const store::AssignmentRecord* assignmentFor(const std::vector<store::AssignmentRecord>& all,
                                             const store::Labels& labels) {
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (selectorMatches(it->selector, labels)) return &*it;
  }
  return nullptr;
}

store::Labels effectiveLabels(const store::Labels& token_labels,
                              const store::Labels& agent_labels) {
  store::Labels merged = agent_labels;
  for (const auto& [key, value] : token_labels) merged[key] = value;
  return merged;
}

int countSelected(const store::Labels& selector, const std::vector<store::AgentRecord>& agents) {
  int matched = 0;
  for (const store::AgentRecord& agent : agents) {
    if (!agent.revoked && selectorMatches(selector, agent.labels)) ++matched;
  }
  return matched;
}

Result<std::vector<std::string>> repairWindows(const std::vector<std::string>& written,
                                               store::Mode mode) {
  if (written.empty()) return std::vector<std::string>();
  if (mode != store::Mode::kEnforce) {
    return InvalidArgumentError(
        "repair windows need enforce mode: a detect-only assignment never repairs");
  }
  if (written.size() > kMaxRepairWindows) {
    return InvalidArgumentError("at most " + std::to_string(kMaxRepairWindows) +
                                " repair windows per assignment");
  }
  std::vector<std::string> windows;
  for (const std::string& text : written) {
    Result<schedule::Window> window = schedule::parseWindow(text);
    if (!window.ok()) {
      return InvalidArgumentError("repair window '" + text + "': " + window.status().message() +
                                  " (write it as DAYS HH:MM-HH:MM ZONE, e.g. "
                                  "'Sat,Sun 02:00-04:00 Europe/Berlin')");
    }
    windows.push_back(schedule::toString(*window));
  }
  return windows;
}

Result<std::vector<int64_t>> assignmentsDroppedWith(
    const store::BaselineRecord& baseline, const std::vector<store::AssignmentRecord>& all) {
  std::vector<int64_t> dropped;
  for (size_t i = 0; i < all.size(); ++i) {
    const store::AssignmentRecord& a = all[i];
    if (a.baseline_name != baseline.name || a.baseline_version != baseline.version) continue;
    // Shadowed: a newer selector included in a's matches every agent a's matches, and wins.
    bool shadowed = false;
    for (size_t j = i + 1; j < all.size() && !shadowed; ++j) {
      shadowed = selectorMatches(all[j].selector, a.selector);
    }
    if (!shadowed) {
      return FailedPreconditionError("baseline '" + baseline.name + "@" + baseline.version +
                                     "' is assigned (assignment " + std::to_string(a.id) +
                                     "); assign another baseline to those agents first");
    }
    dropped.push_back(a.id);
  }
  return dropped;
}

}  // namespace postwarden::controller::core
