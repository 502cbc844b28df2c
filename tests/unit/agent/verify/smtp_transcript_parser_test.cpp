#include "agent/verify/smtp_transcript_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace postwarden::agent::verify {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string readData(const std::string& name) {
  std::ifstream in(std::string(POSTWARDEN_SOURCE_DIR) + "/tests/data/smtp/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The EHLO replies of a recorded transcript, in order.
std::vector<SmtpReply> ehloReplies(const std::vector<Exchange>& exchanges) {
  std::vector<SmtpReply> replies;
  for (const Exchange& exchange : exchanges) {
    if (exchange.command.starts_with("EHLO") && exchange.reply) replies.push_back(*exchange.reply);
  }
  return replies;
}

Capabilities capabilitiesOf(std::vector<std::string> lines) {
  auto capabilities = parseCapabilities(SmtpReply{250, std::move(lines)});
  EXPECT_TRUE(capabilities.ok()) << capabilities.status().toString();
  return capabilities.ok() ? *capabilities : Capabilities{};
}

TEST(SmtpReplyParserTest, ParsesSingleAndContinuationLines) {
  auto last = parseReplyLine("220 mail.example.com ESMTP Postfix\r");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->code, 220);
  EXPECT_TRUE(last->last);
  EXPECT_EQ(last->text, "mail.example.com ESMTP Postfix");

  auto more = parseReplyLine("250-PIPELINING");
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(more->code, 250);
  EXPECT_FALSE(more->last);
  EXPECT_EQ(more->text, "PIPELINING");

  auto bare = parseReplyLine("250");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->last);
  EXPECT_EQ(bare->text, "");
}

TEST(SmtpReplyParserTest, RejectsGarbageLinesWithInvalidArgument) {
  EXPECT_EQ(parseReplyLine("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("HTTP/1.1 400 Bad Request").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("25").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("2500 too long a code").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("650 not an smtp code").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("190 never used").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine(std::string("220 nul\0byte", 12)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parseReplyLine("220 escape \x1b[31m").status().code(), StatusCode::kInvalidArgument);
}

TEST(SmtpReplyParserTest, RejectsExcessivelyLongLine) {
  const std::string line = "250 " + std::string(kMaxReplyLineLength, 'x');
  const Status status = parseReplyLine(line).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("longer than the limit"));
  EXPECT_TRUE(parseReplyLine("250 " + std::string(kMaxReplyLineLength - 4, 'x')).ok());
}

TEST(SmtpReplyParserTest, AssemblesMultiLineReply) {
  ReplyAssembler assembler;
  auto first = assembler.addLine("250-mail.example.com");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  EXPECT_TRUE(assembler.inProgress());
  auto last = assembler.addLine("250 CHUNKING");
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ(**last, (SmtpReply{250, {"mail.example.com", "CHUNKING"}}));
  EXPECT_FALSE(assembler.inProgress());
}

TEST(SmtpReplyParserTest, RejectsCodeChangeInsideReply) {
  ReplyAssembler assembler;
  ASSERT_TRUE(assembler.addLine("250-mail.example.com").ok());
  EXPECT_EQ(assembler.addLine("251 x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(assembler.inProgress());
}

TEST(SmtpReplyParserTest, RejectsEndlessMultiLineReply) {
  ReplyAssembler assembler;
  Status status;
  for (size_t i = 0; i <= kMaxReplyLines && status.ok(); ++i) {
    status = assembler.addLine("250-again").status();
  }
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
}

TEST(SmtpReplyParserTest, ParsesReplyStreamWithCrlfAndLf) {
  auto replies = parseReplies("220 hi\r\n250-a\n250 b\r\n");
  ASSERT_TRUE(replies.ok()) << replies.status().toString();
  EXPECT_THAT(*replies, ElementsAre(SmtpReply{220, {"hi"}}, SmtpReply{250, {"a", "b"}}));
  auto empty = parseReplies("");
  ASSERT_TRUE(empty.ok());
  EXPECT_THAT(*empty, IsEmpty());
}

TEST(SmtpReplyParserTest, ReportsTruncatedStreamAsDataLoss) {
  EXPECT_EQ(parseReplies("250-a\r\n250-b\r\n").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(parseReplies("220 no line ending").status().code(), StatusCode::kDataLoss);
}

TEST(SmtpReplyParserTest, ReportsGarbageStreamAsInvalidArgument) {
  const Status status = parseReplies("220 ok\r\n\x16\x03\x01 binary\r\n").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("line 2"));
  EXPECT_EQ(parseReplies(std::string(kMaxReplyLineLength + 10, 'x')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SmtpReplyParserTest, SummaryAndTextJoinLines) {
  const SmtpReply reply{454, {"4.7.0 TLS not available due to local problem"}};
  EXPECT_EQ(reply.summary(), "454 4.7.0 TLS not available due to local problem");
  EXPECT_EQ((SmtpReply{250, {"a", "b"}}).text(), "a b");
  EXPECT_EQ((SmtpReply{250, {""}}).summary(), "250");
}

TEST(CapabilitiesTest, ParsesStandardAuthLine) {
  const Capabilities capabilities =
      capabilitiesOf({"mail.example.com", "PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN"});
  EXPECT_TRUE(capabilities.starttls);
  EXPECT_THAT(capabilities.auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(capabilities.keywords, ElementsAre("PIPELINING", "STARTTLS", "AUTH"));
}

TEST(CapabilitiesTest, MergesLegacyAuthEqualsFormWithoutDuplicates) {
  const Capabilities capabilities =
      capabilitiesOf({"mail.example.com", "AUTH PLAIN LOGIN", "AUTH=PLAIN LOGIN CRAM-MD5"});
  EXPECT_THAT(capabilities.auth_mechanisms, ElementsAre("PLAIN", "LOGIN", "CRAM-MD5"));
  EXPECT_THAT(capabilities.keywords, ElementsAre("AUTH"));
}

TEST(CapabilitiesTest, KeywordsAndMechanismsAreCaseInsensitive) {
  const Capabilities capabilities =
      capabilitiesOf({"relay", "starttls", "Auth plain Login", "size 1000"});
  EXPECT_TRUE(capabilities.starttls);
  EXPECT_THAT(capabilities.auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(capabilities.keywords, ElementsAre("STARTTLS", "AUTH", "SIZE"));
  EXPECT_TRUE(offersMechanism(capabilities, "login"));
  EXPECT_FALSE(offersMechanism(capabilities, "CRAM-MD5"));
}

TEST(CapabilitiesTest, GreetingLineIsNotAKeyword) {
  const Capabilities capabilities = capabilitiesOf({"STARTTLS"});  // greeting only
  EXPECT_FALSE(capabilities.starttls);
  EXPECT_THAT(capabilities.keywords, IsEmpty());
}

TEST(CapabilitiesTest, IgnoresMalformedKeywordsAndMechanisms) {
  const Capabilities capabilities = capabilitiesOf(
      {"mail", "-BAD", "", "   ", "AUTH PLAIN l\xc3\xb6gin THIS-NAME-IS-WAY-TOO-LONG-FOR-SASL"});
  EXPECT_THAT(capabilities.keywords, ElementsAre("AUTH"));
  EXPECT_THAT(capabilities.auth_mechanisms, ElementsAre("PLAIN"));
}

TEST(CapabilitiesTest, RejectsNon250Reply) {
  EXPECT_EQ(
      parseCapabilities(SmtpReply{502, {"5.5.2 Error: command not recognized"}}).status().code(),
      StatusCode::kInvalidArgument);
}

TEST(CapabilitiesTest, RejectsExcessivelyLongCapabilityLine) {
  const SmtpReply reply{250, {"mail", "AUTH " + std::string(kMaxReplyLineLength, 'A')}};
  EXPECT_EQ(parseCapabilities(reply).status().code(), StatusCode::kInvalidArgument);
}

TEST(TranscriptParserTest, PostfixDefaultOffersStarttlsAndNoAuth) {
  auto exchanges = parseTranscript(readData("postfix_debian_default.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  ASSERT_EQ(exchanges->size(), 6u);
  EXPECT_EQ((*exchanges)[0].command, "");
  EXPECT_EQ((*exchanges)[0].reply->code, 220);
  EXPECT_EQ((*exchanges)[2].command, "AUTH PLAIN <redacted>");
  EXPECT_EQ((*exchanges)[2].reply->code, 503);
  EXPECT_EQ((*exchanges)[5].reply->code, 221);

  const std::vector<SmtpReply> ehlo = ehloReplies(*exchanges);
  ASSERT_EQ(ehlo.size(), 2u);
  auto before = parseCapabilities(ehlo[0]);
  auto after = parseCapabilities(ehlo[1]);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_TRUE(before->starttls);
  EXPECT_THAT(before->auth_mechanisms, IsEmpty());
  EXPECT_FALSE(after->starttls);
  EXPECT_THAT(before->keywords,
              ElementsAre("PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                          "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"));
}

TEST(TranscriptParserTest, PostfixBeforeHardeningOffersCleartextAuth) {
  auto exchanges = parseTranscript(readData("postfix_before_hardening.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  const std::vector<SmtpReply> ehlo = ehloReplies(*exchanges);
  ASSERT_EQ(ehlo.size(), 2u);
  auto before = parseCapabilities(ehlo[0]);
  ASSERT_TRUE(before.ok());
  EXPECT_TRUE(before->starttls);
  EXPECT_THAT(before->auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_EQ((*exchanges)[2].reply->code, 535);  // checked in cleartext, not refused
}

TEST(TranscriptParserTest, PostfixAfterHardeningOffersAuthOnlyAfterTls) {
  auto exchanges = parseTranscript(readData("postfix_after_hardening.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  const std::vector<SmtpReply> ehlo = ehloReplies(*exchanges);
  ASSERT_EQ(ehlo.size(), 2u);
  auto before = parseCapabilities(ehlo[0]);
  auto after = parseCapabilities(ehlo[1]);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_THAT(before->auth_mechanisms, IsEmpty());
  EXPECT_THAT(after->auth_mechanisms, ElementsAre("PLAIN", "LOGIN"));
  // The message exchange: DATA -> 354, "." -> 250 queued.
  ASSERT_GE(exchanges->size(), 3u);
  const Exchange& end_of_data = (*exchanges)[exchanges->size() - 2];
  EXPECT_EQ(end_of_data.command, ".");
  EXPECT_EQ(end_of_data.reply->code, 250);
}

TEST(TranscriptParserTest, LegacyServerUsesAuthEqualsAndLowerCase) {
  auto exchanges = parseTranscript(readData("legacy_auth_equals.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  EXPECT_EQ((*exchanges)[0].reply->lines, (std::vector<std::string>{"relay.example.net ESMTP "
                                                                    "ready",
                                                                    "no UCE"}));
  const std::vector<SmtpReply> ehlo = ehloReplies(*exchanges);
  ASSERT_EQ(ehlo.size(), 1u);
  auto capabilities = parseCapabilities(ehlo[0]);
  ASSERT_TRUE(capabilities.ok());
  EXPECT_TRUE(capabilities->starttls);
  EXPECT_THAT(capabilities->auth_mechanisms, ElementsAre("LOGIN", "PLAIN", "CRAM-MD5"));
  EXPECT_THAT(capabilities->keywords, ElementsAre("SIZE", "AUTH", "STARTTLS", "HELP"));
}

TEST(TranscriptParserTest, StarttlsRefusalIsAnOrdinaryReply) {
  auto exchanges = parseTranscript(readData("starttls_454.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  ASSERT_EQ(exchanges->size(), 4u);
  EXPECT_EQ((*exchanges)[2].command, "STARTTLS");
  EXPECT_EQ((*exchanges)[2].reply->summary(), "454 4.7.0 TLS not available due to local problem");
}

TEST(TranscriptParserTest, PairsPipelinedCommandsWithRepliesInOrder) {
  auto exchanges = parseTranscript(readData("pipelined.txt"));
  ASSERT_TRUE(exchanges.ok()) << exchanges.status().toString();
  ASSERT_EQ(exchanges->size(), 7u);
  EXPECT_EQ((*exchanges)[4].command, "RCPT TO:<nobody@example.com>");
  EXPECT_EQ((*exchanges)[4].reply->code, 550);
  EXPECT_EQ((*exchanges)[5].command, "DATA");
  EXPECT_EQ((*exchanges)[5].reply->code, 354);
  EXPECT_EQ((*exchanges)[6].command, "QUIT");
  EXPECT_FALSE((*exchanges)[6].reply.has_value());
}

TEST(TranscriptParserTest, RejectsHttpGarbage) {
  const Status status = parseTranscript(readData("http_garbage.bad.txt")).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("line 2"));
}

TEST(TranscriptParserTest, ReportsTruncatedEhloAsDataLoss) {
  EXPECT_EQ(parseTranscript(readData("truncated_ehlo.bad.txt")).status().code(),
            StatusCode::kDataLoss);
}

TEST(TranscriptParserTest, RejectsCodeChangeInsideReply) {
  EXPECT_EQ(parseTranscript(readData("mixed_codes.bad.txt")).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TranscriptParserTest, RejectsOverlongLine) {
  const Status status = parseTranscript(readData("overlong_line.bad.txt")).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("line 5"));
}

TEST(TranscriptParserTest, RejectsLinesWithoutDirectionPrefix) {
  EXPECT_EQ(parseTranscript("S: 220 ok\nX: what\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseTranscript("S: 250-a\nC: NOOP\nS: 250 b\n").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace postwarden::agent::verify
