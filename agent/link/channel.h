// gRPC channels to the controller. TLS always; the only trusted root is the pinned controller
// CA (never the system's roots) and the controller's certificate must carry the expected name.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

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

// The controller addresses an agent knows (replicas), in its config's order, and the one to
// connect to next. A stream that ends moves on to the next address (a dead replica is left at
// once; ReconnectPacer paces the attempts), wrapping around; a controller that shed
// the stream with a retry hint is up and asked to be tried again, so it is kept. One address:
// always that one. Pure; not thread-safe (the link's thread owns it).
class AddressRotation {
 public:
  explicit AddressRotation(std::vector<std::string> addresses);
  const std::string& current() const { return addresses_[index_]; }
  // The stream to current() ended; `shed`: with the controller's retry hint.
  void ended(bool shed);
  size_t size() const { return addresses_.size(); }

 private:
  std::vector<std::string> addresses_;  // never empty
  size_t index_ = 0;
};

}  // namespace postwarden::agent::link
