#include "controller/rpc/status_mapping.h"

namespace postwarden::controller::rpc {

grpc::Status toGrpc(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message());
}

}  // namespace postwarden::controller::rpc
