// The plan of `postwarden-agent restore`: the live main.cf and master.cf as "before", a
// backup's bytes as "after", so that the apply transaction (which takes a Plan) checks,
// journals, swaps, reloads or restarts, probes and rolls back a restore like any change.
// Pure: no I/O.
#pragma once

#include <string>

#include "agent/params/parameter_catalog.h"
#include "agent/planner/plan.h"
#include "agent/planner/planner.h"
#include "common/status.h"

namespace postwarden::agent::cli {

// One Change per main.cf parameter whose value differs (the catalog's reload/restart mode)
// and per master.cf service that differs (restart when a service comes or goes or its
// fields change, reload when only its arguments do); a byte difference that changes no value
// (comments, layout) is one reload change, so that the files are still written. No changes
// when the bytes are equal. The TLS material and warnings are the backup's own, as the
// planner finds them (the transaction's preflight checks those certificate files).
// Errors: those of the planner reading the backup.
Result<planner::Plan> restorePlan(const std::string& backup_id, const planner::PostfixConfig& live,
                                  const planner::PostfixConfig& backup,
                                  const params::ParameterCatalog& catalog);

}  // namespace postwarden::agent::cli
