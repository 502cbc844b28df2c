// Status <-> gRPC: the project's Status carries gRPC's canonical codes, so the mapping keeps
// code and message as they are.
#pragma once

#include <grpcpp/grpcpp.h>

#include "common/status.h"

namespace postwarden::controller::rpc {

// The gRPC status for a Status (same canonical codes).
grpc::Status toGrpc(const Status& status);

}  // namespace postwarden::controller::rpc
