// Over 400 lines on purpose: every agent.yaml key with its check and its FILE:LINE:COL
// message, in the one place the daemon's settings are read.
#include "agent/daemon/agent_config.h"

#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "common/duration.h"
#include "common/os/posix_file_system.h"
#include "common/spelling.h"
#include "common/yaml/single_document.h"
#include "common/yaml/strict_map.h"

namespace postwarden::agent::daemon {
namespace {

// An agent config is a few dozen lines; bounding the input keeps the parser's time and memory
// small whatever the file holds.
constexpr size_t kMaxConfigBytes = 1 << 20;
constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24 * 7);
constexpr uint64_t kMaxOutboxLimit = 1000000;
constexpr size_t kMaxLabels = 64;

constexpr std::string_view kTopKeys[] = {"controller",
                                         "controllers",
                                         "controller_name",
                                         "ca_file",
                                         "state_dir",
                                         "agent_id",
                                         "postfix_dir",
                                         "service",
                                         "probe",
                                         "labels",
                                         "check_interval",
                                         "splay",
                                         "heartbeat_interval",
                                         "verify_deadline",
                                         "command_timeout",
                                         "outbox_limit",
                                         "log_level",
                                         "mail_log",
                                         "metrics_textfile",
                                         "backup_keep"};
constexpr std::string_view kServiceKeys[] = {"strategy", "systemd_unit", "reload_command",
                                             "restart_command"};
constexpr std::string_view kProbeKeys[] = {"address",       "port",    "roles",  "login",
                                           "password_file", "mail_to", "timeout"};
constexpr std::string_view kStrategies[] = {"postfix", "systemd", "command"};
// The service roles apply's --role accepts (planner::kServiceRoles); repeated here so that
// this module does not depend on the planner for three words.
constexpr std::string_view kRoles[] = {"smtp", "submission", "submissions"};
// spdlog's level names.
constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};

using Location = yaml::Position;
using yaml::describe;
using yaml::joinKeys;

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal digits to a number no larger than `max`; nullopt on anything else or overflow.
std::optional<uint64_t> parseUnsigned(std::string_view s, uint64_t max) {
  if (!isDigits(s)) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool isLabelText(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool hasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

class Parser {
 public:
  Parser(std::string file, std::string host_name)
      : file_(std::move(file)), host_name_(std::move(host_name)) {}

  Result<AgentConfig> parse(std::string_view text);

 private:
  Location at(const YAML::Mark& mark) const { return yaml::positionOf(mark); }
  Location at(const YAML::Node& node) const { return at(node.Mark()); }

  Status errorAt(const Location& where, const std::string& what) const {
    return yaml::errorAt(file_, where, what);
  }

  Status forEachKey(const YAML::Node& node, const Location& where, const std::string& context,
                    std::span<const std::string_view> allowed,
                    const yaml::KeyHandler& handle) const {
    return yaml::forEachKey(file_, node, where, context, allowed, handle);
  }

  // A non-empty scalar without control characters.
  Result<std::string> text(const YAML::Node& value, const Location& key_where,
                           const std::string& what) const;
  Result<std::string> path(const YAML::Node& value, const Location& key_where,
                           const std::string& what) const;
  Result<std::chrono::milliseconds> duration(const YAML::Node& value, const Location& key_where,
                                             const std::string& what, bool allow_zero) const;
  Result<uint16_t> port(const YAML::Node& value, const Location& key_where,
                        const std::string& what) const;
  Result<std::vector<std::string>> argv(const YAML::Node& value, const Location& key_where,
                                        const std::string& what) const;
  // One HOST:PORT, appended to config.controllers (the first also sets controller_host/port).
  Status controller(const YAML::Node& value, const Location& key_where, AgentConfig& config,
                    const std::string& what = "'controller'") const;
  Status controllers(const YAML::Node& value, const Location& key_where, AgentConfig& config) const;
  Status service(const YAML::Node& value, const Location& key_where, ServiceConfig& out) const;
  Status probe(const YAML::Node& value, const Location& key_where, ProbeConfig& out) const;
  Status roles(const YAML::Node& value, const Location& key_where, ProbeConfig& out) const;
  Status labels(const YAML::Node& value, const Location& key_where, AgentConfig& config) const;

  std::string file_;
  std::string host_name_;
};

Result<std::string> Parser::text(const YAML::Node& value, const Location& key_where,
                                 const std::string& what) const {
  if (value.IsNull()) return errorAt(key_where, what + " has no value");
  if (!value.IsScalar()) {
    return errorAt(at(value), what + " must be text, not " + describe(value));
  }
  const std::string& s = value.Scalar();
  if (s.find_first_not_of(" \t") == std::string::npos) {
    return errorAt(at(value), what + " must not be empty");
  }
  if (hasControlCharacter(s)) {
    return errorAt(at(value), what + " must not contain control characters or line breaks");
  }
  return s;
}

Result<std::string> Parser::path(const YAML::Node& value, const Location& key_where,
                                 const std::string& what) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, key_where, what));
  std::filesystem::path p(s);
  if (p.is_absolute()) return p.lexically_normal().string();
  const std::filesystem::path base = std::filesystem::path(file_).parent_path();
  if (base.empty()) return p.lexically_normal().string();
  return (base / p).lexically_normal().string();
}

Result<std::chrono::milliseconds> Parser::duration(const YAML::Node& value,
                                                   const Location& key_where,
                                                   const std::string& what, bool allow_zero) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, key_where, what));
  Result<std::chrono::milliseconds> parsed = postwarden::parseDuration(s, kMaxDuration);
  if (!parsed.ok()) return errorAt(at(value), what + ": " + parsed.status().message());
  if (!allow_zero && parsed->count() == 0) {
    return errorAt(at(value), what + " must be longer than 0");
  }
  return *parsed;
}

Result<uint16_t> Parser::port(const YAML::Node& value, const Location& key_where,
                              const std::string& what) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, key_where, what));
  std::optional<uint64_t> n = parseUnsigned(s, 65535);
  if (!n || *n == 0) {
    return errorAt(at(value), what + " must be a port number from 1 to 65535, not '" + s + "'");
  }
  return static_cast<uint16_t>(*n);
}

Result<std::vector<std::string>> Parser::argv(const YAML::Node& value, const Location& key_where,
                                              const std::string& what) const {
  const std::string expected = what + " must be a list of words (the argv, run without a shell)";
  if (value.IsNull()) return errorAt(key_where, expected + ", not nothing");
  if (!value.IsSequence()) {
    std::string message = expected + ", not " + describe(value);
    if (value.IsScalar()) message += "; write [/usr/sbin/postfix, reload], not a command line";
    return errorAt(at(value), message);
  }
  std::vector<std::string> out;
  for (const YAML::Node& item : value) {
    PW_ASSIGN_OR_RETURN(std::string word, text(item, at(item), "a word of " + what));
    out.push_back(std::move(word));
  }
  if (out.empty()) return errorAt(at(value), expected + ", not an empty list");
  return out;
}

Status Parser::controller(const YAML::Node& value, const Location& key_where, AgentConfig& config,
                          const std::string& what) const {
  PW_ASSIGN_OR_RETURN(std::string s, text(value, key_where, what));
  const Status bad = errorAt(at(value), what +
                                            " must be HOST:PORT (for example "
                                            "controller.example.org:7443 or [2001:db8::1]:7443), "
                                            "not '" +
                                            s + "'");
  std::string host;
  std::string port_text;
  if (s.starts_with("[")) {
    const size_t close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad;
    host = s.substr(1, close - 1);
    port_text = s.substr(close + 2);
  } else {
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos) return bad;
    host = s.substr(0, colon);
    port_text = s.substr(colon + 1);
    if (host.find(':') != std::string::npos) return bad;  // a bare IPv6 address needs []
  }
  if (host.empty() || host.find_first_of(" \t[]") != std::string::npos) return bad;
  std::optional<uint64_t> n = parseUnsigned(port_text, 65535);
  if (!n || *n == 0) return bad;
  if (config.controllers.empty()) {
    config.controller_host = host;
    config.controller_port = static_cast<uint16_t>(*n);
  }
  config.controllers.push_back(s);
  return OkStatus();
}

Status Parser::controllers(const YAML::Node& value, const Location& key_where,
                           AgentConfig& config) const {
  const std::string expected =
      "'controllers' must be a list of HOST:PORT (the controller replicas, tried in turn)";
  if (value.IsNull()) return errorAt(key_where, expected + ", not nothing");
  if (!value.IsSequence()) return errorAt(at(value), expected + ", not " + describe(value));
  if (value.size() == 0) return errorAt(at(value), expected + ", not an empty list");
  for (const YAML::Node& item : value) {
    PW_RETURN_IF_ERROR(controller(item, at(item), config, "an entry of 'controllers'"));
  }
  return OkStatus();
}

Status Parser::service(const YAML::Node& value, const Location& key_where,
                       ServiceConfig& out) const {
  if (value.IsNull()) return OkStatus();
  std::optional<Location> unit_where, reload_where, restart_where;
  PW_RETURN_IF_ERROR(forEachKey(
      value, key_where, "'service'", kServiceKeys,
      [&](const std::string& key, const Location& where, const YAML::Node& v) -> Status {
        if (key == "strategy") {
          PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'strategy'"));
          if (s == "postfix") {
            out.strategy = ServiceStrategy::kPostfix;
          } else if (s == "systemd") {
            out.strategy = ServiceStrategy::kSystemd;
          } else if (s == "command") {
            out.strategy = ServiceStrategy::kCommand;
          } else {
            return errorAt(at(v), "'strategy' must be postfix, systemd or command, not '" + s +
                                      "'" + didYouMean(s, kStrategies));
          }
        } else if (key == "systemd_unit") {
          PW_ASSIGN_OR_RETURN(out.systemd_unit, text(v, where, "'systemd_unit'"));
          unit_where = where;
        } else if (key == "reload_command") {
          PW_ASSIGN_OR_RETURN(out.reload_command, argv(v, where, "'reload_command'"));
          reload_where = where;
        } else {
          PW_ASSIGN_OR_RETURN(out.restart_command, argv(v, where, "'restart_command'"));
          restart_where = where;
        }
        return OkStatus();
      }));
  if (unit_where && out.strategy != ServiceStrategy::kSystemd) {
    return errorAt(*unit_where, "'systemd_unit' needs strategy: systemd");
  }
  if (out.strategy != ServiceStrategy::kCommand) {
    if (reload_where) return errorAt(*reload_where, "'reload_command' needs strategy: command");
    if (restart_where) return errorAt(*restart_where, "'restart_command' needs strategy: command");
  } else if (!reload_where) {
    return errorAt(at(value), "strategy: command needs 'reload_command'");
  }
  return OkStatus();
}

Status Parser::roles(const YAML::Node& value, const Location& key_where, ProbeConfig& out) const {
  if (value.IsNull()) return OkStatus();
  if (!value.IsMap()) {
    return errorAt(at(value), "'roles' must be a map of role: port (such as {smtp: 2525}), not " +
                                  describe(value));
  }
  std::map<std::string, Location, std::less<>> seen;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node ports = it->second;
    const Location where = at(key);
    if (!key.IsScalar()) {
      return errorAt(where, "roles in 'roles' must be text, not " + describe(key));
    }
    const std::string& role = key.Scalar();
    if (std::find(std::begin(kRoles), std::end(kRoles), role) == std::end(kRoles)) {
      return errorAt(where, "unknown role '" + role + "' in 'roles'" + didYouMean(role, kRoles) +
                                "; roles: " + joinKeys(kRoles));
    }
    if (auto [first, inserted] = seen.emplace(role, where); !inserted) {
      return errorAt(where, "duplicate role '" + role + "' in 'roles' (first at " +
                                yaml::toString(first->second) +
                                "); list several ports as [587, 2587]");
    }
    const std::string what = "the port of role '" + role + "'";
    if (ports.IsSequence()) {
      if (ports.size() == 0) return errorAt(at(ports), what + " must not be an empty list");
      for (const YAML::Node& item : ports) {
        PW_ASSIGN_OR_RETURN(uint16_t p, port(item, at(item), what));
        out.role_ports.emplace(role, p);
      }
    } else {
      PW_ASSIGN_OR_RETURN(uint16_t p, port(ports, where, what));
      out.role_ports.emplace(role, p);
    }
  }
  (void)key_where;
  return OkStatus();
}

Status Parser::probe(const YAML::Node& value, const Location& key_where, ProbeConfig& out) const {
  if (value.IsNull()) return OkStatus();
  std::optional<Location> login_where, password_where, mail_where;
  PW_RETURN_IF_ERROR(
      forEachKey(value, key_where, "'probe'", kProbeKeys,
                 [&](const std::string& key, const Location& where, const YAML::Node& v) -> Status {
                   if (key == "address") {
                     PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'address'"));
                     out.address = std::move(s);
                   } else if (key == "port") {
                     PW_ASSIGN_OR_RETURN(uint16_t p, port(v, where, "'port'"));
                     out.port = p;
                   } else if (key == "roles") {
                     PW_RETURN_IF_ERROR(roles(v, where, out));
                   } else if (key == "login") {
                     PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'login'"));
                     out.login = std::move(s);
                     login_where = where;
                   } else if (key == "password_file") {
                     PW_ASSIGN_OR_RETURN(std::string s, path(v, where, "'password_file'"));
                     out.password_file = std::move(s);
                     password_where = where;
                   } else if (key == "mail_to") {
                     PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'mail_to'"));
                     out.mail_to = std::move(s);
                     mail_where = where;
                   } else {
                     PW_ASSIGN_OR_RETURN(out.timeout, duration(v, where, "'timeout'", false));
                   }
                   return OkStatus();
                 }));
  if (login_where && !password_where) {
    return errorAt(*login_where, "'login' needs 'password_file'");
  }
  if (password_where && !login_where) {
    return errorAt(*password_where, "'password_file' needs 'login'");
  }
  if (mail_where && !login_where) {
    return errorAt(*mail_where,
                   "'mail_to' needs 'login' (the test message is sent as an authenticated client)");
  }
  return OkStatus();
}

Status Parser::labels(const YAML::Node& value, const Location& key_where,
                      AgentConfig& config) const {
  if (value.IsNull()) return OkStatus();
  if (!value.IsMap()) {
    return errorAt(at(value), "'labels' must be a map of name: value (such as {site: fra1}), not " +
                                  describe(value));
  }
  std::map<std::string, Location, std::less<>> seen;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node v = it->second;
    const Location where = at(key);
    if (!key.IsScalar()) {
      return errorAt(where, "label names must be text, not " + describe(key));
    }
    const std::string& name = key.Scalar();
    if (!isLabelText(name)) {
      return errorAt(where, "label name '" + name +
                                "' must be 1 to 63 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    if (auto [first, inserted] = seen.emplace(name, where); !inserted) {
      return errorAt(
          where, "duplicate label '" + name + "' (first at " + yaml::toString(first->second) + ")");
    }
    if (v.IsNull()) return errorAt(where, "label '" + name + "' has no value");
    if (!v.IsScalar()) {
      return errorAt(at(v), "the value of label '" + name + "' must be text, not " + describe(v));
    }
    if (!isLabelText(v.Scalar())) {
      return errorAt(at(v), "the value of label '" + name +
                                "' must be 1 to 63 characters of A-Z, a-z, 0-9, '.', '_' and "
                                "'-'");
    }
    config.labels.emplace(name, v.Scalar());
  }
  if (config.labels.size() > kMaxLabels) {
    return errorAt(at(value), "at most " + std::to_string(kMaxLabels) + " labels are allowed");
  }
  (void)key_where;
  return OkStatus();
}

Result<AgentConfig> Parser::parse(std::string_view yaml_text) {
  const Location start;
  if (yaml_text.size() > kMaxConfigBytes) {
    return errorAt(
        start, "the file is " + std::to_string(yaml_text.size()) + " bytes; the limit is 1 MiB");
  }
  const std::string yaml(yaml_text);
  std::variant<YAML::Node, yaml::DocumentError> loaded = yaml::loadSingleDocument(yaml);
  if (const auto* error = std::get_if<yaml::DocumentError>(&loaded)) {
    return errorAt(at(error->mark), error->message == "found a second document"
                                        ? "a config file holds one YAML document; found another"
                                        : error->message);
  }
  const YAML::Node root = std::get<YAML::Node>(loaded);
  if (root.IsNull()) {
    return errorAt(start, "empty config: expected a map with at least 'controller' and 'ca_file'");
  }

  AgentConfig config;
  bool has_controller = false, has_ca_file = false, has_splay = false, has_agent_id = false;
  PW_RETURN_IF_ERROR(forEachKey(
      root, at(root), "the agent config", kTopKeys,
      [&](const std::string& key, const Location& where, const YAML::Node& v) -> Status {
        if (key == "controller" || key == "controllers") {
          if (has_controller) {
            return errorAt(where, "give either 'controller' or 'controllers', not both");
          }
          PW_RETURN_IF_ERROR(key == "controller" ? controller(v, where, config)
                                                 : controllers(v, where, config));
          has_controller = true;
        } else if (key == "controller_name") {
          PW_ASSIGN_OR_RETURN(config.controller_name, text(v, where, "'controller_name'"));
        } else if (key == "ca_file") {
          PW_ASSIGN_OR_RETURN(config.ca_file, path(v, where, "'ca_file'"));
          has_ca_file = true;
        } else if (key == "state_dir") {
          PW_ASSIGN_OR_RETURN(config.state_dir, path(v, where, "'state_dir'"));
        } else if (key == "agent_id") {
          PW_ASSIGN_OR_RETURN(config.agent_id, text(v, where, "'agent_id'"));
          if (!isValidAgentId(config.agent_id)) {
            return errorAt(at(v), "agent_id '" + config.agent_id +
                                      "' must match [a-z0-9][a-z0-9.-]{0,252} (lowercase "
                                      "letters, digits, '.' and '-')");
          }
          has_agent_id = true;
        } else if (key == "postfix_dir") {
          PW_ASSIGN_OR_RETURN(config.postfix_dir, path(v, where, "'postfix_dir'"));
        } else if (key == "mail_log") {
          PW_ASSIGN_OR_RETURN(config.mail_log, path(v, where, "'mail_log'"));
        } else if (key == "service") {
          PW_RETURN_IF_ERROR(service(v, where, config.service));
        } else if (key == "probe") {
          PW_RETURN_IF_ERROR(probe(v, where, config.probe));
        } else if (key == "labels") {
          PW_RETURN_IF_ERROR(labels(v, where, config));
        } else if (key == "check_interval") {
          PW_ASSIGN_OR_RETURN(config.check_interval, duration(v, where, "'check_interval'", false));
        } else if (key == "splay") {
          PW_ASSIGN_OR_RETURN(config.splay, duration(v, where, "'splay'", true));
          has_splay = true;
        } else if (key == "heartbeat_interval") {
          PW_ASSIGN_OR_RETURN(config.heartbeat_interval,
                              duration(v, where, "'heartbeat_interval'", false));
        } else if (key == "verify_deadline") {
          PW_ASSIGN_OR_RETURN(config.verify_deadline,
                              duration(v, where, "'verify_deadline'", false));
        } else if (key == "command_timeout") {
          PW_ASSIGN_OR_RETURN(config.command_timeout,
                              duration(v, where, "'command_timeout'", false));
        } else if (key == "backup_keep") {
          PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'backup_keep'"));
          std::optional<uint64_t> n = parseUnsigned(s, 100000);
          if (!n || *n == 0) {
            return errorAt(at(v),
                           "'backup_keep' must be a number from 1 to 100000, not '" + s + "'");
          }
          config.backup_keep = static_cast<int>(*n);
        } else if (key == "outbox_limit") {
          PW_ASSIGN_OR_RETURN(std::string s, text(v, where, "'outbox_limit'"));
          std::optional<uint64_t> n = parseUnsigned(s, kMaxOutboxLimit);
          if (!n || *n == 0) {
            return errorAt(at(v), "'outbox_limit' must be a number from 1 to " +
                                      std::to_string(kMaxOutboxLimit) + ", not '" + s + "'");
          }
          config.outbox_limit = static_cast<size_t>(*n);
        } else if (key == "metrics_textfile") {
          PW_ASSIGN_OR_RETURN(config.metrics_textfile, path(v, where, "'metrics_textfile'"));
          if (!config.metrics_textfile.ends_with(".prom")) {
            return errorAt(at(v),
                           "'metrics_textfile' must end in .prom (node_exporter's "
                           "textfile collector reads only those)");
          }
        } else {  // log_level
          PW_ASSIGN_OR_RETURN(config.log_level, text(v, where, "'log_level'"));
          if (std::find(std::begin(kLogLevels), std::end(kLogLevels), config.log_level) ==
              std::end(kLogLevels)) {
            return errorAt(at(v), "'log_level' must be one of " + joinKeys(kLogLevels) + ", not '" +
                                      config.log_level + "'" +
                                      didYouMean(config.log_level, kLogLevels));
          }
        }
        return OkStatus();
      }));
  if (!has_controller) {
    return errorAt(at(root), "missing required key 'controller' (HOST:PORT of the controller)");
  }
  if (!has_ca_file) {
    return errorAt(at(root), "missing required key 'ca_file' (the controller's CA certificate)");
  }
  if (config.controller_name.empty()) config.controller_name = config.controller_host;
  if (!has_splay) config.splay = config.check_interval / 10;
  if (!has_agent_id) {
    std::string id = host_name_;
    std::transform(id.begin(), id.end(), id.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (!isValidAgentId(id)) {
      return errorAt(at(root), "agent_id is not set and the host name '" + host_name_ +
                                   "' is not a valid agent id ([a-z0-9][a-z0-9.-]{0,252}); set "
                                   "agent_id");
    }
    config.agent_id = std::move(id);
  }
  return config;
}

}  // namespace

bool isValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > 253) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(id.front())) return false;
  return std::all_of(id.begin(), id.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '-'; });
}

Result<AgentConfig> parseAgentConfig(std::string_view text, const std::string& path,
                                     const std::string& host_name) {
  // yaml-cpp reports errors by throwing, also from node accessors; nothing may escape this
  // module (STYLE.md §3), so the whole walk runs under one handler.
  try {
    return Parser(path, host_name).parse(text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    const int column = e.mark.is_null() ? 1 : e.mark.column + 1;
    return InvalidArgumentError(path + ":" + std::to_string(line) + ":" + std::to_string(column) +
                                ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(path + ":1:1: cannot load the agent config: " + e.what());
  }
}

Result<AgentConfig> loadAgentConfig(const std::string& path) {
  std::string absolute = path;
  if (!path.empty() && path.front() != '/') {
    std::error_code ec;
    std::filesystem::path p = std::filesystem::absolute(path, ec);
    if (ec) return ErrnoToStatus(ec.value(), "resolving '" + path + "'");
    absolute = p.lexically_normal().string();
  }
  os::PosixFileSystem fs;
  PW_ASSIGN_OR_RETURN(std::string text, fs.readFile(absolute));
  char host[HOST_NAME_MAX + 1] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) {
    return ErrnoToStatus(errno, "reading the host name");
  }
  return parseAgentConfig(text, absolute, host);
}

}  // namespace postwarden::agent::daemon
