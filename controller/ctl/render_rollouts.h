// What postwardenctl prints for rollouts and the audit log: text tables and summaries, or JSON
// (the protobuf JSON mapping with snake_case names: times as RFC 3339 strings, phases as the
// lower-case words of docs/vocabulary.md). Pure functions of the reply and the time.
#pragma once

#include <string>

#include "controller/ctl/render.h"
#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::ctl {

std::string renderRolloutPlan(const v1::RolloutPlan& plan, const RenderContext& ctx);
std::string renderRollout(const v1::RolloutRecord& record, const RenderContext& ctx);
std::string renderRollouts(const v1::ListRolloutsResponse& reply, const RenderContext& ctx);
std::string renderAudit(const v1::AuditResponse& reply);

// One JSON document (a message), or one line per audit event.
std::string protoJson(const google::protobuf::Message& message);
std::string auditJsonLines(const v1::AuditResponse& reply);

}  // namespace postwarden::controller::ctl
