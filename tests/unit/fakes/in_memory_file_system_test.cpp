#include "tests/fakes/in_memory_file_system.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>

#include "common/os/stale_temp_files.h"
#include "tests/fakes/fake_clock.h"

namespace postwarden::fakes {
namespace {

using os::FileInfo;
using os::isWriteAtomicTempName;
using os::WriteOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(InMemoryFileSystemTest, WriteAtomicThenReadFileRoundTrips) {
  InMemoryFileSystem fs;
  fs.addDirectory("/etc/postfix");

  ASSERT_TRUE(fs.writeAtomic("/etc/postfix/main.cf", "myhostname = mx\n").ok());

  Result<std::string> read = fs.readFile("/etc/postfix/main.cf");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "myhostname = mx\n");
  EXPECT_THAT(fs.allPaths(), ElementsAre("/etc", "/etc/postfix", "/etc/postfix/main.cf"));
}

TEST(InMemoryFileSystemTest, WriteAtomicKeepsModeAndOwnerOfReplacedFile) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/sasl_passwd", "old", 0640, 0, 123);

  ASSERT_TRUE(fs.writeAtomic("/etc/postfix/sasl_passwd", "new").ok());

  Result<FileInfo> info = fs.stat("/etc/postfix/sasl_passwd");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, 0640u);
  EXPECT_EQ(info->group, 123u);
  EXPECT_EQ(info->size, 3u);
}

TEST(InMemoryFileSystemTest, WriteAtomicAppliesOptions) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/f", "old", 0644);
  WriteOptions options;
  options.mode = 0600;
  options.owner = 7;

  ASSERT_TRUE(fs.writeAtomic("/etc/f", "new", options).ok());

  Result<FileInfo> info = fs.stat("/etc/f");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->mode, 0600u);
  EXPECT_EQ(info->owner, 7u);
}

TEST(InMemoryFileSystemTest, WriteAtomicNeedsExistingParentDirectory) {
  InMemoryFileSystem fs;

  EXPECT_EQ(fs.writeAtomic("/etc/postfix/main.cf", "x").code(), StatusCode::kNotFound);
  fs.addFile("/etc/postfix", "a file");
  EXPECT_EQ(fs.writeAtomic("/etc/postfix/main.cf", "x").code(), StatusCode::kNotFound);
}

TEST(InMemoryFileSystemTest, WriteAtomicOverDirectoryIsInvalidArgument) {
  InMemoryFileSystem fs;
  fs.addDirectory("/etc/postfix");

  EXPECT_EQ(fs.writeAtomic("/etc/postfix", "x").code(), StatusCode::kInvalidArgument);
}

TEST(InMemoryFileSystemTest, FailWritesWithNoSpaceIsResourceExhaustedAndChangesNothing) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.failWritesWith(ErrnoToStatus(ENOSPC, "disk full"));

  const Status status = fs.writeAtomic("/etc/postfix/main.cf", "new");

  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("/etc/postfix/main.cf"));
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "old");
  EXPECT_THAT(fs.allPaths(), ElementsAre("/etc", "/etc/postfix", "/etc/postfix/main.cf"));
}

TEST(InMemoryFileSystemTest, FailWritesWithPersistsUntilCleared) {
  InMemoryFileSystem fs;
  fs.addDirectory("/d");
  fs.failWritesWith(ErrnoToStatus(EIO, "bad disk"));

  EXPECT_EQ(fs.writeAtomic("/d/a", "1").code(), StatusCode::kDataLoss);
  EXPECT_EQ(fs.writeAtomic("/d/a", "2").code(), StatusCode::kDataLoss);
  fs.failWritesWith(OkStatus());
  EXPECT_TRUE(fs.writeAtomic("/d/a", "3").ok());
  EXPECT_EQ(fs.contents("/d/a"), "3");
}

TEST(InMemoryFileSystemTest, FailNextRenameFailsOneWriteAtomicAndRemovesTempFile) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.failNextRename(ErrnoToStatus(EIO, "rename"));

  EXPECT_EQ(fs.writeAtomic("/etc/postfix/main.cf", "new").code(), StatusCode::kDataLoss);
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "old");
  Result<std::vector<std::string>> names = fs.listDirectory("/etc/postfix");
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("main.cf"));

  EXPECT_TRUE(fs.writeAtomic("/etc/postfix/main.cf", "new").ok());
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "new");
}

TEST(InMemoryFileSystemTest, FailNextRenameAppliesToRenameCalls) {
  InMemoryFileSystem fs;
  fs.addFile("/d/a", "x");
  fs.failNextRename(PermissionDeniedError("no"));

  EXPECT_EQ(fs.rename("/d/a", "/d/b").code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs.exists("/d/a"));
  EXPECT_TRUE(fs.rename("/d/a", "/d/b").ok());
  EXPECT_EQ(fs.contents("/d/b"), "x");
  EXPECT_FALSE(fs.exists("/d/a"));
}

TEST(InMemoryFileSystemTest, CrashAfterNextWriteLeavesOldContentAndTempFile) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.crashAfterNextWrite();

  const Status status = fs.writeAtomic("/etc/postfix/main.cf", "new");

  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "old");
  Result<std::vector<std::string>> names = fs.listDirectory("/etc/postfix");
  ASSERT_TRUE(names.ok());
  ASSERT_THAT(*names, SizeIs(2));
  EXPECT_TRUE(isWriteAtomicTempName((*names)[0])) << (*names)[0];
  EXPECT_EQ(fs.contents("/etc/postfix/" + (*names)[0]), "new");
  // One-shot: the next write goes through.
  EXPECT_TRUE(fs.writeAtomic("/etc/postfix/main.cf", "newer").ok());
}

TEST(InMemoryFileSystemTest, FailSyncAfterNextRenameLeavesNewBytesAndSaysSo) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.addFile("/etc/postfix/master.cf", "old master");
  fs.failSyncAfterNextRename(DataLossError("Input/output error"), "/etc/postfix/main.cf");

  // Aimed at main.cf: another file's write is not affected.
  EXPECT_TRUE(fs.writeAtomic("/etc/postfix/master.cf", "new master").ok());
  const Status status = fs.writeAtomic("/etc/postfix/main.cf", "new");

  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(os::isNotDurable(status)) << status.toString();
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  EXPECT_THAT(status.message(), HasSubstr("fsync directory '/etc/postfix' after the rename"));
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "new");
  EXPECT_THAT(*fs.listDirectory("/etc/postfix"), ElementsAre("main.cf", "master.cf"));
  // One-shot.
  EXPECT_TRUE(fs.writeAtomic("/etc/postfix/main.cf", "newer").ok());
}

TEST(InMemoryFileSystemTest, OtherWriteFailuresAreNotMistakenForNotDurable) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.failNextRename(DataLossError("Input/output error"));

  const Status status = fs.writeAtomic("/etc/postfix/main.cf", "new");

  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_FALSE(os::isNotDurable(status));
  EXPECT_FALSE(os::isNotDurable(OkStatus()));
  EXPECT_EQ(fs.contents("/etc/postfix/main.cf"), "old");
}

TEST(InMemoryFileSystemTest, RemoveStaleTempFilesCleansUpAfterACrash) {
  InMemoryFileSystem fs;
  fs.addFile("/etc/postfix/main.cf", "old");
  fs.crashAfterNextWrite(UnavailableError("power cut"));
  ASSERT_EQ(fs.writeAtomic("/etc/postfix/main.cf", "new").code(), StatusCode::kUnavailable);

  Result<std::vector<std::string>> removed = os::removeStaleTempFiles(fs, "/etc/postfix");

  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  EXPECT_THAT(*removed, SizeIs(1));
  EXPECT_THAT(fs.allPaths(), ElementsAre("/etc", "/etc/postfix", "/etc/postfix/main.cf"));
}

TEST(InMemoryFileSystemTest, RecordsOperationsInOrder) {
  InMemoryFileSystem fs;
  fs.addFile("/d/a", "x");

  (void)fs.readFile("/d/a");
  (void)fs.writeAtomic("/d/a", "y");
  (void)fs.rename("/d/a", "/d/b");
  (void)fs.stat("/d/missing");
  (void)fs.remove("/d/b");

  EXPECT_THAT(fs.operations(), ElementsAre("readFile /d/a", "writeAtomic /d/a", "rename /d/a /d/b",
                                           "stat /d/missing", "remove /d/b"));
  fs.clearOperations();
  EXPECT_THAT(fs.operations(), IsEmpty());
}

TEST(InMemoryFileSystemTest, ReadFileErrorsFollowPosix) {
  InMemoryFileSystem fs;
  fs.addDirectory("/d");

  EXPECT_EQ(fs.readFile("/d/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.readFile("/d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs.readFile("relative").status().code(), StatusCode::kInvalidArgument);
}

TEST(InMemoryFileSystemTest, ListDirectoryReturnsSortedDirectChildren) {
  InMemoryFileSystem fs;
  fs.addFile("/d/b", "");
  fs.addFile("/d/a.cf", "");
  fs.addFile("/d/a/deep", "");
  fs.addFile("/dz", "");

  Result<std::vector<std::string>> names = fs.listDirectory("/d/");

  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("a", "a.cf", "b"));
  EXPECT_EQ(fs.listDirectory("/missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fs.listDirectory("/dz").status().code(), StatusCode::kNotFound);
}

TEST(InMemoryFileSystemTest, CreateDirectoriesCreatesParentsAndRefusesFilesInTheWay) {
  InMemoryFileSystem fs;

  ASSERT_TRUE(fs.createDirectories("/var/lib/postwarden", 0700).ok());
  ASSERT_TRUE(fs.createDirectories("/var/lib/postwarden").ok());
  Result<FileInfo> info = fs.stat("/var/lib/postwarden");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->is_directory);
  EXPECT_EQ(info->mode, 0700u);

  fs.addFile("/var/file", "");
  EXPECT_EQ(fs.createDirectories("/var/file/sub").code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs.exists("/var/file/sub"));
}

TEST(InMemoryFileSystemTest, RemoveAcceptsMissingFileAndRefusesDirectory) {
  InMemoryFileSystem fs;
  fs.addFile("/d/f", "");

  EXPECT_TRUE(fs.remove("/d/f").ok());
  EXPECT_TRUE(fs.remove("/d/f").ok());
  EXPECT_EQ(fs.remove("/d").code(), StatusCode::kInvalidArgument);
}

TEST(InMemoryFileSystemTest, RenameMovesDirectoryWithContent) {
  InMemoryFileSystem fs;
  fs.addFile("/state/new/main.cf", "a");
  fs.addFile("/state/new/sub/x", "b");
  fs.addDirectory("/state/old");

  EXPECT_EQ(fs.rename("/state/new", "/state/old").code(), ErrnoToStatus(ENOTEMPTY, "").code());
  ASSERT_TRUE(fs.rename("/state/new", "/state/current").ok());

  EXPECT_THAT(fs.allPaths(),
              ElementsAre("/state", "/state/current", "/state/current/main.cf",
                          "/state/current/sub", "/state/current/sub/x", "/state/old"));
  EXPECT_EQ(fs.rename("/state/missing", "/state/x").code(), StatusCode::kNotFound);
}

TEST(InMemoryFileSystemTest, RenameFileOverDirectoryIsInvalidArgument) {
  InMemoryFileSystem fs;
  fs.addFile("/d/f", "");
  fs.addDirectory("/d/dir");

  EXPECT_EQ(fs.rename("/d/f", "/d/dir").code(), StatusCode::kInvalidArgument);
}

TEST(InMemoryFileSystemTest, TimesComeFromTheClock) {
  FakeClock clock;
  InMemoryFileSystem fs(clock);
  fs.addDirectory("/d");
  ASSERT_TRUE(fs.writeAtomic("/d/f", "x").ok());
  Result<FileInfo> info = fs.stat("/d/f");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->modified, FakeClock::kDefaultStart);

  const auto later = FakeClock::kDefaultStart + std::chrono::hours(5);
  ASSERT_TRUE(fs.setModified("/d/f", later).ok());
  info = fs.stat("/d/f");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->modified, later);
  EXPECT_EQ(fs.setModified("/d/missing", later).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace postwarden::fakes
