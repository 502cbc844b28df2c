#include "common/logging.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace postwarden {
namespace {

// Many threads asking for the same new module logger at once must all get one logger; before
// get-or-create was one step, spdlog threw "logger with name ... already exists" and the
// process ended in std::terminate.
TEST(ModuleLoggerTest, ConcurrentFirstUseYieldsOneLogger) {
  constexpr int kThreads = 16;
  for (int round = 0; round < 50; ++round) {
    const std::string name = "test.race." + std::to_string(round);
    std::atomic<bool> go{false};
    std::vector<std::shared_ptr<spdlog::logger>> got(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        got[i] = moduleLogger(name);
      });
    }
    go.store(true);
    for (auto& t : threads) t.join();
    for (const auto& logger : got) {
      ASSERT_NE(logger, nullptr);
      EXPECT_EQ(logger.get(), got[0].get());
    }
  }
}

TEST(ModuleLoggerTest, SecondCallReturnsTheSameLogger) {
  auto first = moduleLogger("test.same");
  EXPECT_EQ(first.get(), moduleLogger("test.same").get());
  EXPECT_EQ(first->name(), "test.same");
}

}  // namespace
}  // namespace postwarden
