#include "controller/rpc/call_metrics.h"

#include <gtest/gtest.h>

namespace postwarden::controller::rpc {
namespace {

TEST(CallMetricsTest, SplitsPostwardenMethodsAndFoldsTheRest) {
  EXPECT_EQ(splitMethod("/postwarden.v1.AgentService/Connect"),
            (std::pair<std::string, std::string>{"postwarden.v1.AgentService", "Connect"}));
  EXPECT_EQ(splitMethod("/grpc.health.v1.Health/Check").first, "other");
  EXPECT_EQ(splitMethod("/postwarden.v1.AgentService/").first, "other");
  EXPECT_EQ(splitMethod("/postwarden.v1.AgentService/Con\"nect").first, "other");
  EXPECT_EQ(splitMethod("/postwarden.x/" + std::string(200, 'a')).first, "other");
  EXPECT_EQ(splitMethod("").first, "other");
}

TEST(CallMetricsTest, NamesCodesAsGrpcDoes) {
  EXPECT_EQ(grpcCodeName(0), "OK");
  EXPECT_EQ(grpcCodeName(7), "PERMISSION_DENIED");
  EXPECT_EQ(grpcCodeName(8), "RESOURCE_EXHAUSTED");
  EXPECT_EQ(grpcCodeName(14), "UNAVAILABLE");
  EXPECT_EQ(grpcCodeName(16), "UNAUTHENTICATED");
  EXPECT_EQ(grpcCodeName(17), "UNKNOWN");
  EXPECT_EQ(grpcCodeName(-1), "UNKNOWN");
}

TEST(CallMetricsTest, RefusalReasonsAreBounded) {
  EXPECT_EQ(refusalReason(Status(StatusCode::kUnauthenticated, "no certificate")),
            "unauthenticated");
  EXPECT_EQ(refusalReason(PermissionDeniedError("agent mx1 is revoked")), "revoked");
  EXPECT_EQ(refusalReason(PermissionDeniedError("viewer may not assign")), "permission_denied");
  EXPECT_EQ(refusalReason(ResourceExhaustedError("busy")), "rate_limited");
  EXPECT_EQ(refusalReason(InvalidArgumentError("bad")), "invalid_request");
  EXPECT_EQ(refusalReason(InternalError("x")), "other");
}

TEST(CallMetricsTest, RefuseCountsByReasonAndToleratesNull) {
  metrics::Registry registry;
  RpcMetrics metrics = RpcMetrics::registerIn(registry);
  RpcMetrics::refuse(&metrics, PermissionDeniedError("agent revoked"));
  RpcMetrics::refuse(&metrics, "rate_limited");
  RpcMetrics::refuse(&metrics, "rate_limited");
  RpcMetrics::refuse(nullptr, "rate_limited");
  EXPECT_EQ(metrics.refused->with({"revoked"}).value(), 1);
  EXPECT_EQ(metrics.refused->with({"rate_limited"}).value(), 2);
}

}  // namespace
}  // namespace postwarden::controller::rpc
