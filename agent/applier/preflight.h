// Pre-flight checks run before anything is written: every certificate and key the planned
// configuration makes smtpd load must exist, parse as PEM, match each other and be valid
// now. Postfix itself only notices at the first STARTTLS, and answers "454 TLS not available".
#pragma once

#include <chrono>

#include "agent/os/file_system.h"
#include "agent/planner/plan.h"
#include "common/status.h"

namespace postwarden::agent::applier {

// FailedPrecondition naming the service, the file and what is wrong; OK when all pairs pass.
Status checkTlsMaterial(const planner::Plan& plan, os::FileSystem& fs,
                        std::chrono::system_clock::time_point now);

}  // namespace postwarden::agent::applier
