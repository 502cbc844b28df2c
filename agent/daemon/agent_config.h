// AgentConfig: the settings of the long-running agent daemon, read from one YAML file
// (/etc/postwarden/agent.yaml; format in docs/agent-config.md). The fields mirror the flags of
// `postwarden-agent apply`. parseAgentConfig is pure; every problem is one InvalidArgument
// "FILE:LINE:COL: message", so a bad file is rejected whole and never half-applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/service/service_control.h"
#include "common/status.h"

namespace postwarden::agent::daemon {

// How Postfix is reloaded and restarted: `service:` with strategy (postfix|systemd|command),
// systemd_unit, reload_command and restart_command, as apply's --service flags.
using ServiceStrategy = service::Strategy;
using ServiceConfig = service::ServiceSettings;

// How the live server is probed after a change (apply's --probe-* and --role flags).
struct ProbeConfig {
  std::optional<std::string> address;  // address; unset: master.cf's listeners on loopback
  std::optional<uint16_t> port;        // port; unset: the listener's port
  std::multimap<std::string, uint16_t> role_ports;  // roles: {smtp: 2525, submission: [587]}
  std::optional<std::string> login;                 // login (SASL user), with password_file
  std::optional<std::string> password_file;         // password_file (absolute), with login
  std::optional<std::string> mail_to;               // mail_to; needs login
  std::chrono::milliseconds timeout{5000};          // timeout, per probe
};

struct AgentConfig {
  std::string controller_host;  // controller: HOST:PORT (required), or the first of controllers
  uint16_t controller_port = 0;
  // Every controller address, HOST:PORT, in the file's order: `controller: A` (one) or
  // `controllers: [A, B]` (replicas; the link fails over in turn). Never empty once parsed.
  std::vector<std::string> controllers;
  std::string controller_name;  // controller_name; default: controller_host
  std::string ca_file;          // ca_file (required), absolute
  std::string state_dir = "/var/lib/postwarden";
  std::string agent_id;  // agent_id; default: the host name, lowercased
  std::string postfix_dir = "/etc/postfix";
  // mail_log: the mail log a rollout job's soak counts lines of (agent/health). Unset:
  // Postfix's maillog_file when set, else /var/log/mail.log.
  std::optional<std::string> mail_log;
  ServiceConfig service;
  ProbeConfig probe;
  std::map<std::string, std::string> labels;
  std::chrono::milliseconds check_interval{60000};
  std::chrono::milliseconds splay{6000};  // default: check_interval / 10
  std::chrono::milliseconds heartbeat_interval{30000};
  std::chrono::milliseconds verify_deadline{20000};
  std::chrono::milliseconds command_timeout{60000};
  size_t outbox_limit = 10000;
  // backup_keep: how many backups of earlier changes STATE/backups keeps (applier/backups.h).
  int backup_keep = 20;
  std::string log_level = "info";  // trace|debug|info|warn|error|critical|off
  // metrics_textfile: node_exporter textfile-collector file (*.prom) the daemon replaces
  // after every check (daemon_metrics.h); empty: none.
  std::string metrics_textfile;
};

// Parses the text of a config file. `path` names the file in error messages, and relative
// paths in the file (ca_file, state_dir, postfix_dir, probe.password_file) are resolved against
// its directory. `host_name` is the default agent_id (lowercased) when the file sets none.
// InvalidArgument "PATH:LINE:COL: message" for malformed YAML, an unknown key (with a "did you
// mean"), a duplicate key, a wrong type, a missing required key, a bad duration, port or
// agent_id, a control character in a string, or a bad label. Pure and thread-safe.
Result<AgentConfig> parseAgentConfig(std::string_view text, const std::string& path,
                                     const std::string& host_name);

// Reads `path` and parses it with gethostname() as the default agent_id; a relative `path` is
// made absolute first (so relative paths inside do not depend on a later chdir). NotFound when
// the file does not exist, PermissionDenied, or parseAgentConfig's errors.
Result<AgentConfig> loadAgentConfig(const std::string& path);

// [a-z0-9][a-z0-9.-]{0,252}.
bool isValidAgentId(std::string_view id);

}  // namespace postwarden::agent::daemon
