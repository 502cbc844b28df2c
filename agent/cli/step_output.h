// What apply and restore print of a transaction, shared by both: an error as
// "postwarden-agent: error: ..." lines, one step as it completes, and the exit status an
// outcome maps to.
#pragma once

#include "agent/applier/transaction.h"
#include "agent/cli/cli.h"
#include "common/status.h"

namespace postwarden::agent::cli {

// One "postwarden-agent: error: ..." line per line of the message (several findings keep
// one finding per line), on env.err.
void printError(Environment& env, const Status& status);

// "  [    12 ms] swap: ok - detail", flushed (the steps are printed live).
void printStep(const applier::StepRecord& step, bool with_detail, Environment& env);

// kExitOk for kept/repaired, kExitError refused, kExitRolledBack, kExitNeedsHuman.
int exitFor(applier::Outcome outcome);

}  // namespace postwarden::agent::cli
