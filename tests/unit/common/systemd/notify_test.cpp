#include "common/systemd/notify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/unit/common/systemd/notify_socket.h"

namespace postwarden::systemd {
namespace {

using postwarden::testing::NotifySocket;
using postwarden::testing::ScopedEnv;
using namespace std::chrono_literals;

TEST(NotifyTest, SendsEachStateToNotifySocket) {
  NotifySocket socket;
  ASSERT_TRUE(socket.ok());
  ScopedEnv env("NOTIFY_SOCKET", socket.path());
  notifyReady();
  EXPECT_EQ(socket.receive(2s), "READY=1");
  notifyWatchdog();
  EXPECT_EQ(socket.receive(2s), "WATCHDOG=1");
  notifyStatus("watching /etc/postfix");
  EXPECT_EQ(socket.receive(2s), "STATUS=watching /etc/postfix");
  notifyStopping();
  EXPECT_EQ(socket.receive(2s), "STOPPING=1");
}

TEST(NotifyTest, DoesNothingWithoutNotifySocket) {
  NotifySocket socket;
  ASSERT_TRUE(socket.ok());
  unsetenv("NOTIFY_SOCKET");
  notifyReady();
  notifyWatchdog();
  EXPECT_EQ(socket.receive(200ms), "");
}

TEST(NotifyTest, WatchdogTimeoutFromWatchdogUsecForThisProcess) {
  unsetenv("WATCHDOG_PID");
  {
    ScopedEnv usec("WATCHDOG_USEC", "30000000");
    ASSERT_TRUE(watchdogTimeout().has_value());
    EXPECT_EQ(*watchdogTimeout(), 30s);
    ScopedEnv own("WATCHDOG_PID", std::to_string(getpid()));
    EXPECT_EQ(watchdogTimeout(), std::optional<std::chrono::microseconds>(30s));
  }
  {
    ScopedEnv usec("WATCHDOG_USEC", "30000000");
    ScopedEnv other("WATCHDOG_PID", std::to_string(getpid() + 1));  // meant for another process
    EXPECT_FALSE(watchdogTimeout().has_value());
  }
  unsetenv("WATCHDOG_USEC");
  EXPECT_FALSE(watchdogTimeout().has_value());
}

TEST(NotifyTest, FeedsAThirdOfTheTimeout) {
  EXPECT_EQ(watchdogFeedInterval(30s), 10s);
  EXPECT_EQ(watchdogFeedInterval(1500ms), 500ms);
  EXPECT_EQ(watchdogFeedInterval(1us), 1ms);
}

}  // namespace
}  // namespace postwarden::systemd
