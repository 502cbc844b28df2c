#include "agent/applier/backups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/applier/journal.h"
#include "agent/applier/needs_human.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::FakeClock;
using fakes::InMemoryFileSystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kState = "/var/lib/postwarden";

std::string idAt(int minute) {
  char id[32];
  std::snprintf(id, sizeof id, "20260105T10%02d00Z-42", minute);
  return id;
}

// `n` backups, one a minute, each with main.cf and master.cf.
void addBackups(InMemoryFileSystem& fs, int n) {
  for (int i = 0; i < n; ++i) {
    fs.addFile(kState + "/backups/" + idAt(i) + "/main.cf", "main " + std::to_string(i));
    fs.addFile(kState + "/backups/" + idAt(i) + "/master.cf", "master");
  }
}

std::vector<std::string> ids(InMemoryFileSystem& fs) {
  std::vector<std::string> out;
  Result<std::vector<BackupInfo>> list = listBackups(fs, kState);
  if (!list.ok()) return {list.status().toString()};
  for (const BackupInfo& b : *list) out.push_back(b.id);
  return out;
}

TEST(BackupsTest, ListsNewestFirstWithTimeAndFilesAndSkipsOtherNames) {
  FakeClock clock;
  InMemoryFileSystem fs(clock);
  addBackups(fs, 3);
  fs.addFile(kState + "/backups/README", "not a backup");
  Result<std::vector<BackupInfo>> list = listBackups(fs, kState);
  ASSERT_TRUE(list.ok()) << list.status().toString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, idAt(2));
  EXPECT_THAT((*list)[0].files, ElementsAre("main.cf", "master.cf"));
  EXPECT_EQ((*list)[0].taken_at, backupTime(idAt(2)));
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*backupTime("20260105T100000Z-42")), 1767607200);
  EXPECT_FALSE(backupTime("20260105-42").has_value());
}

TEST(BackupsTest, NoBackupsDirectoryIsAnEmptyList) {
  FakeClock clock;
  InMemoryFileSystem fs(clock);
  EXPECT_THAT(ids(fs), IsEmpty());
  Result<std::vector<std::string>> removed = pruneBackups(fs, kState, 3);
  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(*removed, IsEmpty());
}

TEST(BackupsTest, PruneKeepsTheNewestN) {
  FakeClock clock;
  InMemoryFileSystem fs(clock);
  addBackups(fs, 5);
  Result<std::vector<std::string>> removed = pruneBackups(fs, kState, 2);
  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  EXPECT_THAT(*removed, ElementsAre(idAt(2), idAt(1), idAt(0)));
  EXPECT_THAT(ids(fs), ElementsAre(idAt(4), idAt(3)));
  EXPECT_FALSE(fs.stat(kState + "/backups/" + idAt(0)).ok()) << "the directory is gone too";
}

TEST(BackupsTest, PruneNeverRemovesTheNewestNorTheChangeInFlight) {
  FakeClock clock;
  InMemoryFileSystem fs(clock);
  addBackups(fs, 4);
  JournalEntry entry;
  entry.id = idAt(1);
  entry.backup_dir = kState + "/backups/" + idAt(1);
  entry.postfix_dir = "/etc/postfix";
  ASSERT_TRUE(Journal(fs, journalPath(kState)).record(entry).ok());
  ASSERT_TRUE(pruneBackups(fs, kState, 0).ok());
  EXPECT_THAT(ids(fs), ElementsAre(idAt(3), idAt(1)));
}

}  // namespace
}  // namespace postwarden::agent::applier
