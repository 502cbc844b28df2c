#include "common/yaml/strict_map.h"

#include <algorithm>
#include <map>

#include "common/spelling.h"

namespace postwarden::yaml {

Position positionOf(const YAML::Mark& mark) {
  if (mark.is_null()) return Position{};
  return Position{mark.line + 1, mark.column + 1};
}

std::string toString(const Position& where) {
  return std::to_string(where.line) + ":" + std::to_string(where.column);
}

Status errorAt(std::string_view file, const Position& where, std::string_view what) {
  return InvalidArgumentError(std::string(file) + ":" + toString(where) + ": " + std::string(what));
}

std::string describe(const YAML::Node& node) {
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

std::string joinKeys(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

Status forEachKey(std::string_view file, const YAML::Node& node, const Position& where,
                  std::string_view context, std::span<const std::string_view> allowed,
                  const KeyHandler& handle) {
  const std::string in(context);
  if (!node.IsMap()) {
    return errorAt(file, node.IsNull() ? where : positionOf(node.Mark()),
                   in + " must be a map of " + joinKeys(allowed) + ", not " + describe(node));
  }
  std::map<std::string, Position, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: the iterator hands out a temporary pair, and Nodes are cheap handles.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const Position key_where = positionOf(key.Mark());
    if (!key.IsScalar()) {
      return errorAt(file, key_where, "keys in " + in + " must be text, not " + describe(key));
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return errorAt(file, key_where,
                     "unknown key '" + name + "' in " + in + didYouMean(name, allowed) +
                         "; valid keys: " + joinKeys(allowed));
    }
    if (auto [first, inserted] = seen.emplace(name, key_where); !inserted) {
      return errorAt(
          file, key_where,
          "duplicate key '" + name + "' in " + in + " (first at " + toString(first->second) + ")");
    }
    PW_RETURN_IF_ERROR(handle(name, key_where, value));
  }
  return OkStatus();
}

}  // namespace postwarden::yaml
