// The reconnect storm at small scale, on real processes: a postwarden-controller with a low
// --max-connects-per-second, fleetsim's agents (the agent's own Backoff) against it. The
// controller must shed the excess with RESOURCE_EXHAUSTED and retry-after-ms, and the agents
// must come back at the hinted pace: all of them, paced, also after a kill -9. Real agent
// daemons on Postfix sandboxes check that ControllerLink waits at least the hinted time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

const std::string kController = POSTWARDEN_CONTROLLER_PATH;
const std::string kFleetsim = POSTWARDEN_FLEETSIM_PATH;
constexpr int kAgents = 40;
constexpr int kRate = 10;  // new streams per second; the default burst is then 1

// The number after "key": in fleetsim's JSON (-1 when missing or null).
double jsonNumber(const std::string& json, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(json, m, std::regex("\"" + key + "\":(-?[0-9.]+)"))) return -1;
  return std::atof(m[1].str().c_str());
}

class AdmissionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/postwarden-admission-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Controller>> controller = Controller::start(
        dir_, {"--allow-simulator", "--max-connects-per-second", std::to_string(kRate)});
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
    std::string output;
    ASSERT_EQ(runProgram({kController, "simulator-cert", "--data-dir", controller_->dataDir(),
                          "--out", dir_ + "/sim"},
                         &output),
              0)
        << output;
  }

  void TearDown() override {
    controller_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> fleetsim(std::vector<std::string> extra) {
    std::vector<std::string> argv = {kFleetsim,
                                     "--controller",
                                     controller_->address(),
                                     "--ca",
                                     dir_ + "/sim/ca.crt",
                                     "--cert",
                                     dir_ + "/sim/simulator.crt",
                                     "--key",
                                     dir_ + "/sim/simulator.key",
                                     "--agents",
                                     std::to_string(kAgents),
                                     "--ramp",
                                     "1000/s",
                                     "--drift-every",
                                     "0",
                                     "--progress",
                                     "0",
                                     "--channels",
                                     "2",
                                     "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(AdmissionE2eTest, AStormIsShedWithAHintAndEveryAgentComesBackAtTheAdmittedPace) {
  // All 40 ask within 40 ms; 10/s are admitted, so the last gets in after about 4 s.
  std::string json;
  ASSERT_EQ(runProgram(fleetsim({"--duration", "0s", "--connect-timeout", "60s"}), &json), 0)
      << json;
  const double ramp = jsonNumber(json, "ramp_up_s");
  ASSERT_GT(ramp, 0) << json;                    // everyone connected
  EXPECT_GE(ramp, 0.8 * (kAgents - 1) / kRate);  // paced by the controller, not all at once
  EXPECT_LT(ramp, 20) << json;                   // and not stretched by a growing backoff
  const double shed = jsonNumber(json, "RESOURCE_EXHAUSTED");
  EXPECT_GE(shed, kAgents / 2) << json;
  // Back at their slots, the shed get in: about one refusal per agent, not one per retry of a
  // blind backoff.
  EXPECT_LE(shed, 3 * kAgents) << json;
  EXPECT_NE(json.find("see retry-after-ms"), std::string::npos) << json;
}

TEST_F(AdmissionE2eTest, AfterKill9EveryAgentIsBackAndTheReturnIsPaced) {
  const std::string ready = dir_ + "/ready";
  const std::string log = dir_ + "/fleetsim.log";
  Result<std::unique_ptr<BackgroundProcess>> sim = BackgroundProcess::start(
      fleetsim({"--duration", "120s", "--reconnects", "1", "--ready-file", ready}), log);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  ASSERT_TRUE(eventually([&] { return !readFileText(ready).empty(); }, std::chrono::seconds(60)))
      << readFileText(log);
  controller_->kill9();
  ASSERT_TRUE(controller_->restart().ok()) << controller_->log();
  ASSERT_TRUE(eventually([&] { return !(*sim)->running(); }, std::chrono::seconds(90)))
      << readFileText(log);
  const std::string output = readFileText(log);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(output, m, std::regex("\"reconnects\":\\[\\{([^\\]]*)"))) << output;
  const std::string episode = m[1].str();
  EXPECT_EQ(jsonNumber(episode, "disconnected"), kAgents) << episode;
  EXPECT_GT(jsonNumber(episode, "refused"), 0) << episode;  // the controller shed the storm
  // Paced: the 40 came back over about 4 s, not in one burst.
  EXPECT_GE(jsonNumber(episode, "seconds"), 0.8 * (kAgents - 1) / kRate) << episode;
  EXPECT_LT(jsonNumber(episode, "seconds"), 30) << episode;
}

// Real agent daemons (ControllerLink) against a controller at 1 new stream per second: after
// a kill -9 the four reconnect within about a second of each other, so some are shed; each
// shed agent must wait at least the hinted time, and all must be back.
TEST(AdmissionAgentE2eTest, RealAgentsWaitTheHintedTimeAndAllComeBack) {
  ASSERT_TRUE(requirePostfix());
  char pattern[] = "/tmp/postwarden-admission-agents-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  std::vector<std::unique_ptr<FleetAgent>> agents;
  {
    Result<std::unique_ptr<Controller>> controller =
        Controller::start(dir, {"--max-connects-per-second", "1"});
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    for (int i = 0; i < 4; ++i) {
      Result<std::string> token = (*controller)->createToken({{"role", "mx"}});
      ASSERT_TRUE(token.ok()) << token.status().message();
      Result<std::unique_ptr<FleetAgent>> agent = FleetAgent::enrollAndStart(
          **controller, *token, {.id = "mx" + std::to_string(i), .labels = {{"role", "mx"}}});
      ASSERT_TRUE(agent.ok()) << agent.status().message();
      agents.push_back(std::move(agent).value());
    }
    auto all_connected = [&] {
      for (auto& a : agents) {
        Result<v1::AgentSummary> s = (*controller)->agent(a->id());
        if (!s.ok() || !s->connected()) return false;
      }
      return true;
    };
    ASSERT_TRUE(eventually(all_connected, std::chrono::seconds(60))) << (*controller)->log();

    (*controller)->kill9();
    ASSERT_TRUE((*controller)->restart().ok()) << (*controller)->log();
    ASSERT_TRUE(eventually(all_connected, std::chrono::seconds(60))) << (*controller)->log();

    int busy = 0;
    const std::regex line("busy .*; retry hint ([0-9]+) ms, retrying in ([0-9]+) ms");
    for (auto& a : agents) {
      const std::string log = a->log();
      for (auto it = std::sregex_iterator(log.begin(), log.end(), line);
           it != std::sregex_iterator(); ++it) {
        ++busy;
        const long hint = std::stol((*it)[1].str());
        const long wait = std::stol((*it)[2].str());
        EXPECT_GE(wait, hint) << a->id() << ": " << it->str();
        EXPECT_LE(wait, hint + std::min(hint, 1000L)) << a->id() << ": " << it->str();
      }
    }
    EXPECT_GT(busy, 0) << "no agent logged a shed stream; controller log:\n"
                       << (*controller)->log() << "\nfirst agent's log:\n"
                       << agents[0]->log();
    for (auto& a : agents) EXPECT_EQ(a->stop(), 0) << a->id() << ":\n" << a->log();
    agents.clear();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace postwarden::testing
