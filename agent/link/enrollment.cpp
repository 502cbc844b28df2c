#include "agent/link/enrollment.h"

#include <optional>

#include "agent/link/channel.h"
#include "agent/link/identity_files.h"
#include "common/pki/pki.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::agent::link {
namespace {

// The name in this host's current certificate, when it has one that parses.
std::optional<pki::CertificateInfo> currentIdentity(os::FileSystem& fs,
                                                    const std::string& state_dir) {
  Result<AgentIdentity> identity = loadIdentity(fs, state_dir);
  if (!identity.ok()) return std::nullopt;
  Result<pki::CertificateInfo> info = pki::inspectCertificate(identity->certificate_pem);
  if (!info.ok()) return std::nullopt;
  return *info;
}

// A refusal of a host that is enrolled already: the token is rarely the problem (a one-use
// token was spent by the first enrollment), so say what the host is and how to enroll again.
std::string alreadyEnrolled(const pki::CertificateInfo& current, const EnrollOptions& options,
                            const std::string& controller_reason) {
  const std::string id = current.common_name;
  return "this host is already enrolled as '" + id + "' (identity in " +
         identityPath(options.state_dir) +
         "); 'postwarden-agent run' uses it, no token is needed. To enroll it again with a new "
         "key, an operator first runs 'postwardenctl agent approve " +
         id + "' (or creates a token with 'postwardenctl token create --agent " + id +
         "'), then enroll again. The controller said: " + controller_reason;
}

}  // namespace

Result<EnrollResult> enroll(os::FileSystem& fs, const EnrollOptions& options) {
  const std::optional<pki::CertificateInfo> current = currentIdentity(fs, options.state_dir);
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
    const bool refused = status.error_code() != grpc::StatusCode::UNAVAILABLE &&
                         status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
    return Status(
        static_cast<StatusCode>(status.error_code()),
        "enrollment at " + options.enroll_address + " refused: " +
            (current && refused ? alreadyEnrolled(*current, options, status.error_message())
                                : status.error_message()));
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
