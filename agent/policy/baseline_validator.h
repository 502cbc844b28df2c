// Checks a loaded Baseline against Postfix's parameter knowledge before anything touches a
// host: unknown parameter names (with "did you mean"), values Postfix would choke on, bad
// master.cf service types and commands, verify expectations the baseline itself contradicts
// (errors), and legal but risky choices (warnings). Pure: no I/O, no logging; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "agent/params/parameter_catalog.h"
#include "agent/policy/baseline.h"

namespace postwarden::agent::policy {

// One problem found in a baseline, tied to where it was written.
struct Finding {
  enum class Severity { kError, kWarning };
  Severity severity = Severity::kError;
  std::string message;  // one line, no trailing period
  SourceLocation where;

  // "file:line:col: error: message" (or "warning:"), the compiler convention editors parse.
  std::string toString() const;
};

// All findings for `baseline`, ordered by position in the file (then errors before warnings).
// A baseline with any kError finding must not be applied; warnings are for the author.
std::vector<Finding> validateBaseline(const Baseline& baseline,
                                      const params::ParameterCatalog& catalog);

// True when `findings` holds at least one kError.
bool hasErrors(const std::vector<Finding>& findings);

}  // namespace postwarden::agent::policy
