// OperatorService on the mTLS listener: what postwardenctl calls. Every call is authorized by
// the role in the operator's certificate (viewer < operator < approver < admin) and refused
// calls are logged with the caller.
#pragma once

#include "controller/core/fleet.h"
#include "controller/core/rollouts.h"
#include "controller/rpc/call_metrics.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::rpc {

class OperatorServiceImpl final : public v1::OperatorService::CallbackService {
 public:
  // `rollouts` may be null: the store keeps none, and the rollout calls say so. `metrics`
  // (refused calls) may be null; borrowed.
  OperatorServiceImpl(core::Fleet& fleet, core::Rollouts* rollouts,
                      const RpcMetrics* metrics = nullptr)
      : fleet_(fleet), rollouts_(rollouts), metrics_(metrics) {}

  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext*, const v1::ListAgentsRequest*,
                                       v1::ListAgentsResponse*) override;
  grpc::ServerUnaryReactor* GetAgent(grpc::CallbackServerContext*, const v1::GetAgentRequest*,
                                     v1::GetAgentResponse*) override;
  grpc::ServerUnaryReactor* ListDrift(grpc::CallbackServerContext*, const v1::ListDriftRequest*,
                                      v1::ListDriftResponse*) override;
  grpc::ServerUnaryReactor* ListBaselines(grpc::CallbackServerContext*,
                                          const v1::ListBaselinesRequest*,
                                          v1::ListBaselinesResponse*) override;
  grpc::ServerUnaryReactor* PushBaseline(grpc::CallbackServerContext*,
                                         const v1::PushBaselineRequest*,
                                         v1::PushBaselineResponse*) override;
  grpc::ServerUnaryReactor* DeleteBaseline(grpc::CallbackServerContext*,
                                           const v1::DeleteBaselineRequest*,
                                           v1::DeleteBaselineResponse*) override;
  grpc::ServerUnaryReactor* SendCommand(grpc::CallbackServerContext*, const v1::SendCommandRequest*,
                                        v1::Empty*) override;
  grpc::ServerUnaryReactor* AssignBaseline(grpc::CallbackServerContext*,
                                           const v1::AssignBaselineRequest*,
                                           v1::AssignBaselineResponse*) override;
  grpc::ServerUnaryReactor* ListAssignments(grpc::CallbackServerContext*, const v1::Empty*,
                                            v1::ListAssignmentsResponse*) override;
  grpc::ServerUnaryReactor* Unassign(grpc::CallbackServerContext*, const v1::UnassignRequest*,
                                     v1::UnassignResponse*) override;
  grpc::ServerUnaryReactor* ApproveAgent(grpc::CallbackServerContext*, const v1::AgentRequest*,
                                         v1::Empty*) override;
  grpc::ServerUnaryReactor* CreateToken(grpc::CallbackServerContext*, const v1::CreateTokenRequest*,
                                        v1::CreateTokenResponse*) override;
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext*, const v1::ListTokensRequest*,
                                       v1::ListTokensResponse*) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext*, const v1::RevokeTokenRequest*,
                                        v1::Empty*) override;
  grpc::ServerUnaryReactor* RevokeAgent(grpc::CallbackServerContext*, const v1::AgentRequest*,
                                        v1::Empty*) override;
  grpc::ServerUnaryReactor* PlanRollout(grpc::CallbackServerContext*, const v1::RolloutSpecRequest*,
                                        v1::RolloutPlan*) override;
  grpc::ServerUnaryReactor* CreateRollout(grpc::CallbackServerContext*,
                                          const v1::RolloutSpecRequest*,
                                          v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* ListRollouts(grpc::CallbackServerContext*, const v1::Empty*,
                                         v1::ListRolloutsResponse*) override;
  grpc::ServerUnaryReactor* GetRollout(grpc::CallbackServerContext*, const v1::RolloutRequest*,
                                       v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* ApproveRollout(grpc::CallbackServerContext*, const v1::RolloutRequest*,
                                           v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* RollbackRollout(grpc::CallbackServerContext*, const v1::RolloutRequest*,
                                            v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* PauseRollout(grpc::CallbackServerContext*, const v1::RolloutRequest*,
                                         v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* ResumeRollout(grpc::CallbackServerContext*, const v1::RolloutRequest*,
                                          v1::RolloutRecord*) override;
  grpc::ServerUnaryReactor* Audit(grpc::CallbackServerContext*, const v1::AuditRequest*,
                                  v1::AuditResponse*) override;

 private:
  Result<core::Rollouts*> rollouts();

  core::Fleet& fleet_;
  core::Rollouts* rollouts_;
  const RpcMetrics* metrics_;
};

}  // namespace postwarden::controller::rpc
