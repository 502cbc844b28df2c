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
      notes.push_back(scope + ": " + s.name + " does not apply to this host: no alternative is " +
                      "for its Postfix (" + needs + "); " + hostVersion(installed));
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

namespace {

// <0, 0, >0 as a is older than, the same as, later than b.
int compareVersions(const std::vector<int>& a, const std::vector<int>& b) {
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const int x = i < a.size() ? a[i] : 0;
    const int y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string_view trimmed(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

// "3.7.10" exactly: one to three numbers separated by dots.
std::optional<std::vector<int>> strictVersion(std::string_view text) {
  std::optional<std::vector<int>> parts = parsePostfixVersion(text);
  if (!parts || parts->size() > 3 || versionText(*parts).size() != text.size()) return std::nullopt;
  return parts;
}

}  // namespace

std::optional<VersionRequirement> parseVersionRequirement(std::string_view text) {
  VersionRequirement out{.text = std::string(text)};
  bool any = false;
  while (true) {
    const size_t comma = text.find(',');
    std::string_view clause = trimmed(text.substr(0, comma));
    std::vector<int>* bound = nullptr;
    if (clause.starts_with(">=")) {
      bound = &out.minimum;
      clause.remove_prefix(2);
    } else if (clause.starts_with("<")) {
      bound = &out.below;
      clause.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    if (!bound->empty()) return std::nullopt;  // the same bound twice
    std::optional<std::vector<int>> version = strictVersion(trimmed(clause));
    if (!version) return std::nullopt;
    *bound = *version;
    any = true;
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (!any) return std::nullopt;
  if (!out.minimum.empty() && !out.below.empty() && compareVersions(out.minimum, out.below) >= 0) {
    return std::nullopt;  // no version is in it
  }
  return out;
}

bool meetsVersion(const std::vector<int>& installed, const VersionRequirement& requirement) {
  if (!requirement.minimum.empty() && compareVersions(installed, requirement.minimum) < 0) {
    return false;
  }
  return requirement.below.empty() || compareVersions(installed, requirement.below) < 0;
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
