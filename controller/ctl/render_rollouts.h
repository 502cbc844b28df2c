// What postwardenctl prints for rollouts and the audit log: text tables and summaries, or JSON
// (the protobuf JSON mapping with snake_case names: times as RFC 3339 strings, phases as the
// lower-case words of docs/vocabulary.md). Pure functions of the reply and the time.
#pragma once

#include <string>
#include <vector>

#include "controller/ctl/render.h"
#include "postwarden/v1/rollout.pb.h"

namespace postwarden::controller::ctl {

std::string renderRolloutPlan(const v1::RolloutPlan& plan, const RenderContext& ctx);
std::string renderRollout(const v1::RolloutRecord& record, const RenderContext& ctx);
std::string renderRollouts(const v1::ListRolloutsResponse& reply, const RenderContext& ctx);
std::string renderAudit(const v1::AuditResponse& reply);

// `rollout show --watch`. On a terminal: the rollout's phase and one line per wave with a
// progress bar (settled hosts of the wave) and the hosts pending, in window, changing,
// soaking, done, failed and rolled back, fitted to `width` columns. Without a terminal: one
// line that changes only when a count or a phase does (the caller prints it on change), as
// text or compact JSON.
struct WaveProgress {
  std::string description;
  std::string status;  // waiting | running | passed
  // pending: waiting for its wave or a window; in_window: pending in the running wave of a
  // running rollout (it starts at the next step); changing: dispatched.
  int pending = 0, in_window = 0, changing = 0, soaking = 0, done = 0, failed = 0, rolled_back = 0,
      total = 0;
};
std::vector<WaveProgress> waveProgress(const v1::RolloutRecord& record);
std::string renderRolloutProgress(const v1::RolloutRecord& record, const RenderContext& ctx,
                                  int width);
std::string rolloutProgressLine(const v1::RolloutRecord& record);
std::string rolloutProgressJson(const v1::RolloutRecord& record);
// Whether `show --watch` is done: completed, aborted, or halted with no host in flight.
bool rolloutSettled(const v1::RolloutRecord& record);

// One JSON document (a message), or one line per audit event.
std::string protoJson(const google::protobuf::Message& message);
std::string auditJsonLines(const v1::AuditResponse& reply);

}  // namespace postwarden::controller::ctl
