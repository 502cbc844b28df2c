// EnrollmentService, alone on the TLS-only listener: a new agent presents a bootstrap token
// and a CSR for a key it generated itself; the controller checks the token in the store and
// returns a short-lived client certificate for the CSR's CN (the agent id).
#pragma once

#include <chrono>

#include "controller/server/authority.h"
#include "controller/store/store.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::server {

class EnrollmentServiceImpl final : public v1::EnrollmentService::CallbackService {
 public:
  EnrollmentServiceImpl(store::Store& store, const Authority& authority,
                        std::chrono::seconds certificate_lifetime)
      : store_(store), authority_(authority), lifetime_(certificate_lifetime) {}

  grpc::ServerUnaryReactor* Enroll(grpc::CallbackServerContext* context,
                                   const v1::EnrollRequest* request,
                                   v1::EnrollResponse* response) override;

 private:
  Status enroll(const v1::EnrollRequest& request, v1::EnrollResponse& response);

  store::Store& store_;
  const Authority& authority_;
  std::chrono::seconds lifetime_;
};

}  // namespace postwarden::controller::server
