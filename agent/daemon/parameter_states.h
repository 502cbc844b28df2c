// Pure: every parameter a baseline names, with what the baseline wants and what the host has
// (main.cf values as written, master.cf -o overrides per resolved service). The drift a
// controller shows is the subset that is out of line.
#pragma once

#include <vector>

#include "agent/planner/planner.h"
#include "agent/policy/baseline.h"
#include "common/parameter_state.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::agent::daemon {

std::vector<v1::ParameterState> parameterStates(const policy::Baseline& baseline,
                                                const planner::PostfixConfig& config,
                                                const planner::PlanOptions& options);

// The planner, not a text comparison, decides what is out of line ("a,b" and "a, b" are the
// same list to Postfix): a parameter the plan leaves alone gets its written value as the
// expected one, so that exactly the plan's parameters differ.
void alignWithPlan(std::vector<v1::ParameterState>& states, const planner::Plan& plan);

// The states outOfLine() (common/parameter_state.h) picks, in order.
std::vector<v1::ParameterState> outOfLineStates(const std::vector<v1::ParameterState>& states);

}  // namespace postwarden::agent::daemon
