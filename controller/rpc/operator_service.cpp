// Over 400 lines on purpose: one thin handler per operator RPC (role check, audit, mapping);
// what they decide lives in controller/core.
#include "controller/rpc/operator_service.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <functional>

#include "common/logging.h"
#include "common/proto_time.h"
#include "common/sha256.h"
#include "controller/core/agent_id.h"
#include "controller/core/baseline_check.h"
#include "controller/core/report_mapping.h"
#include "controller/core/targeting.h"
#include "controller/credentials/tokens.h"
#include "controller/rpc/identity.h"
#include "controller/rpc/status_mapping.h"
#include "controller/store/text.h"

namespace postwarden::controller::rpc {

using namespace core;  // NOLINT: the services are the core's transport
using credentials::newToken;
using credentials::NewToken;

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.operators"); }

constexpr size_t kMaxBaselineBytes = 1 << 20;
constexpr int kHistoryLimit = 20;

// Where a call is counted and, when it changes something, recorded.
struct Hooks {
  const RpcMetrics* metrics = nullptr;
  Rollouts* audit = nullptr;  // null: the store keeps no audit log
};

// Authenticates and authorizes the caller, runs `body` and finishes the call with its status.
// Every call that may change something is logged and kept in the audit log with the caller's
// certificate identity (rollout calls write their own, richer rows).
grpc::ServerUnaryReactor* handleAs(const Hooks& hooks, grpc::CallbackServerContext* context,
                                   Role needed, std::string_view action,
                                   const std::function<Status(const Peer&)>& body) {
  const RpcMetrics* metrics = hooks.metrics;
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Result<Peer> peer = authenticate(*context);
  Status status = peer.status();
  if (status.ok()) status = authorize(*peer, needed, action);
  if (!status.ok()) {
    RpcMetrics::refuse(metrics, status);
    log()->warn("refused '{}' from {}: {}", action, peer.ok() ? peer->describe() : context->peer(),
                status.message());
  } else {
    status = body(*peer);
    if (needed > Role::kViewer) {
      log()->info("{} by {}: {}", action, peer->describe(), status.ok() ? "ok" : status.message());
      if (hooks.audit && action.find("rollout") == std::string_view::npos) {
        hooks.audit->recordAction(peer->id, std::string(action),
                                  status.ok() ? "ok" : status.toString());
      }
    }
  }
  reactor->Finish(toGrpc(status));
  return reactor;
}

grpc::ServerUnaryReactor* handle(const Hooks& hooks, grpc::CallbackServerContext* context,
                                 Role needed, std::string_view action,
                                 const std::function<Status()>& body) {
  return handleAs(hooks, context, needed, action, [&](const Peer&) { return body(); });
}

constexpr size_t kMaxSpecBytes = 256 << 10;

// "k=v,k2=v2", as operators write selectors.
std::string labelsText(const store::Labels& labels) {
  std::string out;
  for (const auto& [key, value] : labels) out += (out.empty() ? "" : ",") + key + "=" + value;
  return out;
}

Status checkSpecRequest(const v1::RolloutSpecRequest& request) {
  if (request.spec_yaml().empty()) return InvalidArgumentError("the rollout spec is empty");
  if (request.spec_yaml().size() > kMaxSpecBytes) {
    return InvalidArgumentError("rollout spec larger than 256 KiB");
  }
  if (request.file_name().size() > 4096) return InvalidArgumentError("file name too long");
  if (store::toValidUtf8(request.spec_yaml()) != request.spec_yaml()) {
    return InvalidArgumentError("the rollout spec is not UTF-8 text");
  }
  return OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* OperatorServiceImpl::ListAgents(grpc::CallbackServerContext* context,
                                                          const v1::ListAgentsRequest* request,
                                                          v1::ListAgentsResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "list agents", [&]() -> Status {
    store::Labels selector(request->selector().begin(), request->selector().end());
    PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, fleet_.agents());
    for (const store::AgentRecord& agent : agents) {
      if (!selectorMatches(selector, agent.labels)) continue;
      *response->add_agents() = agentSummary(agent, fleet_.connected(agent.id));
    }
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::GetAgent(grpc::CallbackServerContext* context,
                                                        const v1::GetAgentRequest* request,
                                                        v1::GetAgentResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "show an agent", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(store::AgentRecord agent, fleet_.agent(request->id()));
    *response->mutable_agent() = agentSummary(agent, fleet_.connected(agent.id));
    v1::StateReport state;
    if (!agent.last_state.empty() && state.ParseFromString(agent.last_state)) {
      *response->mutable_parameters() = state.parameters();
      *response->mutable_probe_transcript() = state.probe_transcript();
      response->set_detail(state.detail());
    }
    PW_ASSIGN_OR_RETURN(std::vector<store::HistoryRow> history,
                        fleet_.history(agent.id, kHistoryLimit));
    for (const store::HistoryRow& row : history) *response->add_history() = historyEntry(row);
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ListDrift(grpc::CallbackServerContext* context,
                                                         const v1::ListDriftRequest*,
                                                         v1::ListDriftResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "list drift", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, fleet_.agents());
    std::map<std::string, const store::AgentRecord*> by_id;
    for (const store::AgentRecord& a : agents) by_id[a.id] = &a;
    PW_ASSIGN_OR_RETURN(std::vector<store::DriftRow> drift, fleet_.drift());
    for (const store::DriftRow& row : drift) {
      v1::DriftRecord* record = response->add_drift();
      record->set_agent_id(store::toValidUtf8(row.agent_id));
      auto it = by_id.find(row.agent_id);
      if (it != by_id.end()) {
        record->set_hostname(store::toValidUtf8(it->second->hostname));
        record->set_baseline_name(store::toValidUtf8(it->second->baseline_name));
        record->set_baseline_digest(store::toValidUtf8(it->second->baseline_version));
        record->set_mode(static_cast<v1::BaselineMode>(it->second->mode));
      }
      *record->mutable_parameter() = parameterState(row);
      *record->mutable_detected_at() = timestampFromUnixMs(row.detected_at);
    }
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ListBaselines(grpc::CallbackServerContext* context,
                                                             const v1::ListBaselinesRequest*,
                                                             v1::ListBaselinesResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "list baselines", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(std::vector<store::BaselineRecord> baselines, fleet_.baselines());
    PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, fleet_.agents());
    for (const store::BaselineRecord& b : baselines) {
      if (Status text = store::checkText(b); !text.ok()) {
        log()->warn("baseline {}@{} listed with U+FFFD: {}", store::toValidUtf8(b.name),
                    store::toValidUtf8(b.version), text.message());
      }
      int assigned = static_cast<int>(std::count_if(agents.begin(), agents.end(), [&](auto& a) {
        return a.baseline_name == b.name && a.baseline_version == b.version;
      }));
      *response->add_baselines() = baselineVersion(b, assigned);
    }
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::PushBaseline(grpc::CallbackServerContext* context,
                                                            const v1::PushBaselineRequest* request,
                                                            v1::PushBaselineResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kOperator, "push a baseline",
                [&]() -> Status {
                  const std::string& content = request->content();
                  if (content.size() > kMaxBaselineBytes) {
                    return InvalidArgumentError("baseline larger than 1 MiB");
                  }
                  if (request->file_name().size() > 4096)
                    return InvalidArgumentError("file name too long");
                  // Refused here rather than by every agent: the checks the agents run, nothing
                  // stored.
                  Result<CheckedBaseline> checked_or = checkBaseline(content, request->file_name());
                  if (!checked_or.ok()) return checked_or.status().withContext("baseline refused");
                  CheckedBaseline checked = std::move(checked_or).value();
                  store::BaselineRecord record{.name = checked.baseline.name,
                                               .version = sha256Hex(content).substr(0, 12),
                                               .label = checked.baseline.version,
                                               .content = content,
                                               .pushed_at = fleet_.now()};
                  PW_ASSIGN_OR_RETURN(bool created, fleet_.putBaseline(record));
                  PW_ASSIGN_OR_RETURN(store::BaselineRecord stored,
                                      fleet_.baseline(record.name, record.version));
                  *response->mutable_baseline() = baselineVersion(stored, 0);
                  response->set_created(created);
                  for (const std::string& w : checked.warnings) response->add_warnings(w);
                  return OkStatus();
                });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::DeleteBaseline(
    grpc::CallbackServerContext* context, const v1::DeleteBaselineRequest* request,
    v1::DeleteBaselineResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kOperator, "delete a baseline",
                [&]() -> Status {
                  PW_ASSIGN_OR_RETURN(std::string version,
                                      fleet_.deleteBaseline(request->name(), request->digest()));
                  response->set_digest(version);
                  return OkStatus();
                });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::SendCommand(grpc::CallbackServerContext* context,
                                                           const v1::SendCommandRequest* request,
                                                           v1::Empty*) {
  return handle({metrics_, rollouts_}, context, Role::kOperator, "send a command", [&]() -> Status {
    if (request->command().kind() == v1::Command::KIND_UNSPECIFIED ||
        !v1::Command::Kind_IsValid(request->command().kind())) {
      return InvalidArgumentError("unknown command");
    }
    // Say which of the two it is: an agent that does not exist, or one that is not there now.
    Result<store::AgentRecord> agent = fleet_.agent(request->agent_id());
    if (!agent.ok() && agent.status().code() == StatusCode::kNotFound) {
      return NotFoundError("no agent '" + request->agent_id() +
                           "' is enrolled at this controller ('postwardenctl agents' lists them)");
    }
    if (agent.ok() && agent->revoked) {
      return FailedPreconditionError("agent '" + request->agent_id() + "' is revoked");
    }
    Status sent = fleet_.command(request->agent_id(), request->command());
    if (sent.code() == StatusCode::kUnavailable) {
      return FailedPreconditionError(
          "agent '" + request->agent_id() +
          "' is enrolled but not connected now; a command reaches it only while its stream is "
          "up ('postwardenctl agent show " +
          request->agent_id() + "' shows when it was last seen)");
    }
    return sent;
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::AssignBaseline(
    grpc::CallbackServerContext* context, const v1::AssignBaselineRequest* request,
    v1::AssignBaselineResponse* response) {
  return handle(
      {metrics_, rollouts_}, context, Role::kApprover, "assign a baseline", [&]() -> Status {
        if (request->mode() != v1::BASELINE_MODE_ENFORCE &&
            request->mode() != v1::BASELINE_MODE_DETECT) {
          return InvalidArgumentError("mode must be enforce or detect");
        }
        PW_RETURN_IF_ERROR(checkLabels(request->selector()));
        const store::Mode mode = static_cast<store::Mode>(request->mode());
        PW_ASSIGN_OR_RETURN(
            std::vector<std::string> repair_windows,
            repairWindows({request->repair_windows().begin(), request->repair_windows().end()},
                          mode));
        PW_ASSIGN_OR_RETURN(store::BaselineRecord baseline,
                            fleet_.baseline(request->name(), request->digest()));
        const store::Labels selector(request->selector().begin(), request->selector().end());
        PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, fleet_.agents());
        int matched = 0;
        for (const store::AgentRecord& agent : agents) {
          if (agent.revoked || !selectorMatches(selector, agent.labels)) continue;
          if (++matched <= 100) response->add_agent_ids(agent.id);
        }
        response->set_matched_agents(matched);
        if (matched == 0 && !request->allow_no_match()) {
          return FailedPreconditionError(
              "selector " +
              (selector.empty() ? std::string("(every agent)") : labelsText(selector)) +
              " matches no enrolled agent; nothing assigned (allow it to assign for agents that "
              "enroll later)");
        }
        if (request->preview()) return OkStatus();
        PW_ASSIGN_OR_RETURN(Fleet::Assigned assigned,
                            fleet_.assign({.baseline_name = baseline.name,
                                           .baseline_version = baseline.version,
                                           .selector = selector,
                                           .mode = mode,
                                           .created_at = fleet_.now(),
                                           .repair_windows = repair_windows}));
        response->set_matched_agents(assigned.matched);
        response->set_assignment_id(assigned.id);  // this call's, not the newest of all
        return OkStatus();
      });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ListAssignments(
    grpc::CallbackServerContext* context, const v1::Empty*, v1::ListAssignmentsResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "list assignments", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(std::vector<store::AssignmentRecord> all, fleet_.assignments());
    PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, fleet_.agents());
    std::map<int64_t, int> effective;
    for (const store::AgentRecord& agent : agents) {
      if (agent.revoked) continue;
      if (const store::AssignmentRecord* a = assignmentFor(all, agent.labels)) ++effective[a->id];
    }
    for (const store::AssignmentRecord& a : all) {
      v1::AssignmentInfo* info = response->add_assignments();
      info->set_id(a.id);
      info->set_baseline_name(a.baseline_name);
      info->set_baseline_digest(a.baseline_version);
      info->mutable_selector()->insert(a.selector.begin(), a.selector.end());
      info->set_mode(static_cast<v1::BaselineMode>(a.mode));
      *info->mutable_created_at() = timestampFromUnixMs(a.created_at);
      info->set_effective_agents(effective[a.id]);
      for (const std::string& window : a.repair_windows) info->add_repair_windows(window);
    }
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::Unassign(grpc::CallbackServerContext* context,
                                                        const v1::UnassignRequest* request,
                                                        v1::UnassignResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kApprover, "withdraw an assignment",
                [&]() -> Status {
                  PW_ASSIGN_OR_RETURN(int affected, fleet_.unassign(request->id()));
                  response->set_affected_agents(affected);
                  return OkStatus();
                });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ApproveAgent(grpc::CallbackServerContext* context,
                                                            const v1::AgentRequest* request,
                                                            v1::Empty*) {
  return handle({metrics_, rollouts_}, context, Role::kApprover, "approve a re-enrollment",
                [&]() -> Status { return fleet_.approveReenrollment(request->id()); });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::CreateToken(grpc::CallbackServerContext* context,
                                                           const v1::CreateTokenRequest* request,
                                                           v1::CreateTokenResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kAdmin, "create a token", [&]() -> Status {
    PW_RETURN_IF_ERROR(checkLabels(request->labels()));
    if (!request->bound_agent_id().empty() && !validAgentId(request->bound_agent_id())) {
      return InvalidArgumentError("--agent must be a lowercase host name");
    }
    const int64_t ttl_ms = google::protobuf::util::TimeUtil::DurationToMilliseconds(request->ttl());
    if (ttl_ms < 1000 || ttl_ms > 366LL * 24 * 3600 * 1000) {
      return InvalidArgumentError("ttl must be between 1 second and 366 days");
    }
    if (request->uses() <= 0 || request->uses() > 100000) {
      return InvalidArgumentError("uses must be between 1 and 100000");
    }
    PW_ASSIGN_OR_RETURN(NewToken token, newToken());
    store::TokenRecord record{.id = token.id,
                              .secret_sha256 = token.secret_sha256,
                              .labels = {request->labels().begin(), request->labels().end()},
                              .created_at = fleet_.now(),
                              .expires_at = fleet_.now() + ttl_ms,
                              .uses_left = request->uses(),
                              .bound_agent_id = request->bound_agent_id()};
    PW_RETURN_IF_ERROR(fleet_.createToken(record));
    *response->mutable_info() = tokenInfo(record);
    response->set_token(token.text);
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ListTokens(grpc::CallbackServerContext* context,
                                                          const v1::ListTokensRequest*,
                                                          v1::ListTokensResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kAdmin, "list tokens", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(std::vector<store::TokenRecord> tokens, fleet_.tokens());
    for (const store::TokenRecord& t : tokens) *response->add_tokens() = tokenInfo(t);
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::RevokeToken(grpc::CallbackServerContext* context,
                                                           const v1::RevokeTokenRequest* request,
                                                           v1::Empty*) {
  return handle({metrics_, rollouts_}, context, Role::kAdmin, "revoke a token",
                [&]() -> Status { return fleet_.revokeToken(request->id()); });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::RevokeAgent(grpc::CallbackServerContext* context,
                                                           const v1::AgentRequest* request,
                                                           v1::Empty*) {
  return handle({metrics_, rollouts_}, context, Role::kAdmin, "revoke an agent",
                [&]() -> Status { return fleet_.revoke(request->id()); });
}

Result<Rollouts*> OperatorServiceImpl::rollouts() {
  if (rollouts_ == nullptr) {
    return FailedPreconditionError("this controller's store keeps no rollouts");
  }
  return rollouts_;
}

grpc::ServerUnaryReactor* OperatorServiceImpl::PlanRollout(grpc::CallbackServerContext* context,
                                                           const v1::RolloutSpecRequest* request,
                                                           v1::RolloutPlan* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "plan a rollout", [&]() -> Status {
    PW_RETURN_IF_ERROR(checkSpecRequest(*request));
    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
    PW_ASSIGN_OR_RETURN(*response, r->plan(request->spec_yaml(), request->file_name()));
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::CreateRollout(grpc::CallbackServerContext* context,
                                                             const v1::RolloutSpecRequest* request,
                                                             v1::RolloutRecord* response) {
  return handleAs({metrics_, rollouts_}, context, Role::kOperator, "create a rollout",
                  [&](const Peer& peer) -> Status {
                    PW_RETURN_IF_ERROR(checkSpecRequest(*request));
                    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                    PW_ASSIGN_OR_RETURN(
                        *response, r->create(request->spec_yaml(), request->file_name(), peer.id));
                    return OkStatus();
                  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ListRollouts(grpc::CallbackServerContext* context,
                                                            const v1::Empty*,
                                                            v1::ListRolloutsResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "list rollouts", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
    PW_ASSIGN_OR_RETURN(std::vector<v1::RolloutRecord> all, r->list());
    for (v1::RolloutRecord& record : all) *response->add_rollouts() = std::move(record);
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::GetRollout(grpc::CallbackServerContext* context,
                                                          const v1::RolloutRequest* request,
                                                          v1::RolloutRecord* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "show a rollout", [&]() -> Status {
    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
    PW_ASSIGN_OR_RETURN(*response, r->get(request->id()));
    return OkStatus();
  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ApproveRollout(grpc::CallbackServerContext* context,
                                                              const v1::RolloutRequest* request,
                                                              v1::RolloutRecord* response) {
  return handleAs({metrics_, rollouts_}, context, Role::kApprover, "approve a rollout",
                  [&](const Peer& peer) -> Status {
                    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                    PW_ASSIGN_OR_RETURN(*response, r->approve(request->id(), peer.id));
                    return OkStatus();
                  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::RollbackRollout(grpc::CallbackServerContext* context,
                                                               const v1::RolloutRequest* request,
                                                               v1::RolloutRecord* response) {
  return handleAs({metrics_, rollouts_}, context, Role::kOperator, "roll back a rollout",
                  [&](const Peer& peer) -> Status {
                    if (request->reason().size() > 1024)
                      return InvalidArgumentError("reason too long");
                    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                    PW_ASSIGN_OR_RETURN(*response,
                                        r->rollback(request->id(), peer.id, request->reason()));
                    return OkStatus();
                  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::PauseRollout(grpc::CallbackServerContext* context,
                                                            const v1::RolloutRequest* request,
                                                            v1::RolloutRecord* response) {
  return handleAs({metrics_, rollouts_}, context, Role::kOperator, "pause a rollout",
                  [&](const Peer& peer) -> Status {
                    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                    PW_ASSIGN_OR_RETURN(*response, r->pause(request->id(), peer.id));
                    return OkStatus();
                  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::ResumeRollout(grpc::CallbackServerContext* context,
                                                             const v1::RolloutRequest* request,
                                                             v1::RolloutRecord* response) {
  return handleAs({metrics_, rollouts_}, context, Role::kOperator, "resume a rollout",
                  [&](const Peer& peer) -> Status {
                    PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                    PW_ASSIGN_OR_RETURN(*response, r->resume(request->id(), peer.id));
                    return OkStatus();
                  });
}

grpc::ServerUnaryReactor* OperatorServiceImpl::Audit(grpc::CallbackServerContext* context,
                                                     const v1::AuditRequest* request,
                                                     v1::AuditResponse* response) {
  return handle({metrics_, rollouts_}, context, Role::kViewer, "read the audit log",
                [&]() -> Status {
                  PW_ASSIGN_OR_RETURN(Rollouts * r, rollouts());
                  const store::UnixMs since = request->has_since() ? unixMs(request->since()) : 0;
                  PW_ASSIGN_OR_RETURN(std::vector<store::AuditRow> rows,
                                      r->audit(request->rollout_id(), since, request->limit()));
                  for (const store::AuditRow& row : rows) {
                    v1::AuditEvent* event = response->add_events();
                    event->set_id(row.id);
                    *event->mutable_at() = timestampFromUnixMs(row.at);
                    event->set_actor(row.actor);
                    event->set_rollout_id(row.rollout_id);
                    event->set_action(row.action);
                    event->set_host(row.host);
                    event->set_detail(row.detail);
                  }
                  return OkStatus();
                });
}

}  // namespace postwarden::controller::rpc
