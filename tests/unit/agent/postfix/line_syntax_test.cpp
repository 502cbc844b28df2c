#include "agent/postfix/internal/line_syntax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postwarden::agent::postfix::internal {
namespace {

using ::testing::ElementsAre;

// The logical lines of `text` as Postfix's readlline() would return them, with "!" in front
// of the ones it warns about and skips.
std::vector<std::string> logicalLines(std::string_view text) {
  std::vector<std::string> out;
  forEachLogicalLine(text, [&](const LogicalLine& l) {
    std::string s = l.orphan ? "!" : "";
    appendLogicalText(text, l, s);
    out.push_back(s);
  });
  return out;
}

TEST(LineSyntaxTest, SplitsLogicalLinesLikeReadlline) {
  EXPECT_THAT(logicalLines("a\n b\n#c\n\n  # d\n\tc\ne\r\n\r\n f"), ElementsAre("a b\tc", "e\r f"));
}

TEST(LineSyntaxTest, MarksLeadingContinuationLinesAsOrphans) {
  EXPECT_THAT(logicalLines("# x\n  a\n  b\nc\n"), ElementsAre("!  a  b", "c"));
}

TEST(LineSyntaxTest, VerticalTabAndFormFeedStartContinuationLines) {
  EXPECT_THAT(logicalLines("a\n\vb\n\fc\n"), ElementsAre("a\vb\fc"));
}

TEST(LineSyntaxTest, CountsNewlineStyles) {
  const LineStats stats = forEachLogicalLine("a\r\nb\r\nc\nd", [](const LogicalLine&) {});
  EXPECT_EQ(stats.physical_lines, 4);
  EXPECT_EQ(stats.crlf_endings, 2);
  EXPECT_EQ(stats.lf_endings, 1);
  EXPECT_EQ(preferredNewline(stats), "\r\n");
  EXPECT_EQ(preferredNewline({}), "\n");
}

TEST(LineSyntaxTest, SplitsNameValueLikeSplitNameval) {
  NameValue nv = splitNameValue("name = value with  spaces \t");
  EXPECT_EQ(nv.name, "name");
  EXPECT_EQ(nv.value, "value with  spaces");
  EXPECT_TRUE(nv.error.empty());
  EXPECT_EQ(splitNameValue("a=").value, "");
  EXPECT_EQ(splitNameValue("  a  =b").name, "a");
  EXPECT_EQ(splitNameValue("a b = c").error, "missing '=' after attribute name");
  EXPECT_EQ(splitNameValue("= c").error, "missing attribute name");
  EXPECT_EQ(splitNameValue("").error, "missing attribute name");
}

TEST(LineSyntaxTest, TokenizesWithBraces) {
  const std::string s = " -o { a = b } x{ y }z\t{unclosed  w";
  std::vector<std::string> tokens;
  for (const TokenRange& t : tokenizeQuoted(s))
    tokens.push_back(s.substr(t.begin, t.end - t.begin));
  EXPECT_THAT(tokens, ElementsAre("-o", "{ a = b }", "x{ y }z", "{unclosed  w"));
}

TEST(LineSyntaxTest, ExtractsBraceContentLikeExtpar) {
  EXPECT_EQ(extractBraces("{ a = b }").text, "a = b");
  EXPECT_TRUE(extractBraces("{ a = b }").error.empty());
  EXPECT_EQ(extractBraces("{ {x} }").text, "{x}");
  EXPECT_EQ(extractBraces("{ a }b").text, "a");
  EXPECT_EQ(extractBraces("{ a }b").error, "syntax error after '}'");
  EXPECT_EQ(extractBraces("{ a ").text, "a");
  EXPECT_EQ(extractBraces("{ a ").error, "missing '}'");
}

TEST(LineSyntaxTest, AppliesEditsInOffsetOrder) {
  EXPECT_EQ(applyEdits("abcdef", {{4, 5, "X"}, {0, 1, ""}, {6, 6, "!"}}), "bcdXf!");
}

}  // namespace
}  // namespace postwarden::agent::postfix::internal
