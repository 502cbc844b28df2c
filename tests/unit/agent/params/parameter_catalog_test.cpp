#include "agent/params/parameter_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>

namespace postwarden::agent::params {
namespace {

using ::testing::HasSubstr;
using ::testing::Optional;

const ParameterCatalog& catalog() {
  static const ParameterCatalog kCatalog = ParameterCatalog::builtin();
  return kCatalog;
}

// Asserts InvalidArgument and returns the message for further checks.
std::string invalid(std::string_view name, std::string_view value) {
  const Status s = catalog().validateValue(name, value);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name << " = " << value;
  return s.message();
}

void valid(std::string_view name, std::string_view value) {
  const Status s = catalog().validateValue(name, value);
  EXPECT_TRUE(s.ok()) << name << " = " << value << ": " << s.toString();
}

// --- the table ---------------------------------------------------------------------------

TEST(ParameterCatalogTest, BuiltinKnowsPostfix37Parameters) {
  EXPECT_GT(catalog().size(), 900u);
  EXPECT_TRUE(catalog().isKnown("smtpd_sasl_security_options"));
  EXPECT_TRUE(catalog().isKnown("smtpd_tls_auth_only"));
  EXPECT_TRUE(catalog().isKnown("2bounce_notice_recipient"));  // first in byte order
  EXPECT_TRUE(catalog().isKnown("smtp_tls_CAfile"));
  EXPECT_FALSE(catalog().isKnown("smtp_tls_cafile"));  // names are case-sensitive
  EXPECT_FALSE(catalog().isKnown("smtpd_sasl_security_option"));
  EXPECT_FALSE(catalog().isKnown(""));
}

TEST(ParameterCatalogTest, BuiltinHasDefaultsAsPostconfPrintsThem) {
  EXPECT_THAT(catalog().defaultValue("smtpd_sasl_security_options"),
              Optional(std::string("noanonymous")));
  EXPECT_THAT(catalog().defaultValue("smtpd_sasl_tls_security_options"),
              Optional(std::string("$smtpd_sasl_security_options")));
  EXPECT_THAT(catalog().defaultValue("smtpd_tls_security_level"), Optional(std::string("")));
  EXPECT_THAT(catalog().defaultValue("mail_version"), Optional(std::string("3.7.11")));
  // Backslashes and quotes survive the generated C escapes.
  auto filter = catalog().defaultValue("smtpd_expansion_filter");
  ASSERT_TRUE(filter.has_value());
  EXPECT_THAT(*filter, HasSubstr("[\\\\]"));
  EXPECT_THAT(*filter, HasSubstr("!\"#$"));
  EXPECT_EQ(catalog().defaultValue("no_such_parameter"), std::nullopt);
}

TEST(ParameterCatalogTest, EveryBuiltinDefaultPassesValidation) {
  // The grammars must accept every default Postfix itself ships: a guard against rejecting
  // legitimate values through a wrong inference.
  const auto names = catalog().names();
  ASSERT_EQ(names.size(), catalog().size());
  for (std::string_view name : names) {
    const auto d = catalog().defaultValue(name);
    ASSERT_TRUE(d.has_value()) << name;
    valid(name, *d);
  }
}

TEST(ParameterCatalogTest, NamesAreSortedAndUnique) {
  const auto names = catalog().names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.front(), "2bounce_notice_recipient");
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

TEST(ParameterCatalogTest, BuiltinIsCheapToBuild) {
  // The whole-process plan budget is 5 ms; building the catalog must be a rounding error.
  const auto start = std::chrono::steady_clock::now();
  size_t known = 0;
  for (int i = 0; i < 1000; ++i) {
    ParameterCatalog c = ParameterCatalog::builtin();
    known += c.isKnown("smtpd_tls_auth_only") ? 1 : 0;
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(known, 1000u);
  EXPECT_LT(elapsed, std::chrono::milliseconds(5));
}

TEST(ParameterCatalogTest, ClosestNameSuggestsLikelyTypos) {
  EXPECT_THAT(catalog().closestName("smtpd_sasl_security_option"),
              Optional(std::string("smtpd_sasl_security_options")));
  EXPECT_THAT(catalog().closestName("smtpd_tls_auht_only"),
              Optional(std::string("smtpd_tls_auth_only")));
  EXPECT_THAT(catalog().closestName("SMTPD_TLS_AUTH_ONLY"),
              Optional(std::string("smtpd_tls_auth_only")));
  EXPECT_EQ(catalog().closestName("completely_unrelated_words"), std::nullopt);
  EXPECT_EQ(catalog().closestName("mua_client_restrictions"), std::nullopt);
}

TEST(ParameterCatalogTest, PerTransportNamesAreRecognised) {
  EXPECT_TRUE(catalog().isPerTransport("dovecot_destination_recipient_limit"));
  EXPECT_TRUE(catalog().isPerTransport("myfilter_time_limit"));
  EXPECT_FALSE(catalog().isPerTransport("smtp_destination_recipient_limit"));  // plainly known
  EXPECT_FALSE(catalog().isPerTransport("_time_limit"));
  EXPECT_FALSE(catalog().isPerTransport("mua_client_restrictions"));
  valid("dovecot_destination_recipient_limit", "1");
  EXPECT_THAT(invalid("dovecot_destination_recipient_limit", "one"), HasSubstr("integer"));
  valid("myfilter_time_limit", "3600s");
  EXPECT_THAT(invalid("myfilter_time_limit", "1 hour"), HasSubstr("time value"));
}

// --- postconf -d parsing -------------------------------------------------------------------

TEST(ParameterCatalogTest, ParsesPostconfDefaults) {
  auto parsed = ParameterCatalog::fromPostconfDefaults(
      "smtpd_tls_auth_only = no\n"
      "alias_maps = hash:/etc/aliases,\n"
      "    nis:mail.aliases\n"
      "\n"
      "smtpd_tls_security_level =\n"
      "mail_version = 3.9.1\r\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->size(), 4u);
  EXPECT_THAT(parsed->defaultValue("alias_maps"),
              Optional(std::string("hash:/etc/aliases, nis:mail.aliases")));
  EXPECT_THAT(parsed->defaultValue("smtpd_tls_security_level"), Optional(std::string("")));
  EXPECT_THAT(parsed->defaultValue("mail_version"), Optional(std::string("3.9.1")));
  EXPECT_TRUE(parsed->isKnown("smtpd_tls_auth_only"));
  EXPECT_FALSE(parsed->isKnown("smtpd_sasl_type"));
  // Grammar is inferred from the parsed defaults too.
  EXPECT_EQ(parsed->validateValue("smtpd_tls_auth_only", "maybe").code(),
            StatusCode::kInvalidArgument);
}

TEST(ParameterCatalogTest, ParsedCatalogOutlivesItsInputAndCopies) {
  std::string text = "biff = yes\nqueue_run_delay = 300s\n";
  auto parsed = ParameterCatalog::fromPostconfDefaults(text);
  ASSERT_TRUE(parsed.ok());
  text.assign(text.size(), 'x');
  ParameterCatalog copy = *parsed;
  parsed = ParameterCatalog::builtin();
  EXPECT_THAT(copy.defaultValue("queue_run_delay"), Optional(std::string("300s")));
  EXPECT_TRUE(copy.isKnown("biff"));
}

TEST(ParameterCatalogTest, RejectsTextThatIsNotPostconfOutput) {
  const struct {
    const char* text;
    const char* expected;
  } cases[] = {
      {"", "holds no"},
      {"\n\n", "holds no"},
      {"<html>not postconf</html>\n", "line 1: expected 'name = value'"},
      {"biff = yes\nbad name = x\n", "line 2: invalid parameter name"},
      {"  continued = x\n", "line 1: continuation line"},
      {"biff = yes\nbiff = no\n", "line 2: parameter 'biff' repeats line 1"},
      {"biff = y\x01s\n", "line 1: unexpected control character"},
      {"= value\n", "line 1: invalid parameter name"},
  };
  for (const auto& c : cases) {
    auto parsed = ParameterCatalog::fromPostconfDefaults(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ParameterCatalogTest, ParsesThisMachinesTableShape) {
  // The builtin table is itself `postconf -d` output; feeding a few real lines back must work.
  auto parsed = ParameterCatalog::fromPostconfDefaults(
      "smtpd_expansion_filter = \\t\\40!\"#$%&'()*+,-./0123456789:;<=>?@[\\\\]^_`{|}~\n"
      "smtp_tls_dane_insecure_mx_policy = ${{$smtp_tls_security_level} == {dane} ? {dane} : "
      "{may}}\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->size(), 2u);
}

// --- validateValue: lexical rules ----------------------------------------------------------

TEST(ParameterCatalogTest, RejectsControlCharactersInValues) {
  EXPECT_THAT(invalid("myhostname", "mail.example.org\nrelayhost = evil"), HasSubstr("newline"));
  EXPECT_THAT(invalid("myhostname", "mail\r"), HasSubstr("carriage return"));
  EXPECT_THAT(invalid("myhostname", std::string_view("mail\0x", 6)), HasSubstr("NUL"));
  EXPECT_THAT(invalid("myhostname", "mail\x1b[0m"), HasSubstr("control character 0x1b"));
  EXPECT_THAT(invalid("myhostname", "mail\x7f"), HasSubstr("control character 0x7f"));
  EXPECT_THAT(invalid("smtpd_banner", "a\tb"), HasSubstr("tab"));
  // Unknown (user-defined) names get the same lexical checks.
  EXPECT_THAT(invalid("mua_client_restrictions", "permit\nreject"), HasSubstr("newline"));
}

TEST(ParameterCatalogTest, RejectsHashAnywhereInValue) {
  const std::string m = invalid("smtpd_banner", "$myhostname ESMTP # no product name");
  EXPECT_THAT(m, HasSubstr("'smtpd_banner'"));
  EXPECT_THAT(m, HasSubstr("'#'"));
  invalid("mynetworks", "127.0.0.0/8 #loopback");
  invalid("mua_sender_restrictions", "#");
  // A character-set parameter where '#' is a real member.
  valid("smtpd_expansion_filter", "\\t\\40!\"#$%&'()*+,-./0123456789:;<=>?@[\\\\]^_`{|}~");
}

TEST(ParameterCatalogTest, RejectsEmptyOrInvalidNames) {
  EXPECT_EQ(catalog().validateValue("", "yes").code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(catalog().validateValue("", "yes").message(), HasSubstr("empty parameter name"));
  EXPECT_THAT(invalid("smtpd tls", "yes"), HasSubstr("invalid parameter name 'smtpd tls'"));
  invalid("smtpd/tls", "yes");
  invalid("smtpd_tls_auth_only=", "yes");
  invalid("sm\ntp", "yes");
  valid("2bounce_notice_recipient", "postmaster");
  valid("mua_client_restrictions", "permit_sasl_authenticated, reject");
}

// --- validateValue: grammar ----------------------------------------------------------------

TEST(ParameterCatalogTest, CatchesTheNoplaintxtTypo) {
  // Passes `postfix check` and reload, then every smtpd dies at its first connection.
  const std::string m = invalid("smtpd_sasl_security_options", "noanonymous, noplaintxt");
  EXPECT_THAT(m, HasSubstr("parameter 'smtpd_sasl_security_options'"));
  EXPECT_THAT(m, HasSubstr("'noplaintxt'"));
  EXPECT_THAT(m, HasSubstr("did you mean 'noplaintext'?"));
  EXPECT_THAT(m, HasSubstr("valid choices: noplaintext, noactive, nodictionary, noanonymous, "
                           "mutual_auth, forward_secrecy"));
  EXPECT_EQ(m.find('\n'), std::string::npos);
}

TEST(ParameterCatalogTest, ValidatesSaslSecurityOptions) {
  valid("smtpd_sasl_security_options", "noanonymous, noplaintext");
  valid("smtpd_sasl_security_options", "noanonymous,noplaintext");
  valid("smtpd_sasl_security_options", "noanonymous noactive nodictionary mutual_auth");
  valid("smtpd_sasl_security_options", "forward_secrecy");
  valid("smtpd_sasl_security_options", "");
  valid("smtpd_sasl_tls_security_options", "noanonymous");
  valid("smtpd_sasl_tls_security_options", "$smtpd_sasl_security_options");
  valid("smtp_sasl_security_options", "noplaintext, noanonymous");
  valid("smtp_sasl_tls_security_options", "noanonymous");
  valid("smtp_sasl_tls_verified_security_options", "noanonymous");
  valid("lmtp_sasl_security_options", "noanonymous");
  invalid("smtpd_sasl_tls_security_options", "noanonymus");
  invalid("smtp_sasl_security_options", "noplaintext, anonymous");
  invalid("smtp_sasl_tls_verified_security_options", "none");
  invalid("smtpd_sasl_security_options", "NOANONYMOUS");  // Postfix matches case-sensitively
}

TEST(ParameterCatalogTest, ValidatesBooleansInferredFromDefaults) {
  valid("smtpd_tls_auth_only", "yes");
  valid("smtpd_tls_auth_only", "no");
  valid("smtpd_tls_auth_only", "YES");
  valid("smtpd_sasl_auth_enable", " no ");
  valid("smtputf8_enable", "no");  // default is a compatibility_level conditional
  const std::string m = invalid("smtpd_tls_auth_only", "true");
  EXPECT_THAT(m, HasSubstr("invalid boolean 'true'"));
  EXPECT_THAT(m, HasSubstr("valid choices: yes, no"));
  invalid("smtpd_tls_auth_only", "");
  invalid("smtpd_tls_auth_only", "1");
  invalid("smtputf8_enable", "on");
  valid("smtpd_tls_auth_only", "${auth_only}");  // not knowable here
}

TEST(ParameterCatalogTest, ValidatesTlsSecurityLevels) {
  for (const char* level : {"none", "may", "encrypt", "", "MAY"}) {
    valid("smtpd_tls_security_level", level);
  }
  for (const char* level :
       {"none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"}) {
    valid("smtp_tls_security_level", level);
    valid("lmtp_tls_security_level", level);
  }
  const std::string m = invalid("smtpd_tls_security_level", "verify");
  EXPECT_THAT(m, HasSubstr("client-only"));
  EXPECT_THAT(m, HasSubstr("none, may, encrypt"));
  invalid("smtpd_tls_security_level", "dane");
  EXPECT_THAT(invalid("smtpd_tls_security_level", "encrpyt"), HasSubstr("did you mean 'encrypt'?"));
  EXPECT_THAT(invalid("smtp_tls_security_level", "required"),
              HasSubstr("none, may, encrypt, dane, dane-only, fingerprint, verify, secure"));
  // Parameters that default to $smtpd_tls_security_level inherit its grammar.
  valid("postscreen_tls_security_level", "may");
  invalid("tlsproxy_tls_security_level", "secure");
}

TEST(ParameterCatalogTest, ValidatesTlsProtocolLists) {
  for (const char* v :
       {">=TLSv1.2", "!SSLv2, !SSLv3", "!SSLv2,!SSLv3,!TLSv1,!TLSv1.1", "!SSLv2:!SSLv3",
        "TLSv1.2 TLSv1.3", ">=TLSv1.2, <=TLSv1.3", ">=0x0303", "<=0304", "", ">=tlsv1.2"}) {
    valid("smtpd_tls_protocols", v);
    valid("smtpd_tls_mandatory_protocols", v);
    valid("smtp_tls_protocols", v);
    valid("smtp_tls_mandatory_protocols", v);
  }
  const std::string m = invalid("smtpd_tls_mandatory_protocols", ">=TLSv1.4");
  EXPECT_THAT(m, HasSubstr("invalid TLS protocol '>=TLSv1.4'"));
  EXPECT_THAT(m, HasSubstr("SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3"));
  EXPECT_THAT(invalid("smtpd_tls_protocols", "!SSLv2, !SSL3"), HasSubstr("did you mean '!SSLv3'?"));
  invalid("smtpd_tls_protocols", "! SSLv2");  // no blank after '!'
  invalid("smtp_tls_protocols", "TLS1.2");
  invalid("smtpd_tls_protocols", "!>=TLSv1");
  invalid("smtpd_tls_protocols", ">=zz");
}

TEST(ParameterCatalogTest, ValidatesCipherGrades) {
  for (const char* v : {"export", "low", "medium", "high", "null", "HIGH"}) {
    valid("smtpd_tls_mandatory_ciphers", v);
    valid("smtpd_tls_ciphers", v);
    valid("smtp_tls_mandatory_ciphers", v);
  }
  EXPECT_THAT(invalid("smtpd_tls_mandatory_ciphers", "strong"),
              HasSubstr("valid choices: export, low, medium, high, null"));
  invalid("smtpd_tls_ciphers", "");
  invalid("smtpd_tls_ciphers", "high, medium");
  // The exclusion lists are OpenSSL cipher names, not grades.
  valid("smtpd_tls_exclude_ciphers", "aNULL, MD5, RC4");
}

TEST(ParameterCatalogTest, ValidatesIntegersAndTimes) {
  valid("message_size_limit", "52428800");
  valid("smtpd_client_connection_count_limit", "0");
  EXPECT_THAT(invalid("message_size_limit", "50M"), HasSubstr("invalid integer '50M'"));
  invalid("message_size_limit", "-1");
  invalid("message_size_limit", "");
  invalid("message_size_limit", "123456789012345678901234");
  valid("postscreen_dnsbl_allowlist_threshold", "-1");
  valid("lmtp_tcp_port", "lmtp");  // a service name, despite the numeric default
  valid("default_destination_concurrency_negative_feedback", "1/concurrency");

  for (const char* v : {"300s", "5m", "1h", "5d", "1w", "300", "0"}) valid("queue_run_delay", v);
  EXPECT_THAT(invalid("maximal_queue_lifetime", "5 days"), HasSubstr("invalid time value"));
  invalid("queue_run_delay", "5min");
  invalid("queue_run_delay", "1h30m");
  invalid("queue_run_delay", "s");
  invalid("queue_run_delay", "-5s");
  invalid("bsmtp_time_limit", "forever");  // default $command_time_limit is a time
}

TEST(ParameterCatalogTest, ValidatesSaslTypeInetProtocolsAndCompatibilityLevel) {
  valid("smtpd_sasl_type", "dovecot");
  valid("smtpd_sasl_type", "cyrus");
  EXPECT_THAT(invalid("smtpd_sasl_type", "dovecto"), HasSubstr("did you mean 'dovecot'?"));
  invalid("smtpd_sasl_type", "");
  valid("smtp_sasl_type", "cyrus");
  invalid("smtp_sasl_type", "dovecot");  // the SMTP client only has the Cyrus plug-in

  for (const char* v : {"all", "ipv4", "ipv6", "ipv4, ipv6", "ipv4 ipv6"}) {
    valid("inet_protocols", v);
  }
  EXPECT_THAT(invalid("inet_protocols", "ipv4, ipv5"), HasSubstr("valid choices: all, ipv4, ipv6"));
  invalid("inet_protocols", "");
  invalid("inet_protocols", "IPv4");

  for (const char* v : {"0", "1", "2", "3.6", "3.7", "3.7.11"}) valid("compatibility_level", v);
  invalid("compatibility_level", "three");
  invalid("compatibility_level", "3.");
  invalid("compatibility_level", "1.2.3.4");
  invalid("compatibility_level", "");
}

TEST(ParameterCatalogTest, ValidatesOtherEnumerations) {
  for (const char* v : {"yes", "no", "normalize", "reject", "Normalize"}) {
    valid("smtpd_forbid_bare_newline", v);
  }
  invalid("smtpd_forbid_bare_newline", "strict");
  valid("smtpd_tls_eecdh_grade", "strong");
  invalid("smtpd_tls_eecdh_grade", "weak");
}

TEST(ParameterCatalogTest, AcceptsFreeFormValues) {
  valid("smtpd_banner", "$myhostname ESMTP");
  valid("smtpd_recipient_restrictions",
        "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, "
        "check_policy_service { inet:127.0.0.1:10023, timeout=10s }");
  valid("myhostname", "mail.example.org");
  valid("smtpd_tls_cert_file", "/etc/ssl/certs/mail.pem");
  valid("relayhost", "");
}

// --- applyMode -----------------------------------------------------------------------------

TEST(ParameterCatalogTest, ApplyModeNeedsRestartForListenersDirectoriesAndOwners) {
  for (const char* name :
       {"inet_interfaces", "inet_protocols", "queue_directory", "config_directory",
        "data_directory", "daemon_directory", "command_directory", "mail_owner", "setgid_group",
        "shlib_directory", "meta_directory", "import_environment", "process_id_directory"}) {
    EXPECT_EQ(catalog().applyMode(name), ApplyMode::kRestart) << name;
  }
  for (const char* name : {"smtpd_tls_auth_only", "smtpd_sasl_security_options", "myhostname",
                           "message_size_limit", "mua_client_restrictions", ""}) {
    EXPECT_EQ(catalog().applyMode(name), ApplyMode::kReload) << name;
  }
}

// --- equivalent ----------------------------------------------------------------------------

TEST(ParameterCatalogTest, EquivalentComparesListsTokenWise) {
  EXPECT_TRUE(catalog().equivalent("smtpd_sasl_security_options", "noanonymous, noplaintext",
                                   "noanonymous,noplaintext"));
  EXPECT_TRUE(catalog().equivalent("smtpd_sasl_security_options", "noanonymous, noplaintext",
                                   "noplaintext noanonymous"));  // a set of flags
  EXPECT_FALSE(catalog().equivalent("smtpd_sasl_security_options", "noanonymous",
                                    "noanonymous, noplaintext"));
  EXPECT_TRUE(catalog().equivalent("smtpd_recipient_restrictions",
                                   "permit_mynetworks,reject_unauth_destination",
                                   "permit_mynetworks, reject_unauth_destination"));
  // Restriction order matters.
  EXPECT_FALSE(catalog().equivalent("smtpd_recipient_restrictions",
                                    "permit_mynetworks, reject_unauth_destination",
                                    "reject_unauth_destination, permit_mynetworks"));
  EXPECT_TRUE(
      catalog().equivalent("mydestination", "$myhostname, localhost", "$myhostname localhost"));
  EXPECT_TRUE(catalog().equivalent("smtpd_tls_protocols", "!SSLv2, !SSLv3", "!SSLv3:!sslv2"));
  EXPECT_TRUE(catalog().equivalent("inet_protocols", "ipv4, ipv6", "ipv6 ipv4"));
  // User-defined restriction classes look like lists by name.
  EXPECT_TRUE(catalog().equivalent("mua_client_restrictions", "permit_sasl_authenticated,reject",
                                   "permit_sasl_authenticated, reject"));
}

TEST(ParameterCatalogTest, EquivalentIgnoresCaseOnlyWherePostfixDoes) {
  EXPECT_TRUE(catalog().equivalent("smtpd_tls_auth_only", "yes", "YES"));
  EXPECT_TRUE(catalog().equivalent("smtpd_tls_auth_only", " no", "No "));
  EXPECT_FALSE(catalog().equivalent("smtpd_tls_auth_only", "yes", "no"));
  EXPECT_TRUE(catalog().equivalent("smtpd_tls_security_level", "may", "MAY"));
  EXPECT_FALSE(catalog().equivalent("smtpd_sasl_security_options", "noanonymous", "NOANONYMOUS"));
  EXPECT_FALSE(catalog().equivalent("myhostname", "Mail.example.org", "mail.example.org"));
}

TEST(ParameterCatalogTest, EquivalentComparesNumbersAndTimes) {
  EXPECT_TRUE(catalog().equivalent("message_size_limit", "010240000", "10240000"));
  EXPECT_TRUE(catalog().equivalent("queue_run_delay", "300s", "5m"));
  EXPECT_TRUE(catalog().equivalent("maximal_queue_lifetime", "5d", "120h"));
  EXPECT_TRUE(catalog().equivalent("maximal_queue_lifetime", "1w", "7d"));
  EXPECT_FALSE(catalog().equivalent("maximal_queue_lifetime", "5d", "5h"));
  // Without a unit the parameter's own default unit applies: not compared across.
  EXPECT_FALSE(catalog().equivalent("queue_run_delay", "300", "300s"));
  EXPECT_TRUE(catalog().equivalent("queue_run_delay", "300", " 300 "));
}

TEST(ParameterCatalogTest, EquivalentKeepsTextAndCharacterSetsLiteral) {
  EXPECT_FALSE(catalog().equivalent("smtpd_banner", "$myhostname  ESMTP", "$myhostname ESMTP"));
  EXPECT_TRUE(catalog().equivalent("smtpd_banner", "  $myhostname ESMTP", "$myhostname ESMTP"));
  // '-' and ',' are members of the set, not separators.
  EXPECT_FALSE(catalog().equivalent("command_expansion_filter", "a,b", "a b"));
}

}  // namespace
}  // namespace postwarden::agent::params
