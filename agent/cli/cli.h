// The postwarden-agent command line: parses arguments, runs one command against injected
// collaborators, prints the result and returns the exit status. No globals: main() builds
// the real FileSystem, CommandRunner and Clock and passes them in, tests pass fakes.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "agent/verify/smtp_prober.h"
#include "common/os/env.h"

namespace postwarden::agent::cli {

// Exit statuses (documented in --help).
inline constexpr int kExitOk = 0;          // compliant / success
inline constexpr int kExitError = 1;       // refused or failed before any change
inline constexpr int kExitPending = 2;     // plan: changes pending; verify/scan: failures
inline constexpr int kExitRolledBack = 3;  // apply: failed verification, rolled back
inline constexpr int kExitNeedsHuman = 4;  // apply: rollback failed; sticky until cleared
// A usage error (unknown command or option, missing or bad value, no command): the error and
// the usage line on stderr. The same number as kExitPending: a script tells them apart by
// stdout, which a usage error leaves empty.
inline constexpr int kExitUsage = 2;

struct Environment {
  os::Env os;
  verify::SmtpProber& prober;
  std::ostream& out;  // results
  std::ostream& err;  // one line per error
  bool out_is_terminal = false;
  // Where `restore` reads its yes/no answer; it only asks when `in_is_terminal`.
  std::istream* in = nullptr;
  bool in_is_terminal = false;
  // The absolute current directory: relative --postfix-dir/--state-dir are resolved against
  // it. Empty: such paths are refused.
  std::string working_dir;
  // Test-only: apply calls it after each journaled step (see TransactionOptions).
  std::function<void(std::string_view)> crash_point;
};

// Runs `args` (argv without the program name). Never throws; errors are printed to env.err
// as "postwarden-agent: error: ..." lines.
int run(const std::vector<std::string>& args, Environment& env);

}  // namespace postwarden::agent::cli
