// Strict reading of YAML nodes for the rollout spec: maps with a fixed set of keys (unknown
// and duplicate keys refused, with a did-you-mean: common/yaml/strict_map.h), scalars of the
// expected shape, and every
// error as InvalidArgument "FILE:LINE:COL: message" (1-based). Internal to controller/rollout.
#pragma once

#include <absl/time/time.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::controller::rollout::internal {

class YamlReader {
 public:
  // Called per key of a map: the key's text, where it stands and the value.
  using KeyHandler =
      std::function<Status(const std::string& key, const YAML::Mark& key_at, const YAML::Node&)>;

  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  // "FILE:LINE:COL: what" at `mark`.
  Status errorAt(const YAML::Mark& mark, const std::string& what) const;
  // Prefixes a value parser's error with the position of `node` and `what`.
  Status wrap(const YAML::Node& node, const std::string& what, const Status& status) const;

  // `node` must be a map whose keys are all in `allowed`, each once; `handle` sees each pair in
  // document order. `where` locates a missing (null) map. (common/yaml/strict_map.h's walker.)
  Status forEachKey(const YAML::Node& node, const YAML::Mark& where, const std::string& context,
                    std::span<const std::string_view> allowed, const KeyHandler& handle) const;

  // A non-empty scalar without control characters; `where` locates a missing value.
  Result<std::string> text(const YAML::Node& value, const YAML::Mark& where,
                           const std::string& what) const;
  // A list of such scalars (a single scalar is not accepted).
  Result<std::vector<std::string>> textList(const YAML::Node& value, const YAML::Mark& where,
                                            const std::string& what) const;

  // One of the words in `ok`, with a did-you-mean otherwise.
  Result<std::string> choice(const YAML::Node& value, const YAML::Mark& where,
                             const std::string& what, std::span<const std::string_view> ok) const;
  // A whole number from 0 to `max`.
  Result<int64_t> number(const YAML::Node& value, const YAML::Mark& where, const std::string& what,
                         int max) const;
  // A duration as parseDuration() reads it.
  Result<absl::Duration> duration(const YAML::Node& value, const YAML::Mark& where,
                                  const std::string& what) const;


 private:
  std::string file_;
};

}  // namespace postwarden::controller::rollout::internal
