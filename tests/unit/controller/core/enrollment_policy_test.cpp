#include "controller/core/enrollment_policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace postwarden::controller::core {
namespace {

constexpr store::UnixMs kNow = 1'700'000'000'000;
const std::string kSecret(64, 'a');

store::TokenRecord token(int uses = 1) {
  return {.id = "tk1",
          .secret_sha256 = kSecret,
          .created_at = kNow - 1000,
          .expires_at = kNow + 1000,
          .uses_left = uses};
}

store::EnrollmentRequest request(const std::string& agent_id = "mx1",
                                 const std::string& secret = kSecret, store::UnixMs now = kNow) {
  return {.token_id = "tk1", .secret_sha256 = secret, .agent_id = agent_id, .now = now};
}

store::AgentRecord existing(bool approved = false, bool revoked = false) {
  return {.id = "mx1", .revoked = revoked, .reenroll_approved = approved};
}

StatusCode check(const store::EnrollmentRequest& r, const std::optional<store::TokenRecord>& t,
                 const std::optional<store::AgentRecord>& a = std::nullopt) {
  return checkEnrollment(r, t, a).code();
}

TEST(EnrollmentPolicyTest, AValidTokenEnrollsANewIdentity) {
  EXPECT_EQ(check(request(), token()), StatusCode::kOk);
}

TEST(EnrollmentPolicyTest, UnknownTokenAndWrongSecretLookTheSame) {
  Status unknown = checkEnrollment(request(), std::nullopt, std::nullopt);
  Status wrong = checkEnrollment(request("mx1", std::string(64, 'b')), token(), std::nullopt);
  EXPECT_EQ(unknown.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(unknown.message(), wrong.message());
  EXPECT_EQ(check(request("mx1", kSecret.substr(1)), token()), StatusCode::kUnauthenticated);
}

TEST(EnrollmentPolicyTest, TheSecretDigestIsComparedCaseInsensitively) {
  EXPECT_EQ(check(request("mx1", std::string(64, 'A')), token()), StatusCode::kOk);
}

TEST(EnrollmentPolicyTest, ATokenExpiresAtItsExpiry) {
  EXPECT_EQ(check(request("mx1", kSecret, kNow + 999), token()), StatusCode::kOk);
  EXPECT_EQ(check(request("mx1", kSecret, kNow + 1000), token()), StatusCode::kPermissionDenied);
}

TEST(EnrollmentPolicyTest, RevokedAndUsedUpTokensAreRefused) {
  store::TokenRecord revoked = token();
  revoked.revoked = true;
  EXPECT_EQ(check(request(), revoked), StatusCode::kPermissionDenied);
  EXPECT_EQ(check(request(), token(0)), StatusCode::kPermissionDenied);
}

TEST(EnrollmentPolicyTest, ABoundTokenEnrollsOnlyItsIdentityAndMayReenrollIt) {
  store::TokenRecord bound = token();
  bound.bound_agent_id = "mx1";
  EXPECT_EQ(check(request("mx2"), bound), StatusCode::kPermissionDenied);
  EXPECT_EQ(check(request("mx1"), bound), StatusCode::kOk);
  EXPECT_EQ(check(request("mx1"), bound, existing()), StatusCode::kOk);
}

TEST(EnrollmentPolicyTest, AnEnrolledIdentityNeedsAnApproval) {
  EXPECT_EQ(check(request(), token(), existing()), StatusCode::kAlreadyExists);
  EXPECT_EQ(check(request(), token(), existing(/*approved=*/true)), StatusCode::kOk);
}

TEST(EnrollmentPolicyTest, ARevokedIdentityNeverEnrollsAgain) {
  store::TokenRecord bound = token();
  bound.bound_agent_id = "mx1";
  EXPECT_EQ(check(request(), token(), existing(true, /*revoked=*/true)),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(check(request(), bound, existing(false, /*revoked=*/true)), StatusCode::kAlreadyExists);
}

TEST(EnrollmentPolicyTest, TokenChecksComeBeforeIdentityChecks) {
  // A used-up token says so, whatever the identity's state.
  EXPECT_EQ(check(request(), token(0), existing(false, true)), StatusCode::kPermissionDenied);
}

TEST(ConstantTimeHexEqualsTest, ComparesCaseInsensitivelyAndByLength) {
  EXPECT_TRUE(constantTimeHexEquals("abc123", "ABC123"));
  EXPECT_TRUE(constantTimeHexEquals("", ""));
  EXPECT_FALSE(constantTimeHexEquals("abc123", "abc124"));
  EXPECT_FALSE(constantTimeHexEquals("abc", "abcd"));
}

}  // namespace
}  // namespace postwarden::controller::core
