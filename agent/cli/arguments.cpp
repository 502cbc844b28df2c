// Over 400 lines on purpose: each command's help text next to the parsing of its options,
// so the two cannot drift apart; most of the length is help text.
#include "agent/cli/arguments.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>

#include "agent/planner/planner.h"
#include "common/spelling.h"
#include "common/version.h"

namespace postwarden::agent::cli {
namespace {

constexpr const char* kTargetOptionsHelp =
    R"(  --policy FILE            baseline (YAML, see docs/baselines.md)
  --postfix-dir DIR        Postfix configuration directory (default /etc/postfix)
  --role ROLE=PORT         treat the master.cf inet service on PORT as ROLE (smtp,
                           submission, submissions), for listeners on non-standard ports;
                           repeatable
  --format text|json       output format (default text)
  --no-color               no colors (also when NO_COLOR is set or output is not a terminal)
)";

constexpr const char* kProbeOptionsHelp =
    R"(  --probe HOST:PORT        probe this listener for every expectation of the baseline
                           (default: the listeners master.cf defines, on loopback)
  --probe-timeout SECONDS  limit for one probe (default 5)
  --probe-login USER       also log in (AUTH PLAIN, only ever after STARTTLS) as USER
  --probe-password-file F  the password for --probe-login (first line of F)
  --probe-mail-to ADDRESS  also send a test message to ADDRESS (after the login)
)";

std::string planHelp() {
  return std::string(R"(Usage: postwarden-agent plan --policy FILE [options]

Shows what it would take to bring a Postfix configuration to a baseline: each change, and a
unified diff of main.cf and master.cf. Changes nothing.

Options:
)") + kTargetOptionsHelp +
         R"(  -h, --help               this help

Exit status: 0 compliant, 2 changes pending, 1 error (invalid policy, unreadable files, a
change the safety guards refuse); a usage error exits 2 too, with the usage on stderr.
)";
}

std::string applyHelp() {
  return std::string(R"(Usage: postwarden-agent apply --policy FILE [options]

Brings a live Postfix to a baseline as one transaction, and proves it on the wire:
  settle     main.cf and master.cf not being edited right now (else: retry later)
  status     Postfix must be running (else use --offline)
  preflight  every value, and the certificate and key TLS will need
  check      the candidate files staged and read by Postfix itself (postconf -n, postmap;
             the full postfix check when a change touches what only it checks)
  journal    the exact previous bytes backed up, the transaction journaled (fsynced)
  swap       main.cf and master.cf replaced crash-safely (temp file, fsync, rename)
  reload     or stop/start when a change needs it (listeners, inet_interfaces)
  verify     the listeners probed over loopback (banner, EHLO, AUTH before and after a real
             STARTTLS handshake) until they meet the baseline's expectations
If verification fails, the previous bytes are restored and Postfix reloaded and probed again.
Nothing is written when the host is compliant and the probe passes. An agent killed at any
step finishes or undoes the change at its next run.

Options:
)") + kTargetOptionsHelp +
         kProbeOptionsHelp +
         R"(  --state-dir DIR          backups, journal and lock (default /var/lib/postwarden)
  --service postfix|systemd|command
                           how Postfix is reloaded/restarted (default postfix:
                           postfix -c DIR reload|stop|start)
  --systemd-unit UNIT      unit for --service systemd (default postfix@-)
  --reload-command ARGV    for --service command: the reload command, words separated by
                           spaces (run directly, never through a shell)
  --restart-command ARGV   for --service command: the restart command
  --verify-deadline SECONDS
                           how long a change may take to show on the wire (default 20)
  --command-timeout SECONDS
                           limit for each reload/restart/check command (default 60); a
                           command still running then gets SIGTERM, then SIGKILL
  --dry-run                show what would be done, change nothing
  --offline                every step but status, reload and the probe (Postfix checks,
                           journal, backup, crash-safe swap), e.g. for a stopped Postfix
                           or an image being built
  -h, --help               this help

Exit status: 0 compliant (changed or not), 1 refused before any change, 3 the change failed
verification and was rolled back (the service verified working again), 4 the rollback failed
or an earlier one did: the host needs a human (see 'postwarden-agent clear'); 2 usage error
(with --dry-run: 0 compliant, 2 changes pending, as plan).
)";
}

std::string verifyHelp() {
  return std::string(R"(Usage: postwarden-agent verify --policy FILE [options]

Probes the live server and checks the baseline's expectations (verify: in the policy). Changes
nothing.

Options:
)") + kTargetOptionsHelp +
         kProbeOptionsHelp +
         R"(  -h, --help               this help

Exit status: 0 all expectations met, 2 some are not or a usage error, 1 error.
)";
}

constexpr const char* kScanHelp = R"(Usage: postwarden-agent scan HOST:PORT [options]

Audits any SMTP server the way a vulnerability scanner would: AUTH mechanisms offered in
clear (Nessus 54582), whether a raw AUTH PLAIN is accepted before TLS, VRFY (Nessus 10249),
the software named in the banner, STARTTLS offered and working, TLS version, handshakes
offering only TLS 1.0 / only TLS 1.1 (Nessus 104743, 157288), only anonymous suites (Nessus
31705) or only DHE suites (the DH group's size, Logjam, Nessus 83875), an open-relay test
(MAIL FROM and RCPT TO an outside domain, never DATA; through XCLIENT where the server allows
it, Nessus 10262), certificate name, expiry (Nessus 15901) and chain against the system trust
store (Nessus 51192, 57582). A verdict per finding. Each extra handshake is one more
connection, each within --timeout.

Options:
  --name NAME          the certificate must be valid for NAME (also sent as SNI)
  --timeout SECONDS    limit for the whole probe (default 10)
  --format text|json   output format (default text)
  -h, --help           this help

Exit status: 0 no finding failed, 2 some finding failed or a usage error, 1 error.
)";

constexpr const char* kClearHelp =
    R"(Usage: postwarden-agent clear [--state-dir DIR] [--format text|json]

Clears the sticky needs-human state that a failed rollback leaves, after an operator has made
the host work again. Until then apply refuses every change (exit 4). The interrupted change
is ended for good: it is never resumed or rolled back over the operator's fix; its journal is
kept in its backup directory as journal.cleared. See docs/apply.md, "The way out of
needs-human".

Options:
  --state-dir DIR      default /var/lib/postwarden
  --format text|json   json: a postwarden.v1.ClearReport on stdout (default text)
  -h, --help           this help

Exit status: 0 cleared (or nothing to clear), 1 error, 2 usage error.
)";

constexpr const char* kStatusHelp =
    R"(Usage: postwarden-agent status [--state-dir DIR] [--format text|json]

What this host's agent is doing, from its state directory, whether the daemon runs or not:
enrolled or not (STATE/agent.pem), the daemon (its pid, running or not), the controller link
as the daemon last saw it (connected, last connected, last error, revoked), the assigned
baseline and mode, the last check's compliance and outcome, reports waiting in the outbox,
an interrupted change (journal) and the needs-human state. Needs no controller and no gRPC.

Options:
  --state-dir DIR      the daemon's state_dir (default /var/lib/postwarden)
  --format text|json   json: one object with snake_case keys (docs/agent.md)
  -h, --help           this help

Exit status: 0 printed, 1 error (the state directory cannot be read), 2 usage error.
)";

constexpr const char* kBackupsHelp =
    R"(Usage: postwarden-agent backups [--state-dir DIR] [--format text|json]

Lists the backups of earlier changes, newest first: STATE/backups/ID holds the exact main.cf
and master.cf as they were before change ID (UTC time and pid). The newest backup_keep
(agent.yaml, default 20) are kept; older ones are pruned after each verified change. Put one
back with 'postwarden-agent restore ID' (docs/agent.md, "Restoring a backup").

Options:
  --state-dir DIR      default /var/lib/postwarden
  --format text|json   json: {"backups": [{"id", "taken_at", "dir", "files"}]}
  -h, --help           this help

Exit status: 0 printed (also when there is none), 1 error, 2 usage error.
)";

constexpr const char* kRestoreHelp =
    R"(Usage: postwarden-agent restore ID [--yes] [options]

Puts backup ID (from 'postwarden-agent backups') back in place as main.cf and master.cf,
through the same transaction as apply: settle, status, preflight of the certificates it
names, the files staged and checked by Postfix (postconf -n, postmap; postfix check when
needed), journal and a backup of today's files, crash-safe swap, reload (or stop/start when
listeners change), and a probe of every smtpd listener of the restored master.cf (banner,
EHLO, a working STARTTLS where offered). A failed probe rolls the restore back. Refused while
a change is in flight (STATE/journal) or the host needs a human. It shows the diff from the
live files to the backup first and asks; without a terminal it needs --yes. A running daemon
in enforce mode repairs restored files back to its baseline: set the host to detect mode at
the controller first if the old bytes must stay.

Options:
  --yes                    restore without asking (required without a terminal)
  --postfix-dir DIR        Postfix configuration directory (default /etc/postfix)
  --state-dir DIR          backups, journal and lock (default /var/lib/postwarden)
  --service postfix|systemd|command, --systemd-unit UNIT, --reload-command ARGV,
  --restart-command ARGV   how Postfix is reloaded/restarted, as for apply
  --probe HOST:PORT        probe this listener instead of master.cf's smtpd listeners
  --probe-timeout SECONDS  limit for one probe (default 5)
  --verify-deadline SECONDS
                           how long the restored files may take to show (default 20)
  --command-timeout SECONDS
                           limit for each reload/restart/check command (default 60)
  --format text|json       json: the object apply prints (plan, outcome, steps, ...)
  --no-color               no colors in the diff
  -h, --help               this help

Exit status: 0 restored (or already in place), 1 refused before any change (no such backup,
a change in flight, no --yes without a terminal, Postfix refused the files), 2 usage error,
3 the probe failed and the restore was rolled back, 4 the rollback failed: the host needs a
human (see 'postwarden-agent clear').
)";

const std::vector<std::string>& commandNames() {
  static const auto* names = new std::vector<std::string>{"plan",  "apply",  "verify",  "scan",
                                                          "clear", "status", "backups", "restore"};
  return *names;
}

// Walks "--name value" / "--name=value" pairs and positional words.
class OptionReader {
 public:
  OptionReader(const std::vector<std::string>& args, size_t start) : args_(args), i_(start) {}

  bool done() const { return i_ >= args_.size(); }

  // The next word; for "--policy=x" the name, with "x" kept as the inline value.
  std::string next() {
    std::string arg = args_[i_++];
    inline_value_.reset();
    if (arg.starts_with("--")) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        inline_value_ = arg.substr(eq + 1);
        arg.resize(eq);
      }
    }
    return arg;
  }

  Result<std::string> value(const std::string& option) {
    if (inline_value_) return *inline_value_;
    if (done()) return InvalidArgumentError("option " + option + " needs a value");
    return args_[i_++];
  }

  Status noValue(const std::string& option) const {
    if (inline_value_) return InvalidArgumentError("option " + option + " takes no value");
    return OkStatus();
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_;
  std::optional<std::string> inline_value_;
};

Result<int> parseNumber(std::string_view text, int min, int max, const std::string& what) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return InvalidArgumentError(what + ": '" + std::string(text) + "' is not a number from " +
                                std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

Result<std::chrono::milliseconds> parseSeconds(OptionReader& reader, const std::string& option) {
  PW_ASSIGN_OR_RETURN(std::string text, reader.value(option));
  PW_ASSIGN_OR_RETURN(int seconds, parseNumber(text, 1, 3600, option));
  return std::chrono::milliseconds(seconds * 1000);
}

Status parseRole(const std::string& text, TargetOptions& target) {
  size_t eq = text.find('=');
  std::string role = text.substr(0, eq);
  if (!planner::isServiceRole(role)) {
    const std::vector<std::string> roles(std::begin(planner::kServiceRoles),
                                         std::end(planner::kServiceRoles));
    return InvalidArgumentError("--role '" + text +
                                "': role must be smtp, submission or submissions" +
                                didYouMean(role, roles));
  }
  if (eq == std::string::npos)
    return InvalidArgumentError("--role '" + text + "': expected ROLE=PORT");
  std::string port = text.substr(eq + 1);
  PW_RETURN_IF_ERROR(parseNumber(port, 1, 65535, "--role port").status());
  target.role_ports.emplace(role, port);
  return OkStatus();
}

Result<OutputFormat> parseFormat(OptionReader& reader, const std::string& option) {
  PW_ASSIGN_OR_RETURN(std::string format, reader.value(option));
  if (format == "text") return OutputFormat::kText;
  if (format == "json") return OutputFormat::kJson;
  return InvalidArgumentError("--format must be text or json, not '" + format + "'");
}

std::vector<std::string> splitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.emplace_back(text.substr(start, i - start));
  }
  return words;
}

// Handles an option common to the commands with a baseline; false when it is not one.
Result<bool> parseTargetOption(const std::string& option, OptionReader& reader,
                               TargetOptions& target) {
  if (option == "--policy") {
    PW_ASSIGN_OR_RETURN(target.policy, reader.value(option));
  } else if (option == "--postfix-dir") {
    PW_ASSIGN_OR_RETURN(target.postfix_dir, reader.value(option));
  } else if (option == "--role") {
    PW_ASSIGN_OR_RETURN(std::string role, reader.value(option));
    PW_RETURN_IF_ERROR(parseRole(role, target));
  } else if (option == "--format") {
    PW_ASSIGN_OR_RETURN(target.format, parseFormat(reader, option));
  } else if (option == "--no-color") {
    PW_RETURN_IF_ERROR(reader.noValue(option));
    target.color = false;
  } else {
    return false;
  }
  return true;
}

Result<bool> parseProbeOption(const std::string& option, OptionReader& reader,
                              ProbeOptions& probe) {
  if (option == "--probe") {
    PW_ASSIGN_OR_RETURN(std::string text, reader.value(option));
    PW_ASSIGN_OR_RETURN(probe.probe, parseHostPort(text));
  } else if (option == "--probe-timeout") {
    PW_ASSIGN_OR_RETURN(probe.timeout, parseSeconds(reader, option));
  } else if (option == "--probe-login") {
    PW_ASSIGN_OR_RETURN(probe.login_user, reader.value(option));
  } else if (option == "--probe-password-file") {
    PW_ASSIGN_OR_RETURN(probe.password_file, reader.value(option));
  } else if (option == "--probe-mail-to") {
    PW_ASSIGN_OR_RETURN(probe.mail_to, reader.value(option));
  } else {
    return false;
  }
  return true;
}

Status checkProbe(const ProbeOptions& probe) {
  if (probe.login_user.has_value() != probe.password_file.has_value()) {
    return InvalidArgumentError("--probe-login and --probe-password-file go together");
  }
  if (probe.mail_to && !probe.login_user) {
    return InvalidArgumentError(
        "--probe-mail-to needs --probe-login (the test message is sent "
        "as an authenticated client)");
  }
  return OkStatus();
}

Status unknownOption(const std::string& option, const std::vector<std::string>& known) {
  if (!option.starts_with("-")) {
    return InvalidArgumentError("unexpected argument '" + option + "'; see --help");
  }
  return InvalidArgumentError("unknown option '" + option + "'" + didYouMean(option, known) +
                              "; see --help");
}

Status requirePolicy(const TargetOptions& target) {
  if (target.policy.empty()) return InvalidArgumentError("--policy FILE is required");
  if (target.postfix_dir.empty()) return InvalidArgumentError("--postfix-dir must not be empty");
  return OkStatus();
}

bool isHelp(const std::string& arg) { return arg == "-h" || arg == "--help"; }

const std::vector<std::string> kTargetOptionNames = {"--policy", "--postfix-dir", "--role",
                                                     "--format", "--no-color",    "--help"};
const std::vector<std::string> kProbeOptionNames = {"--probe", "--probe-timeout", "--probe-login",
                                                    "--probe-password-file", "--probe-mail-to"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Result<Arguments> parsePlan(OptionReader& reader, const std::string& working_dir) {
  PlanArgs plan;
  while (!reader.done()) {
    std::string option = reader.next();
    PW_ASSIGN_OR_RETURN(bool handled, parseTargetOption(option, reader, plan.target));
    if (!handled) return unknownOption(option, kTargetOptionNames);
  }
  PW_RETURN_IF_ERROR(requirePolicy(plan.target));
  PW_ASSIGN_OR_RETURN(plan.target.postfix_dir,
                      absoluteDirectory("--postfix-dir", plan.target.postfix_dir, working_dir));
  return Arguments(plan);
}

Result<service::Strategy> parseService(OptionReader& reader, const std::string& option) {
  PW_ASSIGN_OR_RETURN(std::string name, reader.value(option));
  if (name == "postfix") return service::Strategy::kPostfix;
  if (name == "systemd") return service::Strategy::kSystemd;
  if (name == "command") return service::Strategy::kCommand;
  return InvalidArgumentError("--service must be postfix, systemd or command, not '" + name + "'");
}

const std::vector<std::string> kChangeOptionNames = {
    "--state-dir",       "--service",         "--systemd-unit",   "--reload-command",
    "--restart-command", "--verify-deadline", "--command-timeout"};

// The options of a command that changes the live files (apply, restore): where the state is,
// how Postfix is reloaded, how long it may take. False when `option` is not one of them.
template <typename Args>
Result<bool> parseChangeOption(const std::string& option, OptionReader& reader, Args& args) {
  if (option == "--state-dir") {
    PW_ASSIGN_OR_RETURN(args.state_dir, reader.value(option));
  } else if (option == "--service") {
    PW_ASSIGN_OR_RETURN(args.service.strategy, parseService(reader, option));
  } else if (option == "--systemd-unit") {
    PW_ASSIGN_OR_RETURN(args.service.systemd_unit, reader.value(option));
  } else if (option == "--reload-command") {
    PW_ASSIGN_OR_RETURN(std::string text, reader.value(option));
    args.service.reload_command = splitWords(text);
  } else if (option == "--restart-command") {
    PW_ASSIGN_OR_RETURN(std::string text, reader.value(option));
    args.service.restart_command = splitWords(text);
  } else if (option == "--verify-deadline") {
    PW_ASSIGN_OR_RETURN(args.verify_deadline, parseSeconds(reader, option));
  } else if (option == "--command-timeout") {
    PW_ASSIGN_OR_RETURN(args.command_timeout, parseSeconds(reader, option));
  } else {
    return false;
  }
  return true;
}

// The state directory made absolute, and the service options consistent.
template <typename Args>
Status checkChangeOptions(Args& args, const std::string& working_dir) {
  if (args.state_dir.empty()) return InvalidArgumentError("--state-dir must not be empty");
  PW_ASSIGN_OR_RETURN(args.state_dir,
                      absoluteDirectory("--state-dir", args.state_dir, working_dir));
  if (args.service.strategy == service::Strategy::kCommand && args.service.reload_command.empty()) {
    return InvalidArgumentError("--service command needs --reload-command");
  }
  if (args.service.strategy != service::Strategy::kCommand &&
      !(args.service.reload_command.empty() && args.service.restart_command.empty())) {
    return InvalidArgumentError("--reload-command and --restart-command need --service command");
  }
  return OkStatus();
}

Result<Arguments> parseApply(OptionReader& reader, const std::string& working_dir) {
  ApplyArgs apply;
  const std::vector<std::string> known =
      concat(concat(concat(kTargetOptionNames, kProbeOptionNames), kChangeOptionNames),
             {"--dry-run", "--offline"});
  while (!reader.done()) {
    std::string option = reader.next();
    PW_ASSIGN_OR_RETURN(bool handled, parseTargetOption(option, reader, apply.target));
    if (handled) continue;
    PW_ASSIGN_OR_RETURN(handled, parseProbeOption(option, reader, apply.probe));
    if (handled) continue;
    PW_ASSIGN_OR_RETURN(handled, parseChangeOption(option, reader, apply));
    if (handled) continue;
    if (option == "--dry-run") {
      PW_RETURN_IF_ERROR(reader.noValue(option));
      apply.dry_run = true;
    } else if (option == "--offline") {
      PW_RETURN_IF_ERROR(reader.noValue(option));
      apply.offline = true;
    } else {
      return unknownOption(option, known);
    }
  }
  PW_RETURN_IF_ERROR(requirePolicy(apply.target));
  PW_RETURN_IF_ERROR(checkProbe(apply.probe));
  PW_ASSIGN_OR_RETURN(apply.target.postfix_dir,
                      absoluteDirectory("--postfix-dir", apply.target.postfix_dir, working_dir));
  PW_RETURN_IF_ERROR(checkChangeOptions(apply, working_dir));
  return Arguments(apply);
}

Result<Arguments> parseVerify(OptionReader& reader, const std::string& working_dir) {
  VerifyArgs verify;
  const std::vector<std::string> known = concat(kTargetOptionNames, kProbeOptionNames);
  while (!reader.done()) {
    std::string option = reader.next();
    PW_ASSIGN_OR_RETURN(bool handled, parseTargetOption(option, reader, verify.target));
    if (handled) continue;
    PW_ASSIGN_OR_RETURN(handled, parseProbeOption(option, reader, verify.probe));
    if (!handled) return unknownOption(option, known);
  }
  PW_RETURN_IF_ERROR(requirePolicy(verify.target));
  PW_RETURN_IF_ERROR(checkProbe(verify.probe));
  PW_ASSIGN_OR_RETURN(verify.target.postfix_dir,
                      absoluteDirectory("--postfix-dir", verify.target.postfix_dir, working_dir));
  return Arguments(verify);
}

Result<Arguments> parseScan(OptionReader& reader) {
  ScanArgs scan;
  bool have_address = false;
  while (!reader.done()) {
    std::string option = reader.next();
    if (option == "--name") {
      PW_ASSIGN_OR_RETURN(scan.expected_name, reader.value(option));
    } else if (option == "--timeout") {
      PW_ASSIGN_OR_RETURN(scan.timeout, parseSeconds(reader, option));
    } else if (option == "--format") {
      PW_ASSIGN_OR_RETURN(scan.format, parseFormat(reader, option));
    } else if (!option.starts_with("-") && !have_address) {
      PW_ASSIGN_OR_RETURN(scan.address, parseHostPort(option));
      have_address = true;
    } else {
      return unknownOption(option, {"--name", "--timeout", "--format", "--help"});
    }
  }
  if (!have_address) return InvalidArgumentError("scan needs HOST:PORT, e.g. 127.0.0.1:25");
  return Arguments(scan);
}

// The commands that take only --state-dir and --format (clear, status, backups).
template <typename Args>
Result<Arguments> parseStateDirCommand(OptionReader& reader, const std::string& working_dir) {
  Args args;
  while (!reader.done()) {
    std::string option = reader.next();
    if (option == "--state-dir") {
      PW_ASSIGN_OR_RETURN(args.state_dir, reader.value(option));
    } else if (option == "--format") {
      PW_ASSIGN_OR_RETURN(args.format, parseFormat(reader, option));
    } else {
      return unknownOption(option, {"--state-dir", "--format", "--help"});
    }
  }
  PW_ASSIGN_OR_RETURN(args.state_dir,
                      absoluteDirectory("--state-dir", args.state_dir, working_dir));
  return Arguments(args);
}

Result<Arguments> parseRestore(OptionReader& reader, const std::string& working_dir) {
  RestoreArgs restore;
  const std::vector<std::string> known =
      concat(concat(kProbeOptionNames, kChangeOptionNames),
             {"--yes", "--postfix-dir", "--format", "--no-color", "--help"});
  while (!reader.done()) {
    std::string option = reader.next();
    PW_ASSIGN_OR_RETURN(bool handled, parseProbeOption(option, reader, restore.probe));
    if (handled) continue;
    PW_ASSIGN_OR_RETURN(handled, parseChangeOption(option, reader, restore));
    if (handled) continue;
    if (option == "--yes") {
      PW_RETURN_IF_ERROR(reader.noValue(option));
      restore.yes = true;
    } else if (option == "--postfix-dir") {
      PW_ASSIGN_OR_RETURN(restore.postfix_dir, reader.value(option));
    } else if (option == "--format") {
      PW_ASSIGN_OR_RETURN(restore.format, parseFormat(reader, option));
    } else if (option == "--no-color") {
      PW_RETURN_IF_ERROR(reader.noValue(option));
      restore.color = false;
    } else if (!option.starts_with("-") && restore.id.empty()) {
      restore.id = option;
    } else {
      return unknownOption(option, known);
    }
  }
  if (restore.id.empty()) {
    return InvalidArgumentError("restore needs the ID of a backup ('postwarden-agent backups')");
  }
  PW_RETURN_IF_ERROR(checkProbe(restore.probe));
  PW_ASSIGN_OR_RETURN(restore.postfix_dir,
                      absoluteDirectory("--postfix-dir", restore.postfix_dir, working_dir));
  PW_RETURN_IF_ERROR(checkChangeOptions(restore, working_dir));
  return Arguments(restore);
}

// A command's help text; nullopt for a name that is none.
std::optional<std::string> commandHelp(const std::string& command) {
  if (command == "plan") return planHelp();
  if (command == "apply") return applyHelp();
  if (command == "verify") return verifyHelp();
  if (command == "scan") return std::string(kScanHelp);
  if (command == "clear") return std::string(kClearHelp);
  if (command == "status") return std::string(kStatusHelp);
  if (command == "backups") return std::string(kBackupsHelp);
  if (command == "restore") return std::string(kRestoreHelp);
  return std::nullopt;
}

}  // namespace

Result<HostPort> parseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgumentError("'" + std::string(text) + "' is not HOST:PORT");
  }
  std::string_view host = text.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host.empty() || host.find_first_of(" \t\r\n/") != std::string_view::npos) {
    return InvalidArgumentError("'" + std::string(text) + "' has no valid host");
  }
  PW_ASSIGN_OR_RETURN(int port, parseNumber(text.substr(colon + 1), 1, 65535, "port"));
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

std::string programHelp() {
  return R"(Usage: postwarden-agent COMMAND [options]

Enforces a Postfix security baseline on this mail server and proves it on the wire.

Commands:
  plan     show the changes a baseline needs (exit 2 when changes are pending)
  apply    make them as one verified transaction, rolled back if the probe fails
  verify   probe the live server against the baseline's expectations
  scan     audit any SMTP server like a vulnerability scanner (HOST:PORT)
  clear    clear the needs-human state after a failed rollback

Fleet commands (with a controller; 'postwarden-agent enroll --help'):
  enroll   join a controller with a bootstrap token (the key never leaves this host)
  run      the long-running agent: enforce or watch the assigned baseline, report drift

Host commands (no controller needed; they work whether the daemon runs or not):
  status   enrollment, controller link, baseline and mode, last check, outbox, needs-human
  backups  the backups of earlier changes, newest first
  restore  put a backup back in place (checked, reloaded, probed, rolled back on failure)

Run 'postwarden-agent COMMAND --help' for a command's options.
Exit status: (each command's --help says which apply to it)
  0  ok, compliant, restored
  1  error, or refused before any change
  2  usage error (an unknown command or option, a missing or bad value, no command: the
     error and the usage on stderr); also changes pending (plan, apply --dry-run) and checks
     failing (verify, scan)
  3  the change (apply, restore) failed its probe and was rolled back
  4  the rollback failed or an earlier one did: the host needs a human
Other options: -h, --help (this help), --version, -v/--verbose (debug log on stderr: the
commands run and, when a probe fails, its transcript; never passwords).
)";
}

Result<std::string> absoluteDirectory(const std::string& option, const std::string& path,
                                      const std::string& working_dir) {
  if (path.empty()) return InvalidArgumentError(option + " must not be empty");
  std::filesystem::path resolved(path);
  if (resolved.is_relative()) {
    if (working_dir.empty() || working_dir.front() != '/') {
      return InvalidArgumentError(option + " '" + path +
                                  "' is relative and the current directory is not known; "
                                  "give an absolute path");
    }
    resolved = std::filesystem::path(working_dir) / resolved;
  }
  std::string normal = resolved.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

Result<Arguments> parseArguments(const std::vector<std::string>& args,
                                 const std::string& working_dir) {
  if (args.empty()) return Arguments(HelpArgs{programHelp(), /*usage_error=*/true});
  if (isHelp(args[0])) return Arguments(HelpArgs{programHelp()});
  if (args[0] == "--version") return Arguments(HelpArgs{versionLine("postwarden-agent") + "\n"});
  const std::string& command = args[0];
  if (std::any_of(args.begin() + 1, args.end(), isHelp)) {
    if (std::optional<std::string> help = commandHelp(command)) return Arguments(HelpArgs{*help});
  }
  OptionReader reader(args, 1);
  if (command == "plan") return parsePlan(reader, working_dir);
  if (command == "apply") return parseApply(reader, working_dir);
  if (command == "verify") return parseVerify(reader, working_dir);
  if (command == "scan") return parseScan(reader);
  if (command == "clear") return parseStateDirCommand<ClearArgs>(reader, working_dir);
  if (command == "status") return parseStateDirCommand<StatusArgs>(reader, working_dir);
  if (command == "backups") return parseStateDirCommand<BackupsArgs>(reader, working_dir);
  if (command == "restore") return parseRestore(reader, working_dir);
  return InvalidArgumentError("unknown command '" + command + "'" +
                              didYouMean(command, commandNames()) + "; see --help");
}

std::string usageLine(const std::vector<std::string>& args) {
  const std::string command = args.empty() ? "" : args[0];
  std::optional<std::string> help = commandHelp(command);
  if (!help) {
    const std::string program = programHelp();
    return program.substr(0, program.find('\n') + 1) +
           "Run 'postwarden-agent --help' for the commands.\n";
  }
  return help->substr(0, help->find('\n') + 1) + "Run 'postwarden-agent " + command +
         " --help' for its options.\n";
}

}  // namespace postwarden::agent::cli
