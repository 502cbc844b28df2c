// `postwarden-agent status` and `postwarden-agent backups`: what the agent on this host is
// doing and what it kept, read from its state directory only (the daemon's status files,
// agent.pem, the outbox, the journal, needs-human, STATE/backups). No gRPC, no controller,
// no lock: they work while the daemon runs and when it is stopped, and change nothing.
#pragma once

#include "agent/cli/arguments.h"
#include "agent/cli/cli.h"

namespace postwarden::agent::cli {

int runStatus(const StatusArgs& args, Environment& env);
int runBackups(const BackupsArgs& args, Environment& env);

// "2026-01-05 10:15:00 UTC"; "-" for 0. Pure.
std::string utcText(int64_t unix_ms);

}  // namespace postwarden::agent::cli
