#include "agent/policy/applicability.h"

#include <algorithm>
#include <map>
#include <utility>

namespace postwarden::agent::policy {
namespace {

std::string located(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

std::string hostVersion(const std::optional<std::vector<int>>& installed) {
  return installed ? "this host runs Postfix " + versionText(*installed)
                   : "the installed Postfix version is unknown";
}

// Resolves one list of settings (main.cf, or one master.cf service's -o options).
std::vector<Setting> resolveSettings(const std::vector<Setting>& settings,
                                     const std::optional<std::vector<int>>& installed,
                                     const std::string& scope, std::vector<std::string>& notes) {
  std::vector<Setting> out;
  std::map<std::string, bool, std::less<>> decided;  // name -> an alternative was taken
  for (const Setting& s : settings) {
    if (!s.alternative) {
      out.push_back(s);
      continue;
    }
    if (decided.contains(s.name)) continue;
    // The alternatives of this name, in file order.
    std::vector<const Setting*> alternatives;
    for (const Setting& other : settings) {
      if (other.alternative && other.name == s.name) alternatives.push_back(&other);
    }
    const Setting* chosen = nullptr;
    for (const Setting* a : alternatives) {
      if (!a->postfix_version || (installed && meetsVersion(*installed, *a->postfix_version))) {
        chosen = a;
        break;
      }
    }
    decided[s.name] = chosen != nullptr;
    if (chosen == nullptr) {
      std::string needs;
      for (const Setting* a : alternatives) {
        if (!needs.empty()) needs += ", ";
        needs += a->postfix_version->text + " at " + located(a->where);
      }
      notes.push_back(scope + ": " + s.name + " does not apply to this host: every alternative " +
                      "needs a later Postfix (" + needs + "); " + hostVersion(installed));
      continue;
    }
    Setting plain = *chosen;
    notes.push_back(scope + ": " + s.name + " = " + plain.value + " (" + located(plain.where) +
                    (plain.postfix_version ? ", " + plain.postfix_version->text : "") +
                    ") is the alternative for " +
                    (installed ? "Postfix " + versionText(*installed)
                               : std::string("an unknown Postfix version")));
    plain.alternative = false;
    plain.postfix_version.reset();
    out.push_back(std::move(plain));
  }
  return out;
}

}  // namespace

std::optional<std::vector<int>> parsePostfixVersion(std::string_view mail_version) {
  std::vector<int> parts;
  size_t i = 0;
  while (i < mail_version.size()) {
    if (mail_version[i] < '0' || mail_version[i] > '9') break;
    int number = 0;
    size_t digits = 0;
    while (i < mail_version.size() && mail_version[i] >= '0' && mail_version[i] <= '9') {
      if (++digits > 6) return std::nullopt;
      number = number * 10 + (mail_version[i] - '0');
      ++i;
    }
    parts.push_back(number);
    if (i < mail_version.size() && mail_version[i] == '.') {
      ++i;
    } else {
      break;
    }
  }
  if (parts.empty()) return std::nullopt;
  return parts;
}

bool meetsVersion(const std::vector<int>& installed, const VersionRequirement& requirement) {
  const size_t n = std::max(installed.size(), requirement.minimum.size());
  for (size_t i = 0; i < n; ++i) {
    const int have = i < installed.size() ? installed[i] : 0;
    const int need = i < requirement.minimum.size() ? requirement.minimum[i] : 0;
    if (have != need) return have > need;
  }
  return true;
}

std::string versionText(const std::vector<int>& version) {
  std::string text;
  for (int part : version) {
    if (!text.empty()) text += ".";
    text += std::to_string(part);
  }
  return text;
}

bool hasVersionConditions(const Baseline& baseline) {
  if (baseline.postfix_version) return true;
  auto conditional = [](const std::vector<Setting>& settings) {
    return std::any_of(settings.begin(), settings.end(),
                       [](const Setting& s) { return s.alternative; });
  };
  if (conditional(baseline.main_cf_set)) return true;
  return std::any_of(baseline.master_cf.begin(), baseline.master_cf.end(),
                     [&](const ServiceOverride& o) { return conditional(o.options); });
}

Applicability resolveForHost(const Baseline& baseline,
                             const std::optional<std::vector<int>>& installed) {
  Applicability out;
  out.resolved = baseline;
  if (baseline.postfix_version &&
      !(installed && meetsVersion(*installed, *baseline.postfix_version))) {
    out.applies = false;
    out.notes.push_back("baseline '" + baseline.name + "' does not apply to this host: it needs " +
                        "Postfix " + baseline.postfix_version->text + " (" +
                        located(baseline.postfix_version->where) + "); " + hostVersion(installed));
    return out;
  }
  out.resolved.postfix_version.reset();
  out.resolved.main_cf_set = resolveSettings(baseline.main_cf_set, installed, "main.cf", out.notes);
  for (ServiceOverride& o : out.resolved.master_cf) {
    o.options =
        resolveSettings(o.options, installed, "master.cf " + o.service + "/" + o.type, out.notes);
  }
  return out;
}

}  // namespace postwarden::agent::policy
