// Machine-readable reports for `--format json`: a plan, an apply, a verify or a scan, as the
// messages of proto/postwarden/v1/report.proto in protobuf's JSON mapping. The proto is the
// one schema for scripts and for the controller.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/applier/needs_human.h"
#include "agent/applier/transaction.h"
#include "agent/planner/plan.h"
#include "agent/verify/expectation.h"
#include "agent/verify/scan.h"
#include "agent/verify/smtp_prober.h"
#include "common/status.h"

namespace postwarden::agent::report {

// What the caller knows beyond the plan itself.
struct PlanContext {
  std::string postfix_dir;
  std::chrono::system_clock::time_point planned_at;
};

// The plan as pretty-printed JSON (field names in lowerCamelCase, default values included).
std::string planToJson(const planner::Plan& plan, const PlanContext& context);

// An apply: the plan, the outcome, every step, the last probes and Postfix log lines.
std::string applyToJson(const planner::Plan& plan, const applier::TransactionReport& report,
                        const PlanContext& context);

// `verify`: every probe and whether all passed.
std::string verifyToJson(const std::vector<applier::ProbeRecord>& probes);

// `scan`: the probe and its findings.
std::string scanToJson(const applier::ProbeRecord& probe,
                       const std::vector<verify::ScanFinding>& findings);

// A command that failed before it had a report: the status code and one line per finding.
std::string errorToJson(const Status& status);

// postwarden.v1.ClearReport.
std::string clearToJson(const std::string& state_dir, const applier::ClearedState& cleared);

}  // namespace postwarden::agent::report
