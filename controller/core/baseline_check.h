// What a pushed baseline must pass before the controller stores it: the checks every agent
// runs on an assignment before touching its host (the policy loader's grammar, then the
// validator's parameter names, values and guards against the built-in Postfix catalog), so a
// baseline every agent would refuse is refused once, at push, with the same messages. What
// needs the host (its certificates, its live files) stays with the agent. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/policy/baseline.h"
#include "common/status.h"

namespace postwarden::controller::core {

struct CheckedBaseline {
  agent::policy::Baseline baseline;
  std::vector<std::string> warnings;  // "FILE:LINE:COL: message", legal but risky choices
};

// Checks `content` (named `file_name` in messages; "baseline" when empty). Errors:
// InvalidArgument with one "FILE:LINE:COL: message" line per problem, as `postwarden-agent
// plan` prints them: content or file name not UTF-8, the loader's errors, the validator's.
Result<CheckedBaseline> checkBaseline(std::string_view content, std::string_view file_name);

}  // namespace postwarden::controller::core
