#include "agent/applier/config_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"
#include "tests/unit/agent/applier/faulty_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::FaultyFileSystem;
using fakes::InMemoryFileSystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kMainCf = "/etc/postfix/main.cf";
const std::string kMasterCf = "/etc/postfix/master.cf";
const planner::PostfixConfig kOld{"old main\n", "old master\n"};

void addOldFiles(InMemoryFileSystem& fs) {
  fs.addFile(kMainCf, kOld.main_cf, 0644, 0, 0);
  fs.addFile(kMasterCf, kOld.master_cf, 0640, 0, 110);
}

TEST(ConfigFilesTest, ReadReturnsBothFiles) {
  InMemoryFileSystem fs;
  addOldFiles(fs);

  Result<planner::PostfixConfig> config = ConfigFiles(fs, "/etc/postfix").read();

  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->main_cf, "old main\n");
  EXPECT_EQ(config->master_cf, "old master\n");
}

TEST(ConfigFilesTest, ReadWithoutMasterCfIsNotFound) {
  InMemoryFileSystem fs;
  fs.addFile(kMainCf, "old main\n");

  Result<planner::PostfixConfig> config = ConfigFiles(fs, "/etc/postfix").read();

  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr(kMasterCf));
}

TEST(ConfigFilesTest, SwapCountsANotDurableWriteAsWrittenAndSaysSoAtTheEnd) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.failSyncAfterNextRename(DataLossError("Input/output error"), kMasterCf);
  const planner::PostfixConfig after{"new main\n", "new master\n"};

  Status status = ConfigFiles(fs, "/etc/postfix").swap(kOld, after);

  // master.cf's bytes are in place: main.cf is written too, not master.cf put back.
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_TRUE(os::isNotDurable(status)) << status.toString();
  EXPECT_THAT(status.message(), HasSubstr(kMasterCf));
  EXPECT_EQ(fs.contents(kMasterCf), after.master_cf);
  EXPECT_EQ(fs.contents(kMainCf), after.main_cf);
}

TEST(ConfigFilesTest, SwapFailingOnMainCfAfterANotDurableMasterCfPutsMasterCfBack) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  FaultyFileSystem faulty(fs);
  faulty.beforeWrite(kMasterCf,
                     [&] { fs.failSyncAfterNextRename(DataLossError("EIO"), kMasterCf); });
  faulty.failWrite(kMainCf, ResourceExhaustedError("ENOSPC"));

  Status status = ConfigFiles(faulty, "/etc/postfix").swap(kOld, {"new main\n", "new master\n"});

  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(os::isNotDurable(status));
  EXPECT_EQ(fs.contents(kMasterCf), kOld.master_cf);
  EXPECT_EQ(fs.contents(kMainCf), kOld.main_cf);
}

TEST(ConfigFilesTest, BackupKeepsExactBytesInAPrivateDirectory) {
  InMemoryFileSystem fs;
  addOldFiles(fs);  // backup() checks who may change the live files first
  const std::string dir = "/var/lib/postwarden/backups/20240101T000000Z-1";
  const planner::PostfixConfig bytes{"main\r\nwith CRLF and no final newline", ""};

  Result<std::vector<std::string>> written = ConfigFiles(fs, "/etc/postfix").backup(bytes, dir);

  ASSERT_TRUE(written.ok()) << written.status().toString();
  EXPECT_THAT(*written, ElementsAre(dir + "/main.cf", dir + "/master.cf"));
  EXPECT_EQ(fs.contents(dir + "/main.cf"), bytes.main_cf);
  EXPECT_EQ(fs.contents(dir + "/master.cf"), "");
  EXPECT_EQ(fs.stat(dir)->mode, 0700u);
  EXPECT_EQ(fs.stat(dir + "/main.cf")->mode, 0600u);
}

TEST(ConfigFilesTest, BackupOnFullDiskIsResourceExhausted) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.failWritesWith(ResourceExhaustedError("ENOSPC"));

  Result<std::vector<std::string>> written =
      ConfigFiles(fs, "/etc/postfix").backup(kOld, "/var/lib/postwarden/backups/x");

  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(written.status().message(), HasSubstr("backing up"));
}

TEST(ConfigFilesTest, SwapWritesOnlyTheFilesThatChangeAndKeepsTheirMode) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.clearOperations();
  ConfigFiles files(fs, "/etc/postfix");

  Status status = files.swap(kOld, {kOld.main_cf, "new master\n"});

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(fs.operations(), ElementsAre("resolvePath " + kMainCf, "resolvePath " + kMasterCf,
                                           "readFile " + kMainCf, "readFile " + kMasterCf,
                                           "writeAtomic " + kMasterCf));
  EXPECT_EQ(fs.contents(kMainCf), "old main\n");
  EXPECT_EQ(fs.contents(kMasterCf), "new master\n");
  EXPECT_EQ(fs.stat(kMasterCf)->mode, 0640u);
  EXPECT_EQ(fs.stat(kMasterCf)->group, 110u);
}

TEST(ConfigFilesTest, SwapOfEditedFileIsAbortedAndWritesNothing) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.addFile(kMainCf, "edited by hand\n");
  fs.clearOperations();

  Status status = ConfigFiles(fs, "/etc/postfix").swap(kOld, {"new main\n", "new master\n"});

  EXPECT_EQ(status.code(), StatusCode::kAborted);
  EXPECT_THAT(status.message(), HasSubstr("changed since it was planned"));
  EXPECT_EQ(fs.contents(kMainCf), "edited by hand\n");
  EXPECT_EQ(fs.contents(kMasterCf), "old master\n");
  EXPECT_THAT(fs.operations(), ElementsAre("resolvePath " + kMainCf, "resolvePath " + kMasterCf,
                                           "readFile " + kMainCf, "readFile " + kMasterCf));
}

TEST(ConfigFilesTest, SwapPutsMasterCfBackWhenMainCfFails) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  FaultyFileSystem faulty(fs);
  faulty.failWrite(kMainCf, DataLossError("Input/output error"));

  Status status = ConfigFiles(faulty, "/etc/postfix").swap(kOld, {"new main\n", "new master\n"});

  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_THAT(status.message(), HasSubstr("Input/output error"));
  EXPECT_EQ(fs.contents(kMainCf), "old main\n");
  EXPECT_EQ(fs.contents(kMasterCf), "old master\n");
  EXPECT_EQ(fs.stat(kMasterCf)->mode, 0640u);
}

TEST(ConfigFilesTest, SwapThatCannotPutMasterCfBackIsInternal) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  FaultyFileSystem faulty(fs);
  faulty.failWrite(kMainCf, DataLossError("EIO main"));
  faulty.passWrite(kMasterCf);
  faulty.failWrite(kMasterCf, DataLossError("EIO master"));

  Status status = ConfigFiles(faulty, "/etc/postfix").swap(kOld, {"new main\n", "new master\n"});

  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("restore it from the backup"));
  EXPECT_EQ(fs.contents(kMainCf), "old main\n");
  EXPECT_EQ(fs.contents(kMasterCf), "new master\n");
}

// --- only root may be able to change the files Postfix reads as root

TEST(ConfigFilesTest, NonRootWritersIsEmptyForRootOwnedFiles) {
  InMemoryFileSystem fs;
  addOldFiles(fs);

  Result<std::vector<std::string>> findings = ConfigFiles(fs, "/etc/postfix").nonRootWriters();

  ASSERT_TRUE(findings.ok()) << findings.status().toString();
  EXPECT_THAT(*findings, ::testing::IsEmpty());
  EXPECT_TRUE(ConfigFiles(fs, "/etc/postfix").checkOnlyRootWrites().ok());
}

TEST(ConfigFilesTest, NonRootWritersNamesTheFileAndWhatIsWrong) {
  InMemoryFileSystem fs;
  fs.addDirectory("/etc");
  fs.addDirectory("/etc/postfix", 0775);
  fs.addFile(kMainCf, kOld.main_cf, 0664, 0, 0);
  fs.addFile(kMasterCf, kOld.master_cf, 0644, 1000, 0);

  Result<std::vector<std::string>> findings = ConfigFiles(fs, "/etc/postfix").nonRootWriters();

  ASSERT_TRUE(findings.ok()) << findings.status().toString();
  EXPECT_THAT(*findings, ElementsAre("'/etc/postfix/main.cf': group or other writable: directory "
                                     "'/etc/postfix' (mode 0775)",
                                     "'/etc/postfix/main.cf': group or other writable: "
                                     "'/etc/postfix/main.cf' (mode 0664)",
                                     "'/etc/postfix/master.cf': group or other writable: directory "
                                     "'/etc/postfix' (mode 0775)",
                                     "'/etc/postfix/master.cf': not owned by root: "
                                     "'/etc/postfix/master.cf' (uid 1000)"));
}

TEST(ConfigFilesTest, BackupRefusesAGroupWritableMainCfAndWritesNothing) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.addFile(kMainCf, kOld.main_cf, 0664, 0, 0);
  const std::string dir = "/var/lib/postwarden/backups/x";

  Result<std::vector<std::string>> written = ConfigFiles(fs, "/etc/postfix").backup(kOld, dir);

  EXPECT_EQ(written.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(written.status().message(), HasSubstr("nothing written"));
  EXPECT_THAT(written.status().message(),
              HasSubstr("group or other writable: '/etc/postfix/main.cf' (mode 0664)"));
  EXPECT_FALSE(fs.exists(dir));
}

TEST(ConfigFilesTest, SwapRefusesANonRootOwnedMasterCfAndWritesNothing) {
  InMemoryFileSystem fs;
  addOldFiles(fs);
  fs.addFile(kMasterCf, kOld.master_cf, 0644, 65534, 0);
  fs.clearOperations();

  Status status = ConfigFiles(fs, "/etc/postfix").swap(kOld, {"new main\n", "new master\n"});

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("not owned by root: '/etc/postfix/master.cf' (uid 65534)"));
  EXPECT_EQ(fs.contents(kMainCf), kOld.main_cf);
  EXPECT_EQ(fs.contents(kMasterCf), kOld.master_cf);
  for (const std::string& op : fs.operations()) {
    EXPECT_THAT(op, ::testing::Not(::testing::StartsWith("writeAtomic"))) << op;
  }
}

TEST(ConfigFilesTest, BackupDirNameIsUtcStampAndPid) {
  EXPECT_EQ(backupDirName("/var/lib/postwarden", fakes::FakeClock::kDefaultStart, 4242),
            "/var/lib/postwarden/backups/20240101T000000Z-4242");
  EXPECT_EQ(backupDirName("/s", fakes::FakeClock::kDefaultStart + std::chrono::seconds(3723), 1),
            "/s/backups/20240101T010203Z-1");
}

}  // namespace
}  // namespace postwarden::agent::applier
