#include "agent/agentd/arguments.h"

#include <charconv>
#include <map>

namespace postwarden::agent::agentd {
namespace {

using Flag = std::optional<std::string> EnrollFlags::*;

const std::map<std::string, Flag, std::less<>> kEnrollFlags = {
    {"--config", &EnrollFlags::config},
    {"--controller", &EnrollFlags::controller},
    {"--enroll-address", &EnrollFlags::enroll_address},
    {"--ca", &EnrollFlags::ca_file},
    {"--controller-name", &EnrollFlags::controller_name},
    {"--agent-id", &EnrollFlags::agent_id},
    {"--state-dir", &EnrollFlags::state_dir},
    {"--token", &EnrollFlags::token},
    {"--token-file", &EnrollFlags::token_file},
};

// The options of one command: each "--name VALUE" once.
Result<std::map<std::string, std::string>> optionValues(const std::vector<std::string>& args,
                                                        const std::string& command, auto known) {
  std::map<std::string, std::string> values;
  for (size_t i = 0; i < args.size(); i += 2) {
    const std::string& option = args[i];
    if (!known(option)) {
      return InvalidArgumentError("unknown option " + option + " for " + command + " (see --help)");
    }
    if (i + 1 >= args.size()) return InvalidArgumentError(option + " needs a value");
    if (!values.emplace(option, args[i + 1]).second) {
      return InvalidArgumentError(option + " is given twice");
    }
  }
  return values;
}

Result<EnrollFlags> parseEnroll(const std::vector<std::string>& args) {
  auto known = [](const std::string& option) { return kEnrollFlags.contains(option); };
  PW_ASSIGN_OR_RETURN(auto values, optionValues(args, "enroll", known));
  EnrollFlags flags;
  for (const auto& [option, value] : values) flags.*(kEnrollFlags.find(option)->second) = value;
  return flags;
}

Result<RunFlags> parseRun(const std::vector<std::string>& args) {
  auto known = [](const std::string& option) { return option == "--config"; };
  PW_ASSIGN_OR_RETURN(auto values, optionValues(args, "run", known));
  RunFlags flags;
  if (values.contains("--config")) flags.config = values["--config"];
  return flags;
}

// "HOST:PORT" -> "HOST:PORT+1", the enrollment listener's default address.
Result<std::string> enrollAddressFor(const std::string& controller) {
  const size_t colon = controller.rfind(':');
  int port = 0;
  if (colon != std::string::npos) {
    const char* end = controller.data() + controller.size();
    auto [stop, error] = std::from_chars(controller.data() + colon + 1, end, port);
    if (error != std::errc() || stop != end) port = 0;
  }
  if (port <= 0 || port >= 65535) {
    return InvalidArgumentError("bad --controller '" + controller + "': HOST:PORT expected");
  }
  return controller.substr(0, colon + 1) + std::to_string(port + 1);
}

}  // namespace

Result<AgentdArguments> parseArguments(const std::vector<std::string>& args) {
  AgentdArguments parsed;
  std::vector<std::string> rest;
  std::vector<std::string> options = args;
  PW_ASSIGN_OR_RETURN(std::optional<LogFormat> log_format, takeLogFormatOption(options));
  parsed.log_format = log_format.value_or(LogFormat::kText);
  for (const std::string& arg : options) {
    if (arg == "-v" || arg == "--verbose") {
      parsed.verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      parsed.command = HelpRequest{};
      return parsed;
    } else if (arg == "--version") {
      parsed.command = VersionRequest{};
      return parsed;
    } else {
      rest.push_back(arg);
    }
  }
  if (rest.empty()) return InvalidArgumentError("a command is required: enroll or run");
  const std::string command = rest.front();
  rest.erase(rest.begin());
  if (command == "enroll") {
    PW_ASSIGN_OR_RETURN(parsed.command, parseEnroll(rest));
  } else if (command == "run") {
    PW_ASSIGN_OR_RETURN(parsed.command, parseRun(rest));
  } else {
    return InvalidArgumentError("unknown command '" + command + "' (enroll or run)");
  }
  return parsed;
}

Result<EnrollSettings> resolveEnroll(const EnrollFlags& flags,
                                     const std::optional<daemon::AgentConfig>& config,
                                     const std::string& host_name) {
  EnrollSettings settings{.state_dir = "/var/lib/postwarden"};
  std::string controller;
  if (config) {
    controller = config->controller_host + ":" + std::to_string(config->controller_port);
    settings.ca_file = config->ca_file;
    settings.controller_name = config->controller_name;
    settings.agent_id = config->agent_id;
    settings.state_dir = config->state_dir;
  } else {
    settings.agent_id = host_name;
    for (char& c : settings.agent_id) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  controller = flags.controller.value_or(controller);
  settings.ca_file = flags.ca_file.value_or(settings.ca_file);
  settings.controller_name = flags.controller_name.value_or(settings.controller_name);
  settings.agent_id = flags.agent_id.value_or(settings.agent_id);
  settings.state_dir = flags.state_dir.value_or(settings.state_dir);
  if (controller.empty()) return InvalidArgumentError("--controller is required");
  if (settings.ca_file.empty()) return InvalidArgumentError("--ca is required");
  if (!daemon::isValidAgentId(settings.agent_id)) {
    return InvalidArgumentError("agent id '" + settings.agent_id +
                                "' is not a lowercase host name (use --agent-id)");
  }
  if (!flags.token && !flags.token_file) {
    return InvalidArgumentError("--token or --token-file is required");
  }
  if (flags.token && flags.token_file) {
    return InvalidArgumentError("--token and --token-file exclude each other");
  }
  settings.token = flags.token;
  settings.token_file = flags.token_file;
  if (flags.enroll_address) {
    settings.enroll_address = *flags.enroll_address;
  } else {
    PW_ASSIGN_OR_RETURN(settings.enroll_address, enrollAddressFor(controller));
  }
  return settings;
}

std::string usage() {
  return R"(usage: postwarden-agent enroll|run [OPTIONS]

  enroll  Join a controller: generate this host's key (it never leaves the host), send a
          certificate request with a bootstrap token, store the certificate and key in
          STATE_DIR/agent.pem (0600).
            --config FILE            take controller, ca_file, controller_name, agent_id and
                                     state_dir from the agent config (flags override)
            --controller HOST:PORT   the controller's mTLS address
            --enroll-address H:P     its enrollment listener (default: HOST, PORT + 1)
            --ca FILE                the controller CA to pin (no system roots are trusted)
            --controller-name NAME   name the controller certificate must carry (default HOST)
            --agent-id ID            this agent's identity (default: the host name)
            --state-dir DIR          default /var/lib/postwarden
            --token TOKEN | --token-file FILE   the bootstrap token (`postwardenctl token create`)
  run     Run the agent: --config FILE (default /etc/postwarden/agent.yaml; format in
          docs/agent-config.md). Enforces or watches the assigned baseline, reports to the
          controller, keeps working from its cache while the controller is unreachable.
          Stops on SIGINT/SIGTERM.
  -v, --verbose   debug logs
  --log-format text|json
                  text (default): "postwarden-agent: [warning] agent.daemon: message" on
                  stderr, or "<4>agent.daemon: message" when started by systemd (syslog
                  priorities for journalctl -p; the journal adds the time). json: one object
                  per line for log shippers: {"time","level","program","logger","message"}
  --version       the version and git revision

exit status:
  0  ok (enroll: enrolled; run: stopped by SIGINT/SIGTERM)
  1  error (the controller refused, a file cannot be read or written, ...)
  2  usage error: an unknown command or option, a missing or bad value, a setting neither
     the flags nor agent.yaml give (the error and this usage on stderr)
)";
}

}  // namespace postwarden::agent::agentd
