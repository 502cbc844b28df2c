// `postwarden-agent restore ID`: a backup from `postwarden-agent backups` put back in place
// through the apply transaction (restore_plan.h), after the operator saw the diff and said
// yes (or gave --yes). Refused while a change is in flight or the host needs a human.
#pragma once

#include "agent/cli/arguments.h"
#include "agent/cli/cli.h"

namespace postwarden::agent::cli {

int runRestore(const RestoreArgs& args, Environment& env);

}  // namespace postwarden::agent::cli
