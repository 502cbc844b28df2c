#include "controller/rpc/call_metrics.h"

namespace postwarden::controller::rpc {

using grpc::experimental::InterceptionHookPoints;

RpcMetrics RpcMetrics::registerIn(metrics::Registry& registry) {
  return {
      .handled = &registry.counter("postwarden_grpc_server_handled_total",
                                   "gRPC calls finished by the controller, by method and code.",
                                   {"grpc_service", "grpc_method", "grpc_code"}, 512),
      .refused = &registry.counter("postwarden_refused_calls_total",
                                   "Calls refused before their work, by reason.", {"reason"}, 16),
  };
}

void RpcMetrics::refuse(const RpcMetrics* metrics, const Status& status) {
  refuse(metrics, refusalReason(status));
}

void RpcMetrics::refuse(const RpcMetrics* metrics, std::string_view reason) {
  if (metrics && metrics->refused) metrics->refused->with({std::string(reason)}).inc();
}

std::string_view refusalReason(const Status& status) {
  switch (status.code()) {
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return status.message().find("revoked") != std::string::npos ? "revoked"
                                                                   : "permission_denied";
    case StatusCode::kResourceExhausted:
      return "rate_limited";
    case StatusCode::kInvalidArgument:
      return "invalid_request";
    default:
      return "other";
  }
}

std::pair<std::string, std::string> splitMethod(std::string_view path) {
  constexpr std::string_view kPrefix = "/postwarden.";
  if (!path.starts_with(kPrefix)) return {"other", "other"};
  size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos || slash + 1 >= path.size() || path.size() > 128) {
    return {"other", "other"};
  }
  std::string_view service = path.substr(1, slash - 1);
  std::string_view method = path.substr(slash + 1);
  for (std::string_view part : {service, method}) {
    for (char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_';
      if (!ok) return {"other", "other"};
    }
  }
  return {std::string(service), std::string(method)};
}

std::string_view grpcCodeName(int code) {
  static constexpr std::string_view kNames[] = {"OK",
                                                "CANCELLED",
                                                "UNKNOWN",
                                                "INVALID_ARGUMENT",
                                                "DEADLINE_EXCEEDED",
                                                "NOT_FOUND",
                                                "ALREADY_EXISTS",
                                                "PERMISSION_DENIED",
                                                "RESOURCE_EXHAUSTED",
                                                "FAILED_PRECONDITION",
                                                "ABORTED",
                                                "OUT_OF_RANGE",
                                                "UNIMPLEMENTED",
                                                "INTERNAL",
                                                "UNAVAILABLE",
                                                "DATA_LOSS",
                                                "UNAUTHENTICATED"};
  if (code < 0 || code >= static_cast<int>(std::size(kNames))) return "UNKNOWN";
  return kNames[code];
}

namespace {

class CallCounter final : public grpc::experimental::Interceptor {
 public:
  CallCounter(const RpcMetrics& metrics, std::pair<std::string, std::string> method)
      : metrics_(metrics), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      metrics_.handled
          ->with({method_.first, method_.second,
                  std::string(grpcCodeName(static_cast<int>(status.error_code())))})
          .inc();
    }
    methods->Proceed();
  }

 private:
  const RpcMetrics& metrics_;
  const std::pair<std::string, std::string> method_;
};

class CallCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallCounterFactory(const RpcMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (!metrics_.handled) return nullptr;
    return new CallCounter(metrics_, splitMethod(info->method() ? info->method() : ""));
  }

 private:
  const RpcMetrics& metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> callCounterFactory(
    const RpcMetrics& metrics) {
  return std::make_unique<CallCounterFactory>(metrics);
}

}  // namespace postwarden::controller::rpc
