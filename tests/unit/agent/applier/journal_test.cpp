#include "agent/applier/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::InMemoryFileSystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kJournal = "/var/lib/postwarden/journal";

JournalEntry sampleEntry() {
  JournalEntry entry;
  entry.id = "20240101T000000Z-42";
  entry.step = JournalStep::kActivated;
  entry.postfix_dir = "/etc/postfix";
  entry.backup_dir = "/var/lib/postwarden/backups/20240101T000000Z-42";
  entry.restart = true;
  entry.old_main_sha256 = sha256Hex("old main");
  entry.new_main_sha256 = sha256Hex("new main");
  entry.old_master_sha256 = sha256Hex("old master");
  entry.new_master_sha256 = sha256Hex("new master");
  return entry;
}

std::string recordedText(const JournalEntry& entry) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  Journal journal(fs, kJournal);
  EXPECT_TRUE(journal.record(entry).ok());
  return fs.contents(kJournal).value_or("");
}

TEST(JournalTest, RecordThenLoadRoundTrips) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  Journal journal(fs, kJournal);
  const JournalEntry entry = sampleEntry();

  ASSERT_TRUE(journal.record(entry).ok());
  Result<std::optional<JournalEntry>> loaded = journal.load();

  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  ASSERT_TRUE(loaded->has_value());
  const JournalEntry& got = **loaded;
  EXPECT_EQ(got.id, entry.id);
  EXPECT_EQ(got.step, JournalStep::kActivated);
  EXPECT_EQ(got.postfix_dir, "/etc/postfix");
  EXPECT_EQ(got.backup_dir, entry.backup_dir);
  EXPECT_TRUE(got.restart);
  EXPECT_EQ(got.old_main_sha256, entry.old_main_sha256);
  EXPECT_EQ(got.new_main_sha256, entry.new_main_sha256);
  EXPECT_EQ(got.old_master_sha256, entry.old_master_sha256);
  EXPECT_EQ(got.new_master_sha256, entry.new_master_sha256);
}

TEST(JournalTest, EveryStepRoundTrips) {
  for (JournalStep step :
       {JournalStep::kStaged, JournalStep::kSwapping, JournalStep::kSwapped,
        JournalStep::kActivated, JournalStep::kVerified, JournalStep::kRollingBack}) {
    InMemoryFileSystem fs;
    fs.addDirectory("/var/lib/postwarden");
    Journal journal(fs, kJournal);
    JournalEntry entry = sampleEntry();
    entry.step = step;
    entry.restart = false;
    ASSERT_TRUE(journal.record(entry).ok());
    Result<std::optional<JournalEntry>> loaded = journal.load();
    ASSERT_TRUE(loaded.ok() && loaded->has_value()) << journalStepName(step);
    EXPECT_EQ((*loaded)->step, step) << journalStepName(step);
    EXPECT_FALSE((*loaded)->restart);
  }
}

TEST(JournalTest, RecordWritesAPrivateLineFormat) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  Journal journal(fs, kJournal);

  ASSERT_TRUE(journal.record(sampleEntry()).ok());

  EXPECT_THAT(fs.operations(), ElementsAre("writeAtomic " + kJournal));
  EXPECT_EQ(fs.stat(kJournal)->mode, 0600u);
  const std::string text = *fs.contents(kJournal);
  EXPECT_EQ(text.substr(0, text.find('\n')), "postwarden-journal 1");
  EXPECT_THAT(text, HasSubstr("\nstep activated\n"));
  EXPECT_THAT(text, HasSubstr("\nrestart yes\n"));
}

TEST(JournalTest, MissingFileLoadsAsNoEntry) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  Journal journal(fs, kJournal);

  Result<std::optional<JournalEntry>> loaded = journal.load();

  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_FALSE(loaded->has_value());
}

TEST(JournalTest, UnknownFormatIsDataLoss) {
  InMemoryFileSystem fs;
  std::string text = recordedText(sampleEntry());
  text.replace(0, std::string("postwarden-journal 1").size(), "postwarden-journal 2");
  fs.addFile(kJournal, text);

  Result<std::optional<JournalEntry>> loaded = Journal(fs, kJournal).load();

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(loaded.status().message(), "journal " + kJournal + " has an unknown format");
}

TEST(JournalTest, EmptyFileIsDataLoss) {
  InMemoryFileSystem fs;
  fs.addFile(kJournal, "");

  Result<std::optional<JournalEntry>> loaded = Journal(fs, kJournal).load();

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("incomplete"));
}

TEST(JournalTest, EntryWithoutBackupDirIsDataLoss) {
  InMemoryFileSystem fs;
  JournalEntry entry = sampleEntry();
  entry.backup_dir = "";
  fs.addFile(kJournal, recordedText(entry));

  Result<std::optional<JournalEntry>> loaded = Journal(fs, kJournal).load();

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr("incomplete"));
}

TEST(JournalTest, UnknownStepIsDataLoss) {
  InMemoryFileSystem fs;
  std::string text = recordedText(sampleEntry());
  text.replace(text.find("step activated"), std::string("step activated").size(), "step flying");
  fs.addFile(kJournal, text);

  Result<std::optional<JournalEntry>> loaded = Journal(fs, kJournal).load();

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
}

TEST(JournalTest, UnreadableJournalKeepsItsCode) {
  InMemoryFileSystem fs;
  fs.addDirectory(kJournal);  // a directory where the file should be

  Result<std::optional<JournalEntry>> loaded = Journal(fs, kJournal).load();

  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(loaded.status().message(), HasSubstr("reading journal"));
}

TEST(JournalTest, RecordOnFullDiskIsResourceExhausted) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  fs.failWritesWith(ResourceExhaustedError("No space left on device"));

  Status status = Journal(fs, kJournal).record(sampleEntry());

  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("recording journal"));
  EXPECT_FALSE(fs.exists(kJournal));
}

TEST(JournalTest, ClearRemovesTheJournalAndIsIdempotent) {
  InMemoryFileSystem fs;
  fs.addDirectory("/var/lib/postwarden");
  Journal journal(fs, kJournal);
  ASSERT_TRUE(journal.record(sampleEntry()).ok());

  EXPECT_TRUE(journal.clear().ok());
  EXPECT_FALSE(fs.exists(kJournal));
  EXPECT_TRUE(journal.clear().ok());
  Result<std::optional<JournalEntry>> loaded = journal.load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->has_value());
}

TEST(JournalTest, StepNamesAreStable) {
  EXPECT_EQ(journalStepName(JournalStep::kStaged), "staged");
  EXPECT_EQ(journalStepName(JournalStep::kSwapping), "swapping");
  EXPECT_EQ(journalStepName(JournalStep::kSwapped), "swapped");
  EXPECT_EQ(journalStepName(JournalStep::kActivated), "activated");
  EXPECT_EQ(journalStepName(JournalStep::kVerified), "verified");
  EXPECT_EQ(journalStepName(JournalStep::kRollingBack), "rolling_back");
}

TEST(JournalTest, Sha256HexMatchesKnownVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace postwarden::agent::applier
