// Loads a baseline from its YAML text (schema: docs/baselines.md). The loader checks structure
// only (keys, types, required fields, duplicates); whether the settings make sense to Postfix
// is baseline_validator.h's job. Every error names the place: "FILE:LINE:COL: what is wrong",
// 1-based. Pure: no I/O, no exceptions escape (yaml-cpp's are caught here), thread-safe.
#pragma once

#include <string_view>

#include "agent/policy/baseline.h"
#include "common/status.h"

namespace postwarden::agent::policy {

// Parses `yaml_text`, read from `file_name` (used for messages and Baseline::source_file).
// Scalars keep their exact text: `smtpd_tls_auth_only: yes` yields the value "yes", not a
// boolean; a YAML list as a parameter value is joined with ", ".
// Errors: InvalidArgument "FILE:LINE:COL: ..." for malformed YAML, more than one YAML document,
// unknown keys (with "did you mean"), wrong types (a map where text is expected, ...),
// duplicate keys, missing or empty required fields, a name not matching [a-z0-9][a-z0-9-]*,
// a parameter both set and removed (or removed twice), duplicate master.cf services
// (same service and type), duplicate verify services, null values, and texts over 1 MiB.
Result<Baseline> loadBaseline(std::string_view yaml_text, std::string_view file_name);

}  // namespace postwarden::agent::policy
