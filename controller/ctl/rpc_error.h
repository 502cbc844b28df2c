// Turns a failed gRPC call into what the operator reads: one error line
// "<what>: <CODE_NAME>: <message>" and, for the codes an operator can act on, a hint.
// Pure.
#pragma once

#include <grpcpp/support/status.h>

#include <optional>
#include <string>
#include <string_view>

namespace postwarden::controller::ctl {

// "listing agents: PERMISSION_DENIED: role viewer may not ...". `what` says what was being
// done; a call with an empty message ends after the code name. The controller's message is
// made printable (format.h) line by line: it cannot drive the terminal, and a message of
// several lines (one problem each) keeps its line breaks for printError.
std::string describeRpcError(std::string_view what, const grpc::Status& status);

// What to check for UNAVAILABLE, PERMISSION_DENIED, UNAUTHENTICATED and DEADLINE_EXCEEDED;
// nullopt for other codes.
std::optional<std::string> rpcErrorHint(grpc::StatusCode code);

}  // namespace postwarden::controller::ctl
