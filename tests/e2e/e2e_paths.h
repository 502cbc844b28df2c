// Paths the e2e tests name, from the compile definitions tests/e2e/CMakeLists.txt gives each
// target: the source tree, the hardening baseline in it, and the agent binary where the target
// is given one.
#pragma once

#include <string>

namespace postwarden::testing {

inline const std::string kSource = POSTWARDEN_SOURCE_DIR;
inline const std::string kHardening = kSource + "/policies/smtp-auth-hardening.yaml";
#ifdef POSTWARDEN_AGENT_PATH
inline const std::string kAgent = POSTWARDEN_AGENT_PATH;
#endif

}  // namespace postwarden::testing
