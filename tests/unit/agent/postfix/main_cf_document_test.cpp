#include "agent/postfix/main_cf_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace postwarden::agent::postfix {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string roundTrip(std::string_view text) { return MainCfDocument::parse(text).serialize(); }

// ---- Round trip -------------------------------------------------------------------------

TEST(MainCfDocumentTest, KeepsCommentsAndBlankLinesOnRoundTrip) {
  const std::string text =
      "# Global Postfix configuration\n"
      "\n"
      "   \n"
      "\t# indented comment\n"
      "myhostname = mail.example.com   # not a comment\n"
      "#mydomain = example.com\n"
      "\n";
  EXPECT_EQ(roundTrip(text), text);
}

TEST(MainCfDocumentTest, KeepsContinuationLinesOnRoundTrip) {
  const std::string text =
      "smtpd_recipient_restrictions =\n"
      "    permit_mynetworks,\n"
      "# reject_rbl_client zen.spamhaus.org,\n"
      "\treject_unauth_destination\n"
      "mynetworks = 127.0.0.0/8\n";
  EXPECT_EQ(roundTrip(text), text);
}

TEST(MainCfDocumentTest, KeepsNameValueWithoutSpacesOnRoundTrip) {
  const std::string text = "biff=no\nmyhostname  =mail\nrelayhost=   \n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.get("biff"), "no");
  EXPECT_EQ(doc.get("myhostname"), "mail");
  EXPECT_EQ(doc.get("relayhost"), "");
}

TEST(MainCfDocumentTest, KeepsMissingFinalNewlineOnRoundTrip) {
  const std::string text = "biff = no\nmyhostname = mail";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.get("myhostname"), "mail");
}

TEST(MainCfDocumentTest, KeepsCrlfOnRoundTrip) {
  const std::string text = "# comment\r\nbiff = no\r\n\r\nmyhostname = mail\r\n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.get("biff"), "no");  // the '\r' is trailing whitespace to Postfix
  EXPECT_EQ(doc.get("myhostname"), "mail");
}

TEST(MainCfDocumentTest, KeepsOneMegabyteLineOnRoundTrip) {
  const std::string long_value(1 << 20, 'x');
  const std::string text = "# before\nsmtpd_banner = " + long_value + "\nbiff = no\n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.get("smtpd_banner"), long_value);
  EXPECT_EQ(doc.get("biff"), "no");
}

TEST(MainCfDocumentTest, KeepsDuplicatesOnRoundTrip) {
  const std::string text = "biff = no\nmynetworks = a\nbiff = yes\nbiff = no\n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.definitionCount(), 4u);
}

TEST(MainCfDocumentTest, KeepsGarbageAndBinaryBytesOnRoundTrip) {
  std::string text = "biff = no\n";
  constexpr char kBinary[] = "\0\xff\xfe garbage \x01\x02\n";
  text += std::string(kBinary, sizeof(kBinary) - 1);
  text += "= no name\n\r\r\n  \v\f\n\x80=\x81\nname with spaces = x\n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.get("biff"), "no");
}

TEST(MainCfDocumentTest, KeepsEveryByteValueOnRoundTrip) {
  std::string text;
  for (int i = 0; i < 256; ++i) text.push_back(static_cast<char>(i));
  text += text;
  EXPECT_EQ(roundTrip(text), text);
}

TEST(MainCfDocumentTest, EmptyFileHasNoDefinitions) {
  MainCfDocument doc = MainCfDocument::parse("");
  EXPECT_EQ(doc.serialize(), "");
  EXPECT_THAT(doc.definitions(), IsEmpty());
  EXPECT_THAT(doc.problems(), IsEmpty());
  EXPECT_EQ(doc.get("biff"), std::nullopt);
}

// ---- Postfix's reading rules --------------------------------------------------------------

TEST(MainCfDocumentTest, JoinsContinuationLinesKeepingTheirLeadingWhitespace) {
  // readlline() removes only the newlines: "b" + "  c" + "\td".
  MainCfDocument doc = MainCfDocument::parse("a = b\n  c\n\td\n");
  EXPECT_EQ(doc.get("a"), "b  c\td");
}

TEST(MainCfDocumentTest, CommentAndBlankLinesDoNotEndAContinuation) {
  MainCfDocument doc = MainCfDocument::parse("a = b\n# note\n\n   # indented note\n  c\nd = e\n");
  EXPECT_EQ(doc.get("a"), "b  c");
  EXPECT_EQ(doc.get("d"), "e");
  const auto defs = doc.definitions();
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0].first_line, 1);
  EXPECT_EQ(defs[0].last_line, 5);
  EXPECT_EQ(defs[1].first_line, 6);
  EXPECT_EQ(defs[1].last_line, 6);
}

TEST(MainCfDocumentTest, ValueStartsOnContinuationLine) {
  MainCfDocument doc = MainCfDocument::parse("mynetworks =\n    127.0.0.0/8\n    [::1]/128\n");
  EXPECT_EQ(doc.get("mynetworks"), "127.0.0.0/8    [::1]/128");
}

TEST(MainCfDocumentTest, HashInsideValueIsPartOfTheValue) {
  MainCfDocument doc = MainCfDocument::parse("smtpd_banner = $myhostname # ESMTP\n");
  EXPECT_EQ(doc.get("smtpd_banner"), "$myhostname # ESMTP");
}

TEST(MainCfDocumentTest, StripsWhitespaceAroundValue) {
  MainCfDocument doc = MainCfDocument::parse("a \t=\t  b c \t \n");
  EXPECT_EQ(doc.get("a"), "b c");
}

TEST(MainCfDocumentTest, NameEndsAtWhitespaceOrEquals) {
  MainCfDocument doc = MainCfDocument::parse("a=b=c\nx = =y\n");
  EXPECT_EQ(doc.get("a"), "b=c");
  EXPECT_EQ(doc.get("x"), "=y");
}

TEST(MainCfDocumentTest, CrlfContinuationKeepsInteriorCarriageReturns) {
  // Postfix reads "b\r" + "  c\r": only the final '\r' is trailing whitespace.
  MainCfDocument doc = MainCfDocument::parse("a = b\r\n  c\r\n");
  EXPECT_EQ(doc.get("a"), "b\r  c");
}

TEST(MainCfDocumentTest, LastDefinitionWins) {
  MainCfDocument doc = MainCfDocument::parse("biff = yes\nmynetworks = a\nbiff = no\n");
  EXPECT_EQ(doc.get("biff"), "no");
  EXPECT_THAT(doc.duplicateNames(), ElementsAre("biff"));
}

TEST(MainCfDocumentTest, ListsDuplicateNamesInOrderOfFirstDefinition) {
  MainCfDocument doc = MainCfDocument::parse("b = 1\na = 1\nc = 1\na = 2\nb = 2\nb = 3\n");
  EXPECT_THAT(doc.duplicateNames(), ElementsAre("b", "a"));
}

TEST(MainCfDocumentTest, ListsDefinitionsInFileOrder) {
  MainCfDocument doc = MainCfDocument::parse("# c\nb = 1\n\na = x\n  y\nb = 2");
  const auto defs = doc.definitions();
  ASSERT_EQ(defs.size(), 3u);
  EXPECT_EQ(defs[0].name, "b");
  EXPECT_EQ(defs[0].value, "1");
  EXPECT_EQ(defs[0].first_line, 2);
  EXPECT_EQ(defs[1].name, "a");
  EXPECT_EQ(defs[1].value, "x  y");
  EXPECT_EQ(defs[1].first_line, 4);
  EXPECT_EQ(defs[1].last_line, 5);
  EXPECT_EQ(defs[2].name, "b");
  EXPECT_EQ(defs[2].first_line, 6);
}

TEST(MainCfDocumentTest, ReportsLineWithoutEquals) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\nmyhostname mail\n= x\n");
  ASSERT_EQ(doc.problems().size(), 2u);
  EXPECT_EQ(doc.problems()[0].line, 2);
  EXPECT_THAT(doc.problems()[0].message, ::testing::HasSubstr("missing '='"));
  EXPECT_EQ(doc.problems()[1].line, 3);
  EXPECT_THAT(doc.problems()[1].message, ::testing::HasSubstr("missing attribute name"));
  EXPECT_EQ(doc.definitionCount(), 1u);
}

TEST(MainCfDocumentTest, ReportsIndentedTextAtTopOfFile) {
  MainCfDocument doc = MainCfDocument::parse("# c\n  stray = 1\n  more\nbiff = no\n");
  ASSERT_EQ(doc.problems().size(), 1u);
  EXPECT_EQ(doc.problems()[0].line, 2);
  EXPECT_EQ(doc.get("stray"), std::nullopt);
  EXPECT_EQ(doc.get("biff"), "no");
}

TEST(MainCfDocumentTest, NulByteEndsTheValue) {
  // split_nameval() works on a C string.
  MainCfDocument doc = MainCfDocument::parse(std::string("a = b\0c\n", 8));
  EXPECT_EQ(doc.get("a"), "b");
}

TEST(MainCfDocumentTest, ParsesTenThousandLines) {
  std::string text;
  for (int i = 0; i < 10000; ++i) {
    text += (i % 10 == 0) ? "# comment " + std::to_string(i) + "\n"
                          : "param_" + std::to_string(i) + " = value " + std::to_string(i) + "\n";
  }
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_EQ(doc.definitionCount(), 9000u);
  EXPECT_EQ(doc.get("param_9999"), "value 9999");
  EXPECT_EQ(doc.serialize(), text);
}

// ---- Edits --------------------------------------------------------------------------------

TEST(MainCfDocumentTest, SetReplacesOnlyTheDefinitionLine) {
  MainCfDocument doc = MainCfDocument::parse(
      "# TLS\n"
      "smtpd_tls_security_level=may   \n"
      "smtpd_tls_auth_only = no\n"
      "# end\n");
  const SetResult r = doc.set("smtpd_tls_security_level", "encrypt");
  EXPECT_TRUE(r.changed);
  EXPECT_THAT(r.removed_duplicate_lines, IsEmpty());
  EXPECT_EQ(doc.serialize(),
            "# TLS\n"
            "smtpd_tls_security_level = encrypt\n"
            "smtpd_tls_auth_only = no\n"
            "# end\n");
}

TEST(MainCfDocumentTest, RemoveEarlierDefinitionsKeepsTheLastByteForByte) {
  MainCfDocument doc = MainCfDocument::parse(
      "biff = yes\n"             // 1
      "mynetworks = a\n"         // 2
      "biff =\n"                 // 3
      "   maybe\n"               // 4
      "biff   =   no  \r\n"      // 5
      "relayhost = [mx]:25\n");  // 6
  EXPECT_THAT(doc.removeEarlierDefinitions("biff"), ElementsAre(1, 3, 4));
  EXPECT_EQ(doc.serialize(),
            "mynetworks = a\n"
            "biff   =   no  \r\n"
            "relayhost = [mx]:25\n");
  EXPECT_EQ(doc.get("biff"), "no");
  EXPECT_THAT(doc.duplicateNames(), IsEmpty());
  // One definition or none: nothing to do, bytes untouched.
  const std::string once = doc.serialize();
  EXPECT_THAT(doc.removeEarlierDefinitions("biff"), IsEmpty());
  EXPECT_THAT(doc.removeEarlierDefinitions("absent"), IsEmpty());
  EXPECT_EQ(doc.serialize(), once);
}

TEST(MainCfDocumentTest, SetIsNoOpWhenValueIsAlreadyEffective) {
  const std::string text = "biff=no\nbiff   =   yes   \n";
  MainCfDocument doc = MainCfDocument::parse(text);
  const SetResult r = doc.set("biff", "yes");
  EXPECT_FALSE(r.changed);
  EXPECT_THAT(r.removed_duplicate_lines, IsEmpty());
  EXPECT_EQ(doc.serialize(), text);
}

TEST(MainCfDocumentTest, SetOnDuplicatedParameterLeavesOneDefinition) {
  MainCfDocument doc = MainCfDocument::parse(
      "biff = yes\n"             // 1
      "mynetworks = a\n"         // 2
      "biff =\n"                 // 3
      "   maybe\n"               // 4
      "# keep me\n"              // 5
      "biff = no\n"              // 6
      "relayhost = [mx]:25\n");  // 7
  const SetResult r = doc.set("biff", "off");
  EXPECT_TRUE(r.changed);
  EXPECT_THAT(r.removed_duplicate_lines, ElementsAre(1, 3, 4));
  EXPECT_EQ(doc.serialize(),
            "mynetworks = a\n"
            "# keep me\n"
            "biff = off\n"
            "relayhost = [mx]:25\n");
  EXPECT_THAT(doc.duplicateNames(), IsEmpty());
}

TEST(MainCfDocumentTest, SetReplacesAllLinesOfAContinuedDefinition) {
  MainCfDocument doc = MainCfDocument::parse(
      "smtpd_recipient_restrictions =\n"
      "    permit_mynetworks,\n"
      "#    reject_rbl_client zen.spamhaus.org,\n"
      "    reject_unauth_destination\n"
      "\n"
      "# next\n"
      "biff = no\n");
  EXPECT_TRUE(doc.set("smtpd_recipient_restrictions", "reject").changed);
  EXPECT_EQ(doc.serialize(),
            "smtpd_recipient_restrictions = reject\n"
            "\n"
            "# next\n"
            "biff = no\n");
}

TEST(MainCfDocumentTest, SetAppendsWhenUndefined) {
  MainCfDocument doc = MainCfDocument::parse("# header\nbiff = no\n");
  EXPECT_TRUE(doc.set("smtpd_tls_auth_only", "yes").changed);
  EXPECT_EQ(doc.serialize(), "# header\nbiff = no\nsmtpd_tls_auth_only = yes\n");
}

TEST(MainCfDocumentTest, SetAppendsAfterAddingMissingFinalNewline) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\n# trailing comment");
  doc.set("smtpd_tls_auth_only", "yes");
  EXPECT_EQ(doc.serialize(), "biff = no\n# trailing comment\nsmtpd_tls_auth_only = yes\n");
}

TEST(MainCfDocumentTest, SetOnEmptyDocumentWritesOneLine) {
  MainCfDocument doc;
  doc.set("biff", "no");
  EXPECT_EQ(doc.serialize(), "biff = no\n");
  EXPECT_EQ(doc.get("biff"), "no");
}

TEST(MainCfDocumentTest, SetKeepsCrlfWhenReplacing) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\r\nmyhostname = a\r\n");
  doc.set("biff", "yes");
  EXPECT_EQ(doc.serialize(), "biff = yes\r\nmyhostname = a\r\n");
}

TEST(MainCfDocumentTest, SetAppendsCrlfInCrlfFile) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\r\nmyhostname = a");
  doc.set("relayhost", "[mx]");
  EXPECT_EQ(doc.serialize(), "biff = no\r\nmyhostname = a\r\nrelayhost = [mx]\r\n");
}

TEST(MainCfDocumentTest, SetAppendsOnlyLineFeedAfterTrailingCarriageReturn) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\r\nmyhostname = a\r");
  doc.set("relayhost", "[mx]");
  EXPECT_EQ(doc.serialize(), "biff = no\r\nmyhostname = a\r\nrelayhost = [mx]\r\n");
}

TEST(MainCfDocumentTest, SetOnLastLineWithoutNewlineKeepsItWithoutNewline) {
  MainCfDocument doc = MainCfDocument::parse("biff = no\nmyhostname = a");
  doc.set("myhostname", "b");
  EXPECT_EQ(doc.serialize(), "biff = no\nmyhostname = b");
}

TEST(MainCfDocumentTest, SetTrimsValueAndWritesEmptyValueWithoutTrailingSpace) {
  MainCfDocument doc = MainCfDocument::parse("a = 1\nb = 2\n");
  doc.set("a", "  x y  ");
  doc.set("b", "");
  EXPECT_EQ(doc.serialize(), "a = x y\nb =\n");
  EXPECT_EQ(doc.get("a"), "x y");
  EXPECT_EQ(doc.get("b"), "");
}

TEST(MainCfDocumentTest, SetKeepsHashInValue) {
  MainCfDocument doc;
  doc.set("smtpd_banner", "$myhostname # hi");
  EXPECT_EQ(MainCfDocument::parse(doc.serialize()).get("smtpd_banner"), "$myhostname # hi");
}

TEST(MainCfDocumentTest, SetRenumbersFollowingDefinitions) {
  MainCfDocument doc = MainCfDocument::parse("a =\n  1\n  2\nb = 3\n");
  doc.set("a", "x");
  const auto defs = doc.definitions();
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[1].name, "b");
  EXPECT_EQ(defs[1].first_line, 2);
}

TEST(MainCfDocumentTest, RemoveDeletesEveryDefinitionWithItsLines) {
  MainCfDocument doc = MainCfDocument::parse(
      "biff = yes\n"
      "mynetworks = a\n"
      "biff =\n"
      "  no\n"
      "# after\n");
  EXPECT_TRUE(doc.remove("biff"));
  EXPECT_EQ(doc.serialize(), "mynetworks = a\n# after\n");
  EXPECT_EQ(doc.get("biff"), std::nullopt);
}

TEST(MainCfDocumentTest, RemoveReturnsFalseWhenUndefined) {
  const std::string text = "biff = no\n#relayhost = x\n";
  MainCfDocument doc = MainCfDocument::parse(text);
  EXPECT_FALSE(doc.remove("relayhost"));
  EXPECT_EQ(doc.serialize(), text);
}

TEST(MainCfDocumentTest, CopiesAreIndependent) {
  MainCfDocument a = MainCfDocument::parse("biff = no\n");
  MainCfDocument b = a;
  b.set("biff", "yes");
  EXPECT_EQ(a.get("biff"), "no");
  EXPECT_EQ(b.get("biff"), "yes");
}

TEST(MainCfDocumentTest, ValidatesSettableNamesAndValues) {
  EXPECT_TRUE(MainCfDocument::isSettableName("smtpd_tls_auth_only"));
  EXPECT_TRUE(MainCfDocument::isSettableName("smtp-amavis_destination_concurrency_limit"));
  EXPECT_FALSE(MainCfDocument::isSettableName(""));
  EXPECT_FALSE(MainCfDocument::isSettableName("#biff"));
  EXPECT_FALSE(MainCfDocument::isSettableName("a b"));
  EXPECT_FALSE(MainCfDocument::isSettableName("a=b"));
  EXPECT_TRUE(MainCfDocument::isSettableValue("a, b # c"));
  EXPECT_FALSE(MainCfDocument::isSettableValue("a\nb"));
  EXPECT_FALSE(MainCfDocument::isSettableValue("a\tb"));
}

TEST(MainCfDocumentDeathTest, SetDiesOnControlCharacterInValue) {
  MainCfDocument doc;
  EXPECT_DEATH(doc.set("biff", "no\nrelayhost = evil"), "check failed");
}

TEST(MainCfDocumentDeathTest, SetDiesOnInvalidName) {
  MainCfDocument doc;
  EXPECT_DEATH(doc.set("a b", "x"), "check failed");
}

}  // namespace
}  // namespace postwarden::agent::postfix
