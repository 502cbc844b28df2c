#include "controller/rpc/enrollment_service.h"

#include "common/logging.h"
#include "controller/core/agent_id.h"
#include "controller/credentials/tokens.h"
#include "controller/rpc/status_mapping.h"

namespace postwarden::controller::rpc {

using core::checkEnrollableAgentId;
using credentials::ParsedToken;
using credentials::parseToken;

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.enrollment"); }

}  // namespace

grpc::ServerUnaryReactor* EnrollmentServiceImpl::Enroll(grpc::CallbackServerContext* context,
                                                        const v1::EnrollRequest* request,
                                                        v1::EnrollResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Status status = enroll(*request, *response);
  if (!status.ok()) RpcMetrics::refuse(metrics_, "enrollment");
  if (status.ok()) {
    log()->info("enrolled agent {} from {}", response->agent_id(), context->peer());
  } else if (status.message().find("hostile certificate request") != std::string::npos) {
    log()->error("refused enrollment from {}: {}", context->peer(), status.message());
    response->Clear();
  } else {
    // The token is a secret: never logged, not even in part.
    log()->warn("refused enrollment from {}: {}", context->peer(), status.message());
    response->Clear();
  }
  reactor->Finish(toGrpc(status));
  return reactor;
}

Status EnrollmentServiceImpl::enroll(const v1::EnrollRequest& request,
                                     v1::EnrollResponse& response) {
  PW_ASSIGN_OR_RETURN(ParsedToken token, parseToken(request.token()));
  Result<pki::CsrInfo> csr = pki::parseCsr(request.csr_pem());
  if (!csr.ok()) return csr.status().withContext("certificate request");
  // Before the name checks: a request for a CA or a wildcard is an attack, not a typo.
  PW_RETURN_IF_ERROR(pki::checkIdentityOnly(*csr));
  PW_RETURN_IF_ERROR(checkEnrollableAgentId(csr->common_name));
  // Signed before the token is spent, so a signing failure costs no token use.
  PW_ASSIGN_OR_RETURN(std::string certificate,
                      authority_.issueAgent(csr->common_name, request.csr_pem(), lifetime_));
  PW_ASSIGN_OR_RETURN(store::AgentRecord agent, fleet_.enroll({.token_id = token.id,
                                                               .secret_sha256 = token.secret_sha256,
                                                               .agent_id = csr->common_name,
                                                               .hostname = csr->common_name,
                                                               .now = fleet_.now()}));
  response.set_agent_id(agent.id);
  response.set_certificate_pem(certificate);
  response.set_ca_pem(authority_.caPem());
  response.mutable_labels()->insert(agent.labels.begin(), agent.labels.end());
  return OkStatus();
}

}  // namespace postwarden::controller::rpc
