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

std::optional<std::string> rpcErrorHint(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return "the controller is down or unreachable, or the address (--controller) or the CA "
             "file (--ca) is wrong";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "your role may not do this; ask an administrator for a certificate with a role "
             "that may";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "the controller refused your certificate (revoked, expired, or issued by another "
             "CA); check --cert and --key";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "the controller did not answer in time; retry, or raise --timeout";
    default:
      return std::nullopt;
  }
}

}  // namespace postwarden::controller::ctl
