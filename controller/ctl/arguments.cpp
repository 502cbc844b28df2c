// Over 400 lines on purpose: every command's help text next to the parsing of its arguments,
// so the two cannot drift apart; most of the length is help text. Split by command if the
// parsing itself grows.
#include "controller/ctl/arguments.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "common/spelling.h"
#include "common/version.h"

namespace postwarden::controller::ctl {
namespace {

constexpr const char* kGlobalHelp =
    R"(Global options (before or after the command):
  --config FILE            config file (default $POSTWARDENCTL_CONFIG, else
                           ~/.config/postwarden/postwardenctl.yaml)
  --controller HOST:PORT   the controller's mTLS listener
  --controller-name NAME   name the controller certificate must carry (default: HOST)
  --ca FILE                the controller CA, the only trusted root
  --cert FILE              your operator certificate
  --key FILE               its private key
  --timeout SECONDS        deadline of every call (default 10)
  --json                   one JSON document on stdout instead of text
  --no-color               no colors (also when NO_COLOR is set or stdout is not a terminal)
  -h, --help               help; --version: the version
)";

constexpr const char* kExitHelp =
    "Exit status: 0 success, 1 error (usage, config, the controller refused or failed), 2 drift\n"
    "found (drift), an unhealthy host (status), or no command given (this help on stderr).\n";

std::string withFooter(const char* text) {
  return std::string(text) + "\n" + kGlobalHelp + "\n" + kExitHelp;
}

constexpr const char* kAgentsHelp = R"(Usage: postwardenctl agents [--selector k=v[,k=v...]]

Lists the enrolled agents: ID, HOSTNAME, LABELS, BASELINE (name@digest), MODE, COMPLIANCE
and LAST-SEEN ("connected" while its stream is open, else e.g. "3m ago").

Options:
  --selector k=v,...       only agents carrying all these labels (repeatable)
)";

constexpr const char* kAgentHelp = R"(Usage: postwardenctl agent show|revoke|approve ID

  agent show ID      the agent's summary, its parameters (EXPECTED vs ACTUAL), the last
                     probe transcript and its history (newest first)
  agent revoke ID    revoke the agent: its certificate is refused from now on (admin)
  agent approve ID   allow one re-enrollment of this existing identity, e.g. after a host
                     was rebuilt (approver)
)";

constexpr const char* kDriftHelp = R"(Usage: postwardenctl drift

Lists every parameter out of line with its baseline, on every agent: AGENT, HOSTNAME,
BASELINE, FILE, SERVICE, PARAMETER, EXPECTED, ACTUAL, MODE and SINCE. Exits with 2 when
there is any drift (also with --json), 0 when there is none.
)";

constexpr const char* kBaselineHelp =
    R"(Usage: postwardenctl baseline push|list|assign|assignments|unassign|delete ...

  baseline push FILE
      upload a baseline (YAML, at most 1 MiB; its 'name' names it); prints NAME@DIGEST and
      whether it is new or was already stored (operator). The controller checks it as the
      agents will (grammar, parameter names and values, guards) and refuses it with
      FILE:LINE:COL messages; nothing is stored then
  baseline list
      every stored baseline: NAME, DIGEST, VERSION, PUSHED, SIZE, AGENTS
  baseline delete NAME@DIGEST
      delete a stored version; refused while an assignment that can still select agents
      names it (operator)
  baseline assign NAME@DIGEST --mode enforce|detect [--selector k=v,...] [--dry-run]
                  [--repair-window WINDOW]...
      assign a version to the agents matching the selector and print whom it reached
      (approver). Without --selector it reaches every agent, present and future: say --yes.
      A selector that matches no agent is refused unless --allow-no-match
  baseline assignments
      every assignment: ID, BASELINE, MODE, SELECTOR, REPAIR, AGENTS (for which it applies
      now)
  baseline unassign ID
      withdraw an assignment: its agents get the older assignment that matches them, if any,
      else keep the baseline they have (approver)

Options:
  --mode enforce|detect    enforce: repair drift; detect: report it only (required)
  --selector k=v,...       only agents carrying all these labels (repeatable)
  --dry-run                show whom the assignment would reach; store nothing
  --yes                    confirm an assignment to every agent (no --selector)
  --allow-no-match         assign even if no enrolled agent matches yet
  --repair-window WINDOW   enforce mode: agents change the host for this assignment (drift
                           repair included) only while a window is open by their own clock,
                           e.g. 'Sat,Sun 02:00-04:00 Europe/Berlin' (repeatable; default: at
                           once). `command apply` still applies at once.
)";

constexpr const char* kTokenHelp = R"(Usage: postwardenctl token create|list|revoke ...

  token create [--labels k=v,...] [--ttl DURATION] [--uses N] [--agent ID]
      create a bootstrap token for 'postwarden-agent enroll'; its secret is printed once
      and never again (admin)
  token list
      every token: ID, LABELS, CREATED, EXPIRES, USES-LEFT, AGENT, STATE (admin)
  token revoke ID
      revoke a token (admin)

Options:
  --labels k=v,...         labels given to agents enrolled with the token (repeatable)
  --ttl DURATION           validity: 30m, 1h, 7d or seconds (default 1h, at most 366d)
  --uses N                 how many enrollments it allows (default 1)
  --agent ID               only this identity may enroll with it, and may re-enroll
)";

constexpr const char* kStatusHelp = R"(Usage: postwardenctl status [--stale-after DURATION]

The fleet's health in one view: every agent that is not compliant and verified, with the
reason: refused (invalid or unsafe baseline, rolled back), failing (the live service fails its
probe), needs-human, drifted, no baseline, or stale (not seen for --stale-after, default 90s:
three heartbeat intervals). Revoked agents are left out. Exit status 0 only when every agent is
healthy, 2 when any is not (also with --json), 1 on error.

Options:
  --stale-after DURATION   30s, 5m, 1h or seconds (default 90s)
)";

constexpr const char* kCommandHelp = R"(Usage: postwardenctl command apply|verify AGENT_ID

Asks a connected agent to act now instead of at its next run:
  command apply AGENT_ID    evaluate and, in enforce mode, repair (operator)
  command verify AGENT_ID   probe the live service now (operator)
)";

constexpr const char* kRolloutHelp =
    R"(Usage: postwardenctl rollout plan|create|list|show|approve|rollback ...

  rollout plan -f FILE
      what the spec would do now, creating nothing: the waves and their hosts, when each
      wave's window opens next, and the diff of the baseline versions (viewer)
  rollout create -f FILE
      create the rollout; it starts when approved (if the spec asks for approvals) and only
      inside the hosts' maintenance windows (operator)
  rollout list
      every rollout: ID, BASELINE, PHASE, WAVE, HOSTS done/failed/total, CREATED BY
  rollout show ID [--watch]
      per-wave progress (pending, changing, soaking, done, failed, rolled back) and each
      host's phase and failure; --watch: follow it every second until it completes, halts
      or is rolled back (Ctrl-C to stop): on a terminal a progress bar per wave, otherwise
      (or with --json) one line whenever something changed. Exit 0 when it completed, 2
      when it halted or was rolled back
  rollout approve ID
      approve the rollout's current target and spec; the creator cannot approve their own
      (approver)
  rollout rollback ID [--reason TEXT]
      stop the rollout and return every host it changed to its previous version (operator)
  rollout pause ID, rollout resume ID
      hold the rollout: hosts being changed finish, no new host starts until resumed
      (operator)

The spec format is in docs/rollouts.md.

Options:
  -f, --file FILE          the rollout spec (YAML)
  --reason TEXT            why (kept in the audit log)
  --watch                  show: follow the rollout until it ends
)";

constexpr const char* kAuditHelp = R"(Usage: postwardenctl audit [--rollout ID] [--since DURATION]

The audit log, oldest first: every operator action on rollouts (with the identity from the
operator's certificate) and every host transition with its evidence (job, version, reason,
health-gate figures). With --json: one JSON object per line, for export to a SIEM.

Options:
  --rollout ID             only this rollout's events
  --since DURATION         only events of the last DURATION (30m, 1d, or seconds)
)";

struct CommandInfo {
  const char* name;
  const char* help;
  std::vector<std::string> options;  // the command's own options
};

const std::vector<CommandInfo>& commands() {
  static const auto* infos = new std::vector<CommandInfo>{
      {"agents", kAgentsHelp, {"--selector"}},
      {"agent", kAgentHelp, {}},
      {"drift", kDriftHelp, {}},
      {"baseline",
       kBaselineHelp,
       {"--mode", "--selector", "--dry-run", "--yes", "--allow-no-match", "--repair-window"}},
      {"token", kTokenHelp, {"--labels", "--ttl", "--uses", "--agent"}},
      {"command", kCommandHelp, {}},
      {"status", kStatusHelp, {"--stale-after"}},
      {"rollout", kRolloutHelp, {"--file", "--reason", "--watch"}},
      {"audit", kAuditHelp, {"--rollout", "--since"}},
      {"help", nullptr, {}},
  };
  return *infos;
}

const CommandInfo* findCommand(const std::string& name) {
  for (const CommandInfo& info : commands()) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

std::vector<std::string> commandNames() {
  std::vector<std::string> names;
  for (const CommandInfo& info : commands()) names.emplace_back(info.name);
  return names;
}

const std::vector<std::string> kGlobalValueOptions = {
    "--config", "--controller", "--controller-name", "--ca", "--cert", "--key", "--timeout"};
const std::vector<std::string> kGlobalFlags = {"--json", "--no-color", "--help", "--version"};
const std::vector<std::string> kCommandFlags = {"--dry-run", "--yes", "--allow-no-match",
                                                "--watch"};
const std::vector<std::string> kCommandValueOptions = {
    "--selector",    "--mode", "--labels", "--ttl",     "--uses",  "--agent",
    "--stale-after", "--file", "--reason", "--rollout", "--since", "--repair-window"};

bool contains(const std::vector<std::string>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

std::vector<std::string> allOptionNames() {
  std::vector<std::string> names = kGlobalValueOptions;
  names.insert(names.end(), kGlobalFlags.begin(), kGlobalFlags.end());
  names.insert(names.end(), kCommandFlags.begin(), kCommandFlags.end());
  names.insert(names.end(), kCommandValueOptions.begin(), kCommandValueOptions.end());
  return names;
}

// The command line split into global options (applied), command options (in order) and
// positional words.
struct Split {
  GlobalOptions global;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> words;
  bool help = false;
  bool version = false;
};

Status applyGlobal(const std::string& name, const std::string& value, GlobalOptions& global) {
  if (value.empty()) return InvalidArgumentError("option " + name + " needs a non-empty value");
  if (name == "--config") {
    global.config_file = value;
  } else if (name == "--controller") {
    global.flags.controller = value;
  } else if (name == "--controller-name") {
    global.flags.controller_name = value;
  } else if (name == "--ca") {
    global.flags.ca_file = value;
  } else if (name == "--cert") {
    global.flags.cert_file = value;
  } else if (name == "--key") {
    global.flags.key_file = value;
  } else if (name == "--timeout") {
    PW_ASSIGN_OR_RETURN(int64_t seconds, parseInteger(value, 1, 3600, "--timeout"));
    global.timeout = std::chrono::seconds(seconds);
  }
  return OkStatus();
}

Result<Split> split(const std::vector<std::string>& args) {
  Split out;
  bool only_words = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (only_words || arg == "-" || !arg.starts_with("-")) {
      out.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_words = true;
      continue;
    }
    if (arg == "-h") arg = "--help";
    if (arg == "-f") arg = "--file";
    std::optional<std::string> inline_value;
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
    }
    const bool takes_value =
        contains(kGlobalValueOptions, arg) || contains(kCommandValueOptions, arg);
    if (!takes_value && contains(kCommandFlags, arg)) {
      if (inline_value) return InvalidArgumentError("option " + arg + " takes no value");
      out.options.emplace_back(arg, "");
      continue;
    }
    if (!takes_value) {
      if (!contains(kGlobalFlags, arg)) {
        return InvalidArgumentError("unknown option '" + arg + "'" +
                                    didYouMean(arg, allOptionNames()) + "; see --help");
      }
      if (inline_value) return InvalidArgumentError("option " + arg + " takes no value");
      if (arg == "--json") out.global.json = true;
      if (arg == "--no-color") out.global.no_color = true;
      if (arg == "--help") out.help = true;
      if (arg == "--version") out.version = true;
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return InvalidArgumentError("option " + arg + " needs a value");
    }
    if (contains(kGlobalValueOptions, arg)) {
      PW_RETURN_IF_ERROR(applyGlobal(arg, value, out.global));
    } else {
      out.options.emplace_back(arg, value);
    }
  }
  return out;
}

std::string helpFor(const std::string& name) {
  const CommandInfo* info = findCommand(name);
  if (info == nullptr || info->help == nullptr) return programHelp();
  return withFooter(info->help);
}

// Checks the positional words of a command: exactly `count` after the command words.
Status expectWords(const std::vector<std::string>& words, size_t count, const std::string& usage) {
  if (words.size() < count) return InvalidArgumentError("usage: postwardenctl " + usage);
  if (words.size() > count) {
    return InvalidArgumentError("unexpected argument '" + words[count] +
                                "'; usage: postwardenctl " + usage);
  }
  return OkStatus();
}

Status rejectOptions(const Split& s, const std::string& command,
                     const std::vector<std::string>& allowed) {
  for (const auto& [name, value] : s.options) {
    if (!contains(allowed, name)) {
      return InvalidArgumentError(command + " does not take " + name + "; see 'postwardenctl " +
                                  s.words[0] + " --help'");
    }
  }
  return OkStatus();
}

Result<std::string> subcommand(const Split& s, const std::vector<std::string>& choices) {
  const std::string& group = s.words[0];
  std::string list;
  for (const std::string& c : choices) list += (list.empty() ? "" : "|") + c;
  if (s.words.size() < 2) {
    return InvalidArgumentError(group + " needs a subcommand: " + group + " " + list +
                                "; see 'postwardenctl " + group + " --help'");
  }
  const std::string& sub = s.words[1];
  if (!contains(choices, sub)) {
    return InvalidArgumentError("unknown subcommand '" + group + " " + sub + "'" +
                                didYouMean(sub, choices) + "; expected " + group + " " + list);
  }
  return sub;
}

Result<Command> parseAgents(const Split& s) {
  PW_RETURN_IF_ERROR(expectWords(s.words, 1, "agents [--selector k=v,...]"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "agents", {"--selector"}));
  ListAgentsCommand command;
  for (const auto& [name, value] : s.options) {
    PW_RETURN_IF_ERROR(parseLabels(value, name, command.selector));
  }
  return Command(command);
}

Result<Command> parseAgent(const Split& s) {
  PW_ASSIGN_OR_RETURN(std::string sub, subcommand(s, {"show", "revoke", "approve"}));
  PW_RETURN_IF_ERROR(expectWords(s.words, 3, "agent " + sub + " ID"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "agent " + sub, {}));
  const std::string& id = s.words[2];
  if (sub == "show") return Command(ShowAgentCommand{id});
  if (sub == "revoke") return Command(RevokeAgentCommand{id});
  return Command(ApproveAgentCommand{id});
}

Result<Command> parseDrift(const Split& s) {
  PW_RETURN_IF_ERROR(expectWords(s.words, 1, "drift"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "drift", {}));
  return Command(ListDriftCommand{});
}

Result<Command> parseStatus(const Split& s) {
  PW_RETURN_IF_ERROR(expectWords(s.words, 1, "status [--stale-after DURATION]"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "status", {"--stale-after"}));
  StatusCommand command;
  for (const auto& [name, value] : s.options) {
    PW_ASSIGN_OR_RETURN(int64_t seconds, parseDuration(value, name));
    command.stale_after = std::chrono::seconds(seconds);
  }
  return Command(command);
}

Result<AssignMode> parseMode(const std::string& text) {
  if (text == "enforce") return AssignMode::kEnforce;
  if (text == "detect") return AssignMode::kDetect;
  return InvalidArgumentError("--mode must be enforce or detect, not '" + text + "'");
}

Result<Command> parseBaseline(const Split& s) {
  PW_ASSIGN_OR_RETURN(std::string sub, subcommand(s, {"push", "list", "assign", "assignments",
                                                      "unassign", "delete"}));
  if (sub == "assignments") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 2, "baseline assignments"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "baseline assignments", {}));
    return Command(ListAssignmentsCommand{});
  }
  if (sub == "unassign") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 3, "baseline unassign ID"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "baseline unassign", {}));
    PW_ASSIGN_OR_RETURN(int64_t id, parseInteger(s.words[2], 1, std::numeric_limits<int64_t>::max(),
                                                 "assignment id"));
    return Command(UnassignCommand{id});
  }
  if (sub == "push") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 3, "baseline push FILE"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "baseline push", {}));
    return Command(PushBaselineCommand{s.words[2]});
  }
  if (sub == "list") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 2, "baseline list"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "baseline list", {}));
    return Command(ListBaselinesCommand{});
  }
  if (sub == "delete") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 3, "baseline delete NAME@DIGEST"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "baseline delete", {}));
    PW_ASSIGN_OR_RETURN(BaselineRef ref, parseBaselineRef(s.words[2]));
    return Command(DeleteBaselineCommand{std::move(ref)});
  }
  const std::string usage = "baseline assign NAME@DIGEST --mode enforce|detect [--selector k=v]";
  PW_RETURN_IF_ERROR(expectWords(s.words, 3, usage));
  PW_RETURN_IF_ERROR(rejectOptions(
      s, "baseline assign",
      {"--mode", "--selector", "--dry-run", "--yes", "--allow-no-match", "--repair-window"}));
  AssignBaselineCommand command;
  PW_ASSIGN_OR_RETURN(command.baseline, parseBaselineRef(s.words[2]));
  bool have_mode = false;
  bool yes = false;
  for (const auto& [name, value] : s.options) {
    if (name == "--dry-run") {
      command.dry_run = true;
    } else if (name == "--yes") {
      yes = true;
    } else if (name == "--allow-no-match") {
      command.allow_no_match = true;
    } else if (name == "--selector") {
      PW_RETURN_IF_ERROR(parseLabels(value, name, command.selector));
    } else if (name == "--repair-window") {
      command.repair_windows.push_back(value);  // the controller checks it
    } else {
      if (have_mode) return InvalidArgumentError("--mode given twice");
      PW_ASSIGN_OR_RETURN(command.mode, parseMode(value));
      have_mode = true;
    }
  }
  // No default on purpose: enforce changes live servers, so the operator says so.
  if (!have_mode) return InvalidArgumentError("baseline assign needs --mode enforce|detect");
  if (command.selector.empty() && !yes && !command.dry_run) {
    return InvalidArgumentError(
        "baseline assign without --selector reaches every agent, present and future: add --yes "
        "to mean it, or --dry-run to see whom it reaches now");
  }
  return Command(command);
}

Result<Command> parseToken(const Split& s) {
  PW_ASSIGN_OR_RETURN(std::string sub, subcommand(s, {"create", "list", "revoke"}));
  if (sub == "list") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 2, "token list"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "token list", {}));
    return Command(ListTokensCommand{});
  }
  if (sub == "revoke") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 3, "token revoke ID"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "token revoke", {}));
    return Command(RevokeTokenCommand{s.words[2]});
  }
  PW_RETURN_IF_ERROR(expectWords(
      s.words, 2, "token create [--labels k=v,...] [--ttl DURATION] [--uses N] [--agent ID]"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "token create", {"--labels", "--ttl", "--uses", "--agent"}));
  CreateTokenCommand command;
  std::set<std::string> seen;
  for (const auto& [name, value] : s.options) {
    if (name != "--labels" && !seen.insert(name).second) {
      return InvalidArgumentError(name + " given twice");
    }
    if (name == "--labels") {
      PW_RETURN_IF_ERROR(parseLabels(value, name, command.labels));
    } else if (name == "--ttl") {
      PW_ASSIGN_OR_RETURN(command.ttl_seconds, parseDuration(value, name));
    } else if (name == "--uses") {
      PW_ASSIGN_OR_RETURN(int64_t uses, parseInteger(value, 1, 1000000, name));
      command.uses = static_cast<int32_t>(uses);
    } else {
      command.agent_id = value;
    }
  }
  return Command(command);
}

Result<Command> parseRollout(const Split& s) {
  using Action = RolloutCommand::Action;
  PW_ASSIGN_OR_RETURN(std::string sub, subcommand(s, {"plan", "create", "list", "show", "approve",
                                                      "rollback", "pause", "resume"}));
  RolloutCommand command;
  if (sub == "plan" || sub == "create") {
    command.action = sub == "plan" ? Action::kPlan : Action::kCreate;
    const std::string usage = "rollout " + sub + " -f FILE";
    PW_RETURN_IF_ERROR(rejectOptions(s, "rollout " + sub, {"--file"}));
    for (const auto& [name, value] : s.options) {
      if (!command.file.empty()) return InvalidArgumentError("--file given twice");
      command.file = value;
    }
    // The file may also come as a plain word: `rollout plan FILE`.
    PW_RETURN_IF_ERROR(expectWords(s.words, command.file.empty() ? 3 : 2, usage));
    if (command.file.empty()) command.file = s.words[2];
    return Command(command);
  }
  if (sub == "list") {
    PW_RETURN_IF_ERROR(expectWords(s.words, 2, "rollout list"));
    PW_RETURN_IF_ERROR(rejectOptions(s, "rollout list", {}));
    command.action = Action::kList;
    return Command(command);
  }
  const bool rollback = sub == "rollback";
  const bool show = sub == "show";
  PW_RETURN_IF_ERROR(expectWords(s.words, 3,
                                 "rollout " + sub + " ID" +
                                     (rollback ? " [--reason TEXT]"
                                      : show   ? " [--watch]"
                                               : "")));
  PW_RETURN_IF_ERROR(rejectOptions(s, "rollout " + sub,
                                   rollback ? std::vector<std::string>{"--reason"}
                                   : show   ? std::vector<std::string>{"--watch"}
                                            : std::vector<std::string>{}));
  command.action = sub == "show"     ? Action::kShow
                   : rollback        ? Action::kRollback
                   : sub == "pause"  ? Action::kPause
                   : sub == "resume" ? Action::kResume
                                     : Action::kApprove;
  command.id = s.words[2];
  for (const auto& [name, value] : s.options) {
    if (name == "--watch") {
      command.watch = true;
    } else {
      command.reason = value;
    }
  }
  return Command(command);
}

Result<Command> parseAudit(const Split& s) {
  PW_RETURN_IF_ERROR(expectWords(s.words, 1, "audit [--rollout ID] [--since DURATION]"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "audit", {"--rollout", "--since"}));
  AuditCommand command;
  for (const auto& [name, value] : s.options) {
    if (name == "--rollout") {
      command.rollout_id = value;
    } else {
      PW_ASSIGN_OR_RETURN(command.since_seconds_ago, parseDuration(value, name));
    }
  }
  return Command(command);
}

Result<Command> parseSendCommand(const Split& s) {
  PW_ASSIGN_OR_RETURN(std::string sub, subcommand(s, {"apply", "verify"}));
  PW_RETURN_IF_ERROR(expectWords(s.words, 3, "command " + sub + " AGENT_ID"));
  PW_RETURN_IF_ERROR(rejectOptions(s, "command " + sub, {}));
  return Command(
      SendCommandCommand{sub == "apply" ? CommandKind::kApply : CommandKind::kVerify, s.words[2]});
}

}  // namespace

std::string programHelp() {
  return std::string(R"(Usage: postwardenctl [global options] COMMAND ...

Operates a fleet of Postfix servers through the Postwarden controller.

Commands:
  agents [--selector k=v,...]          list agents and their compliance
  agent show|revoke|approve ID         one agent's state; revoke it; allow a re-enrollment
  drift                                every parameter out of line (exit 2 when any)
  baseline push FILE                   upload a baseline
  baseline list                        list stored baseline versions
  baseline delete NAME@DIGEST         delete a stored version that no agent is assigned
  baseline assign NAME@DIGEST --mode enforce|detect [--selector k=v,...] [--dry-run]
  baseline assignments|unassign ID     list assignments; withdraw one
  token create|list|revoke             bootstrap tokens for enrolling agents
  command apply|verify AGENT_ID        ask an agent to act now
  status [--stale-after DURATION]      every unhealthy host and why (exit 2 when any)
  rollout plan|create -f FILE          a maintenance-window rollout: preview it, start it
  rollout list|show|approve|pause|resume|rollback
                                       follow, approve, hold or roll back rollouts
  audit [--rollout ID] [--since D]     operator actions and host transitions
  help [COMMAND]                       this help, or a command's

Run 'postwardenctl COMMAND --help' for a command's details.

)") + kGlobalHelp +
         "\n" + kExitHelp;
}

Result<Invocation> parseArguments(const std::vector<std::string>& args) {
  PW_ASSIGN_OR_RETURN(Split s, split(args));
  Invocation invocation{s.global, HelpCommand{}};
  if (s.version) {
    invocation.command = HelpCommand{versionLine("postwardenctl") + "\n"};
    return invocation;
  }
  if (s.words.empty()) {
    invocation.command = HelpCommand{programHelp(), /*usage_error=*/!s.help};
    if (!s.help && !s.options.empty()) {
      return InvalidArgumentError("option " + s.options.front().first +
                                  " needs a command; see --help");
    }
    return invocation;
  }
  const std::string& name = s.words[0];
  const CommandInfo* info = findCommand(name);
  if (info == nullptr) {
    return InvalidArgumentError("unknown command '" + name + "'" +
                                didYouMean(name, commandNames()) + "; see --help");
  }
  if (s.help) {
    invocation.command = HelpCommand{helpFor(name)};
    return invocation;
  }
  Result<Command> command = InvalidArgumentError("unreachable");
  if (name == "help") {
    if (s.words.size() > 1 && findCommand(s.words[1]) == nullptr) {
      return InvalidArgumentError("no help for '" + s.words[1] + "'" +
                                  didYouMean(s.words[1], commandNames()) + "; see --help");
    }
    command = Command(HelpCommand{s.words.size() > 1 ? helpFor(s.words[1]) : programHelp()});
  } else if (name == "agents") {
    command = parseAgents(s);
  } else if (name == "agent") {
    command = parseAgent(s);
  } else if (name == "drift") {
    command = parseDrift(s);
  } else if (name == "baseline") {
    command = parseBaseline(s);
  } else if (name == "token") {
    command = parseToken(s);
  } else if (name == "status") {
    command = parseStatus(s);
  } else if (name == "rollout") {
    command = parseRollout(s);
  } else if (name == "audit") {
    command = parseAudit(s);
  } else {
    command = parseSendCommand(s);
  }
  if (!command.ok()) return command.status();
  invocation.command = std::move(command).value();
  return invocation;
}

}  // namespace postwarden::controller::ctl
