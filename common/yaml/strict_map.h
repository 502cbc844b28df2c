// Walks a YAML mapping strictly (keys must be known, unique text), with "FILE:LINE:COL: ..."
// errors: shared by the baseline loader and the agent config.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace postwarden::yaml {

// A 1-based line and column in a file.
struct Position {
  int line = 1;
  int column = 1;
};

// The position of a yaml-cpp mark (which is 0-based); 1:1 for a null mark.
Position positionOf(const YAML::Mark& mark);

// "LINE:COL".
std::string toString(const Position& where);

// InvalidArgument "FILE:LINE:COL: what".
Status errorAt(std::string_view file, const Position& where, std::string_view what);

// "a map", "a list", "text" or "nothing": what a node is, for messages.
std::string describe(const YAML::Node& node);

// "a, b, c".
std::string joinKeys(std::span<const std::string_view> keys);

// Called for each pair of a map, with where its key stands.
using KeyHandler =
    std::function<Status(const std::string& key, const Position& key_where, const YAML::Node&)>;

// Checks that `node` is a map whose keys are text, among `allowed` and unique, then calls
// `handle` for each pair in file order and stops at its first error. `context` names the map in
// messages ("the policy", "'probe'"); `where` is reported when `node` is null (the place of the
// key that holds it). Errors are errorAt(file, ...): "... must be a map of a, b, not a list",
// "keys in ... must be text", "unknown key 'x' in ... (did you mean 'y'?); valid keys: ...",
// "duplicate key 'x' in ... (first at 3:1)".
Status forEachKey(std::string_view file, const YAML::Node& node, const Position& where,
                  std::string_view context, std::span<const std::string_view> allowed,
                  const KeyHandler& handle);

}  // namespace postwarden::yaml
