// Over 400 lines on purpose: a strict reader for each key of the baseline schema with its
// FILE:LINE:COL errors; the generic walking is in common/yaml/strict_map.
#include "agent/policy/baseline_loader.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "agent/policy/applicability.h"
#include "common/spelling.h"
#include "common/yaml/single_document.h"
#include "common/yaml/strict_map.h"

namespace postwarden::agent::policy {
namespace {

// Policies are a few dozen lines; anything this large is not one, and bounding it keeps the
// parser's time and memory small whatever the input.
constexpr size_t kMaxPolicyBytes = 1 << 20;

constexpr std::string_view kTopKeys[] = {"name",    "version",   "description", "postfix_version",
                                         "main.cf", "master.cf", "verify"};
constexpr std::string_view kMainCfKeys[] = {"set", "remove"};
constexpr std::string_view kServiceKeys[] = {"service", "type",   "command",
                                             "set",     "remove", "if_exists"};
constexpr std::string_view kAlternativeKeys[] = {"value", "postfix_version"};
constexpr std::string_view kBooleanValues[] = {"yes", "no"};
constexpr std::string_view kVerifyKeys[] = {"service",
                                            "starttls",
                                            "forbid_auth_before_tls",
                                            "require_auth_after_tls",
                                            "require_auth_after_tls_where",
                                            "certificate_name",
                                            "certificate_valid_days",
                                            "certificate_chain",
                                            "dh_min_bits",
                                            "vrfy",
                                            "banner_must_not_contain",
                                            "tls_refused",
                                            "tls_accepted"};
constexpr std::string_view kVrfyValues[] = {"refused"};
constexpr std::string_view kTlsAttempts[] = {"TLSv1",   "TLSv1.1", "TLSv1.2",
                                             "TLSv1.3", "aNULL",   "DHE"};
constexpr std::string_view kChainValues[] = {"trusted"};
constexpr std::string_view kStartTlsValues[] = {"required", "optional"};

using yaml::describe;
using yaml::joinKeys;

std::string position(const SourceLocation& where) {
  return yaml::toString({where.line, where.column});
}

bool isValidBaselineName(std::string_view name) {
  if (name.empty()) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return lower_or_digit(c) || c == '-'; });
}

// Called for each key of a map once it passed the key checks.
using KeyHandler = std::function<Status(const std::string& key, const SourceLocation& key_where,
                                        const YAML::Node& value)>;

class Loader {
 public:
  explicit Loader(std::string_view file_name) : file_(file_name) {}

  Result<Baseline> load(std::string_view text);

 private:
  SourceLocation at(const YAML::Mark& mark) const {
    const yaml::Position where = yaml::positionOf(mark);
    return SourceLocation{file_, where.line, where.column};
  }
  SourceLocation at(const YAML::Node& node) const { return at(node.Mark()); }

  Status errorAt(const SourceLocation& where, const std::string& what) const {
    return yaml::errorAt(file_, {where.line, where.column}, what);
  }

  // Checks that `node` is a map whose keys are text, known and unique, then calls `handle`
  // for each pair in file order.
  Status forEachKey(const YAML::Node& node, const SourceLocation& where, const std::string& context,
                    std::span<const std::string_view> allowed, const KeyHandler& handle) const;

  // Text of a scalar value. Null, lists and maps are errors; so is blank text unless
  // `allow_empty`.
  Result<std::string> text(const YAML::Node& value, const SourceLocation& key_where,
                           const std::string& what, bool allow_empty) const;

  Result<std::vector<Setting>> settings(const YAML::Node& value, const std::string& context) const;
  // The text of a parameter value: a scalar, or a list of scalars joined with ", ".
  Result<std::string> parameterValue(const std::string& name, const YAML::Node& val,
                                     const SourceLocation& key_where) const;
  // `{value: ..., postfix_version: ...}` for parameter `name`.
  Result<Setting> alternative(const std::string& name, const YAML::Node& item) const;
  Result<VersionRequirement> versionRequirement(const YAML::Node& value,
                                                const SourceLocation& key_where) const;
  Result<bool> yesNo(const YAML::Node& value, const SourceLocation& key_where,
                     const std::string& what) const;
  Result<std::vector<std::string>> words(const YAML::Node& value, const SourceLocation& key_where,
                                         const std::string& what,
                                         std::span<const std::string_view> allowed) const;
  // A whole number in [low, high], written in decimal.
  Result<int> count(const YAML::Node& value, const SourceLocation& key_where,
                    const std::string& what, int low, int high) const;
  Result<std::vector<Removal>> removals(const YAML::Node& value, const std::string& context) const;
  Status checkNotBothSetAndRemoved(const std::vector<Setting>& set,
                                   const std::vector<Removal>& remove,
                                   const std::string& context) const;
  Result<std::vector<std::string>> mechanisms(const YAML::Node& value,
                                              const SourceLocation& key_where,
                                              const std::string& what, bool allow_star) const;

  Status mainCf(const YAML::Node& value, const SourceLocation& key_where, Baseline& baseline) const;
  Result<ServiceOverride> service(const YAML::Node& item) const;
  Result<ProbeExpectation> expectation(const YAML::Node& item) const;

  std::string file_;
};

Status Loader::forEachKey(const YAML::Node& node, const SourceLocation& where,
                          const std::string& context, std::span<const std::string_view> allowed,
                          const KeyHandler& handle) const {
  return yaml::forEachKey(
      file_, node, {where.line, where.column}, context, allowed,
      [&](const std::string& key, const yaml::Position& key_where, const YAML::Node& value) {
        return handle(key, SourceLocation{file_, key_where.line, key_where.column}, value);
      });
}

Result<std::string> Loader::text(const YAML::Node& value, const SourceLocation& key_where,
                                 const std::string& what, bool allow_empty) const {
  if (value.IsNull()) {
    return errorAt(key_where, what + " has no value" +
                                  (allow_empty ? " (write \"\" for an empty value)" : ""));
  }
  if (!value.IsScalar()) {
    return errorAt(at(value), what + " must be text, not " + describe(value));
  }
  const std::string& s = value.Scalar();
  if (!allow_empty && s.find_first_not_of(" \t") == std::string::npos) {
    return errorAt(at(value), what + " must not be empty");
  }
  return s;
}

Result<std::vector<Setting>> Loader::settings(const YAML::Node& value,
                                              const std::string& context) const {
  std::vector<Setting> out;
  if (value.IsNull()) return out;  // "set:" with nothing under it
  if (!value.IsMap()) {
    return errorAt(at(value), "'set' in " + context + " must be a map of parameter: value, not " +
                                  describe(value));
  }
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node val = it->second;
    const SourceLocation key_where_param = at(key);
    if (!key.IsScalar()) {
      return errorAt(key_where_param,
                     "parameter names in " + context + " must be text, not " + describe(key));
    }
    const std::string& name = key.Scalar();
    if (auto [first, inserted] = seen.emplace(name, key_where_param); !inserted) {
      return errorAt(key_where_param, "parameter '" + name + "' is set twice in " + context +
                                          " (first at " + position(first->second) + ")");
    }
    // A map is an alternative only when it says so; any other map is the old mistake of
    // nesting a value, reported as such.
    if (val.IsMap() && !val["value"] && !val["postfix_version"]) {
      return errorAt(at(val), "value of '" + name + "' must be text or a list of text, not a map");
    }
    const bool alternatives = val.IsMap() || (val.IsSequence() && val.size() > 0 && val[0].IsMap());
    if (!alternatives) {
      PW_ASSIGN_OR_RETURN(std::string joined, parameterValue(name, val, key_where_param));
      out.push_back(Setting{name, std::move(joined), key_where_param});
      continue;
    }
    // Alternatives: {value, postfix_version} maps, the first that applies wins.
    std::vector<YAML::Node> items;
    if (val.IsMap()) {
      items.push_back(val);
    } else {
      for (const YAML::Node& item : val) items.push_back(item);
    }
    std::optional<SourceLocation> unconditional;
    for (const YAML::Node& item : items) {
      if (!item.IsMap()) {
        return errorAt(at(item), "'" + name +
                                     "' is a list of alternatives ({value: ..., postfix_version: "
                                     "...}); this element is " +
                                     describe(item));
      }
      PW_ASSIGN_OR_RETURN(Setting setting, alternative(name, item));
      if (unconditional) {
        return errorAt(setting.where,
                       "this alternative of '" + name + "' can never apply: the one at " +
                           position(*unconditional) + " has no postfix_version and always wins");
      }
      if (!setting.postfix_version) unconditional = setting.where;
      out.push_back(std::move(setting));
    }
  }
  return out;
}

Result<std::string> Loader::parameterValue(const std::string& name, const YAML::Node& val,
                                           const SourceLocation& key_where) const {
  if (val.IsMap()) {
    return errorAt(at(val), "value of '" + name + "' must be text or a list of text, not a map");
  }
  if (!val.IsSequence()) return text(val, key_where, "parameter '" + name + "'", true);
  // A YAML list stands for a Postfix list: join with ", " (Postfix takes commas and whitespace
  // alike as separators).
  std::string joined;
  for (const YAML::Node& item : val) {
    PW_ASSIGN_OR_RETURN(std::string element,
                        text(item, at(item), "an element of '" + name + "'", false));
    if (!joined.empty()) joined += ", ";
    joined += element;
  }
  return joined;
}

Result<Setting> Loader::alternative(const std::string& name, const YAML::Node& item) const {
  Setting out{.name = name, .where = at(item), .alternative = true};
  bool has_value = false;
  PW_RETURN_IF_ERROR(forEachKey(
      item, out.where, "an alternative of '" + name + "'", kAlternativeKeys,
      [&](const std::string& key, const SourceLocation& where, const YAML::Node& v) -> Status {
        if (key == "value") {
          PW_ASSIGN_OR_RETURN(out.value, parameterValue(name, v, where));
          has_value = true;
        } else {
          PW_ASSIGN_OR_RETURN(out.postfix_version, versionRequirement(v, where));
        }
        return OkStatus();
      }));
  if (!has_value) return errorAt(out.where, "this alternative of '" + name + "' needs 'value'");
  return out;
}

Result<VersionRequirement> Loader::versionRequirement(const YAML::Node& value,
                                                      const SourceLocation& key_where) const {
  PW_ASSIGN_OR_RETURN(std::string written, text(value, key_where, "'postfix_version'", false));
  std::optional<VersionRequirement> parsed = parseVersionRequirement(written);
  if (!parsed) {
    return errorAt(at(value),
                   "'postfix_version' must be \">= X.Y[.Z]\", \"< X.Y[.Z]\" or both separated by "
                   "a comma (\">= 3.7.10, < 3.8\"), not '" +
                       written + "'");
  }
  parsed->where = at(value);
  return *std::move(parsed);
}

Result<bool> Loader::yesNo(const YAML::Node& value, const SourceLocation& key_where,
                           const std::string& what) const {
  PW_ASSIGN_OR_RETURN(std::string written, text(value, key_where, what, false));
  if (written == "yes" || written == "true") return true;
  if (written == "no" || written == "false") return false;
  return errorAt(at(value), what + " must be yes or no, not '" + written + "'" +
                                didYouMean(written, kBooleanValues));
}

Result<int> Loader::count(const YAML::Node& value, const SourceLocation& key_where,
                          const std::string& what, int low, int high) const {
  PW_ASSIGN_OR_RETURN(std::string written, text(value, key_where, what, false));
  int number = 0;
  const char* end = written.data() + written.size();
  auto [stop, error] = std::from_chars(written.data(), end, number);
  if (error != std::errc() || stop != end || number < low || number > high) {
    return errorAt(at(value), what + " must be a whole number from " + std::to_string(low) +
                                  " to " + std::to_string(high) + ", not '" + written + "'");
  }
  return number;
}

Result<std::vector<std::string>> Loader::words(const YAML::Node& value,
                                               const SourceLocation& key_where,
                                               const std::string& what,
                                               std::span<const std::string_view> allowed) const {
  if (value.IsNull()) return errorAt(key_where, what + " has no value; expected a list");
  if (!value.IsSequence()) {
    return errorAt(at(value), what + " must be a list, not " + describe(value));
  }
  std::vector<std::string> out;
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const YAML::Node& item : value) {
    const SourceLocation where = at(item);
    PW_ASSIGN_OR_RETURN(std::string word, text(item, where, "an element of " + what, false));
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), word) == allowed.end()) {
      return errorAt(where, "'" + word + "' in " + what + " must be one of " + joinKeys(allowed) +
                                didYouMean(word, allowed));
    }
    if (auto [first, inserted] = seen.emplace(word, where); !inserted) {
      return errorAt(where, "'" + word + "' is listed twice in " + what + " (first at " +
                                position(first->second) + ")");
    }
    out.push_back(std::move(word));
  }
  return out;
}

Result<std::vector<Removal>> Loader::removals(const YAML::Node& value,
                                              const std::string& context) const {
  std::vector<Removal> out;
  if (value.IsNull()) return out;
  if (!value.IsSequence()) {
    return errorAt(at(value), "'remove' in " + context +
                                  " must be a list of parameter names, not " + describe(value));
  }
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const YAML::Node& item : value) {
    const SourceLocation where = at(item);
    PW_ASSIGN_OR_RETURN(std::string name, text(item, where, "a parameter name in 'remove'", false));
    if (auto [first, inserted] = seen.emplace(name, where); !inserted) {
      return errorAt(where, "parameter '" + name + "' is removed twice in " + context +
                                " (first at " + position(first->second) + ")");
    }
    out.push_back(Removal{std::move(name), where});
  }
  return out;
}

Status Loader::checkNotBothSetAndRemoved(const std::vector<Setting>& set,
                                         const std::vector<Removal>& remove,
                                         const std::string& context) const {
  for (const Removal& r : remove) {
    for (const Setting& s : set) {
      if (s.name == r.name) {
        return errorAt(r.where, "parameter '" + r.name + "' is both set (at " + position(s.where) +
                                    ") and removed in " + context);
      }
    }
  }
  return OkStatus();
}

Result<std::vector<std::string>> Loader::mechanisms(const YAML::Node& value,
                                                    const SourceLocation& key_where,
                                                    const std::string& what,
                                                    bool allow_star) const {
  const std::string expected =
      allow_star ? "a list of SASL mechanisms such as [PLAIN, LOGIN], or \"*\" for any"
                 : "a list of SASL mechanisms such as [PLAIN, LOGIN]";
  if (value.IsNull()) return errorAt(key_where, what + " has no value; expected " + expected);
  if (value.IsScalar()) {
    if (allow_star && value.Scalar() == "*") return std::vector<std::string>{"*"};
    return errorAt(at(value),
                   what + " must be " + expected + ", not the text '" + value.Scalar() + "'");
  }
  if (!value.IsSequence()) {
    return errorAt(at(value), what + " must be " + expected + ", not " + describe(value));
  }
  std::vector<std::string> out;
  std::map<std::string, SourceLocation, std::less<>> seen;
  for (const YAML::Node& item : value) {
    const SourceLocation where = at(item);
    PW_ASSIGN_OR_RETURN(std::string mech, text(item, where, "a mechanism in " + what, false));
    if (mech == "*") {
      return errorAt(where, allow_star ? "\"*\" stands alone: write " + what + ": \"*\""
                                       : "\"*\" is only meaningful in forbid_auth_before_tls");
    }
    if (auto [first, inserted] = seen.emplace(mech, where); !inserted) {
      return errorAt(where, "mechanism '" + mech + "' is listed twice in " + what + " (first at " +
                                position(first->second) + ")");
    }
    out.push_back(std::move(mech));
  }
  return out;
}

Status Loader::mainCf(const YAML::Node& value, const SourceLocation& key_where,
                      Baseline& baseline) const {
  if (value.IsNull()) return OkStatus();
  const std::string context = "main.cf";
  PW_RETURN_IF_ERROR(
      forEachKey(value, key_where, context, kMainCfKeys,
                 [&](const std::string& key, const SourceLocation&, const YAML::Node& v) -> Status {
                   if (key == "set") {
                     PW_ASSIGN_OR_RETURN(baseline.main_cf_set, settings(v, context));
                   } else {
                     PW_ASSIGN_OR_RETURN(baseline.main_cf_remove, removals(v, context));
                   }
                   return OkStatus();
                 }));
  return checkNotBothSetAndRemoved(baseline.main_cf_set, baseline.main_cf_remove, context);
}

Result<ServiceOverride> Loader::service(const YAML::Node& item) const {
  ServiceOverride out;
  out.where = at(item);
  bool has_service = false;
  std::string context = "master.cf entry";
  PW_RETURN_IF_ERROR(forEachKey(
      item, out.where, context, kServiceKeys,
      [&](const std::string& key, const SourceLocation& where, const YAML::Node& v) -> Status {
        if (key == "service") {
          PW_ASSIGN_OR_RETURN(out.service, text(v, where, "'service'", false));
          has_service = true;
        } else if (key == "type") {
          PW_ASSIGN_OR_RETURN(out.type, text(v, where, "'type'", false));
        } else if (key == "command") {
          PW_ASSIGN_OR_RETURN(std::string command, text(v, where, "'command'", false));
          out.command = std::move(command);
        } else if (key == "set") {
          PW_ASSIGN_OR_RETURN(out.options, settings(v, context));
        } else if (key == "if_exists") {
          PW_ASSIGN_OR_RETURN(out.only_if_exists, yesNo(v, where, "'if_exists'"));
        } else {
          PW_ASSIGN_OR_RETURN(out.remove_options, removals(v, context));
        }
        return OkStatus();
      }));
  if (out.only_if_exists && out.command) {
    return errorAt(out.where,
                   "'if_exists: yes' and 'command' contradict each other: 'command' creates a "
                   "missing service, 'if_exists' skips it");
  }
  if (!has_service) {
    return errorAt(out.where,
                   "master.cf entry needs 'service' (a role such as submission, or a "
                   "master.cf service name)");
  }
  PW_RETURN_IF_ERROR(checkNotBothSetAndRemoved(out.options, out.remove_options,
                                               "master.cf service '" + out.service + "'"));
  return out;
}

Result<ProbeExpectation> Loader::expectation(const YAML::Node& item) const {
  ProbeExpectation out;
  out.where = at(item);
  const std::string context = "verify entry";
  PW_RETURN_IF_ERROR(forEachKey(
      item, out.where, context, kVerifyKeys,
      [&](const std::string& key, const SourceLocation& where, const YAML::Node& v) -> Status {
        if (key == "service") {
          PW_ASSIGN_OR_RETURN(out.service, text(v, where, "'service'", false));
        } else if (key == "starttls") {
          PW_ASSIGN_OR_RETURN(std::string mode, text(v, where, "'starttls'", false));
          if (mode == "required") {
            out.starttls = StartTls::kRequired;
          } else if (mode == "optional") {
            out.starttls = StartTls::kOptional;
          } else {
            return errorAt(at(v), "'starttls' must be required or optional, not '" + mode + "'" +
                                      didYouMean(mode, kStartTlsValues));
          }
        } else if (key == "forbid_auth_before_tls") {
          PW_ASSIGN_OR_RETURN(out.forbid_auth_before_tls,
                              mechanisms(v, where, "forbid_auth_before_tls", true));
        } else if (key == "require_auth_after_tls") {
          PW_ASSIGN_OR_RETURN(out.require_auth_after_tls,
                              mechanisms(v, where, "require_auth_after_tls", false));
        } else if (key == "require_auth_after_tls_where") {
          PW_ASSIGN_OR_RETURN(std::string condition,
                              text(v, where, "'require_auth_after_tls_where'", false));
          if (condition != "sasl_enabled") {
            return errorAt(at(v), "'require_auth_after_tls_where' must be sasl_enabled, not '" +
                                      condition + "'");
          }
          out.require_auth_only_where_sasl_enabled = true;
        } else if (key == "vrfy") {
          PW_ASSIGN_OR_RETURN(std::string mode, text(v, where, "'vrfy'", false));
          if (mode != "refused") {
            return errorAt(at(v), "'vrfy' must be refused, not '" + mode + "'" +
                                      didYouMean(mode, kVrfyValues));
          }
          out.vrfy_refused = true;
        } else if (key == "banner_must_not_contain") {
          PW_ASSIGN_OR_RETURN(out.banner_must_not_contain,
                              words(v, where, "banner_must_not_contain", {}));
        } else if (key == "tls_refused") {
          PW_ASSIGN_OR_RETURN(out.tls_refused, words(v, where, "tls_refused", kTlsAttempts));
        } else if (key == "tls_accepted") {
          PW_ASSIGN_OR_RETURN(out.tls_accepted, words(v, where, "tls_accepted", kTlsAttempts));
        } else if (key == "certificate_valid_days") {
          PW_ASSIGN_OR_RETURN(out.certificate_valid_days,
                              count(v, where, "'certificate_valid_days'", 0, 3650));
        } else if (key == "dh_min_bits") {
          PW_ASSIGN_OR_RETURN(out.dh_min_bits, count(v, where, "'dh_min_bits'", 512, 16384));
        } else if (key == "certificate_chain") {
          PW_ASSIGN_OR_RETURN(std::string mode, text(v, where, "'certificate_chain'", false));
          if (mode != "trusted") {
            return errorAt(at(v), "'certificate_chain' must be trusted, not '" + mode + "'" +
                                      didYouMean(mode, kChainValues));
          }
          out.certificate_chain_trusted = true;
        } else {
          PW_ASSIGN_OR_RETURN(std::string name, text(v, where, "'certificate_name'", false));
          out.certificate_name = std::move(name);
        }
        return OkStatus();
      }));
  return out;
}

Result<Baseline> Loader::load(std::string_view yaml_text) {
  const SourceLocation start{file_, 1, 1};
  if (yaml_text.size() > kMaxPolicyBytes) {
    return errorAt(start,
                   "policy is " + std::to_string(yaml_text.size()) + " bytes; the limit is 1 MiB");
  }
  const std::string yaml(yaml_text);
  std::variant<YAML::Node, yaml::DocumentError> loaded = yaml::loadSingleDocument(yaml);
  if (const auto* error = std::get_if<yaml::DocumentError>(&loaded)) {
    return errorAt(at(error->mark), error->message == "found a second document"
                                        ? "a policy file holds one YAML document; found another"
                                        : error->message);
  }
  const YAML::Node root = std::get<YAML::Node>(loaded);
  if (root.IsNull()) {
    return errorAt(start, "empty policy: expected a map with at least 'name' and 'version'");
  }

  Baseline baseline;
  baseline.source_file = file_;
  std::optional<SourceLocation> name_where, version_where;
  PW_RETURN_IF_ERROR(forEachKey(
      root, at(root), "the policy", kTopKeys,
      [&](const std::string& key, const SourceLocation& where, const YAML::Node& v) -> Status {
        if (key == "name") {
          PW_ASSIGN_OR_RETURN(baseline.name, text(v, where, "'name'", false));
          if (!isValidBaselineName(baseline.name)) {
            return errorAt(at(v), "name '" + baseline.name +
                                      "' must match [a-z0-9][a-z0-9-]* (lowercase letters, "
                                      "digits and '-', starting with a letter or digit)");
          }
          name_where = where;
        } else if (key == "version") {
          PW_ASSIGN_OR_RETURN(baseline.version, text(v, where, "'version'", false));
          version_where = where;
        } else if (key == "postfix_version") {
          PW_ASSIGN_OR_RETURN(baseline.postfix_version, versionRequirement(v, where));
        } else if (key == "description") {
          if (!v.IsNull()) {
            PW_ASSIGN_OR_RETURN(baseline.description, text(v, where, "'description'", true));
          }
        } else if (key == "main.cf") {
          PW_RETURN_IF_ERROR(mainCf(v, where, baseline));
        } else if (key == "master.cf") {
          if (v.IsNull()) return OkStatus();
          if (!v.IsSequence()) {
            return errorAt(
                at(v), "master.cf must be a list of services (- service: ...), not " + describe(v));
          }
          for (const YAML::Node& item : v) {
            PW_ASSIGN_OR_RETURN(ServiceOverride s, service(item));
            for (const ServiceOverride& earlier : baseline.master_cf) {
              if (earlier.service == s.service && earlier.type == s.type) {
                return errorAt(s.where, "duplicate master.cf service '" + s.service + "' (type " +
                                            s.type + "), first at " + position(earlier.where));
              }
            }
            baseline.master_cf.push_back(std::move(s));
          }
        } else {  // verify
          if (v.IsNull()) return OkStatus();
          if (!v.IsSequence()) {
            return errorAt(at(v),
                           "verify must be a list of checks (- service: ...), not " + describe(v));
          }
          for (const YAML::Node& item : v) {
            PW_ASSIGN_OR_RETURN(ProbeExpectation e, expectation(item));
            for (const ProbeExpectation& earlier : baseline.verify) {
              if (earlier.service == e.service) {
                return errorAt(e.where, "duplicate verify entry for service '" + e.service +
                                            "', first at " + position(earlier.where));
              }
            }
            baseline.verify.push_back(std::move(e));
          }
        }
        return OkStatus();
      }));
  if (!name_where) return errorAt(at(root), "missing required key 'name'");
  if (!version_where) return errorAt(at(root), "missing required key 'version'");
  return baseline;
}

}  // namespace

Result<Baseline> loadBaseline(std::string_view yaml_text, std::string_view file_name) {
  // yaml-cpp reports errors by throwing, also from node accessors; nothing may escape this
  // module (STYLE.md §3), so the whole walk runs under one handler.
  try {
    return Loader(file_name).load(yaml_text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    return InvalidArgumentError(std::string(file_name) + ":" + std::to_string(line) + ":" +
                                std::to_string(column) + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string(file_name) + ":1:1: cannot load policy: " + e.what());
  }
}

}  // namespace postwarden::agent::policy
