#include "controller/ctl/format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controller/ctl/json.h"
#include "controller/ctl/rpc_error.h"
#include "controller/ctl/table.h"

namespace postwarden::controller::ctl {
namespace {

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00Z

TEST(PostwardenctlFormatTest, Rfc3339) {
  EXPECT_EQ(rfc3339(kNow), "2024-05-01T12:00:00Z");
  EXPECT_EQ(rfc3339(kNow + 3250, true), "2024-05-01T12:00:03.250Z");
  EXPECT_EQ(rfc3339(0, true), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(rfc3339(-1, true), "1969-12-31T23:59:59.999Z");
}

TEST(PostwardenctlFormatTest, RelativeTime) {
  EXPECT_EQ(relativeTime(kNow, kNow), "just now");
  EXPECT_EQ(relativeTime(kNow - 999, kNow), "just now");
  EXPECT_EQ(relativeTime(kNow - 3000, kNow), "3s ago");
  EXPECT_EQ(relativeTime(kNow - 59'000, kNow), "59s ago");
  EXPECT_EQ(relativeTime(kNow - 60'000, kNow), "1m ago");
  EXPECT_EQ(relativeTime(kNow - 3'599'000, kNow), "59m ago");
  EXPECT_EQ(relativeTime(kNow - 3'600'000, kNow), "1h ago");
  EXPECT_EQ(relativeTime(kNow - 47 * 3'600'000LL, kNow), "47h ago");
  EXPECT_EQ(relativeTime(kNow - 48 * 3'600'000LL, kNow), "2d ago");
  EXPECT_EQ(relativeTime(kNow + 3'600'000, kNow), "in 1h");
}

TEST(PostwardenctlFormatTest, LabelsSizesPrintable) {
  EXPECT_EQ(joinLabels({}), "-");
  EXPECT_EQ(joinLabels({{"role", "mx"}, {"env", "prod"}}), "env=prod,role=mx");
  EXPECT_EQ(humanSize(512), "512 B");
  EXPECT_EQ(humanSize(1536), "1.5 KiB");
  EXPECT_EQ(humanSize(1024 * 1024), "1.0 MiB");
  EXPECT_EQ(printable("a\x1b[31mb\n"), "a\\x1b[31mb\\x0a");
}

TEST(PostwardenctlTableTest, AlignsColumnsWithoutTrailingSpaces) {
  Table table({"ID", "NAME", "STATE"});
  table.addRow({"a", "long-name", "ok"});
  table.addRow({"bbbb", "x"});
  EXPECT_EQ(table.render(false),
            "ID    NAME       STATE\n"
            "a     long-name  ok\n"
            "bbbb  x\n");
}

TEST(PostwardenctlTableTest, ColorsStayOutsidePaddingAndUtf8CountsAsOneColumn) {
  Table table({"A", "B"});
  table.addRow({Cell("ok", Color::kGreen), "é"});
  table.addRow({Cell("fail", Color::kRed), "x"});
  EXPECT_EQ(table.render(true),
            "A     B\n"
            "\x1b[32mok\x1b[0m    é\n"
            "\x1b[31mfail\x1b[0m  x\n");
  EXPECT_EQ(table.render(false), "A     B\nok    é\nfail  x\n");
}

TEST(PostwardenctlTableTest, NeutralizesTerminalEscapesInCells) {
  Table table({"A"});
  table.addRow({"evil\x1b]0;title\x07"});
  EXPECT_EQ(table.render(false), "A\nevil\\x1b]0;title\\x07\n");
}

TEST(PostwardenctlJsonTest, PrettyPrintsInInsertionOrder) {
  Json object = Json::object();
  object.set("b", "text \"q\" \\ \n\x01")
      .set("a", int64_t{1714564800000})
      .set("t", true)
      .set("n", nullptr)
      .set("labels", Json(std::map<std::string, std::string>{{"env", "prod"}}))
      .set("empty", Json::array())
      .set("list", Json::array().push(1).push("x"));
  EXPECT_EQ(object.dump(), R"({
  "b": "text \"q\" \\ \n\u0001",
  "a": 1714564800000,
  "t": true,
  "n": null,
  "labels": {
    "env": "prod"
  },
  "empty": [],
  "list": [
    1,
    "x"
  ]
})");
  EXPECT_EQ(Json::object().dump(), "{}");
}

TEST(PostwardenctlRpcErrorTest, DescribesWithCodeName) {
  EXPECT_EQ(describeRpcError("listing agents", grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                                            "role viewer may not call ListTokens")),
            "listing agents: PERMISSION_DENIED: role viewer may not call ListTokens");
  EXPECT_EQ(describeRpcError("x", grpc::Status(grpc::StatusCode::NOT_FOUND, "")), "x: NOT_FOUND");
  EXPECT_EQ(describeRpcError("x", grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "m")),
            "x: UNAUTHENTICATED: m");
}

std::string hintFor(grpc::StatusCode code, const std::string& message = "m") {
  return rpcErrorHint(grpc::Status(code, message)).value_or("");
}

TEST(PostwardenctlRpcErrorTest, HintsForActionableCodes) {
  EXPECT_THAT(hintFor(grpc::StatusCode::UNAVAILABLE,
                      "failed to connect to all addresses; last error: UNKNOWN: "
                      "ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused"),
              ::testing::HasSubstr("controller is down"));
  EXPECT_THAT(hintFor(grpc::StatusCode::PERMISSION_DENIED),
              ::testing::HasSubstr("your role may not do this"));
  EXPECT_THAT(hintFor(grpc::StatusCode::UNAUTHENTICATED),
              ::testing::HasSubstr("refused your certificate"));
  EXPECT_THAT(hintFor(grpc::StatusCode::DEADLINE_EXCEEDED), ::testing::HasSubstr("--timeout"));
  EXPECT_THAT(hintFor(grpc::StatusCode::ABORTED), ::testing::HasSubstr("nothing was stored"));
  EXPECT_FALSE(rpcErrorHint(grpc::Status(grpc::StatusCode::NOT_FOUND, "m")).has_value());
  EXPECT_FALSE(rpcErrorHint(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "m")).has_value());
}

// gRPC's own reports that no controller was reached (as printed by postwardenctl 1.51 runs:
// a closed port, an unknown name, a port that does not speak TLS, a connection dropped).
TEST(PostwardenctlRpcErrorTest, UnavailableWithoutAConnectionSaysTheControllerIsUnreachable) {
  for (const char* message :
       {"failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to "
        "connect to remote host: Connection refused",
        "DNS resolution failed for nosuch.invalid:7443: C-ares status is not ARES_SUCCESS "
        "qtype=A name=nosuch.invalid is_balancer=0: Domain name not found",
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:47001: Ssl "
        "handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number",
        "Socket closed", ""}) {
    const grpc::Status status(grpc::StatusCode::UNAVAILABLE, message);
    EXPECT_TRUE(isConnectFailure(status)) << message;
    EXPECT_THAT(rpcErrorHint(status).value_or(""),
                ::testing::StartsWith("the controller is down or unreachable"))
        << message;
  }
}

TEST(PostwardenctlRpcErrorTest, UnavailableTheControllerSentSaysItAnsweredAndToRetry) {
  const grpc::Status status(
      grpc::StatusCode::UNAVAILABLE,
      "postgresql: cannot connect: connection to server at \"127.0.0.1\", port 5432 failed: "
      "Connection refused; the controller's "
      "database is unreachable: retry in a few seconds (the controller reconnects by itself)");
  EXPECT_FALSE(isConnectFailure(status));
  const std::string hint = rpcErrorHint(status).value_or("");
  EXPECT_THAT(hint, ::testing::StartsWith("the controller answered but cannot serve this now"));
  EXPECT_THAT(hint, ::testing::HasSubstr("retry in a few seconds"));
  EXPECT_THAT(hint, ::testing::Not(::testing::HasSubstr("--controller")));
  // Only UNAVAILABLE is a connect failure, whatever its message.
  EXPECT_FALSE(isConnectFailure(grpc::Status(grpc::StatusCode::INTERNAL, "Socket closed")));
}

}  // namespace
}  // namespace postwarden::controller::ctl
