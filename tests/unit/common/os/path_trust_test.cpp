#include "common/os/path_trust.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/os/posix_file_system.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

FileInfo directory(mode_t mode, uid_t owner = 0) {
  FileInfo info;
  info.is_directory = true;
  info.mode = mode;
  info.owner = owner;
  return info;
}

FileInfo file(mode_t mode, uid_t owner = 0) {
  FileInfo info;
  info.mode = mode;
  info.owner = owner;
  return info;
}

FileInfo linkInfo(uid_t owner = 0) {
  FileInfo info = file(0777, owner);
  info.is_symlink = true;
  return info;
}

// /etc/postfix/main.cf -> /srv/config/main.cf, everything root's and 0755/0644 unless a test
// changes it.
struct Layout {
  FileInfo root = directory(0755), etc = directory(0755), postfix = directory(0755);
  FileInfo link = linkInfo(), srv = directory(0755), config = directory(0755);
  FileInfo target = file(0644);

  ResolvedPath resolved() const {
    ResolvedPath r;
    r.target = "/srv/config/main.cf";
    r.target_info = target;
    r.lookups = {
        {"/", root, "/etc", etc},
        {"/etc", etc, "/etc/postfix", postfix},
        {"/etc/postfix", postfix, "/etc/postfix/main.cf", link},
        {"/", root, "/srv", srv},
        {"/srv", srv, "/srv/config", config},
        {"/srv/config", config, "/srv/config/main.cf", target},
    };
    return r;
  }
};

TEST(PathTrustTest, OnlyRootCanWriteAHardenedLayout) {
  EXPECT_THAT(nonRootWriters(Layout{}.resolved()), IsEmpty());
}

TEST(PathTrustTest, GroupOrOtherWritableTargetIsAFinding) {
  Layout layout;
  layout.target = file(0664);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("group or other writable: '/srv/config/main.cf' (mode 0664)"));
  layout.target = file(0646);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("group or other writable: '/srv/config/main.cf' (mode 0646)"));
}

TEST(PathTrustTest, TargetOwnedByAnotherUserIsAFinding) {
  Layout layout;
  layout.target = file(0644, 1000);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("not owned by root: '/srv/config/main.cf' (uid 1000)"));
}

TEST(PathTrustTest, DirectoryOnTheTargetsPathOwnedByAnotherUserIsAFinding) {
  Layout layout;
  layout.config = directory(0755, 65534);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("not owned by root: directory '/srv/config' (uid 65534)"));
}

TEST(PathTrustTest, WritableDirectoryHoldingTheLinkIsAFinding) {
  // Whoever can write /etc/postfix can point main.cf elsewhere.
  Layout layout;
  layout.postfix = directory(0775);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("group or other writable: directory '/etc/postfix' (mode 0775)"));
}

TEST(PathTrustTest, StickyWritableDirectoryIsFineForRootsEntriesOnly) {
  Layout layout;
  layout.srv = directory(01777);  // like /tmp
  EXPECT_THAT(nonRootWriters(layout.resolved()), IsEmpty());
  // ... but the owner of an entry in it may replace that entry.
  layout.config = directory(0755, 1000);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("not owned by root in the sticky directory '/srv': '/srv/config' "
                          "(uid 1000)",
                          "not owned by root: directory '/srv/config' (uid 1000)"));
}

TEST(PathTrustTest, ADirectoryLookedUpTwiceIsJudgedOnce) {
  Layout layout;
  layout.root = directory(0777);
  EXPECT_THAT(nonRootWriters(layout.resolved()),
              ElementsAre("group or other writable: directory '/' (mode 0777)"));
}

// The judge over PosixFileSystem::resolvePath on real directories: what an operator does with
// chmod and chown shows up.
TEST(PathTrustTest, RealSymlinkedFileWithWritableTargetDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "the layout must be root's to start clean";
  TempDir dir;
  PosixFileSystem fs;
  ASSERT_EQ(::mkdir(dir.file("config").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir.file("postfix").c_str(), 0755), 0);
  ASSERT_TRUE(fs.writeAtomic(dir.file("config/main.cf"), "x").ok());
  ASSERT_EQ(::symlink(dir.file("config/main.cf").c_str(), dir.file("postfix/main.cf").c_str()), 0);
  Result<ResolvedPath> clean = fs.resolvePath(dir.file("postfix/main.cf"));
  ASSERT_TRUE(clean.ok()) << clean.status().toString();
  if (!nonRootWriters(*clean).empty()) GTEST_SKIP() << "the temp directory's parents are unsafe";

  ASSERT_EQ(::chmod(dir.file("config").c_str(), 0775), 0);
  ASSERT_EQ(::chown(dir.file("config/main.cf").c_str(), 65534, 0), 0);
  Result<ResolvedPath> resolved = fs.resolvePath(dir.file("postfix/main.cf"));

  ASSERT_TRUE(resolved.ok()) << resolved.status().toString();
  EXPECT_THAT(
      nonRootWriters(*resolved),
      ElementsAre("group or other writable: directory '" + dir.file("config") + "' (mode 0775)",
                  "not owned by root: '" + dir.file("config/main.cf") + "' (uid 65534)"));
}

}  // namespace
}  // namespace postwarden::os
