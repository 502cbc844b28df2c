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

// True when `status` is the gRPC client's own report that the call never reached a
// controller (no connection: refused, name not resolved, TLS handshake failed, the connection
// dropped mid-call), as opposed to an UNAVAILABLE the controller itself sent (its database
// unreachable). Recognised by gRPC's own wording of those failures; the channel tests pin it
// against real connections so that a gRPC upgrade that rewords them is noticed.
bool isConnectFailure(const grpc::Status& status);

// What to check for UNAVAILABLE (one hint when no controller was reached, another when the
// controller answered that it cannot serve now), PERMISSION_DENIED, UNAUTHENTICATED and
// DEADLINE_EXCEEDED; nullopt for other codes.
std::optional<std::string> rpcErrorHint(const grpc::Status& status);

}  // namespace postwarden::controller::ctl
