// EnrollmentService, alone on the TLS-only listener: a new agent presents a bootstrap token
// and a CSR for a key it generated itself; the fleet checks the token (the enrollment policy,
// applied by the store in one transaction) and the controller returns a short-lived client
// certificate for the CSR's CN (the agent id).
#pragma once

#include <chrono>

#include "controller/core/fleet.h"
#include "controller/credentials/authority.h"
#include "controller/rpc/call_metrics.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::rpc {

class EnrollmentServiceImpl final : public v1::EnrollmentService::CallbackService {
 public:
  EnrollmentServiceImpl(core::Fleet& fleet, const credentials::Authority& authority,
                        std::chrono::seconds certificate_lifetime,
                        const RpcMetrics* metrics = nullptr)
      : fleet_(fleet), authority_(authority), lifetime_(certificate_lifetime), metrics_(metrics) {}

  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const v1::EnrollRequest* request,
                                   v1::EnrollResponse* response) override;

 private:
  Status enroll(const v1::EnrollRequest& request, v1::EnrollResponse& response);

  core::Fleet& fleet_;
  const credentials::Authority& authority_;
  std::chrono::seconds lifetime_;
  const RpcMetrics* metrics_;  // refused enrollments; may be null
};

}  // namespace postwarden::controller::rpc
