// What the transport counts for /metrics: every finished gRPC call by service, method and
// status code (a server interceptor on both listeners), and calls refused before their work
// by a bounded reason (refusalReason). Method names outside the postwarden.* services are
// counted as "other", so a caller probing unknown paths cannot grow the series.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "common/metrics/registry.h"
#include "common/status.h"

namespace postwarden::controller::rpc {

struct RpcMetrics {
  metrics::Family<metrics::Counter>* handled = nullptr;  // {grpc_service,grpc_method,grpc_code}
  metrics::Family<metrics::Counter>* refused = nullptr;  // {reason}

  static RpcMetrics registerIn(metrics::Registry& registry);
  // Counts a refusal with refusalReason(status); nothing when `metrics` is null.
  static void refuse(const RpcMetrics* metrics, const Status& status);
  static void refuse(const RpcMetrics* metrics, std::string_view reason);
};

// unauthenticated, revoked, permission_denied, rate_limited, invalid_request, other.
std::string_view refusalReason(const Status& status);

// "/postwarden.v1.AgentService/Connect" -> {"postwarden.v1.AgentService", "Connect"};
// anything else -> {"other", "other"}.
std::pair<std::string, std::string> splitMethod(std::string_view path);

// "OK", "UNAVAILABLE", ... as gRPC spells the codes.
std::string_view grpcCodeName(int code);

// For grpc::ServerBuilder::experimental().SetInterceptorCreators; `metrics` must outlive
// the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> callCounterFactory(
    const RpcMetrics& metrics);

}  // namespace postwarden::controller::rpc
