// The postwardenctl command line parsed into plain values: global options (connection,
// timeout, output) and one command. Pure: no I/O, no environment, no proto types. Help and
// version requests parse into HelpCommand carrying the text to print.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "controller/ctl/ctl_config.h"
#include "controller/ctl/values.h"

namespace postwarden::controller::ctl {

struct GlobalOptions {
  std::optional<std::string> config_file;  // --config FILE
  ConnectionSettings flags;                // --controller, --controller-name, --ca, --cert, --key
  std::chrono::seconds timeout{10};        // --timeout SECONDS: deadline of every call
  bool json = false;                       // --json
  bool no_color = false;                   // --no-color
};

enum class AssignMode { kEnforce, kDetect };
enum class CommandKind { kApply, kVerify };

struct HelpCommand {
  std::string text;
  bool usage_error = false;  // no command given: the text goes to stderr, exit kExitUsage
};
struct ListAgentsCommand {
  Labels selector;
};
struct ShowAgentCommand {
  std::string id;
};
struct RevokeAgentCommand {
  std::string id;
};
struct ApproveAgentCommand {
  std::string id;
};
struct ListDriftCommand {};
struct PushBaselineCommand {
  std::string file;
};
struct ListBaselinesCommand {};
struct DeleteBaselineCommand {
  BaselineRef baseline;
};
struct StatusCommand {
  // An agent not seen for this long is stale: 3 heartbeat intervals (30 s by default).
  std::chrono::seconds stale_after{90};
};
struct AssignBaselineCommand {
  BaselineRef baseline;
  Labels selector;
  AssignMode mode = AssignMode::kDetect;
  bool dry_run = false;                     // --dry-run: whom it would reach; nothing stored
  bool allow_no_match = false;              // --allow-no-match: assign even if no agent matches now
  std::vector<std::string> repair_windows;  // --repair-window, repeatable
};
struct ListAssignmentsCommand {};
struct UnassignCommand {
  int64_t id = 0;
};
struct CreateTokenCommand {
  Labels labels;
  int64_t ttl_seconds = 3600;
  int32_t uses = 1;
  std::string agent_id;  // empty: any new identity
};
struct ListTokensCommand {};
struct RevokeTokenCommand {
  std::string id;
};
struct SendCommandCommand {
  CommandKind kind = CommandKind::kApply;
  std::string agent_id;
};

// rollout plan|create FILE, rollout list, rollout show|approve|rollback ID.
struct RolloutCommand {
  enum class Action { kPlan, kCreate, kList, kShow, kApprove, kRollback, kPause, kResume };
  Action action = Action::kList;
  std::string file;    // plan, create
  std::string id;      // show, approve, rollback
  std::string reason;  // rollback --reason
  bool watch = false;  // show --watch
};
struct AuditCommand {
  std::string rollout_id;         // --rollout ID; empty: every rollout
  int64_t since_seconds_ago = 0;  // --since DURATION; 0: from the start
};

using Command =
    std::variant<HelpCommand, ListAgentsCommand, ShowAgentCommand, RevokeAgentCommand,
                 ApproveAgentCommand, ListDriftCommand, PushBaselineCommand, ListBaselinesCommand,
                 AssignBaselineCommand, CreateTokenCommand, ListTokensCommand, RevokeTokenCommand,
                 SendCommandCommand, DeleteBaselineCommand, StatusCommand, RolloutCommand,
                 AuditCommand, ListAssignmentsCommand, UnassignCommand>;

struct Invocation {
  GlobalOptions global;
  Command command;
};

// Parses argv without the program name. Global options may come before or after the command
// words. InvalidArgument with one sentence (and a "did you mean" for a misspelt command or
// option) on bad usage.
Result<Invocation> parseArguments(const std::vector<std::string>& args);

// The text of `postwardenctl --help`.
std::string programHelp();

}  // namespace postwarden::controller::ctl
