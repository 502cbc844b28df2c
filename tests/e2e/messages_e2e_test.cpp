// End-to-end: what the programs say in the first ten minutes and in daily use, on the real
// binaries: usage and exit statuses, each controller command's own help, a command to an agent
// that does not exist or is offline, usage errors of every program, enrolling a host that is
// enrolled already, a revoked agent, a refusal on a stopped Postfix, a failing probe on a compliant
// host, apply --dry-run's exit status, and `postwarden-agent status`/`backups` while the daemon
// runs and after.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

const std::string kController = POSTWARDEN_CONTROLLER_PATH;
const std::string kCtl = POSTWARDEN_CTL_PATH;

// A program's exit code, stdout and stderr apart.
os::CommandResult run(const std::vector<std::string>& argv) {
  return runProgram(argv, seconds(60), {}, nullptr);
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// --- usage, no Postfix needed -----------------------------------------------------------------

TEST(MessagesE2eTest, NoArgumentsPrintUsageOnStderrAndExitTwo) {
  for (const std::string& program : {kAgent, kCtl, kController}) {
    os::CommandResult r = run({program});
    EXPECT_EQ(r.exit_code, 2) << program;
    EXPECT_EQ(r.stdout_data, "") << program;
    EXPECT_NE(r.stderr_data.find("sage: "), std::string::npos) << program << ": " << r.stderr_data;
    os::CommandResult help = run({program, "--help"});
    EXPECT_EQ(help.exit_code, 0) << program;
    EXPECT_NE(help.stdout_data.find("xit status"), std::string::npos)
        << program << " --help documents its exit statuses";
  }
}

// Every usage error of every program: exit 2, nothing on stdout, the error and then the usage
// of the command it was meant for on stderr (one unknown option, bad value, missing argument
// and unknown subcommand; enroll runs in postwarden-agentd).
TEST(MessagesE2eTest, UsageErrorsExitTwoWithTheUsageOnStderr) {
  struct Case {
    std::vector<std::string> argv;
    std::string error;
    std::string usage;
  };
  const std::vector<Case> cases = {
      {{kAgent, "plan", "--bogus"}, "unknown option '--bogus'", "Usage: postwarden-agent plan"},
      {{kAgent, "apply", "--policy", kHardening, "--verify-deadline", "soon"},
       "'soon' is not a number",
       "Usage: postwarden-agent apply"},
      {{kAgent, "restore"}, "restore needs the ID of a backup", "Usage: postwarden-agent restore"},
      {{kAgent, "enroll", "--bogus"}, "--bogus", "usage: postwarden-agent enroll|run"},
      {{kAgent, "run", "--config"}, "--config", "usage: postwarden-agent enroll|run"},
      {{kController, "serve", "--bogus"},
       "unknown option --bogus",
       "usage: postwarden-controller serve"},
      {{kController, "serve", "--data-dir", "/nonexistent", "--agent-cert-ttl", "soon"},
       "--agent-cert-ttl",
       "usage: postwarden-controller serve"},
      {{kController, "operator", "list"},
       "unknown operator subcommand 'list'",
       "usage: postwarden-controller operator add"},
      {{kController, "frobnicate"},
       "unknown command 'frobnicate'",
       "usage: postwarden-controller COMMAND"},
      {{kController, "help", "frobnicate"},
       "no command 'frobnicate'",
       "usage: postwarden-controller COMMAND"},
      {{kCtl, "agents", "--bogus"}, "--bogus", "Usage: postwardenctl agents"},
      {{kCtl, "status", "--stale-after", "soon"}, "soon", "Usage: postwardenctl status"},
      {{kCtl, "agent", "show"},
       "usage: postwardenctl agent show ID",
       "Usage: postwardenctl agent show|revoke|approve ID"},
      {{kCtl, "token", "bogus"}, "bogus", "Usage: postwardenctl token"},
  };
  for (const Case& c : cases) {
    std::string line;
    for (const std::string& word : c.argv) line += (line.empty() ? "" : " ") + word;
    os::CommandResult r = run(c.argv);
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "") << line;
    const size_t error = r.stderr_data.find(c.error);
    const size_t usage = r.stderr_data.find(c.usage);
    EXPECT_NE(error, std::string::npos) << line << "\n" << r.stderr_data;
    EXPECT_NE(usage, std::string::npos) << line << "\n" << r.stderr_data;
    EXPECT_LT(error, usage) << line << ": the error first, then the usage\n" << r.stderr_data;
  }
}

TEST(MessagesE2eTest, EachControllerCommandHasItsOwnHelp) {
  const std::string global = run({kController, "--help"}).stdout_data;
  std::map<std::string, std::string> seen;
  for (const std::string command : {"init", "serve", "migrate", "operator", "simulator-cert"}) {
    os::CommandResult r = run({kController, command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.stdout_data, global) << command << " --help prints the global text";
    EXPECT_NE(r.stdout_data.find("usage: postwarden-controller " + command), std::string::npos)
        << r.stdout_data;
    EXPECT_EQ(run({kController, "help", command}).stdout_data, r.stdout_data);
    for (const auto& [other, text] : seen) EXPECT_NE(text, r.stdout_data) << command << other;
    seen[command] = r.stdout_data;
  }
  EXPECT_NE(seen["serve"].find("--metrics-listen"), std::string::npos);
  EXPECT_EQ(seen["init"].find("--metrics-listen"), std::string::npos);
}

// --- one agent against a real Postfix ---------------------------------------------------------

class AgentMessagesE2eTest : public PostfixSandboxFixture {
 protected:
  os::CommandResult agent(std::vector<std::string> args) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir(), "--role",
                             "smtp=" + std::to_string(sandbox().port())});
    return runProgram(argv, seconds(90), {}, &output_);
  }
  os::CommandResult apply(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apply",    "--policy",          kHardening, "--state-dir",
                                     stateDir(), "--verify-deadline", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args);
  }
  std::string stateDir() { return sandbox().dir() + "/agent-state"; }
  std::string output_;
};

TEST_F(AgentMessagesE2eTest, RefusalOnAStoppedPostfixIsPrintedOnce) {
  ASSERT_TRUE(sandbox().stop().ok());
  os::CommandResult r = apply();
  EXPECT_EQ(r.exit_code, 1) << output_;
  EXPECT_EQ(count(r.stdout_data + r.stderr_data, "is not running"), 1u) << output_;
  EXPECT_NE(r.stderr_data.find("postwarden-agent: error: status: "), std::string::npos) << output_;
  EXPECT_NE(r.stdout_data.find("status: FAILED\n"), std::string::npos) << output_;
}

TEST_F(AgentMessagesE2eTest, FailingProbeOfACompliantHostHonoursTheProbeTimeoutAndSaysSo) {
  ASSERT_EQ(apply().exit_code, 0) << output_;
  // Nothing listens on the discard port: every probe fails at once.
  const auto started = std::chrono::steady_clock::now();
  os::CommandResult r = apply({"--probe", "127.0.0.1:9", "--probe-timeout", "2"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 1) << output_;
  EXPECT_NE(r.stdout_data.find("verifying: probing 1 listener for up to 2 s"), std::string::npos)
      << output_;
  EXPECT_LT(took, seconds(10)) << "waited for the 20 s verify deadline of a change";
}

TEST_F(AgentMessagesE2eTest, DryRunExitsLikePlan) {
  EXPECT_EQ(agent({"plan", "--policy", kHardening}).exit_code, 2) << output_;
  EXPECT_EQ(apply({"--dry-run"}).exit_code, 2) << output_;
  EXPECT_EQ(apply({"--dry-run", "--format", "json"}).exit_code, 2) << output_;
  ASSERT_EQ(apply().exit_code, 0) << output_;
  EXPECT_EQ(apply({"--dry-run"}).exit_code, 0) << output_;
}

// --- the fleet --------------------------------------------------------------------------------

class FleetMessagesE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-messages-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_);
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
  }

  void TearDown() override {
    if (agent_) agent_->stop();
    if (HasFailure()) {
      std::cerr << "--- controller log ---\n" << controller_->log();
      if (agent_) std::cerr << "--- agent log ---\n" << agent_->log();
    }
    agent_.reset();
    if (controller_) controller_->stop();
    controller_.reset();
    fs::remove_all(dir_);
  }

  void startAgent(const std::string& id) {
    Result<std::string> token = controller_->createToken({{"site", "t"}});
    ASSERT_TRUE(token.ok()) << token.status().message();
    first_token_ = *token;
    Result<std::unique_ptr<FleetAgent>> agent =
        FleetAgent::enrollAndStart(*controller_, *token, {.id = id});
    ASSERT_TRUE(agent.ok()) << agent.status().message();
    agent_ = std::move(agent).value();
    ASSERT_TRUE(eventually([&] {
      Result<v1::AgentSummary> a = controller_->agent(id);
      return a.ok() && a->connected();
    }));
  }

  std::string configFile() { return agent_->sandbox().dir() + "/agent.yaml"; }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<FleetAgent> agent_;
  std::string first_token_;  // spent by the enrollment
};

TEST_F(FleetMessagesE2eTest, CommandToAnUnknownAgentSaysThereIsNoSuchAgent) {
  startAgent("mx1.test");
  std::string out;
  EXPECT_EQ(controller_->ctl({"command", "apply", "nosuch"}, &out), 1) << out;
  EXPECT_NE(out.find("NOT_FOUND: no agent 'nosuch' is enrolled"), std::string::npos) << out;
  EXPECT_EQ(out.find("controller is down"), std::string::npos) << out;
  EXPECT_EQ(out.find("not connected"), std::string::npos) << out;

  EXPECT_EQ(controller_->ctl({"command", "apply", "mx1.test"}, &out), 0) << out;
  ASSERT_EQ(agent_->stop(), 0);
  ASSERT_TRUE(eventually([&] { return !controller_->agent("mx1.test")->connected(); }));
  EXPECT_EQ(controller_->ctl({"command", "verify", "mx1.test"}, &out), 1) << out;
  EXPECT_NE(out.find("'mx1.test' is enrolled but not connected now"), std::string::npos) << out;
  EXPECT_EQ(out.find("controller is down"), std::string::npos) << out;
}

// No controller listening: gRPC's own connect failure, and the hint that says to check the
// controller, the address and the CA (not the one for a controller that answered UNAVAILABLE;
// that one is checked in replicas_keepalive_e2e_test).
TEST_F(FleetMessagesE2eTest, AStoppedControllerGetsTheUnreachableHint) {
  controller_->stop();
  std::string out;
  EXPECT_EQ(controller_->ctl({"agents"}, &out), 1) << out;
  EXPECT_NE(out.find("listing agents: UNAVAILABLE: failed to connect to all addresses"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("hint: the controller is down or unreachable, or the address"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("controller answered"), std::string::npos) << out;
}

TEST_F(FleetMessagesE2eTest, EnrollingAnEnrolledHostSaysItIsEnrolledAndHowToEnrollAgain) {
  startAgent("mx1.test");
  Result<std::string> token = controller_->createToken({{"site", "t"}});
  ASSERT_TRUE(token.ok());
  // The first token is used up; a fresh one meets an identity that exists: both say so.
  std::string out;
  for (const std::string& tried : {first_token_, *token}) {
    int exit = testing::runProgram(
        {kAgent, "enroll", "--config", configFile(), "--enroll-address",
         "127.0.0.1:" + std::to_string(controller_->enrollPort()), "--token", tried},
        &out);
    EXPECT_EQ(exit, 1) << out;
    EXPECT_NE(out.find("this host is already enrolled as 'mx1.test'"), std::string::npos) << out;
    EXPECT_NE(out.find("postwardenctl agent approve mx1.test"), std::string::npos) << out;
  }
}

TEST_F(FleetMessagesE2eTest, RevokedAgentSaysSoOnceAndStopsReconnecting) {
  startAgent("mx1.test");
  std::string out;
  ASSERT_EQ(controller_->ctl({"agent", "revoke", "mx1.test"}, &out), 0) << out;
  ASSERT_TRUE(
      eventually([&] { return agent_->log().find("revoked") != std::string::npos; }, seconds(20)))
      << agent_->log();
  std::this_thread::sleep_for(seconds(8));  // several 1 s backoff windows
  const std::string log = agent_->log();
  EXPECT_EQ(count(log, "is revoked by controller"), 1u) << log;
  EXPECT_NE(log.find("postwardenctl token create --agent"), std::string::npos) << log;
  EXPECT_EQ(log.find("unreachable or stream ended"), std::string::npos) << log;
  EXPECT_LE(count(controller_->log(), "refused stream from"), 1u) << controller_->log();
}

TEST_F(FleetMessagesE2eTest, StatusShowsTheAgentWhileTheDaemonRunsAndAfterItStopped) {
  startAgent("mx1.test");
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "push", kHardening}, &out), 0) << out;
  const size_t at = out.find("smtp-auth-hardening@");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string ref = out.substr(at, std::string("smtp-auth-hardening@").size() + 12);
  ASSERT_EQ(controller_->ctl(
                {"baseline", "assign", ref, "--selector", "site=t", "--mode", "enforce"}, &out),
            0)
      << out;
  const std::string state = agent_->stateDir();
  auto status = [&](std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {kAgent, "status", "--state-dir", state};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv);
  };
  ASSERT_TRUE(eventually([&] {
    return status().stdout_data.find("last check:      compliant") != std::string::npos;
  })) << status().stdout_data;
  os::CommandResult r = status();
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_NE(r.stdout_data.find("enrolled:        yes as mx1.test"), std::string::npos)
      << r.stdout_data;
  EXPECT_NE(r.stdout_data.find("daemon:          running (pid"), std::string::npos);
  EXPECT_NE(r.stdout_data.find(": connected"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find(ref + ", mode enforce"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find("last change repaired"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find("needs human:     no"), std::string::npos) << r.stdout_data;
  os::CommandResult json = status({"--format", "json"});
  EXPECT_NE(json.stdout_data.find("\"connected\": true"), std::string::npos) << json.stdout_data;
  EXPECT_NE(json.stdout_data.find("\"compliance\": \"compliant\""), std::string::npos);
  EXPECT_NE(json.stdout_data.find("\"last_outcome\": \"repaired\""), std::string::npos);

  // The repair left one backup of the previous bytes.
  os::CommandResult backups = run({kAgent, "backups", "--state-dir", state});
  EXPECT_EQ(backups.exit_code, 0);
  EXPECT_NE(backups.stdout_data.find("main.cf master.cf"), std::string::npos)
      << backups.stdout_data;

  ASSERT_EQ(agent_->stop(), 0);
  r = status();
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.stdout_data.find("daemon:          not running"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find(ref + ", mode enforce"), std::string::npos) << r.stdout_data;
}

}  // namespace
}  // namespace postwarden::testing
