// postwarden-controller's help texts: the program's and each command's, and which one a
// command line asks for. Pure: no I/O (main prints the answer).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace postwarden::controller::cli {

// Exit status of a usage error: no command, an unknown command or option, a missing or bad
// value (the error and usageLine() printed on stderr).
inline constexpr int kExitUsage = 2;

std::string programUsage();

// The help of one command ("init", "serve", "migrate", "operator", "simulator-cert");
// nullopt for a name that is none of them.
std::optional<std::string> commandUsage(const std::string& command);

// COMMAND's synopsis (the program's for "" or an unknown name) and where its help is: what a
// usage error prints after the error.
std::string usageLine(const std::string& command);

struct UsageReply {
  std::string text;
  bool to_stderr = false;
  int exit_code = 0;
};

// What `args` (argv without the program name) asks for when it asks for help: no arguments
// (the program's usage on stderr, exit kExitUsage), `--help`/`-h`/`help [COMMAND]`, or
// `COMMAND ... --help` (that command's help; for an unknown command an error and the
// program's synopsis on stderr, exit kExitUsage). nullopt when the command line is a command
// to run.
std::optional<UsageReply> usageFor(const std::vector<std::string>& args);

}  // namespace postwarden::controller::cli
