// Pre-flight checks run before anything is written: every certificate and key the planned
// configuration makes smtpd load must exist and load the way Postfix loads it (tls_certkey.c:
// smtpd_tls_chain_files as key-then-chain groups, or the RSA/DSA/ECDSA cert and key pairs), each
// key must match its certificate, and each certificate must be valid now. Postfix itself only
// notices at the first STARTTLS, and answers "454 TLS not available" (or offers no STARTTLS).
#pragma once

#include <chrono>

#include "agent/planner/plan.h"
#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::applier {

// Checks every entry of plan.tls_material. Reads the files through `fs` (nothing else).
// FailedPrecondition naming the service, the parameter or file and what is wrong (a layout
// Postfix would refuse says so, quoting the warning smtpd would log); OK when all pass.
Status checkTlsMaterial(const planner::Plan& plan, os::FileSystem& fs,
                        std::chrono::system_clock::time_point now);

}  // namespace postwarden::agent::applier
