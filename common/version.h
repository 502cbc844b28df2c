// The one version of every Postwarden binary: the CMake project version plus the git revision
// the build was made from (generated at build time into the build tree).
#pragma once

#include <string>

#include "common/generated_version.h"

namespace postwarden {

// "postwarden-agent 0.1.0 (git 1a2b3c4d5e6f)", for --version.
inline std::string versionLine(const std::string& program) {
  return program + " " + kVersion + " (git " + kGitRevision + ")";
}

}  // namespace postwarden
