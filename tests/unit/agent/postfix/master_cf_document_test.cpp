#include "agent/postfix/master_cf_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace postwarden::agent::postfix {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

const ServiceKey kSmtp{"smtp", "inet"};
const ServiceKey kSubmission{"submission", "inet"};

// The shape of Debian's master.cf, with a submission service enabled.
constexpr const char* kMaster =
    "# Postfix master process configuration file.\n"
    "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "  -o smtpd_tls_security_level=encrypt\n"
    "  -o smtpd_sasl_auth_enable=yes\n"
    "#  -o smtpd_client_restrictions=permit_sasl_authenticated,reject\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "maildrop  unix  -       n       n       -       -       pipe\n"
    "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n";

// ---- Parsing ------------------------------------------------------------------------------

TEST(MasterCfDocumentTest, KeepsBytesOnRoundTrip) {
  for (const std::string& text :
       {std::string(kMaster), std::string("smtp inet n - y - - smtpd\r\n  -o a=b\r\n"),
        std::string("smtp inet n - y - - smtpd -o { a = b  c }"),
        std::string("\xff\0garbage\n  {{{\n}}} -o\n", 23), std::string()}) {
    EXPECT_EQ(MasterCfDocument::parse(text).serialize(), text);
  }
}

TEST(MasterCfDocumentTest, ParsesServicesAndColumns) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  const std::vector<MasterService> services = doc.services();
  ASSERT_EQ(services.size(), 4u);
  const MasterService& pickup = services[2];
  EXPECT_EQ(pickup.key, (ServiceKey{"pickup", "unix"}));
  EXPECT_EQ(pickup.private_flag, "n");
  EXPECT_EQ(pickup.unprivileged, "-");
  EXPECT_EQ(pickup.chroot, "y");
  EXPECT_EQ(pickup.wakeup, "60");
  EXPECT_EQ(pickup.max_process, "1");
  EXPECT_EQ(pickup.command, "pickup");
  EXPECT_EQ(pickup.first_line, 9);
  EXPECT_EQ(pickup.last_line, 9);
  const MasterService& submission = services[1];
  EXPECT_EQ(submission.first_line, 4);
  EXPECT_EQ(submission.last_line, 7);
  EXPECT_THAT(submission.options, ElementsAre(Pair("syslog_name", "postfix/submission"),
                                              Pair("smtpd_tls_security_level", "encrypt"),
                                              Pair("smtpd_sasl_auth_enable", "yes")));
  EXPECT_THAT(submission.args,
              ElementsAre("-o", "syslog_name=postfix/submission", "-o",
                          "smtpd_tls_security_level=encrypt", "-o", "smtpd_sasl_auth_enable=yes"));
  EXPECT_THAT(doc.problems(), IsEmpty());
}

TEST(MasterCfDocumentTest, OptionsStopAtFirstNonOptionArgument) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  const std::optional<MasterService> maildrop = doc.find({"maildrop", "unix"});
  ASSERT_TRUE(maildrop.has_value());
  EXPECT_THAT(maildrop->options, IsEmpty());  // "-d" belongs to maildrop's argv
  EXPECT_THAT(maildrop->args, ElementsAre("flags=DRXhu", "user=vmail", "argv=/usr/bin/maildrop",
                                          "-d", "${recipient}"));
}

TEST(MasterCfDocumentTest, ParsesLongFormOptionWithBraces) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\n"
      "  -o { smtpd_banner = $myhostname  ESMTP }\n"
      "  -o {smtpd_tls_auth_only=yes}\n"
      "  -o {\n"
      "       smtpd_client_restrictions =\n"
      "       permit_mynetworks, reject }\n");
  EXPECT_EQ(doc.option(kSmtp, "smtpd_banner"), "$myhostname  ESMTP");
  EXPECT_EQ(doc.option(kSmtp, "smtpd_tls_auth_only"), "yes");
  EXPECT_EQ(doc.option(kSmtp, "smtpd_client_restrictions"), "permit_mynetworks, reject");
  EXPECT_THAT(doc.problems(), IsEmpty());
}

TEST(MasterCfDocumentTest, ParsesAttachedAndClusteredOptions) {
  MasterCfDocument doc =
      MasterCfDocument::parse("smtp inet n - y - - smtpd -osmtpd_tls_auth_only=yes -vo a=b -v\n");
  const std::optional<MasterService> smtp = doc.find(kSmtp);
  ASSERT_TRUE(smtp.has_value());
  // getopt() semantics, as the daemon reads it (postconf 3.7 splits at the 'o' of "only").
  EXPECT_THAT(smtp->options, ElementsAre(Pair("smtpd_tls_auth_only", "yes"), Pair("a", "b")));
}

TEST(MasterCfDocumentTest, LastOptionWins) {
  MasterCfDocument doc =
      MasterCfDocument::parse("smtp inet n - y - - smtpd -o a=1\n  -o b=2\n  -o a=3\n");
  EXPECT_EQ(doc.option(kSmtp, "a"), "3");
  EXPECT_EQ(doc.option(kSmtp, "b"), "2");
  EXPECT_EQ(doc.option(kSmtp, "c"), std::nullopt);
  EXPECT_EQ(doc.option(kSubmission, "a"), std::nullopt);
}

TEST(MasterCfDocumentTest, DuplicateServiceUsesLastEntry) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1\n"
      "smtp inet n - y - - smtpd -o a=2\n");
  EXPECT_EQ(doc.services().size(), 2u);
  EXPECT_EQ(doc.find(kSmtp)->first_line, 2);
  EXPECT_EQ(doc.option(kSmtp, "a"), "2");
  ASSERT_EQ(doc.problems().size(), 1u);
  EXPECT_EQ(doc.problems()[0].line, 2);
  EXPECT_THAT(doc.problems()[0].message, HasSubstr("duplicate"));
}

TEST(MasterCfDocumentTest, ReportsEntriesPostfixWouldReject) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "  orphan line\n"                                  // 1
      "smtp inet n - y - smtpd\n"                        // 2: 7 fields
      "bogus tcp n - y - - smtpd\n"                      // 3: bad type
      "x unix maybe - y - - x\n"                         // 4: bad private
      "y unix - - - soon - y\n"                          // 5: bad wakeup
      "z unix - - - - many z\n"                          // 6: bad maxproc
      "sub inet n - y - - smtpd -o novalue -o {a=b\n");  // 7: two bad options
  std::vector<int> lines;
  for (const DocumentProblem& p : doc.problems()) lines.push_back(p.line);
  EXPECT_THAT(lines, ElementsAre(1, 2, 3, 4, 5, 6, 7, 7));
  EXPECT_EQ(doc.services().size(), 5u);              // all but the 7-field line
  EXPECT_EQ(doc.option({"sub", "inet"}, "a"), "b");  // extpar() still yields "a=b"
}

TEST(MasterCfDocumentTest, PortIsTheNamePartAfterTheLastColon) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\n"
      "127.0.0.1:2525 inet n - y - - smtpd\n"
      "[::1]:25 inet n - y - - smtpd\n"
      "cleanup unix n - y - 0 cleanup\n");
  const std::vector<MasterService> s = doc.services();
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].port(), "smtp");
  EXPECT_EQ(s[1].port(), "2525");
  EXPECT_EQ(s[2].port(), "25");
  EXPECT_EQ(s[3].port(), "");
}

TEST(MasterCfDocumentTest, ServiceKeyToStringAndOrder) {
  EXPECT_EQ(kSubmission.toString(), "submission/inet");
  EXPECT_LT((ServiceKey{"a", "unix"}), (ServiceKey{"b", "inet"}));
  EXPECT_LT((ServiceKey{"a", "inet"}), (ServiceKey{"a", "unix"}));
}

// ---- setOption ----------------------------------------------------------------------------

TEST(MasterCfDocumentTest, SetOptionEditsExistingTokenInPlace) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  Result<bool> r = doc.setOption(kSubmission, "smtpd_tls_security_level", "may");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(*r);
  std::string expected = kMaster;
  expected.replace(expected.find("smtpd_tls_security_level=encrypt"),
                   std::string("smtpd_tls_security_level=encrypt").size(),
                   "smtpd_tls_security_level=may");
  EXPECT_EQ(doc.serialize(), expected);
}

TEST(MasterCfDocumentTest, SetOptionIsNoOpWhenEqual) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  Result<bool> r = doc.setOption(kSubmission, "smtpd_sasl_auth_enable", "yes");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(doc.serialize(), kMaster);
}

TEST(MasterCfDocumentTest, SetOptionAppendsContinuationLineAfterServiceLastLine) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  ASSERT_TRUE(doc.setOption(kSubmission, "smtpd_tls_auth_only", "yes").ok());
  std::string expected = kMaster;
  expected.insert(expected.find("#  -o smtpd_client"), "  -o smtpd_tls_auth_only=yes\n");
  EXPECT_EQ(doc.serialize(), expected);
}

TEST(MasterCfDocumentTest, SetOptionAppendsToServiceWithoutOptions) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  ASSERT_TRUE(doc.setOption(kSmtp, "smtpd_tls_auth_only", "yes").ok());
  std::string expected = kMaster;
  expected.insert(expected.find("submission inet"), "  -o smtpd_tls_auth_only=yes\n");
  EXPECT_EQ(doc.serialize(), expected);
}

TEST(MasterCfDocumentTest, SetOptionUsesIndentationOfOtherOptionLines) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\n\t-o a=1\n\t-o b=2\nnext unix - - - - - x\n");
  ASSERT_TRUE(doc.setOption(kSmtp, "c", "3").ok());
  EXPECT_EQ(doc.serialize(),
            "smtp inet n - y - - smtpd\n\t-o a=1\n\t-o b=2\n\t-o c=3\nnext unix - - - - - x\n");
}

TEST(MasterCfDocumentTest, SetOptionUsesBracesForWhitespace) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd\n  -o a=1\n");
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "x y").ok());
  ASSERT_TRUE(doc.setOption(kSmtp, "smtpd_banner", "$myhostname ESMTP").ok());
  EXPECT_EQ(
      doc.serialize(),
      "smtp inet n - y - - smtpd\n  -o { a = x y }\n  -o { smtpd_banner = $myhostname ESMTP }\n");
  EXPECT_EQ(doc.option(kSmtp, "a"), "x y");
  EXPECT_EQ(doc.option(kSmtp, "smtpd_banner"), "$myhostname ESMTP");
}

TEST(MasterCfDocumentTest, SetOptionKeepsBraceStyleOfEditedOption) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd -o { a = x y } -v\n");
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "z").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd -o { a = z } -v\n");
}

TEST(MasterCfDocumentTest, SetOptionEditsAttachedForm) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd -oa=1 -vob=2\n");
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "2").ok());
  ASSERT_TRUE(doc.setOption(kSmtp, "b", "x y").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd -oa=2 -vo { b = x y }\n");
}

TEST(MasterCfDocumentTest, SetOptionRemovesEarlierDuplicates) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1\n  -o b=2\n  -o a=3\n  -o a=4 -o c=5\n");
  Result<bool> r = doc.setOption(kSmtp, "a", "9");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd\n  -o b=2\n  -o a=9 -o c=5\n");
}

TEST(MasterCfDocumentTest, SetOptionInsertsBeforeNonOptionArguments) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  ASSERT_TRUE(
      doc.setOption({"maildrop", "unix"}, "maildrop_destination_recipient_limit", "1").ok());
  std::string expected = kMaster;
  expected.insert(expected.find("  flags=DRXhu"), "  -o maildrop_destination_recipient_limit=1\n");
  EXPECT_EQ(doc.serialize(), expected);

  MasterCfDocument inline_args = MasterCfDocument::parse("p unix - n n - - pipe flags=R argv=x\n");
  ASSERT_TRUE(inline_args.setOption({"p", "unix"}, "a", "b").ok());
  EXPECT_EQ(inline_args.serialize(), "p unix - n n - - pipe -o a=b flags=R argv=x\n");
}

TEST(MasterCfDocumentTest, SetOptionInsertsBeforeArgumentStartingWithVerticalTab) {
  // '\v' starts a continuation line but is not a master.cf field separator.
  // (The blank ending the first line keeps "pipe" and "\vflags=R" apart once joined.)
  MasterCfDocument doc = MasterCfDocument::parse("p unix - n n - - pipe \n\vflags=R\n");
  ASSERT_TRUE(doc.find({"p", "unix"}).has_value());
  ASSERT_EQ(doc.find({"p", "unix"})->args.front(), "\vflags=R");
  ASSERT_TRUE(doc.setOption({"p", "unix"}, "a", "b").ok());
  EXPECT_EQ(doc.serialize(), "p unix - n n - - pipe \n  -o a=b \n\vflags=R\n");
  EXPECT_EQ(doc.option({"p", "unix"}, "a"), "b");
}

TEST(MasterCfDocumentTest, SetOptionKeepsCrlf) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd\r\n  -o a=1\r\n");
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "2").ok());
  ASSERT_TRUE(doc.setOption(kSmtp, "b", "3").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd\r\n  -o a=2\r\n  -o b=3\r\n");
}

TEST(MasterCfDocumentTest, SetOptionOnLastLineWithoutNewline) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd");
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "1").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd\n  -o a=1\n");
}

TEST(MasterCfDocumentTest, SetOptionOnMissingServiceIsNotFound) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  Result<bool> r = doc.setOption({"smtps", "inet"}, "a", "1");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(doc.serialize(), kMaster);
  // Same name, other type: a different service.
  EXPECT_EQ(doc.setOption({"smtp", "fifo"}, "a", "1").status().code(), StatusCode::kNotFound);
}

TEST(MasterCfDocumentTest, SetOptionRejectsValuesPostfixCannotReadBack) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  EXPECT_EQ(doc.setOption(kSmtp, "a", "x{y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.setOption(kSmtp, "a", "x} y").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.setOption(kSmtp, "a", "x\ny").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.setOption(kSmtp, "a b", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.setOption(kSmtp, "a=b", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.setOption(kSmtp, "", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.serialize(), kMaster);
  // Balanced braces are fine.
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "{x y}").ok());
  EXPECT_EQ(doc.option(kSmtp, "a"), "{x y}");
}

TEST(MasterCfDocumentTest, EditsOnEntryWithUnclosedBraceAreRefused) {
  // "x{" opens a brace that never closes: Postfix's tokenizer would swallow anything we
  // append after it into that token.
  const std::string text = "smtp inet n - y - - smtpd -o a=1 x{\nnext unix - - - - - x\n";
  MasterCfDocument doc = MasterCfDocument::parse(text);
  ASSERT_EQ(doc.problems().size(), 1u);
  EXPECT_EQ(doc.problems()[0].line, 1);
  EXPECT_EQ(doc.setOption(kSmtp, "b", "2").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(doc.removeOption(kSmtp, "a").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_TRUE(doc.setOption({"next", "unix"}, "b", "2").ok());
}

TEST(MasterCfDocumentTest, NulByteHidesRestOfEntry) {
  // Postfix splits the entry as a C string: "-o b=2" after the NUL does not exist for it.
  const std::string text("smtp inet n - y - - smtpd -o a=1 \0 -o b=2\n", 42);
  MasterCfDocument doc = MasterCfDocument::parse(text);
  EXPECT_EQ(doc.serialize(), text);
  EXPECT_EQ(doc.option(kSmtp, "a"), "1");
  EXPECT_EQ(doc.option(kSmtp, "b"), std::nullopt);
  ASSERT_EQ(doc.problems().size(), 1u);
  EXPECT_EQ(doc.setOption(kSmtp, "a", "2").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(doc.removeOption(kSmtp, "a").status().code(), StatusCode::kFailedPrecondition);
}

TEST(MasterCfDocumentTest, AddingOptionAfterDanglingDashOIsRefused) {
  const std::string text = "smtp inet n - y - - smtpd -o a=1\n  -o\n";
  MasterCfDocument doc = MasterCfDocument::parse(text);
  ASSERT_EQ(doc.problems().size(), 1u);
  EXPECT_EQ(doc.problems()[0].line, 2);
  EXPECT_EQ(doc.setOption(kSmtp, "b", "2").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(doc.serialize(), text);
  // Editing the existing option in place is still fine.
  ASSERT_TRUE(doc.setOption(kSmtp, "a", "2").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd -o a=2\n  -o\n");
}

// ---- removeOption -------------------------------------------------------------------------

TEST(MasterCfDocumentTest, RemoveOptionDropsLineHoldingOnlyThatOption) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  Result<bool> r = doc.removeOption(kSubmission, "smtpd_tls_security_level");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r);
  std::string expected = kMaster;
  expected.erase(expected.find("  -o smtpd_tls_security_level=encrypt\n"),
                 std::string("  -o smtpd_tls_security_level=encrypt\n").size());
  EXPECT_EQ(doc.serialize(), expected);
}

TEST(MasterCfDocumentTest, RemoveOptionKeepsOtherTokensOnItsLine) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1 -v\n"
      "  -o b=2 -o c=3\n"
      "  -o { d = x y }   -o e=5\n");
  ASSERT_TRUE(doc.removeOption(kSmtp, "a").ok());
  ASSERT_TRUE(doc.removeOption(kSmtp, "c").ok());
  ASSERT_TRUE(doc.removeOption(kSmtp, "d").ok());
  EXPECT_EQ(doc.serialize(),
            "smtp inet n - y - - smtpd -v\n"
            "  -o b=2\n"
            "  -o e=5\n");
}

TEST(MasterCfDocumentTest, RemoveOptionRemovesEveryOccurrence) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1\n  -o b=2\n  -oa=3\n  -vo a=4\nnext unix - - - - - x\n");
  Result<bool> r = doc.removeOption(kSmtp, "a");
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd\n  -o b=2\n  -v\nnext unix - - - - - x\n");
}

TEST(MasterCfDocumentTest, RemoveOptionOnLastLineWithoutNewline) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd\n  -o a=1");
  ASSERT_TRUE(doc.removeOption(kSmtp, "a").ok());
  EXPECT_EQ(doc.serialize(), "smtp inet n - y - - smtpd");
}

TEST(MasterCfDocumentTest, RemoveOptionReturnsFalseWhenAbsent) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  Result<bool> r = doc.removeOption(kSubmission, "smtpd_client_restrictions");  // commented out
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(doc.serialize(), kMaster);
}

TEST(MasterCfDocumentTest, RemoveOptionOnMissingServiceIsNotFound) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  EXPECT_EQ(doc.removeOption({"smtps", "inet"}, "a").status().code(), StatusCode::kNotFound);
}

// ---- addService ---------------------------------------------------------------------------

TEST(MasterCfDocumentTest, AddServiceAppendsEntry) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  ASSERT_TRUE(doc.addService({"127.0.0.1:2525", "inet"}, "smtpd").ok());
  EXPECT_EQ(doc.serialize(), std::string(kMaster) + "127.0.0.1:2525 inet n - - - - smtpd\n");
  const std::optional<MasterService> s = doc.find({"127.0.0.1:2525", "inet"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->command, "smtpd");
  EXPECT_EQ(s->port(), "2525");
  ASSERT_TRUE(
      doc.setOption({"127.0.0.1:2525", "inet"}, "smtpd_tls_security_level", "encrypt").ok());
  EXPECT_EQ(doc.serialize(), std::string(kMaster) +
                                 "127.0.0.1:2525 inet n - - - - smtpd\n"
                                 "  -o smtpd_tls_security_level=encrypt\n");
}

TEST(MasterCfDocumentTest, AddServiceKeepsCrlfAndAddsMissingNewline) {
  MasterCfDocument doc = MasterCfDocument::parse("smtp inet n - y - - smtpd\r\n# end");
  ASSERT_TRUE(doc.addService(kSubmission, "smtpd -v").ok());
  EXPECT_EQ(doc.serialize(),
            "smtp inet n - y - - smtpd\r\n# end\r\nsubmission inet n - - - - smtpd -v\r\n");
}

TEST(MasterCfDocumentTest, AddServiceRejectsExistingService) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  EXPECT_EQ(doc.addService(kSmtp, "smtpd").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(doc.serialize(), kMaster);
}

TEST(MasterCfDocumentTest, AddServiceRejectsInvalidFields) {
  MasterCfDocument doc = MasterCfDocument::parse(kMaster);
  EXPECT_EQ(doc.addService({"a b", "inet"}, "smtpd").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.addService({"#a", "inet"}, "smtpd").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.addService({"a", "tcp"}, "smtpd").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.addService({"a", "inet"}, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.addService({"a", "inet"}, "smtpd\n-o x=y").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.addService({"a", "inet"}, "smtpd {").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.serialize(), kMaster);
}

TEST(MasterCfDocumentTest, ReportsOptionLinesAndDuplicateOptions) {
  const MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1\n"
      "  -o { smtpd_tls_auth_only = yes }\n"
      "  -o b=2 -o smtpd_tls_auth_only=no\n"
      "submission inet n - y - - smtpd -o a=1\n"
      "  -oa=2 -o a=3\n");
  EXPECT_EQ(doc.optionLine(kSmtp, "smtpd_tls_auth_only"), 3);
  EXPECT_EQ(doc.optionLine(kSmtp, "a"), 1);
  EXPECT_EQ(doc.optionLine(kSmtp, "absent"), 0);
  EXPECT_EQ(doc.optionLine({"nope", "inet"}, "a"), 0);
  const std::optional<MasterService> smtp = doc.find(kSmtp);
  ASSERT_TRUE(smtp.has_value());
  EXPECT_THAT(smtp->option_lines, ElementsAre(1, 2, 3, 3));

  const std::vector<DuplicateOption> dups = doc.duplicateOptions();
  ASSERT_EQ(dups.size(), 2u);
  EXPECT_EQ(dups[0].service, kSmtp);
  EXPECT_EQ(dups[0].parameter, "smtpd_tls_auth_only");
  EXPECT_THAT(dups[0].lines, ElementsAre(2, 3));
  EXPECT_EQ(dups[0].effective, "no");
  EXPECT_EQ(dups[1].service, kSubmission);
  EXPECT_EQ(dups[1].parameter, "a");
  EXPECT_THAT(dups[1].lines, ElementsAre(4, 5, 5));
  EXPECT_EQ(dups[1].effective, "3");
}

TEST(MasterCfDocumentTest, DuplicateOptionsOfAShadowedEntryDoNotCount) {
  // master(8) uses the last of two entries with the same key.
  const MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd -o a=1 -o a=2\n"
      "smtp inet n - y - - smtpd -o a=1\n");
  EXPECT_TRUE(doc.duplicateOptions().empty());
}

TEST(MasterCfDocumentTest, RemovingABracedOptionKeepsTheRestByteIdentical) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\n"
      "  -o { smtpd_tls_auth_only = no }\n"
      "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n");
  Result<bool> removed = doc.removeOption(kSmtp, "smtpd_tls_auth_only");
  ASSERT_TRUE(removed.ok()) << removed.status().toString();
  EXPECT_TRUE(*removed);
  EXPECT_EQ(doc.serialize(),
            "smtp inet n - y - - smtpd\n"
            "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n");
}

}  // namespace
}  // namespace postwarden::agent::postfix
