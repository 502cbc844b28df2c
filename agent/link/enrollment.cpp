#include "agent/link/enrollment.h"

#include "agent/link/channel.h"
#include "agent/link/identity_files.h"
#include "common/pki/pki.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::agent::link {

Result<EnrollResult> enroll(os::FileSystem& fs, const EnrollOptions& options) {
  PW_ASSIGN_OR_RETURN(std::string key, pki::generatePrivateKey());
  PW_ASSIGN_OR_RETURN(std::string csr, pki::createCsr(key, options.agent_id));
  auto channel = makeChannel({.address = options.enroll_address,
                              .controller_name = options.controller_name,
                              .ca_pem = options.ca_pem},
                             std::nullopt);
  auto stub = v1::EnrollmentService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  v1::EnrollRequest request;
  request.set_token(options.token);
  request.set_csr_pem(csr);
  v1::EnrollResponse response;
  grpc::Status status = stub->Enroll(&context, request, &response);
  if (!status.ok()) {
    return Status(
        static_cast<StatusCode>(status.error_code()),
        "enrollment at " + options.enroll_address + " refused: " + status.error_message());
  }
  PW_ASSIGN_OR_RETURN(pki::CertificateInfo info,
                      pki::inspectCertificate(response.certificate_pem()));
  if (info.common_name != options.agent_id) {
    return InternalError("the controller issued a certificate for " + info.common_name);
  }
  PW_RETURN_IF_ERROR(pki::checkKeyMatches(response.certificate_pem(), key));
  PW_RETURN_IF_ERROR(
      saveIdentity(fs, options.state_dir,
                   {.certificate_pem = response.certificate_pem(), .private_key_pem = key}));
  return EnrollResult{.agent_id = response.agent_id(),
                      .labels = {response.labels().begin(), response.labels().end()},
                      .not_after = info.not_after};
}

}  // namespace postwarden::agent::link
