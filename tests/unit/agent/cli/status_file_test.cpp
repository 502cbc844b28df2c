// The daemon's status files (agent/daemon/status_file.h), as `postwarden-agent status` reads
// them: the key=value format, the link recorder keeping the last connection across errors.
#include "agent/daemon/status_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/cli/host_commands.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::daemon {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(StatusFileTest, FieldsRoundTripAndLineBreaksCannotForgeKeys) {
  StatusFields fields{{"agent_id", "mx1"}, {"last_detail", "refused:\nrevoked=yes"}};
  const std::string text = renderStatusFields(fields);
  EXPECT_EQ(text, "agent_id=mx1\nlast_detail=refused: revoked=yes\n");
  EXPECT_THAT(
      parseStatusFields(text),
      UnorderedElementsAre(Pair("agent_id", "mx1"), Pair("last_detail", "refused: revoked=yes")));
  EXPECT_TRUE(parseStatusFields("junk\n=x\n").empty());
}

TEST(StatusFileTest, LinkRecorderKeepsTheLastConnectionAcrossErrors) {
  fakes::FakeClock clock;
  fakes::InMemoryFileSystem fs(clock);
  fs.addDirectory("/state", 0700);
  LinkStatusRecorder recorder(fs, "/state");
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  recorder.note(true, "", false, t0);
  recorder.note(false, "agent mx1 is revoked", true, t0 + std::chrono::seconds(5));
  Result<StatusFields> read = readStatusFile(fs, linkStatusPath("/state"));
  ASSERT_TRUE(read.ok()) << read.status().toString();
  EXPECT_EQ((*read)["connected"], "no");
  EXPECT_EQ((*read)["revoked"], "yes");
  EXPECT_EQ(unixMsOf(*read, "last_connected_unix_ms"), 1000000);
  EXPECT_EQ(unixMsOf(*read, "last_error_unix_ms"), 1005000);
  EXPECT_EQ((*read)["last_error"], "agent mx1 is revoked");
}

TEST(StatusFileTest, MissingFileReadsEmpty) {
  fakes::FakeClock clock;
  fakes::InMemoryFileSystem fs(clock);
  Result<StatusFields> read = readStatusFile(fs, daemonStatusPath("/nowhere"));
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->empty());
}

TEST(StatusFileTest, TimesAreShownInUtc) {
  EXPECT_EQ(cli::utcText(1767607200000), "2026-01-05 10:00:00 UTC");
  EXPECT_EQ(cli::utcText(0), "-");
}

}  // namespace
}  // namespace postwarden::agent::daemon
