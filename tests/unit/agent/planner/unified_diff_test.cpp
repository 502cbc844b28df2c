#include "agent/planner/unified_diff.h"

#include <gtest/gtest.h>

namespace postwarden::agent::planner {
namespace {

TEST(UnifiedDiffTest, EqualTextsGiveEmptyDiff) {
  EXPECT_EQ(unifiedDiff("a\nb\n", "a\nb\n", "main.cf"), "");
}

TEST(UnifiedDiffTest, ChangedLineShowsContext) {
  std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n";
  std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n";
  EXPECT_EQ(unifiedDiff(before, after, "main.cf"),
            "--- a/main.cf\n+++ b/main.cf\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiffTest, AppendToFileWithoutFinalNewlineIsVisible) {
  EXPECT_EQ(unifiedDiff("a = 1", "a = 1\nb = 2\n", "main.cf"),
            "--- a/main.cf\n+++ b/main.cf\n@@ -1 +1,2 @@\n-a = 1\n\\ No newline at end of "
            "file\n+a = 1\n+b = 2\n");
}

TEST(UnifiedDiffTest, DistantChangesMakeSeparateHunks) {
  std::string before, after;
  for (int i = 1; i <= 30; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 3 || i == 25 ? "x" : std::to_string(i)) + "\n";
  }
  std::string diff = unifiedDiff(before, after, "f");
  EXPECT_NE(diff.find("@@ -1,6 +1,6 @@"), std::string::npos) << diff;
  EXPECT_NE(diff.find("@@ -22,7 +22,7 @@"), std::string::npos) << diff;
}

TEST(UnifiedDiffTest, InsertIntoEmptyFile) {
  EXPECT_EQ(unifiedDiff("", "a\n", "f"), "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+a\n");
}

TEST(UnifiedDiffTest, ColorizeWrapsAddedAndRemovedLines) {
  std::string colored = colorizeDiff("-old\n+new\n same\n");
  EXPECT_EQ(colored, "\033[31m-old\033[0m\n\033[32m+new\033[0m\n same\n");
}

}  // namespace
}  // namespace postwarden::agent::planner
