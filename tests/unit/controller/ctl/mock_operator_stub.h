// A gMock OperatorService stub for the postwardenctl tests. proto/CMakeLists.txt asks for
// generated mocks (generate_mock_code=true), but CMake 3.25's protobuf_generate ignores
// PLUGIN_OPTIONS, so fleet_mock.grpc.pb.h is not produced; this is the same class written by
// hand. Only the blocking calls postwardenctl makes are mocked; the async entry points return
// null and are never used.
#pragma once

#include <gmock/gmock.h>

#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::ctl::testing {

#define PW_CTL_MOCK_UNARY(Method, Request, Response)                                           \
  MOCK_METHOD(                                                                                 \
      ::grpc::Status, Method,                                                                  \
      (::grpc::ClientContext*, const ::postwarden::v1::Request&, ::postwarden::v1::Response*), \
      (override));                                                                             \
  ::grpc::ClientAsyncResponseReaderInterface<::postwarden::v1::Response>* Async##Method##Raw(  \
      ::grpc::ClientContext*, const ::postwarden::v1::Request&, ::grpc::CompletionQueue*)      \
      override {                                                                               \
    return nullptr;                                                                            \
  }                                                                                            \
  ::grpc::ClientAsyncResponseReaderInterface<::postwarden::v1::Response>*                      \
      PrepareAsync##Method##Raw(::grpc::ClientContext*, const ::postwarden::v1::Request&,      \
                                ::grpc::CompletionQueue*) override {                           \
    return nullptr;                                                                            \
  }

class MockOperatorServiceStub : public ::postwarden::v1::OperatorService::StubInterface {
 public:
  PW_CTL_MOCK_UNARY(ListAgents, ListAgentsRequest, ListAgentsResponse)
  PW_CTL_MOCK_UNARY(GetAgent, GetAgentRequest, GetAgentResponse)
  PW_CTL_MOCK_UNARY(ListDrift, ListDriftRequest, ListDriftResponse)
  PW_CTL_MOCK_UNARY(ListBaselines, ListBaselinesRequest, ListBaselinesResponse)
  PW_CTL_MOCK_UNARY(PushBaseline, PushBaselineRequest, PushBaselineResponse)
  PW_CTL_MOCK_UNARY(DeleteBaseline, DeleteBaselineRequest, DeleteBaselineResponse)
  PW_CTL_MOCK_UNARY(SendCommand, SendCommandRequest, Empty)
  PW_CTL_MOCK_UNARY(AssignBaseline, AssignBaselineRequest, AssignBaselineResponse)
  PW_CTL_MOCK_UNARY(ApproveAgent, AgentRequest, Empty)
  PW_CTL_MOCK_UNARY(ListAssignments, Empty, ListAssignmentsResponse)
  PW_CTL_MOCK_UNARY(Unassign, UnassignRequest, UnassignResponse)
  PW_CTL_MOCK_UNARY(CreateToken, CreateTokenRequest, CreateTokenResponse)
  PW_CTL_MOCK_UNARY(ListTokens, ListTokensRequest, ListTokensResponse)
  PW_CTL_MOCK_UNARY(RevokeToken, RevokeTokenRequest, Empty)
  PW_CTL_MOCK_UNARY(RevokeAgent, AgentRequest, Empty)
  PW_CTL_MOCK_UNARY(PlanRollout, RolloutSpecRequest, RolloutPlan)
  PW_CTL_MOCK_UNARY(CreateRollout, RolloutSpecRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(ListRollouts, Empty, ListRolloutsResponse)
  PW_CTL_MOCK_UNARY(GetRollout, RolloutRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(ApproveRollout, RolloutRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(RollbackRollout, RolloutRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(PauseRollout, RolloutRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(ResumeRollout, RolloutRequest, RolloutRecord)
  PW_CTL_MOCK_UNARY(Audit, AuditRequest, AuditResponse)
};

#undef PW_CTL_MOCK_UNARY

}  // namespace postwarden::controller::ctl::testing
