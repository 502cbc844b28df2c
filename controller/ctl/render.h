// What postwardenctl prints for each controller reply: an aligned text table or summary, or a
// JSON value (snake_case keys; every time an RFC 3339 string, null when unset). Pure functions of
// the reply, the current time and the color choice; rows are sorted so the output does not depend
// on the controller's order. docs/postwardenctl.md documents every shape.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/ctl/arguments.h"
#include "controller/ctl/json.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::ctl {

struct RenderContext {
  int64_t now_ms = 0;  // for "3s ago"
  bool color = false;  // ANSI colors in text output
};

// "compliant", "drifted", "failing", "refused", "rolled-back", "needs-human", "unknown".
std::string complianceName(v1::Compliance compliance);
// "enforce", "detect", "-".
std::string modeName(v1::BaselineMode mode);
// Whether a parameter matches its baseline (same value, or both absent).
bool parameterOk(const v1::ParameterState& parameter);

std::string renderAgents(const v1::ListAgentsResponse& reply, const RenderContext& ctx);
Json agentsJson(const v1::ListAgentsResponse& reply);

std::string renderAgent(const v1::GetAgentResponse& reply, const RenderContext& ctx);
Json agentJson(const v1::GetAgentResponse& reply);

std::string renderDrift(const v1::ListDriftResponse& reply, const RenderContext& ctx);
Json driftJson(const v1::ListDriftResponse& reply);

std::string renderPushed(const v1::PushBaselineResponse& reply);
Json pushedJson(const v1::PushBaselineResponse& reply);

std::string renderBaselines(const v1::ListBaselinesResponse& reply, const RenderContext& ctx);
Json baselinesJson(const v1::ListBaselinesResponse& reply);

std::string renderAssigned(const AssignBaselineCommand& command,
                           const v1::AssignBaselineResponse& reply);
std::string renderAssignments(const v1::ListAssignmentsResponse& reply, const RenderContext& ctx);
Json assignmentsJson(const v1::ListAssignmentsResponse& reply);

Json assignedJson(const AssignBaselineCommand& command, const v1::AssignBaselineResponse& reply);

std::string renderTokenCreated(const v1::CreateTokenResponse& reply, const RenderContext& ctx);
Json tokenCreatedJson(const v1::CreateTokenResponse& reply);

std::string renderTokens(const v1::ListTokensResponse& reply, const RenderContext& ctx);
Json tokensJson(const v1::ListTokensResponse& reply);

// One agent that is not compliant and verified, and why.
struct Unhealthy {
  v1::AgentSummary agent;
  std::vector<std::string> reasons;  // "refused", "failing", "needs-human", "drifted",
                                     // "no baseline", "stale"
};
// Every agent of `reply` that is not healthy (compliant, and seen within `stale_after_ms` of
// `now_ms`), sorted by id; revoked agents are left out.
std::vector<Unhealthy> unhealthyAgents(const v1::ListAgentsResponse& reply, int64_t now_ms,
                                       int64_t stale_after_ms);
std::string renderStatus(const v1::ListAgentsResponse& reply,
                         const std::vector<Unhealthy>& unhealthy, const RenderContext& ctx);
Json statusJson(const v1::ListAgentsResponse& reply, const std::vector<Unhealthy>& unhealthy);

}  // namespace postwarden::controller::ctl
