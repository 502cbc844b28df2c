#include "common/logging.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <sstream>
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

// A logger writing `format`'s lines into a string, as the binaries' stderr loggers do.
class CapturedLog {
 public:
  CapturedLog(LogFormat format, const std::string& module = "agent.daemon")
      : logger_(module, std::make_shared<spdlog::sinks::ostream_sink_st>(out_)) {
    logger_.set_formatter(makeLogFormatter(format, "postwarden-agent"));
    logger_.set_level(spdlog::level::trace);
  }
  spdlog::logger& logger() { return logger_; }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  spdlog::logger logger_;
};

TEST(LogFormatTest, TextNamesProgramLevelAndModuleWithoutTimestamp) {
  CapturedLog log(LogFormat::kText);
  log.logger().warn("baseline '{}' refused", "tls");
  log.logger().info("agent stopped");
  EXPECT_EQ(log.text(),
            "postwarden-agent: [warning] agent.daemon: baseline 'tls' refused\n"
            "postwarden-agent: [info] agent.daemon: agent stopped\n");
}

TEST(LogFormatTest, JournalLinesCarrySyslogPrioritiesAndNoTimestamp) {
  CapturedLog log(LogFormat::kJournal);
  log.logger().critical("c");
  log.logger().error("e");
  log.logger().warn("w");
  log.logger().info("i");
  log.logger().debug("d");
  log.logger().trace("t");
  EXPECT_EQ(log.text(),
            "<2>agent.daemon: c\n<3>agent.daemon: e\n<4>agent.daemon: w\n"
            "<6>agent.daemon: i\n<7>agent.daemon: d\n<7>agent.daemon: t\n");
}

TEST(LogFormatTest, JsonIsOneObjectPerLineWithEscapedMessage) {
  CapturedLog log(LogFormat::kJson, "controller.fleet");
  log.logger().error("store \"busy\"\nretrying");
  log.logger().info("ok");
  const std::string text = log.text();
  const std::regex line(
      R"re(\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"(\w+)",)re"
      R"re("program":"postwarden-agent","logger":"controller\.fleet","message":"(.*)"\})re");
  std::istringstream lines(text);
  std::vector<std::pair<std::string, std::string>> seen;
  for (std::string l; std::getline(lines, l);) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, line)) << l;
    seen.emplace_back(m[1], m[2]);
  }
  ASSERT_EQ(seen.size(), 2u) << text;  // the newline in the message is escaped, not a line
  EXPECT_EQ(seen[0], (std::pair<std::string, std::string>{"error", R"(store \"busy\"\nretrying)"}));
  EXPECT_EQ(seen[1], (std::pair<std::string, std::string>{"info", "ok"}));
}

TEST(LogFormatTest, ParsesTheNamesLogFormatTakes) {
  EXPECT_EQ(*parseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*parseLogFormat("json"), LogFormat::kJson);
  EXPECT_FALSE(parseLogFormat("journal").ok());  // chosen by systemd, not by a flag
  EXPECT_EQ(parseLogFormat("xml").status().message(), "--log-format takes text or json, not 'xml'");
}

TEST(LogFormatTest, TakeLogFormatOptionRemovesItWherever) {
  std::vector<std::string> args = {"serve", "--log-format", "json", "--data-dir", "/d"};
  Result<std::optional<LogFormat>> taken = takeLogFormatOption(args);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, LogFormat::kJson);
  EXPECT_EQ(args, (std::vector<std::string>{"serve", "--data-dir", "/d"}));

  std::vector<std::string> none = {"serve"};
  EXPECT_EQ(*takeLogFormatOption(none), std::nullopt);
  std::vector<std::string> missing = {"serve", "--log-format"};
  EXPECT_EQ(takeLogFormatOption(missing).status().message(), "--log-format needs a value");
  std::vector<std::string> twice = {"--log-format", "json", "--log-format", "text"};
  EXPECT_EQ(takeLogFormatOption(twice).status().message(), "--log-format is given twice");
}

// JOURNAL_STREAM is inherited by children whose stderr is something else: only the stream it
// names counts.
TEST(LogFormatTest, JournalStreamMustNameTheDescriptorsFile) {
  char path[] = "/tmp/pw-journal-stream.XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_TRUE(isJournalStream(mine.c_str(), fd));
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_FALSE(isJournalStream(other.c_str(), fd));
  EXPECT_FALSE(isJournalStream(nullptr, fd));
  EXPECT_FALSE(isJournalStream("garbage", fd));
  close(fd);
  unlink(path);
}

}  // namespace
}  // namespace postwarden
