#include "controller/ctl/commands.h"

#include <google/protobuf/util/time_util.h>
#include <grpcpp/client_context.h>

#include <ostream>
#include <thread>

#include "controller/ctl/format.h"
#include "controller/ctl/render.h"
#include "controller/ctl/render_rollouts.h"
#include "controller/ctl/rpc_error.h"

namespace postwarden::controller::ctl {
namespace {

// Holds what each command needs to make its one call and report it.
class Runner {
 public:
  Runner(v1::OperatorService::StubInterface& stub, const CommandContext& ctx)
      : stub_(stub), ctx_(ctx) {}

  int operator()(const HelpCommand& command) {
    ctx_.out << command.text;
    return kExitOk;
  }

  int operator()(const ListAgentsCommand& command) {
    v1::ListAgentsRequest request;
    request.mutable_selector()->insert(command.selector.begin(), command.selector.end());
    v1::ListAgentsResponse reply;
    return call("listing agents", &Stub::ListAgents, request, reply, [&] {
      return ctx_.json ? agentsJson(reply).dump() + "\n" : renderAgents(reply, render());
    });
  }

  int operator()(const ShowAgentCommand& command) {
    v1::GetAgentRequest request;
    request.set_id(command.id);
    v1::GetAgentResponse reply;
    return call("showing agent '" + command.id + "'", &Stub::GetAgent, request, reply, [&] {
      return ctx_.json ? agentJson(reply).dump() + "\n" : renderAgent(reply, render());
    });
  }

  int operator()(const RevokeAgentCommand& command) {
    v1::AgentRequest request;
    request.set_id(command.id);
    v1::Empty reply;
    return call("revoking agent '" + command.id + "'", &Stub::RevokeAgent, request, reply, [&] {
      return ctx_.json
                 ? done("agent_id", command.id, "revoked")
                 : "revoked agent " + command.id + ": its certificate is refused from now on\n";
    });
  }

  int operator()(const ApproveAgentCommand& command) {
    v1::AgentRequest request;
    request.set_id(command.id);
    v1::Empty reply;
    return call("approving agent '" + command.id + "'", &Stub::ApproveAgent, request, reply, [&] {
      return ctx_.json ? done("agent_id", command.id, "approved")
                       : "approved one re-enrollment of agent " + command.id + "\n";
    });
  }

  int operator()(const ListDriftCommand&) {
    v1::ListDriftRequest request;
    v1::ListDriftResponse reply;
    int status = call("listing drift", &Stub::ListDrift, request, reply, [&] {
      return ctx_.json ? driftJson(reply).dump() + "\n" : renderDrift(reply, render());
    });
    if (status == kExitOk && !reply.drift().empty()) return kExitDrift;
    return status;
  }

  int operator()(const PushBaselineCommand& command) {
    Result<std::string> content = ctx_.read_file(command.file, kMaxBaselineBytes);
    if (!content.ok()) {
      printError(ctx_.err, "baseline: " + content.status().message());
      return kExitError;
    }
    v1::PushBaselineRequest request;
    request.set_content(*content);
    request.set_file_name(command.file);
    v1::PushBaselineResponse reply;
    int status =
        call("pushing baseline '" + command.file + "'", &Stub::PushBaseline, request, reply,
             [&] { return ctx_.json ? pushedJson(reply).dump() + "\n" : renderPushed(reply); });
    for (const std::string& w : reply.warnings()) {
      ctx_.err << "postwardenctl: warning: " << printable(w) << "\n";
    }
    return status;
  }

  int operator()(const DeleteBaselineCommand& command) {
    v1::DeleteBaselineRequest request;
    request.set_name(command.baseline.name);
    request.set_digest(command.baseline.digest);
    v1::DeleteBaselineResponse reply;
    return call("deleting baseline '" + command.baseline.name + "@" + command.baseline.digest + "'",
                &Stub::DeleteBaseline, request, reply, [&] {
                  const std::string full = command.baseline.name + "@" + reply.digest();
                  if (!ctx_.json) return "deleted baseline " + printable(full) + "\n";
                  Json object = Json::object();
                  object.set("name", command.baseline.name)
                      .set("digest", reply.digest())
                      .set("deleted", true);
                  return object.dump() + "\n";
                });
  }

  int operator()(const ListBaselinesCommand&) {
    v1::ListBaselinesRequest request;
    v1::ListBaselinesResponse reply;
    return call("listing baselines", &Stub::ListBaselines, request, reply, [&] {
      return ctx_.json ? baselinesJson(reply).dump() + "\n" : renderBaselines(reply, render());
    });
  }

  int operator()(const AssignBaselineCommand& command) {
    v1::AssignBaselineRequest request;
    request.set_name(command.baseline.name);
    request.set_digest(command.baseline.digest);
    request.mutable_selector()->insert(command.selector.begin(), command.selector.end());
    request.set_mode(command.mode == AssignMode::kEnforce ? v1::BASELINE_MODE_ENFORCE
                                                          : v1::BASELINE_MODE_DETECT);
    request.set_preview(command.dry_run);
    request.set_allow_no_match(command.allow_no_match);
    for (const std::string& window : command.repair_windows) request.add_repair_windows(window);
    v1::AssignBaselineResponse reply;
    return call(
        "assigning baseline '" + command.baseline.name + "@" + command.baseline.digest + "'",
        &Stub::AssignBaseline, request, reply, [&] {
          return ctx_.json ? assignedJson(command, reply).dump() + "\n"
                           : renderAssigned(command, reply);
        });
  }

  int operator()(const ListAssignmentsCommand&) {
    v1::Empty request;
    v1::ListAssignmentsResponse reply;
    return call("listing assignments", &Stub::ListAssignments, request, reply, [&] {
      return ctx_.json ? assignmentsJson(reply).dump() + "\n" : renderAssignments(reply, render());
    });
  }

  int operator()(const UnassignCommand& command) {
    v1::UnassignRequest request;
    request.set_id(command.id);
    v1::UnassignResponse reply;
    const std::string id = std::to_string(command.id);
    return call("withdrawing assignment " + id, &Stub::Unassign, request, reply, [&] {
      if (ctx_.json) {
        Json object = Json::object();
        object.set("assignment_id", command.id)
            .set("withdrawn", true)
            .set("affected_agents", reply.affected_agents());
        return object.dump() + "\n";
      }
      const int n = reply.affected_agents();
      return "withdrew assignment " + id + "; it applied to " + std::to_string(n) +
             (n == 1 ? " agent" : " agents") +
             ", which now get the older assignment that matches them, if any, else keep the "
             "baseline they have\n";
    });
  }

  int operator()(const CreateTokenCommand& command) {
    v1::CreateTokenRequest request;
    request.mutable_labels()->insert(command.labels.begin(), command.labels.end());
    *request.mutable_ttl() =
        google::protobuf::util::TimeUtil::SecondsToDuration(command.ttl_seconds);
    request.set_uses(command.uses);
    request.set_bound_agent_id(command.agent_id);
    v1::CreateTokenResponse reply;
    return call("creating a token", &Stub::CreateToken, request, reply, [&] {
      return ctx_.json ? tokenCreatedJson(reply).dump() + "\n"
                       : renderTokenCreated(reply, render());
    });
  }

  int operator()(const ListTokensCommand&) {
    v1::ListTokensRequest request;
    v1::ListTokensResponse reply;
    return call("listing tokens", &Stub::ListTokens, request, reply, [&] {
      return ctx_.json ? tokensJson(reply).dump() + "\n" : renderTokens(reply, render());
    });
  }

  int operator()(const RevokeTokenCommand& command) {
    v1::RevokeTokenRequest request;
    request.set_id(command.id);
    v1::Empty reply;
    return call("revoking token '" + command.id + "'", &Stub::RevokeToken, request, reply, [&] {
      return ctx_.json ? done("token_id", command.id, "revoked")
                       : "revoked token " + command.id + "\n";
    });
  }

  int operator()(const StatusCommand& command) {
    v1::ListAgentsRequest request;
    v1::ListAgentsResponse reply;
    std::vector<Unhealthy> unhealthy;
    int status = call("reading fleet status", &Stub::ListAgents, request, reply, [&] {
      const int64_t now = ctx_.now_unix_ms();
      unhealthy = unhealthyAgents(reply, now, command.stale_after.count() * 1000);
      return ctx_.json ? statusJson(reply, unhealthy).dump() + "\n"
                       : renderStatus(reply, unhealthy, render());
    });
    if (status == kExitOk && !unhealthy.empty()) return kExitUnhealthy;
    return status;
  }

  int operator()(const SendCommandCommand& command) {
    const bool apply = command.kind == CommandKind::kApply;
    v1::SendCommandRequest request;
    request.set_agent_id(command.agent_id);
    request.mutable_command()->set_kind(apply ? v1::Command::KIND_APPLY_NOW
                                              : v1::Command::KIND_VERIFY_NOW);
    v1::Empty reply;
    const std::string word = apply ? "apply" : "verify";
    return call("sending " + word + " to agent '" + command.agent_id + "'", &Stub::SendCommand,
                request, reply, [&] {
                  if (!ctx_.json) return "sent " + word + " to agent " + command.agent_id + "\n";
                  Json object = Json::object();
                  object.set("agent_id", command.agent_id).set("command", word).set("sent", true);
                  return object.dump() + "\n";
                });
  }

  int operator()(const RolloutCommand& command) {
    using Action = RolloutCommand::Action;
    if (command.action == Action::kPlan || command.action == Action::kCreate) {
      Result<std::string> spec = ctx_.read_file(command.file, kMaxSpecBytes);
      if (!spec.ok()) {
        printError(ctx_.err, "rollout spec: " + spec.status().message());
        return kExitError;
      }
      v1::RolloutSpecRequest request;
      request.set_spec_yaml(*spec);
      request.set_file_name(command.file);
      if (command.action == Action::kPlan) {
        v1::RolloutPlan reply;
        return call(
            "planning rollout '" + command.file + "'", &Stub::PlanRollout, request, reply,
            [&] { return ctx_.json ? protoJson(reply) : renderRolloutPlan(reply, render()); });
      }
      v1::RolloutRecord reply;
      return call("creating rollout '" + command.file + "'", &Stub::CreateRollout, request, reply,
                  [&] { return ctx_.json ? protoJson(reply) : renderRollout(reply, render()); });
    }
    if (command.action == Action::kList) {
      v1::Empty request;
      v1::ListRolloutsResponse reply;
      return call("listing rollouts", &Stub::ListRollouts, request, reply,
                  [&] { return ctx_.json ? protoJson(reply) : renderRollouts(reply, render()); });
    }
    v1::RolloutRequest request;
    request.set_id(command.id);
    request.set_reason(command.reason);
    v1::RolloutRecord reply;
    auto print = [&] { return ctx_.json ? protoJson(reply) : renderRollout(reply, render()); };
    if (command.action == Action::kShow && command.watch) {
      request.set_summary(true);  // the waves' counts and the hosts in trouble or in flight
      return watch(request);
    }
    if (command.action == Action::kShow) {
      return call("showing rollout '" + command.id + "'", &Stub::GetRollout, request, reply, print);
    }
    if (command.action == Action::kApprove) {
      return call("approving rollout '" + command.id + "'", &Stub::ApproveRollout, request, reply,
                  print);
    }
    if (command.action == Action::kPause) {
      return call("pausing rollout '" + command.id + "'", &Stub::PauseRollout, request, reply,
                  print);
    }
    if (command.action == Action::kResume) {
      return call("resuming rollout '" + command.id + "'", &Stub::ResumeRollout, request, reply,
                  print);
    }
    return call("rolling back rollout '" + command.id + "'", &Stub::RollbackRollout, request, reply,
                print);
  }

  int operator()(const AuditCommand& command) {
    v1::AuditRequest request;
    request.set_rollout_id(command.rollout_id);
    if (command.since_seconds_ago > 0) {
      *request.mutable_since() = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(
          ctx_.now_unix_ms() - command.since_seconds_ago * 1000);
    }
    v1::AuditResponse reply;
    return call("reading the audit log", &Stub::Audit, request, reply,
                [&] { return ctx_.json ? auditJsonLines(reply) : renderAudit(reply); });
  }

 private:
  using Stub = v1::OperatorService::StubInterface;

  RenderContext render() const { return {ctx_.now_unix_ms(), ctx_.color}; }

  // {"<id_key>": id, "<flag>": true}
  static std::string done(const char* id_key, const std::string& id, const char* flag) {
    Json object = Json::object();
    object.set(id_key, id).set(flag, true);
    return object.dump() + "\n";
  }

  // Makes one unary call with the deadline; prints `print()` on success, the mapped error
  // otherwise.
  template <typename Request, typename Reply, typename Print>
  int call(const std::string& what,
           grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
           const Request& request, Reply& reply, Print print) {
    if (!invoke(what, method, request, reply)) return kExitError;
    ctx_.out << print();
    return kExitOk;
  }

  // The call alone: false (with the error printed) when it failed.
  template <typename Request, typename Reply>
  bool invoke(const std::string& what,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
              const Request& request, Reply& reply) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + ctx_.timeout);
    grpc::Status status = (stub_.*method)(&context, request, &reply);
    if (status.ok()) return true;
    printError(ctx_.err, describeRpcError(what, status));
    if (std::optional<std::string> hint = rpcErrorHint(status)) {
      ctx_.err << "postwardenctl: hint: " << *hint << "\n";
    }
    return false;
  }

  // `rollout show ID --watch`: every second until the rollout has settled (or Ctrl-C). A
  // terminal gets the progress redrawn; a pipe (or --json) a line whenever it changed. Exit
  // 0 when it completed, kExitUnhealthy when it halted or was rolled back.
  int watch(const v1::RolloutRequest& request) {
    std::string last;
    for (;;) {
      v1::RolloutRecord reply;
      if (!invoke("showing rollout '" + request.id() + "'", &Stub::GetRollout, request, reply)) {
        return kExitError;
      }
      if (ctx_.terminal && !ctx_.json) {
        ctx_.out << "\033[H\033[2J" << renderRolloutProgress(reply, render(), ctx_.width);
      } else {
        std::string line = ctx_.json ? rolloutProgressJson(reply) : rolloutProgressLine(reply);
        if (line != last) ctx_.out << line;
        last = std::move(line);
      }
      ctx_.out.flush();
      if (rolloutSettled(reply)) return reply.phase() == "completed" ? kExitOk : kExitUnhealthy;
      if (ctx_.sleep) {
        ctx_.sleep(std::chrono::seconds(1));
      } else {
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    }
  }

  Stub& stub_;
  const CommandContext& ctx_;
};

}  // namespace

void printError(std::ostream& err, const std::string& message) {
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    err << "postwardenctl: error: " << message.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

int runCommand(const Command& command, v1::OperatorService::StubInterface& stub,
               const CommandContext& ctx) {
  Runner runner(stub, ctx);
  return std::visit(runner, command);
}

}  // namespace postwarden::controller::ctl
