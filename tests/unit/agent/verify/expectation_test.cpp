#include "agent/verify/expectation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::agent::verify {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A hardened Postfix as the prober sees it: STARTTLS works, AUTH only after TLS, the raw
// cleartext AUTH PLAIN refused, a certificate for mail.example.com.
ProbeResult hardenedResult() {
  ProbeResult result;
  result.connected = true;
  result.banner_code = 220;
  result.before_tls.starttls = true;
  result.before_tls.keywords = {"PIPELINING", "STARTTLS"};
  result.starttls_offered = true;
  result.tls_established = true;
  result.tls_version = "TLSv1.3";
  result.tls_cipher = "TLS_AES_256_GCM_SHA384";
  tls::CertificateInfo certificate;
  certificate.subject_common_name = "mail.example.com";
  certificate.dns_names = {"mail.example.com"};
  result.peer_certificate = certificate;
  result.after_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  result.after_tls.keywords = {"PIPELINING", "AUTH"};
  result.plain_auth_before_tls_refused = true;
  return result;
}

policy::ProbeExpectation strictExpectation() {
  policy::ProbeExpectation expectation;
  expectation.starttls = policy::StartTls::kRequired;
  expectation.forbid_auth_before_tls = {"*"};
  expectation.require_auth_after_tls = {"PLAIN"};
  expectation.certificate_name = "mail.example.com";
  return expectation;
}

TEST(ExpectationTest, HardenedServerPasses) {
  const Verdict verdict = evaluate(hardenedResult(), strictExpectation());
  EXPECT_TRUE(verdict.passed);
  EXPECT_THAT(verdict.failures, IsEmpty());
}

TEST(ExpectationTest, EmptyExpectationOnlyNeedsAWorkingService) {
  ProbeResult result = hardenedResult();
  result.starttls_offered = false;
  result.tls_established = false;
  policy::ProbeExpectation expectation;
  expectation.starttls = policy::StartTls::kOptional;
  EXPECT_TRUE(evaluate(result, expectation).passed);
}

TEST(ExpectationTest, NotConnectedFailsWithOnlyThatReason) {
  ProbeResult result;
  result.failure = "connecting to 127.0.0.1:25: Connection refused";
  const Verdict verdict = evaluate(result, strictExpectation());
  EXPECT_FALSE(verdict.passed);
  EXPECT_THAT(verdict.failures,
              ElementsAre("could not connect: connecting to 127.0.0.1:25: Connection refused"));
}

TEST(ExpectationTest, Non220BannerFails) {
  ProbeResult result = hardenedResult();
  result.banner_code = 554;
  const Verdict verdict = evaluate(result, strictExpectation());
  EXPECT_FALSE(verdict.passed);
  EXPECT_THAT(verdict.failures, ElementsAre("banner code was 554, expected 220"));
}

TEST(ExpectationTest, MissingBannerFails) {
  ProbeResult result;
  result.connected = true;
  result.failure = "timed out after 5000 ms waiting for the banner";
  const Verdict verdict = evaluate(result, strictExpectation());
  EXPECT_THAT(verdict.failures,
              ElementsAre("no SMTP banner: timed out after 5000 ms waiting for the banner"));
}

TEST(ExpectationTest, IncompleteProbeFails) {
  ProbeResult result = hardenedResult();
  result.failure = "timed out after 5000 ms waiting for the QUIT reply";
  const Verdict verdict = evaluate(result, strictExpectation());
  EXPECT_FALSE(verdict.passed);
  EXPECT_THAT(verdict.failures, ElementsAre("probe did not complete: timed out after 5000 ms "
                                            "waiting for the QUIT reply"));
}

TEST(ExpectationTest, RequiredStarttlsMustBeOffered) {
  ProbeResult result = hardenedResult();
  result.starttls_offered = false;
  result.before_tls.starttls = false;
  result.tls_established = false;
  result.peer_certificate.reset();
  policy::ProbeExpectation expectation;
  const Verdict verdict = evaluate(result, expectation);
  EXPECT_THAT(verdict.failures, ElementsAre("STARTTLS not offered"));
}

TEST(ExpectationTest, RequiredStarttlsMustBeEstablished) {
  ProbeResult result = hardenedResult();
  result.tls_established = false;
  result.tls_error = "454 4.7.0 TLS not available due to local problem";
  policy::ProbeExpectation expectation;
  const Verdict verdict = evaluate(result, expectation);
  EXPECT_THAT(verdict.failures,
              ElementsAre("STARTTLS offered but TLS was not established: 454 4.7.0 TLS not "
                          "available due to local problem"));
}

TEST(ExpectationTest, OptionalStarttlsThatIsOfferedMustStillWork) {
  ProbeResult result = hardenedResult();
  result.tls_established = false;
  result.tls_error = "454 4.7.0 TLS not available due to local problem";
  policy::ProbeExpectation expectation;
  expectation.starttls = policy::StartTls::kOptional;
  EXPECT_FALSE(evaluate(result, expectation).passed);
}

TEST(ExpectationTest, ForbidAnyAuthBeforeTls) {
  ProbeResult result = hardenedResult();
  result.before_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  policy::ProbeExpectation expectation;
  expectation.forbid_auth_before_tls = {"*"};
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("AUTH PLAIN LOGIN offered before TLS"));
}

TEST(ExpectationTest, ForbidSpecificMechanismsCaseInsensitively) {
  ProbeResult result = hardenedResult();
  result.before_tls.auth_mechanisms = {"PLAIN", "CRAM-MD5"};
  policy::ProbeExpectation expectation;
  expectation.forbid_auth_before_tls = {"plain", "login"};
  EXPECT_THAT(evaluate(result, expectation).failures, ElementsAre("AUTH PLAIN offered before TLS"));

  expectation.forbid_auth_before_tls = {"LOGIN"};
  EXPECT_TRUE(evaluate(result, expectation).passed);
}

TEST(ExpectationTest, ForbiddenPlainMeansTheRawAttemptMustBeRefused) {
  ProbeResult result = hardenedResult();
  result.plain_auth_before_tls_refused = false;  // hidden in EHLO, but accepted anyway
  policy::ProbeExpectation expectation;
  expectation.forbid_auth_before_tls = {"PLAIN"};
  const Verdict verdict = evaluate(result, expectation);
  ASSERT_EQ(verdict.failures.size(), 1u);
  EXPECT_THAT(verdict.failures[0], HasSubstr("AUTH PLAIN accepted before TLS"));

  expectation.forbid_auth_before_tls = {"LOGIN"};  // PLAIN not forbidden: attempt irrelevant
  EXPECT_TRUE(evaluate(result, expectation).passed);

  result.plain_auth_before_tls_refused.reset();  // not tried: nothing to judge
  expectation.forbid_auth_before_tls = {"*"};
  EXPECT_TRUE(evaluate(result, expectation).passed);
}

TEST(ExpectationTest, RequiredAuthAfterTlsMustBeOffered) {
  ProbeResult result = hardenedResult();
  result.after_tls.auth_mechanisms = {"LOGIN"};
  policy::ProbeExpectation expectation;
  expectation.require_auth_after_tls = {"plain", "LOGIN"};
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("AUTH PLAIN not offered after STARTTLS"));
}

TEST(ExpectationTest, RequiredAnyAuthAfterTls) {
  ProbeResult result = hardenedResult();
  policy::ProbeExpectation expectation;
  expectation.require_auth_after_tls = {"*"};
  EXPECT_TRUE(evaluate(result, expectation).passed);
  result.after_tls.auth_mechanisms.clear();
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("no AUTH mechanism offered after STARTTLS"));
}

TEST(ExpectationTest, RequiredAuthAfterTlsNeedsTls) {
  ProbeResult result = hardenedResult();
  result.starttls_offered = false;
  result.tls_established = false;
  policy::ProbeExpectation expectation;
  expectation.starttls = policy::StartTls::kOptional;
  expectation.require_auth_after_tls = {"PLAIN"};
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("cannot check AUTH after STARTTLS (PLAIN required): TLS was not "
                          "established"));
}

TEST(ExpectationTest, CertificateMustMatchExpectedName) {
  ProbeResult result = hardenedResult();
  result.peer_certificate->dns_names = {"other.example.net", "*.example.org"};
  policy::ProbeExpectation expectation;
  expectation.certificate_name = "mail.example.com";
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("certificate is not valid for 'mail.example.com' (it names: "
                          "other.example.net, *.example.org)"));
  expectation.certificate_name = "mx.example.org";
  EXPECT_TRUE(evaluate(result, expectation).passed);
}

TEST(ExpectationTest, CertificateNameNeedsACertificate) {
  ProbeResult result = hardenedResult();
  result.peer_certificate.reset();
  policy::ProbeExpectation expectation;
  expectation.certificate_name = "mail.example.com";
  EXPECT_THAT(evaluate(result, expectation).failures,
              ElementsAre("the server presented no certificate to check against "
                          "'mail.example.com'"));
}

TEST(ExpectationTest, FailedLoginAndRejectedMessageFail) {
  ProbeResult result = hardenedResult();
  result.login_succeeded = false;
  result.message_accepted = false;
  EXPECT_THAT(evaluate(result, strictExpectation()).failures,
              ElementsAre("login with the probe credentials failed after STARTTLS",
                          "the test message was not accepted"));
  result.login_succeeded = true;
  result.message_accepted = true;
  EXPECT_TRUE(evaluate(result, strictExpectation()).passed);
}

TEST(ExpectationTest, UnhardenedServerCollectsEveryFailure) {
  ProbeResult result = hardenedResult();
  result.before_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  result.plain_auth_before_tls_refused = false;
  result.tls_established = false;
  result.tls_error = "454 4.7.0 TLS not available due to local problem";
  result.peer_certificate.reset();
  result.after_tls = {};
  const Verdict verdict = evaluate(result, strictExpectation());
  EXPECT_FALSE(verdict.passed);
  EXPECT_EQ(verdict.failures.size(), 5u);
}

}  // namespace
}  // namespace postwarden::agent::verify
