#include "agent/health/postqueue.h"

#include <gtest/gtest.h>

#include "tests/fakes/scripted_command_runner.h"

namespace postwarden::agent::health {
namespace {

// As Postfix 3.7's postqueue -j prints them (one object per line).
constexpr char kDeferred[] =
    R"({"queue_name": "deferred", "queue_id": "4QxY1z2abcz9", "arrival_time": 1764900000, )"
    R"("message_size": 412, "forced_expire": false, "sender": "a@example.org", "recipients": )"
    R"([{"address": "b@broken.test", "delay_reason": "connect to 127.0.0.1[127.0.0.1]:9: )"
    R"(Connection refused"}]})";
constexpr char kActive[] =
    R"({"queue_name": "active", "queue_id": "4QxY2", "arrival_time": 1764900001, )"
    R"("message_size": 10, "forced_expire": false, "sender": "", "recipients": []})";
// A sender and a recipient that spell the key inside strings, and a nested queue_name.
constexpr char kTricky[] =
    R"({"sender": "\"queue_name\": \"active\"@x.test", "recipients": [{"queue_name": "active", )"
    R"("address": "q@x.test"}], "queue_name": "hold", "queue_id": "4QxY3"})";

TEST(PostqueueTest, CountsTheQueuesLineByLine) {
  const std::string out =
      std::string(kDeferred) + "\n" + kDeferred + "\n" + kActive + "\n" + kTricky + "\n\n";
  Result<QueueCounts> counts = parsePostqueueJson(out);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(*counts, (QueueCounts{.deferred = 2, .active = 1, .other = 1}));
}

TEST(PostqueueTest, AnEmptyQueuePrintsNothing) {
  Result<QueueCounts> counts = parsePostqueueJson("");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, QueueCounts{});
}

TEST(PostqueueTest, OnlyTheTopLevelQueueNameCounts) {
  Result<std::string> name = queueNameOf(kTricky);
  ASSERT_TRUE(name.ok()) << name.status().message();
  EXPECT_EQ(*name, "hold");
}

TEST(PostqueueTest, WhatIsNotPostqueueOutputIsRefusedWithItsLine) {
  for (const char* bad : {"Mail queue is empty", R"({"queue_id": "X"})", R"({"queue_name": 3})",
                          R"({"queue_name": "deferred")", R"({"queue_name": "deferred"} x)",
                          R"({"queue_name": "deferred", "sender": "unterminated})"}) {
    Result<QueueCounts> counts = parsePostqueueJson(std::string(kActive) + "\n" + bad + "\n");
    ASSERT_FALSE(counts.ok()) << bad;
    EXPECT_EQ(counts.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(counts.status().message().find("line 2"), std::string::npos)
        << counts.status().message();
  }
}

TEST(PostqueueTest, ReadsThroughTheCommandRunnerWithAnArgv) {
  fakes::ScriptedCommandRunner commands;
  commands.expect({"postqueue", "-c", "/etc/pf", "-j"},
                  fakes::ScriptedCommandRunner::exited(0, std::string(kDeferred) + "\n"));
  commands.expect(
      {"postqueue", "-c", "/etc/pf", "-j"},
      fakes::ScriptedCommandRunner::exited(
          69, "", "postqueue: fatal: Queue report unavailable - mail system is down\n"));
  Result<QueueCounts> counts = readQueues(commands, "/etc/pf", std::chrono::seconds(5));
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->deferred, 1);
  counts = readQueues(commands, "/etc/pf", std::chrono::seconds(5));
  ASSERT_FALSE(counts.ok());
  EXPECT_EQ(counts.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(counts.status().message().find("mail system is down"), std::string::npos);
}

}  // namespace
}  // namespace postwarden::agent::health
