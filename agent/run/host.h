// What an agent run needs to know about this host besides the baseline: where Postfix's
// files and the agent's state are, how Postfix is reloaded, and how its listeners are probed.
// `postwarden-agent` fills it from its flags, the daemon from agent.yaml. Plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/service/service_control.h"

namespace postwarden::agent::run {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// How the live service is probed (the password is read from its file at each run: it may be
// rotated between runs).
struct ProbeLogin {
  std::string user;
  std::string password_file;
  std::optional<std::string> mail_to;  // a test message to this address after the login
};

struct HostSettings {
  std::string postfix_dir = "/etc/postfix";
  std::string state_dir = "/var/lib/postwarden";
  // Ports of the roles a baseline names, e.g. smtp -> 2525 (--role, agent.yaml probe.roles).
  std::multimap<std::string, std::string> role_ports;
  service::ServiceSettings service;
  // Every probe on this address; unset: the listeners master.cf has, on loopback.
  std::optional<HostPort> probe_address;
  std::optional<ProbeLogin> probe_login;
  std::chrono::milliseconds probe_timeout{5000};  // per probe
  std::chrono::milliseconds verify_deadline{20000};
  std::chrono::milliseconds command_timeout{60000};
  int backup_keep = 20;  // backups of earlier changes kept in STATE/backups
};

}  // namespace postwarden::agent::run
