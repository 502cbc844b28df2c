#include "controller/rollout/internal/yaml_reader.h"

#include <algorithm>
#include <map>

#include "common/spelling.h"
#include "common/yaml/strict_map.h"
#include "controller/rollout/spec_values.h"

namespace postwarden::controller::rollout::internal {
namespace {

bool hasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// Back to yaml-cpp's 0-based mark, which the typed readers below take.
YAML::Mark markAt(const yaml::Position& at) {
  YAML::Mark mark;
  mark.line = at.line - 1;
  mark.column = at.column - 1;
  return mark;
}

}  // namespace

Status YamlReader::errorAt(const YAML::Mark& mark, const std::string& what) const {
  return yaml::errorAt(file_, yaml::positionOf(mark), what);
}

Status YamlReader::wrap(const YAML::Node& node, const std::string& what,
                        const Status& status) const {
  return errorAt(node.Mark(), what + ": " + status.message());
}

Status YamlReader::forEachKey(const YAML::Node& node, const YAML::Mark& where,
                              const std::string& context, std::span<const std::string_view> allowed,
                              const KeyHandler& handle) const {
  return yaml::forEachKey(
      file_, node, yaml::positionOf(where), context, allowed,
      [&](const std::string& key, const yaml::Position& at, const YAML::Node& value) {
        return handle(key, markAt(at), value);
      });
}

Result<std::string> YamlReader::text(const YAML::Node& value, const YAML::Mark& where,
                                     const std::string& what) const {
  if (value.IsNull()) return errorAt(where, what + " has no value");
  if (!value.IsScalar()) {
    return errorAt(value.Mark(), what + " must be text, not " + yaml::describe(value));
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
                   what + " must be a list, not " + yaml::describe(value));
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
    return errorAt(value.Mark(), what + " must be one of " + yaml::joinKeys(ok) + ", not '" + s + "'" +
                                    didYouMean(s, ok));
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
