// Command-line arguments of postwarden-agent, parsed into plain values. Pure: no I/O.
// Directory options (--postfix-dir, --state-dir) always come out absolute and lexically
// normal: Postfix commands get them as `-c DIR` and must not depend on a working directory.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent/run/host.h"
#include "agent/service/service_control.h"
#include "common/status.h"

namespace postwarden::agent::cli {

enum class OutputFormat { kText, kJson };
using run::HostPort;

// Options shared by the commands that read a baseline and a Postfix configuration.
struct TargetOptions {
  std::string policy;                                  // --policy FILE (required)
  std::string postfix_dir = "/etc/postfix";            // --postfix-dir DIR
  std::multimap<std::string, std::string> role_ports;  // --role smtp=2525 (repeatable)
  OutputFormat format = OutputFormat::kText;           // --format text|json
  bool color = true;                                   // --no-color turns it off
};

// How the live server is probed.
struct ProbeOptions {
  std::optional<HostPort> probe;             // --probe HOST:PORT; default: master.cf's listeners
  std::chrono::milliseconds timeout{5000};   // --probe-timeout SECONDS, per probe
  std::optional<std::string> login_user;     // --probe-login USER
  std::optional<std::string> password_file;  // --probe-password-file FILE
  std::optional<std::string> mail_to;        // --probe-mail-to ADDRESS
};

struct PlanArgs {
  TargetOptions target;
};

struct ApplyArgs {
  TargetOptions target;
  ProbeOptions probe;
  std::string state_dir = "/var/lib/postwarden";  // --state-dir DIR
  // --service postfix|systemd|command, --systemd-unit UNIT, --reload-command "ARGV...",
  // --restart-command "ARGV..."
  service::ServiceSettings service;
  std::chrono::milliseconds verify_deadline{20000};  // --verify-deadline SECONDS
  std::chrono::milliseconds command_timeout{60000};  // --command-timeout SECONDS
  bool dry_run = false;                              // --dry-run
  bool offline = false;  // --offline: write the files only (no reload, no probe)
};

struct VerifyArgs {
  TargetOptions target;
  ProbeOptions probe;
};

struct ScanArgs {
  HostPort address;                          // HOST:PORT (positional)
  std::optional<std::string> expected_name;  // --name NAME: certificate must match it
  std::chrono::milliseconds timeout{10000};  // --timeout SECONDS
  OutputFormat format = OutputFormat::kText;
};

struct ClearArgs {
  std::string state_dir = "/var/lib/postwarden";
  OutputFormat format = OutputFormat::kText;  // --format text|json
};

// `status`: what this host's agent is doing; `backups`: the backups of earlier changes.
struct StatusArgs {
  std::string state_dir = "/var/lib/postwarden";
  OutputFormat format = OutputFormat::kText;
};
struct BackupsArgs {
  std::string state_dir = "/var/lib/postwarden";
  OutputFormat format = OutputFormat::kText;
};

// `restore ID`: a backup put back through the apply transaction (check, journal, swap,
// reload, probe, rollback on a failed probe).
struct RestoreArgs {
  std::string id;                                 // ID (positional), from `backups`
  std::string postfix_dir = "/etc/postfix";       // --postfix-dir DIR
  std::string state_dir = "/var/lib/postwarden";  // --state-dir DIR
  ProbeOptions probe;                             // --probe HOST:PORT, --probe-timeout, ...
  service::ServiceSettings service;               // as for apply
  std::chrono::milliseconds verify_deadline{20000};
  std::chrono::milliseconds command_timeout{60000};
  bool yes = false;  // --yes: no question asked (needed without a terminal)
  OutputFormat format = OutputFormat::kText;
  bool color = true;  // --no-color
};

// `--help` (for the whole program or one command) or `--version`.
struct HelpArgs {
  std::string text;
  bool usage_error = false;  // no command given: the text goes to stderr, exit kExitUsage
};

using Arguments = std::variant<HelpArgs, PlanArgs, ApplyArgs, VerifyArgs, ScanArgs, ClearArgs,
                               StatusArgs, BackupsArgs, RestoreArgs>;

// Parses argv without the program name. InvalidArgument with one clear sentence (and a
// "did you mean" for a misspelt option or command) on bad usage. A relative --postfix-dir or
// --state-dir is resolved against `working_dir` (absolute; the caller's current directory),
// lexically ("a/../b" is "b"); without a working_dir it is refused (InvalidArgument).
Result<Arguments> parseArguments(const std::vector<std::string>& args,
                                 const std::string& working_dir = "");

// `path` made absolute against `working_dir` and lexically normalized, without a trailing
// '/' (except "/"). InvalidArgument (naming `option`) for an empty path, or a relative one
// without an absolute working_dir.
Result<std::string> absoluteDirectory(const std::string& option, const std::string& path,
                                      const std::string& working_dir);

// "127.0.0.1:25", "[::1]:2525", "mail.example.org:587".
Result<HostPort> parseHostPort(std::string_view text);

std::string programHelp();

// For a usage error in `args`: the usage line of the command they name (the program's for
// none or an unknown one) and where the rest is, e.g. "Usage: postwarden-agent plan --policy
// FILE [options]\nRun 'postwarden-agent plan --help' for its options.\n".
std::string usageLine(const std::vector<std::string>& args);

}  // namespace postwarden::agent::cli
