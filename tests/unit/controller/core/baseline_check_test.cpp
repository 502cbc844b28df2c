#include "controller/core/baseline_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace postwarden::controller::core {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string baseline(const std::string& settings) {
  return "name: hardening\nversion: \"1\"\nmain.cf:\n  set:\n" + settings;
}

Status refusal(const std::string& content) {
  Result<CheckedBaseline> checked = checkBaseline(content, "hard.yaml");
  return checked.ok() ? OkStatus() : checked.status();
}

TEST(BaselineCheckTest, AcceptsAValidBaseline) {
  Result<CheckedBaseline> checked =
      checkBaseline(baseline("    smtpd_tls_auth_only: \"yes\"\n"
                             "    smtpd_sasl_security_options: noanonymous, noplaintext\n"),
                    "hard.yaml");
  ASSERT_TRUE(checked.ok()) << checked.status().toString();
  EXPECT_EQ(checked->baseline.name, "hardening");
  EXPECT_EQ(checked->baseline.version, "1");
}

TEST(BaselineCheckTest, RefusesAnUnknownParameterWithItsPlace) {
  Status s = refusal(baseline("    smtpd_tls_auth_onyl: \"yes\"\n"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), StartsWith("hard.yaml:5:5: "));
  EXPECT_THAT(s.message(), HasSubstr("smtpd_tls_auth_only"));  // did you mean
}

TEST(BaselineCheckTest, RefusesValuesPostfixWouldDieOn) {
  Status level = refusal(baseline("    smtpd_tls_security_level: mayy\n"));
  EXPECT_EQ(level.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(level.message(), StartsWith("hard.yaml:5:"));
  EXPECT_THAT(level.message(), HasSubstr("mayy"));

  Status sasl = refusal(baseline("    smtpd_sasl_security_options: noanonymous, noplaintxt\n"));
  EXPECT_EQ(sasl.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(sasl.message(), HasSubstr("noplaintxt"));
}

TEST(BaselineCheckTest, RefusesANewlineInjectedValue) {
  Status s = refusal(baseline("    smtpd_tls_auth_only: \"yes\\nmynetworks = 0.0.0.0/0\"\n"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), StartsWith("hard.yaml:5:"));
}

TEST(BaselineCheckTest, ReportsEveryErrorOnItsOwnLine) {
  Status s =
      refusal(baseline("    smtpd_tls_auth_onyl: \"yes\"\n"
                       "    smtpd_tls_security_level: mayy\n"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("hard.yaml:5:5: "));
  EXPECT_THAT(s.message(), HasSubstr("\nhard.yaml:6:"));
}

TEST(BaselineCheckTest, RefusesTextThatIsNotUtf8BeforeParsingIt) {
  Status s = refusal(
      "name: badutf\nversion: \"\xff\xfe\"\nmain.cf:\n  set:\n"
      "    smtpd_tls_auth_only: \"yes\"\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("hard.yaml is not valid UTF-8 (byte 23)"));
  EXPECT_EQ(
      checkBaseline(baseline("    smtpd_tls_auth_only: \"yes\"\n"), "h\xe9.yaml").status().code(),
      StatusCode::kInvalidArgument);
}

TEST(BaselineCheckTest, LoaderErrorsKeepTheirPlaceAndAnEmptyNameIsBaseline) {
  Result<CheckedBaseline> checked = checkBaseline("name: x\nversion: \"1\"\nbogus: 1\n", "");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(checked.status().message(), StartsWith("baseline:3:1: "));
}

}  // namespace
}  // namespace postwarden::controller::core
