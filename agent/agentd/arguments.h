// Command-line arguments of postwarden-agentd (`postwarden-agent enroll|run`), parsed into
// plain values, and the enrollment settings they resolve to over agent.yaml. Pure: no I/O.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent/daemon/agent_config.h"
#include "common/logging.h"
#include "common/status.h"

namespace postwarden::agent::agentd {

// `enroll`: each flag, when given.
struct EnrollFlags {
  std::optional<std::string> config;           // --config FILE
  std::optional<std::string> controller;       // --controller HOST:PORT
  std::optional<std::string> enroll_address;   // --enroll-address HOST:PORT
  std::optional<std::string> ca_file;          // --ca FILE
  std::optional<std::string> controller_name;  // --controller-name NAME
  std::optional<std::string> agent_id;         // --agent-id ID
  std::optional<std::string> state_dir;        // --state-dir DIR
  std::optional<std::string> token;            // --token TOKEN
  std::optional<std::string> token_file;       // --token-file FILE
};

// `run`.
struct RunFlags {
  std::string config = "/etc/postwarden/agent.yaml";  // --config FILE
};

// Exit status of a usage error (the error, then the usage on stderr); 0 ok, 1 error.
inline constexpr int kExitUsage = 2;

struct HelpRequest {};
struct VersionRequest {};

struct AgentdArguments {
  bool verbose = false;                     // -v/--verbose: debug logs, over the config's log_level
  LogFormat log_format = LogFormat::kText;  // --log-format text|json
  std::variant<HelpRequest, VersionRequest, EnrollFlags, RunFlags> command;
};

// argv without the program name. InvalidArgument with one sentence on bad usage (no command,
// an unknown command or option, an option without its value, a flag given twice, a
// --log-format other than text or json).
Result<AgentdArguments> parseArguments(const std::vector<std::string>& args);

// What `enroll` does, with the flags over the config file's values.
struct EnrollSettings {
  std::string enroll_address;  // default: the controller's host, its port + 1
  std::string ca_file;
  std::string controller_name;  // "" = the controller's host
  std::string agent_id;
  std::string state_dir;
  std::optional<std::string> token;       // given inline ...
  std::optional<std::string> token_file;  // ... or read from this file
};

// `config` is agent.yaml when --config was given; `host_name` the default agent id
// (lowercased). InvalidArgument when the controller, the CA or the token is missing, the
// controller's port is bad or the agent id is not a lowercase host name.
Result<EnrollSettings> resolveEnroll(const EnrollFlags& flags,
                                     const std::optional<daemon::AgentConfig>& config,
                                     const std::string& host_name);

std::string usage();

}  // namespace postwarden::agent::agentd
