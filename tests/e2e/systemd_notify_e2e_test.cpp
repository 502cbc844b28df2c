// The daemons under a Type=notify unit with WatchdogSec=, as systemd would start them: a
// notification socket of the test's own (NOTIFY_SOCKET, a unix datagram socket) and
// WATCHDOG_USEC. The real controller must say READY=1 once it serves and WATCHDOG=1 after its
// self-check call; the real agent daemon READY=1 after its first check and WATCHDOG=1 from
// its loop; both STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "tests/e2e/fleet_support.h"
#include "tests/unit/common/systemd/notify_socket.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// 1.5 s: the daemons feed every 500 ms, so a few beats arrive within the test's waits.
constexpr char kWatchdogUsec[] = "1500000";

class SystemdNotifyE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-notify-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    ASSERT_TRUE(controller_socket_.ok() && agent_socket_.ok());
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    if (controller_) controller_->stop();
    if (HasFailure()) {
      if (controller_) std::cerr << "--- controller log ---\n" << controller_->log();
      if (agent_) std::cerr << "--- agent log ---\n" << agent_->log();
    }
    agent_.reset();
    controller_.reset();
    fs::remove_all(dir_);
  }

  std::string dir_;
  NotifySocket controller_socket_;
  NotifySocket agent_socket_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<FleetAgent> agent_;
};

std::string joined(const std::vector<std::string>& seen) {
  std::string out;
  for (const std::string& s : seen) out += "'" + s + "' ";
  return out;
}

TEST_F(SystemdNotifyE2eTest, ControllerAndAgentSayReadyFeedTheWatchdogAndSayStopping) {
  std::vector<std::string> seen;
  {
    // Inherited by the controller's processes (init and operator add send nothing).
    ScopedEnv socket("NOTIFY_SOCKET", controller_socket_.path());
    ScopedEnv watchdog("WATCHDOG_USEC", kWatchdogUsec);
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_ + "/controller");
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
  }
  EXPECT_TRUE(controller_socket_.waitFor("READY=1", 30s, &seen)) << joined(seen);
  // Fed only after a GetAgent on its own mTLS listener answered: twice in a row.
  EXPECT_TRUE(controller_socket_.waitFor("WATCHDOG=1", 10s, &seen)) << joined(seen);
  EXPECT_TRUE(controller_socket_.waitFor("WATCHDOG=1", 10s, &seen)) << joined(seen);
  EXPECT_EQ(controller_->log().find("self-check"), std::string::npos) << controller_->log();

  Result<std::string> token = controller_->createToken({{"site", "e2e"}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  {
    ScopedEnv socket("NOTIFY_SOCKET", agent_socket_.path());
    ScopedEnv watchdog("WATCHDOG_USEC", kWatchdogUsec);
    // check_interval 30s: the loop's wakes for the watchdog come from WATCHDOG_USEC alone.
    Result<std::unique_ptr<FleetAgent>> agent =
        FleetAgent::enrollAndStart(*controller_, *token, {.id = "notify.example.org"});
    ASSERT_TRUE(agent.ok()) << agent.status().message();
    agent_ = std::move(agent).value();
  }
  seen.clear();
  EXPECT_TRUE(agent_socket_.waitFor("READY=1", 30s, &seen)) << joined(seen);
  EXPECT_TRUE(agent_socket_.waitFor("WATCHDOG=1", 5s, &seen)) << joined(seen);
  EXPECT_TRUE(agent_socket_.waitFor("WATCHDOG=1", 5s, &seen)) << joined(seen);
  // 1.5 s is far below a change's bound (4 x 60 s + 2 x 20 s): said once at start.
  EXPECT_NE(agent_->log().find("WatchdogSec=1s is shorter than the longest check (280s"),
            std::string::npos)
      << agent_->log();

  EXPECT_EQ(agent_->stop(), 0);
  EXPECT_TRUE(agent_socket_.waitFor("STOPPING=1", 5s, &seen)) << joined(seen);
  EXPECT_EQ(controller_->stop(), 0);
  EXPECT_TRUE(controller_socket_.waitFor("STOPPING=1", 5s, &seen)) << joined(seen);
}

// Without NOTIFY_SOCKET (a terminal, the other tests) nothing is sent and nothing breaks; with
// it but without WATCHDOG_USEC, READY=1 and no self-check.
TEST_F(SystemdNotifyE2eTest, ControllerWithoutWatchdogSaysReadyOnly) {
  unsetenv("WATCHDOG_USEC");
  {
    ScopedEnv socket("NOTIFY_SOCKET", controller_socket_.path());
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_ + "/controller");
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
  }
  std::vector<std::string> seen;
  EXPECT_TRUE(controller_socket_.waitFor("READY=1", 30s, &seen)) << joined(seen);
  EXPECT_EQ(controller_socket_.receive(2s), "");
}

}  // namespace
}  // namespace postwarden::testing
