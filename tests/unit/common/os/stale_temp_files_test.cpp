#include "common/os/stale_temp_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/os/posix_file_system.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(WriteAtomicTempNameTest, IsHiddenAndRecognised) {
  const std::string name = writeAtomicTempName("main.cf", 1234, 0xabcdef);

  EXPECT_EQ(name, ".main.cf.pw-tmp-1234-0000000000abcdef");
  EXPECT_TRUE(isWriteAtomicTempName(name));
  EXPECT_TRUE(isWriteAtomicTempName(writeAtomicTempName("x", 1, ~0ULL)));
}

TEST(WriteAtomicTempNameTest, LookalikesAreNotRecognised) {
  EXPECT_FALSE(isWriteAtomicTempName("main.cf"));
  EXPECT_FALSE(isWriteAtomicTempName(".main.cf"));
  EXPECT_FALSE(isWriteAtomicTempName("main.cf.pw-tmp-1-0000000000abcdef"));  // not hidden
  EXPECT_FALSE(isWriteAtomicTempName("..pw-tmp-1-0000000000abcdef"));        // no base
  EXPECT_FALSE(isWriteAtomicTempName(".notes.pw-tmp-old"));
  EXPECT_FALSE(isWriteAtomicTempName(".main.cf.pw-tmp--0000000000abcdef"));   // no pid
  EXPECT_FALSE(isWriteAtomicTempName(".main.cf.pw-tmp-1-abcdef"));            // short nonce
  EXPECT_FALSE(isWriteAtomicTempName(".main.cf.pw-tmp-1-0000000000ABCDEF"));  // upper case
  EXPECT_FALSE(isWriteAtomicTempName(".main.cf.pw-tmp-1-0000000000abcdef.bak"));
}

TEST(RemoveStaleTempFilesTest, RemovesOnlyTempFiles) {
  TempDir dir;
  PosixFileSystem fs;
  const std::string stale = writeAtomicTempName("main.cf", 999999, 42);
  for (const std::string& name :
       {std::string("main.cf"), std::string(".main.cf"), stale, std::string(".notes.pw-tmp-old")}) {
    std::ofstream(dir.file(name)) << "x";
  }

  Result<std::vector<std::string>> removed = removeStaleTempFiles(fs, dir.path());

  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  EXPECT_THAT(*removed, ElementsAre(dir.file(stale)));
  Result<std::vector<std::string>> left = fs.listDirectory(dir.path());
  ASSERT_TRUE(left.ok());
  EXPECT_THAT(*left, ElementsAre(".main.cf", ".notes.pw-tmp-old", "main.cf"));
}

TEST(RemoveStaleTempFilesTest, ReturnsEmptyListForCleanDirectory) {
  TempDir dir;
  PosixFileSystem fs;

  Result<std::vector<std::string>> removed = removeStaleTempFiles(fs, dir.path() + "/");

  ASSERT_TRUE(removed.ok());
  EXPECT_THAT(*removed, IsEmpty());
}

TEST(RemoveStaleTempFilesTest, ReturnsNotFoundForMissingDirectory) {
  TempDir dir;
  PosixFileSystem fs;

  EXPECT_EQ(removeStaleTempFiles(fs, dir.file("missing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace postwarden::os
