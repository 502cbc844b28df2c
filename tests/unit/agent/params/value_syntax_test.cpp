#include "agent/params/value_syntax.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::agent::params {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ValueSyntaxTest, AcceptsPostfixParameterNameCharacters) {
  EXPECT_TRUE(isValidParameterName("smtpd_tls_auth_only"));
  EXPECT_TRUE(isValidParameterName("2bounce_notice_recipient"));
  EXPECT_TRUE(isValidParameterName("smtp_tls_CAfile"));
  EXPECT_FALSE(isValidParameterName(""));
  EXPECT_TRUE(isValidParameterName("scalemail-backend_destination_recipient_limit"));
  EXPECT_FALSE(isValidParameterName("a b"));
  EXPECT_FALSE(isValidParameterName("a=b"));
  EXPECT_FALSE(isValidParameterName("caf\xc3\xa9"));
}

TEST(ValueSyntaxTest, SplitsListsOnCommasAndWhitespace) {
  EXPECT_THAT(splitListValue("noanonymous, noplaintext"),
              ElementsAre("noanonymous", "noplaintext"));
  EXPECT_THAT(splitListValue(" a,b ,, c\td\n"), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(splitListValue(""), IsEmpty());
  EXPECT_THAT(splitListValue(" , "), IsEmpty());
  EXPECT_THAT(splitListValue("!SSLv2:!SSLv3", ":"), ElementsAre("!SSLv2", "!SSLv3"));
}

TEST(ValueSyntaxTest, KeepsBraceGroupsTogether) {
  EXPECT_THAT(
      splitListValue("check_policy_service { inet:127.0.0.1:10023, timeout=10s }, reject"),
      ElementsAre("check_policy_service", "{ inet:127.0.0.1:10023, timeout=10s }", "reject"));
  EXPECT_THAT(splitListValue("a{ {b, c} }, d"), ElementsAre("a{ {b, c} }", "d"));
  EXPECT_THAT(splitListValue("x { unbalanced, y"), ElementsAre("x", "{ unbalanced, y"));
}

TEST(ValueSyntaxTest, FindsParameterReferences) {
  EXPECT_THAT(parameterReferences("$myhostname, localhost.$mydomain, localhost"),
              ElementsAre("myhostname", "mydomain"));
  EXPECT_THAT(parameterReferences("${mua_client_restrictions} $(x) ${y?z} ${w:v} $myhostname"),
              ElementsAre("mua_client_restrictions", "x", "y", "w", "myhostname"));
  EXPECT_THAT(parameterReferences("${{$compatibility_level} <level {1} ? {a} : {b}}"),
              ElementsAre("compatibility_level"));
  EXPECT_THAT(parameterReferences("cost $$5 and $"), IsEmpty());
  EXPECT_THAT(parameterReferences("$a $a"), ElementsAre("a"));
}

TEST(ValueSyntaxTest, DetectsExpansions) {
  EXPECT_TRUE(hasExpansion("$smtpd_sasl_security_options"));
  EXPECT_TRUE(hasExpansion("x ${y}"));
  EXPECT_FALSE(hasExpansion("noanonymous"));
  EXPECT_FALSE(hasExpansion("price $$5"));
  EXPECT_FALSE(hasExpansion("trailing $"));
}

TEST(ValueSyntaxTest, TrimsBlanks) {
  EXPECT_EQ(trimBlanks("  yes\t"), "yes");
  EXPECT_EQ(trimBlanks(" \t "), "");
  EXPECT_EQ(trimBlanks("a b"), "a b");
}

}  // namespace
}  // namespace postwarden::agent::params
