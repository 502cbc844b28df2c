#include "controller/rollout/internal/yaml_reader.h"

#include <algorithm>
#include <map>

#include "agent/params/spelling.h"
#include "controller/rollout/spec_values.h"

namespace postwarden::controller::rollout::internal {
namespace {

std::string position(const YAML::Mark& mark) {
  if (mark.is_null()) return "1:1";
  return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

bool hasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

}  // namespace

Status YamlReader::errorAt(const YAML::Mark& mark, const std::string& what) const {
  return InvalidArgumentError(file_ + ":" + position(mark) + ": " + what);
}

Status YamlReader::wrap(const YAML::Node& node, const std::string& what,
                        const Status& status) const {
  return errorAt(node.Mark(), what + ": " + status.message());
}

std::string YamlReader::describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "text";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string YamlReader::didYouMean(std::string_view word, std::span<const std::string_view> words) {
  if (auto close = agent::params::closestMatch(word, words)) {
    return " (did you mean '" + std::string(*close) + "'?)";
  }
  return "";
}

std::string YamlReader::join(std::span<const std::string_view> words) {
  std::string out;
  for (std::string_view w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

Status YamlReader::forEachKey(const YAML::Node& node, const YAML::Mark& where,
                              const std::string& context, std::span<const std::string_view> allowed,
                              const KeyHandler& handle) const {
  if (!node.IsMap()) {
    return errorAt(node.IsNull() ? where : node.Mark(),
                   context + " must be a map of " + join(allowed) + ", not " + describe(node));
  }
  std::map<std::string, YAML::Mark, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      return errorAt(key.Mark(), "keys in " + context + " must be text, not " + describe(key));
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return errorAt(key.Mark(), "unknown key '" + name + "' in " + context +
                                     didYouMean(name, allowed) + "; valid keys: " + join(allowed));
    }
    if (auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
      return errorAt(key.Mark(), "duplicate key '" + name + "' in " + context + " (first at " +
                                     position(first->second) + ")");
    }
    PW_RETURN_IF_ERROR(handle(name, key, value));
  }
  return OkStatus();
}

Result<std::string> YamlReader::text(const YAML::Node& value, const YAML::Mark& where,
                                     const std::string& what) const {
  if (value.IsNull()) return errorAt(where, what + " has no value");
  if (!value.IsScalar()) {
    return errorAt(value.Mark(), what + " must be text, not " + describe(value));
  }
  const std::string& s = value.Scalar();
  if (s.find_first_not_of(" \t") == std::string::npos) {
    return errorAt(value.Mark(), what + " must not be empty");
  }
  if (hasControlCharacter(s)) {
    return errorAt(value.Mark(), what + " must not contain control characters or line breaks");
  }
  return s;
}

Result<std::vector<std::string>> YamlReader::textList(const YAML::Node& value,
                                                      const YAML::Mark& where,
                                                      const std::string& what) const {
  if (!value.IsSequence()) {
    return errorAt(value.IsNull() ? where : value.Mark(),
                   what + " must be a list, not " + describe(value));
  }
  std::vector<std::string> out;
  for (const YAML::Node& item : value) {
    PW_ASSIGN_OR_RETURN(std::string s, text(item, item.Mark(), "an item of " + what));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> YamlReader::choice(const YAML::Node& value, const YAML::Mark& where,
                                       const std::string& what,
                                       std::span<const std::string_view> ok) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, where, what));
  if (std::find(ok.begin(), ok.end(), s) == ok.end()) {
    return errorAt(value.Mark(),
                   what + " must be one of " + join(ok) + ", not '" + s + "'" + didYouMean(s, ok));
  }
  return s;
}

Result<int64_t> YamlReader::number(const YAML::Node& value, const YAML::Mark& where,
                                   const std::string& what, int max) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, where, what));
  Result<int> n = parseCount(s, max);
  if (!n.ok()) return wrap(value, what, n.status());
  return *n;
}

Result<absl::Duration> YamlReader::duration(const YAML::Node& value, const YAML::Mark& where,
                                            const std::string& what) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, where, what));
  Result<absl::Duration> d = parseDuration(s);
  if (!d.ok()) return wrap(value, what, d.status());
  return *d;
}

}  // namespace postwarden::controller::rollout::internal
