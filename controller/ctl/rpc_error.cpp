#include "controller/ctl/rpc_error.h"

#include "common/status.h"
#include "controller/ctl/format.h"

namespace postwarden::controller::ctl {

std::string describeRpcError(std::string_view what, const grpc::Status& status) {
  // grpc::StatusCode and postwarden::StatusCode share the canonical numbering.
  int code = static_cast<int>(status.error_code());
  std::string name = code >= 0 && code <= 16
                         ? std::string(statusCodeName(static_cast<StatusCode>(code)))
                         : "CODE_" + std::to_string(code);
  std::string line = std::string(what) + ": " + name;
  if (status.error_message().empty()) return line;
  // A refusal may list several problems, one per line (a baseline's FILE:LINE:COL findings):
  // the lines stay lines, each made printable on its own.
  const std::string& message = status.error_message();
  line += ": ";
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    line += (start == 0 ? "" : "\n") + printable(message.substr(start, end - start));
    start = end + 1;
  }
  return line;
}

bool isConnectFailure(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return false;
  // How gRPC's client channel and transport begin their own messages (1.51; the second is a
  // later release's wording of the first). Matched at the start only: a controller's message
  // may quote an error of its own further on ("postgresql: cannot connect: ... Connection
  // refused" is the controller answering that its database is down).
  static constexpr std::string_view kTransportPrefixes[] = {
      "failed to connect to all addresses",  // refused, timed out, or the TLS handshake failed
      "connections to all backends failing",
      "DNS resolution failed",
      "empty address list",
      "Ssl handshake failed",
      // The connection dropped mid-call (controller killed, network cut).
      "Socket closed",
      "Connection reset by peer",
      "Broken pipe",
      "Transport closed",
      "GOAWAY received",
      "keepalive watchdog timeout",
      "Endpoint read failed",
      "recvmsg:",
      "sendmsg:",
  };
  const std::string& message = status.error_message();
  for (std::string_view prefix : kTransportPrefixes) {
    if (std::string_view(message).starts_with(prefix)) return true;
  }
  return message.empty();  // nothing from a controller either
}

std::optional<std::string> rpcErrorHint(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      if (isConnectFailure(status)) {
        return "the controller is down or unreachable, or the address (--controller) or the CA "
               "file (--ca) is wrong";
      }
      return "the controller answered but cannot serve this now (its message says why, such as "
             "its database being unreachable); retry in a few seconds, and if it persists, look "
             "at the controller's log and its database";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "your role may not do this; ask an administrator for a certificate with a role "
             "that may";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "the controller refused your certificate (revoked, expired, or issued by another "
             "CA); check --cert and --key";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "the controller did not answer in time; retry, or raise --timeout";
    case grpc::StatusCode::ABORTED:
      return "it changed while the controller decided (another operator or controller acted on "
             "it at the same moment); nothing was stored: look at it again and retry";
    default:
      return std::nullopt;
  }
}

}  // namespace postwarden::controller::ctl
