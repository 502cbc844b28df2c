// The mTLS channel from postwardenctl to the controller. The controller CA is the only trusted
// root (system roots never apply), the operator certificate and key prove who is calling,
// replies may be up to 16 MiB. All files are read and checked before any connection, so a
// wrong path is reported by name instead of as a TLS failure.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "controller/ctl/ctl_config.h"
#include "controller/ctl/local_file.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::ctl {

inline constexpr int kMaxReceiveBytes = 64 * 1024 * 1024;

struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Reads the CA, certificate and key named in `settings`. Errors name the file and what it
// is for ("CA file 'x': ..."); InvalidArgument when a file holds no PEM block of the expected
// kind (an empty CA would make gRPC fall back to the system roots).
Result<TlsMaterial> readTlsMaterial(const ConnectionSettings& settings, const FileReader& read);

// Channel arguments: the receive limit and, with controller_name, the name the controller
// certificate must carry (GRPC_SSL_TARGET_NAME_OVERRIDE_ARG).
grpc::ChannelArguments channelArguments(const ConnectionSettings& settings);

// A channel to settings.controller over mutual TLS. Connects lazily: only the first call
// touches the network. Returns readTlsMaterial's errors.
Result<std::shared_ptr<grpc::Channel>> makeControllerChannel(const ConnectionSettings& settings,
                                                             const FileReader& read);

}  // namespace postwarden::controller::ctl
