#include "agent/link/identity_files.h"

#include "common/pki/pki.h"

namespace postwarden::agent::link {
namespace {

constexpr std::string_view kKeyBegin = "-----BEGIN PRIVATE KEY-----";

}  // namespace

std::string identityPath(const std::string& state_dir) { return state_dir + "/agent.pem"; }

Result<AgentIdentity> loadIdentity(os::FileSystem& fs, const std::string& state_dir) {
  Result<std::string> pem = fs.readFile(identityPath(state_dir));
  if (!pem.ok()) {
    if (pem.status().code() == StatusCode::kNotFound) {
      return NotFoundError("this agent is not enrolled (no " + identityPath(state_dir) +
                           "); run `postwarden-agent enroll` first");
    }
    return pem.status();
  }
  size_t key = pem->find(kKeyBegin);
  if (key == std::string::npos) {
    return InvalidArgumentError(identityPath(state_dir) + " holds no private key");
  }
  AgentIdentity identity{.certificate_pem = pem->substr(0, key),
                         .private_key_pem = pem->substr(key)};
  PW_RETURN_IF_ERROR(pki::checkKeyMatches(identity.certificate_pem, identity.private_key_pem)
                         .withContext(identityPath(state_dir)));
  return identity;
}

Status saveIdentity(os::FileSystem& fs, const std::string& state_dir,
                    const AgentIdentity& identity) {
  PW_RETURN_IF_ERROR(fs.createDirectories(state_dir, 0700));
  std::string cert = identity.certificate_pem;
  if (!cert.empty() && cert.back() != '\n') cert += '\n';
  return fs.writeAtomic(identityPath(state_dir), cert + identity.private_key_pem, {.mode = 0600});
}

}  // namespace postwarden::agent::link
