#include "agent/link/channel.h"

#include <utility>

namespace postwarden::agent::link {

std::string hostOf(const std::string& address) {
  if (address.starts_with("[")) {
    size_t close = address.find(']');
    return close == std::string::npos ? address : address.substr(1, close - 1);
  }
  size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

AddressRotation::AddressRotation(std::vector<std::string> addresses)
    : addresses_(std::move(addresses)) {
  if (addresses_.empty()) addresses_.emplace_back();  // makeChannel then fails: logged, retried
}

void AddressRotation::ended(bool shed) {
  if (!shed) index_ = (index_ + 1) % addresses_.size();
}

std::shared_ptr<grpc::Channel> makeChannel(const ChannelOptions& options,
                                           const std::optional<AgentIdentity>& identity) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.ca_pem;  // non-empty: gRPC never falls back to system roots
  if (identity) {
    ssl.pem_private_key = identity->private_key_pem;
    ssl.pem_cert_chain = identity->certificate_pem;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  std::string name =
      options.controller_name.empty() ? hostOf(options.address) : options.controller_name;
  args.SetSslTargetNameOverride(name);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  // Our own reconnect backoff (with jitter) decides when to retry; keep gRPC's short.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // A new channel per connection attempt must not share a subchannel with the old one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(options.address, grpc::SslCredentials(ssl), args);
}

}  // namespace postwarden::agent::link
