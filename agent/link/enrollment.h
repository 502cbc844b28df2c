// `postwarden-agent enroll`: generates the agent's key on this host (it never leaves it),
// sends a CSR with the bootstrap token to the controller's enrollment listener and stores the
// certificate it gets back with the key (identity_files.h).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::link {

struct EnrollOptions {
  std::string enroll_address;   // host:port of the enrollment listener
  std::string controller_name;  // name the controller certificate must carry; "" = host
  std::string ca_pem;           // pinned controller CA
  std::string token;
  std::string agent_id;
  std::string state_dir;
  std::chrono::milliseconds timeout{15000};
};

struct EnrollResult {
  std::string agent_id;
  std::map<std::string, std::string> labels;
  std::chrono::system_clock::time_point not_after;
};

// Errors carry the controller's reason (token expired, identity exists, ...), or Unavailable
// when it cannot be reached. Nothing is written unless enrollment succeeded.
Result<EnrollResult> enroll(os::FileSystem& fs, const EnrollOptions& options);

}  // namespace postwarden::agent::link
