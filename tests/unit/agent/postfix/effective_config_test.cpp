#include "agent/postfix/effective_config.h"

#include <gtest/gtest.h>

namespace postwarden::agent::postfix {
namespace {

const ServiceKey kSmtp{"smtp", "inet"};
const ServiceKey kSubmission{"submission", "inet"};

std::optional<std::string> defaults(std::string_view parameter) {
  if (parameter == "smtpd_tls_auth_only") return "no";
  if (parameter == "smtpd_tls_security_level") return "";
  return std::nullopt;
}

TEST(EffectiveConfigTest, ServiceOverrideBeatsCompliantMainCf) {
  const MainCfDocument main_cf = MainCfDocument::parse("smtpd_tls_auth_only = yes\n");
  const MasterCfDocument master_cf = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\n"
      "  -o smtpd_tls_auth_only=no\n"
      "submission inet n - y - - smtpd\n");
  const EffectiveValue smtp =
      effectiveValue(main_cf, master_cf, kSmtp, "smtpd_tls_auth_only", defaults);
  EXPECT_EQ(smtp.value, "no");
  EXPECT_EQ(smtp.source, ValueSource::kServiceOverride);
  EXPECT_EQ(smtp.master_cf_line, 2);  // where the "-o" in effect is
  // The other service still runs with main.cf's value.
  const EffectiveValue submission =
      effectiveValue(main_cf, master_cf, kSubmission, "smtpd_tls_auth_only", defaults);
  EXPECT_EQ(submission.value, "yes");
  EXPECT_EQ(submission.source, ValueSource::kMainCf);
}

TEST(EffectiveConfigTest, MainCfBeatsDefault) {
  const MainCfDocument main_cf = MainCfDocument::parse("smtpd_tls_auth_only = yes\n");
  const EffectiveValue v =
      effectiveValue(main_cf, MasterCfDocument(), kSmtp, "smtpd_tls_auth_only", defaults);
  EXPECT_EQ(v.value, "yes");
  EXPECT_EQ(v.source, ValueSource::kMainCf);
}

TEST(EffectiveConfigTest, FallsBackToDefault) {
  const MasterCfDocument master_cf = MasterCfDocument::parse("smtp inet n - y - - smtpd -o a=b\n");
  const EffectiveValue v =
      effectiveValue(MainCfDocument(), master_cf, kSmtp, "smtpd_tls_auth_only", defaults);
  EXPECT_EQ(v.value, "no");
  EXPECT_EQ(v.source, ValueSource::kDefault);
  const EffectiveValue empty_default =
      effectiveValue(MainCfDocument(), master_cf, kSmtp, "smtpd_tls_security_level", defaults);
  EXPECT_EQ(empty_default.value, "");
  EXPECT_EQ(empty_default.source, ValueSource::kDefault);
}

TEST(EffectiveConfigTest, UnsetWhenNothingKnowsTheParameter) {
  const EffectiveValue v =
      effectiveValue(MainCfDocument(), MasterCfDocument(), kSmtp, "no_such_parameter", defaults);
  EXPECT_EQ(v.value, std::nullopt);
  EXPECT_EQ(v.source, ValueSource::kUnset);
  const EffectiveValue no_lookup =
      effectiveValue(MainCfDocument(), MasterCfDocument(), kSmtp, "smtpd_tls_auth_only", {});
  EXPECT_EQ(no_lookup.source, ValueSource::kUnset);
}

TEST(EffectiveConfigTest, OverrideOnMissingServiceIsIgnored) {
  const MainCfDocument main_cf = MainCfDocument::parse("smtpd_tls_auth_only = yes\n");
  const MasterCfDocument master_cf =
      MasterCfDocument::parse("smtp inet n - y - - smtpd -o smtpd_tls_auth_only=no\n");
  const EffectiveValue v =
      effectiveValue(main_cf, master_cf, {"smtp", "unix"}, "smtpd_tls_auth_only", defaults);
  EXPECT_EQ(v.value, "yes");
  EXPECT_EQ(v.source, ValueSource::kMainCf);
}

TEST(EffectiveConfigTest, EmptyOverrideStillOverrides) {
  const MainCfDocument main_cf = MainCfDocument::parse("smtpd_sasl_auth_enable = yes\n");
  const MasterCfDocument master_cf =
      MasterCfDocument::parse("smtp inet n - y - - smtpd -o smtpd_sasl_auth_enable=\n");
  const EffectiveValue v =
      effectiveValue(main_cf, master_cf, kSmtp, "smtpd_sasl_auth_enable", defaults);
  EXPECT_EQ(v.value, "");
  EXPECT_EQ(v.source, ValueSource::kServiceOverride);
  EXPECT_EQ(valueSourceName(v.source), "service override");
}

}  // namespace
}  // namespace postwarden::agent::postfix
