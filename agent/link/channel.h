// gRPC channels to the controller. TLS always; the only trusted root is the pinned controller
// CA (never the system's roots) and the controller's certificate must carry the expected name.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "agent/link/identity_files.h"

namespace postwarden::agent::link {

struct ChannelOptions {
  std::string address;          // host:port
  std::string controller_name;  // name checked in the controller's certificate; "" = host
  std::string ca_pem;           // the pinned controller CA
  int max_message_bytes = 4 << 20;
};

// With `identity`: mutual TLS (agent streams). Without: server-authenticated TLS (enrollment).
std::shared_ptr<grpc::Channel> makeChannel(const ChannelOptions& options,
                                           const std::optional<AgentIdentity>& identity);

// "host" of "host:port" ("[::1]:7443" -> "::1").
std::string hostOf(const std::string& address);

}  // namespace postwarden::agent::link
