// postwarden-agentd: the fleet commands of postwarden-agent (which execs this program for
// them, so that plan/apply never load gRPC).
//   enroll [--config FILE] [--controller HOST:PORT] [--enroll-address HOST:PORT] [--ca FILE]
//          [--controller-name NAME] [--agent-id ID] [--state-dir DIR] --token TOKEN|--token-file F
//   run --config FILE [-v]
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "agent/daemon/agent_config.h"
#include "agent/fleet/agent_daemon.h"
#include "agent/fleet/enrollment.h"
#include "agent/os/logging_command_runner.h"
#include "agent/os/posix_file_system.h"
#include "agent/os/process_command_runner.h"
#include "agent/verify/smtp_prober.h"
#include "common/logging.h"
#include "common/version.h"

namespace {

using namespace postwarden;
using namespace postwarden::agent;

constexpr char kUsage[] = R"(usage: postwarden-agent enroll|run [OPTIONS]

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

exit status: 0 ok, 1 error.
)";

bool g_verbose = false;  // -v overrides the config's log_level

int fail(const Status& status) {
  std::cerr << "postwarden-agent: error: " << status.message() << "\n";
  return 1;
}

Result<std::map<std::string, std::string>> options(const std::vector<std::string>& args,
                                                   const std::vector<std::string>& known) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (std::find(known.begin(), known.end(), args[i]) == known.end()) {
      return InvalidArgumentError("unknown option " + args[i] + " (see --help)");
    }
    if (i + 1 >= args.size()) return InvalidArgumentError(args[i] + " needs a value");
    out[args[i]] = args[i + 1];
    ++i;
  }
  return out;
}

int runEnroll(const std::vector<std::string>& args) {
  auto parsed =
      options(args, {"--config", "--controller", "--enroll-address", "--ca", "--controller-name",
                     "--agent-id", "--state-dir", "--token", "--token-file"});
  if (!parsed.ok()) return fail(parsed.status());
  auto& o = *parsed;
  os::PosixFileSystem fs;
  fleet::EnrollOptions enroll;
  std::string ca_file;
  std::string controller;
  if (o.contains("--config")) {
    Result<daemon::AgentConfig> config = daemon::loadAgentConfig(o["--config"]);
    if (!config.ok()) return fail(config.status());
    controller = config->controller_host + ":" + std::to_string(config->controller_port);
    ca_file = config->ca_file;
    enroll.controller_name = config->controller_name;
    enroll.agent_id = config->agent_id;
    enroll.state_dir = config->state_dir;
  } else {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    enroll.agent_id = host;
    for (char& c : enroll.agent_id)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    enroll.state_dir = "/var/lib/postwarden";
  }
  if (o.contains("--controller")) controller = o["--controller"];
  if (o.contains("--ca")) ca_file = o["--ca"];
  if (o.contains("--controller-name")) enroll.controller_name = o["--controller-name"];
  if (o.contains("--agent-id")) enroll.agent_id = o["--agent-id"];
  if (o.contains("--state-dir")) enroll.state_dir = o["--state-dir"];
  if (controller.empty()) return fail(InvalidArgumentError("--controller is required"));
  if (ca_file.empty()) return fail(InvalidArgumentError("--ca is required"));
  if (!daemon::isValidAgentId(enroll.agent_id)) {
    return fail(InvalidArgumentError("agent id '" + enroll.agent_id +
                                     "' is not a lowercase host name (use --agent-id)"));
  }
  if (o.contains("--token-file")) {
    Result<std::string> token = fs.readFile(o["--token-file"]);
    if (!token.ok()) return fail(token.status().withContext("token file"));
    enroll.token = token->substr(0, token->find_first_of("\r\n"));
  } else if (o.contains("--token")) {
    enroll.token = o["--token"];
  } else {
    return fail(InvalidArgumentError("--token or --token-file is required"));
  }
  Result<std::string> ca = fs.readFile(ca_file);
  if (!ca.ok()) return fail(ca.status().withContext("controller CA"));
  enroll.ca_pem = *ca;
  enroll.enroll_address = o.contains("--enroll-address") ? o["--enroll-address"] : "";
  if (enroll.enroll_address.empty()) {
    size_t colon = controller.rfind(':');
    int port = colon == std::string::npos ? 0 : std::atoi(controller.c_str() + colon + 1);
    if (port <= 0 || port >= 65535) return fail(InvalidArgumentError("bad --controller port"));
    enroll.enroll_address = controller.substr(0, colon + 1) + std::to_string(port + 1);
  }
  Result<fleet::EnrollResult> result = fleet::enroll(fs, enroll);
  if (!result.ok()) return fail(result.status());
  std::cout << "enrolled as " << result->agent_id << "; identity in " << enroll.state_dir
            << "/agent.pem";
  if (!result->labels.empty()) {
    std::cout << "; labels";
    for (const auto& [k, v] : result->labels) std::cout << " " << k << "=" << v;
  }
  std::cout << "\n";
  return 0;
}

int runDaemon(const std::vector<std::string>& args) {
  auto parsed = options(args, {"--config"});
  if (!parsed.ok()) return fail(parsed.status());
  std::string path =
      parsed->contains("--config") ? parsed->at("--config") : "/etc/postwarden/agent.yaml";
  Result<daemon::AgentConfig> config = daemon::loadAgentConfig(path);
  if (!config.ok()) return fail(config.status());
  if (!g_verbose) {
    setupLogging("postwarden-agent", spdlog::level::from_str(config->log_level));
  }
  os::PosixFileSystem fs;
  os::ProcessCommandRunner process_runner;
  os::LoggingCommandRunner commands(process_runner);
  os::SystemClock clock;
  verify::SocketSmtpProber prober;
  fleet::AgentDaemon agent({.fs = fs, .commands = commands, .clock = clock, .prober = prober},
                           *config);
  // SIGINT/SIGTERM are blocked everywhere (main) and taken here.
  std::thread signals([&agent] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int received = 0;
    sigwait(&set, &received);
    agent.requestStop();
  });
  Status status = agent.run();
  if (!status.ok()) {
    signals.detach();
    return fail(status);
  }
  pthread_kill(signals.native_handle(), SIGTERM);  // harmless if it already returned
  signals.join();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::vector<std::string> args;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--version") {
      std::cout << postwarden::versionLine("postwarden-agentd") << "\n";
      return 0;
    } else {
      args.push_back(arg);
    }
  }
  if (args.empty()) {
    std::cerr << kUsage;
    return 1;
  }
  g_verbose = verbose;
  setupLogging("postwarden-agent", verbose ? spdlog::level::debug : spdlog::level::info);
  std::string command = args.front();
  args.erase(args.begin());
  if (command == "enroll") return runEnroll(args);
  if (command == "run") return runDaemon(args);
  return fail(InvalidArgumentError("unknown command '" + command + "' (enroll or run)"));
}
