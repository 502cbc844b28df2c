// The agent's identity on disk: STATE_DIR/agent.pem holds its certificate and private key in
// one file (0600), so a renewal replaces both in one atomic rename: a crash can never leave a
// key that does not match its certificate. The pinned controller CA is a separate file.
#pragma once

#include <string>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::link {

struct AgentIdentity {
  std::string certificate_pem;
  std::string private_key_pem;
};

std::string identityPath(const std::string& state_dir);

// NotFound (with the hint to enroll) when the agent has no identity yet.
Result<AgentIdentity> loadIdentity(os::FileSystem& fs, const std::string& state_dir);
Status saveIdentity(os::FileSystem& fs, const std::string& state_dir,
                    const AgentIdentity& identity);

}  // namespace postwarden::agent::link
