#include "agent/verify/scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

namespace postwarden::agent::verify {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Verdict = ScanFinding::Verdict;

const system_clock::time_point kNow = system_clock::from_time_t(1'750'000'000);
constexpr auto kDay = hours(24);

ProbeResult goodResult() {
  ProbeResult result;
  result.connected = true;
  result.banner_code = 220;
  result.before_tls.starttls = true;
  result.starttls_offered = true;
  result.tls_established = true;
  result.tls_version = "TLSv1.3";
  result.tls_cipher = "TLS_AES_256_GCM_SHA384";
  tls::CertificateInfo certificate;
  certificate.subject = "CN=mail.example.com";
  certificate.issuer = "CN=Example CA";
  certificate.subject_common_name = "mail.example.com";
  certificate.dns_names = {"mail.example.com"};
  certificate.not_before = kNow - 30 * kDay;
  certificate.not_after = kNow + 60 * kDay;
  result.peer_certificate = certificate;
  result.certificate_name_matches = true;
  result.after_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  result.plain_auth_before_tls_refused = true;
  return result;
}

// A copy, so that callers may pass a temporary vector.
std::optional<ScanFinding> find(const std::vector<ScanFinding>& findings, std::string_view id) {
  auto it = std::find_if(findings.begin(), findings.end(),
                         [&](const ScanFinding& finding) { return finding.id == id; });
  if (it == findings.end()) return std::nullopt;
  return *it;
}

std::vector<std::string> ids(const std::vector<ScanFinding>& findings) {
  std::vector<std::string> result;
  for (const ScanFinding& finding : findings) result.push_back(finding.id);
  return result;
}

TEST(ScanTest, GoodServerPassesEveryCheckInOrder) {
  const std::vector<ScanFinding> findings = scanFindings(goodResult(), kNow);
  EXPECT_THAT(ids(findings),
              ElementsAre("smtp-service", "smtp-cleartext-auth", "smtp-cleartext-auth-attempt",
                          "smtp-starttls-offered", "smtp-starttls-handshake", "smtp-tls-version",
                          "smtp-certificate-name", "smtp-certificate-expiry"));
  for (const ScanFinding& finding : findings) {
    EXPECT_EQ(finding.verdict, Verdict::kPass) << finding.id << ": " << finding.detail;
  }
}

TEST(ScanTest, UnreachableServiceIsASingleFailure) {
  ProbeResult result;
  result.failure = "connecting to 127.0.0.1:25: Connection refused";
  const std::vector<ScanFinding> findings = scanFindings(result, kNow);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].id, "smtp-service");
  EXPECT_EQ(findings[0].verdict, Verdict::kFail);
  EXPECT_THAT(findings[0].detail, HasSubstr("Connection refused"));
}

TEST(ScanTest, Non220BannerFailsTheService) {
  ProbeResult result = goodResult();
  result.banner_code = 421;
  const std::vector<ScanFinding> findings = scanFindings(result, kNow);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].verdict, Verdict::kFail);
  EXPECT_THAT(findings[0].detail, HasSubstr("421"));
}

TEST(ScanTest, CleartextPlainLoginIsNessus54582) {
  ProbeResult result = goodResult();
  result.before_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-cleartext-auth");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_THAT(finding->detail, HasSubstr("PLAIN and LOGIN"));
  EXPECT_THAT(finding->detail, HasSubstr("54582"));
  EXPECT_THAT(finding->detail, HasSubstr("SMTP Service Cleartext Login Permitted"));
}

TEST(ScanTest, CleartextChallengeResponseAuthIsAWarning) {
  ProbeResult result = goodResult();
  result.before_tls.auth_mechanisms = {"CRAM-MD5"};
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-cleartext-auth");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kWarn);
}

TEST(ScanTest, RawAuthAttemptVerdicts) {
  ProbeResult result = goodResult();
  result.plain_auth_before_tls_refused = false;
  EXPECT_EQ(find(scanFindings(result, kNow), "smtp-cleartext-auth-attempt")->verdict,
            Verdict::kFail);
  result.plain_auth_before_tls_refused.reset();
  EXPECT_EQ(find(scanFindings(result, kNow), "smtp-cleartext-auth-attempt")->verdict,
            Verdict::kInfo);
}

TEST(ScanTest, MissingStarttlsFailsAndSkipsTlsChecks) {
  ProbeResult result = goodResult();
  result.starttls_offered = false;
  result.tls_established = false;
  result.peer_certificate.reset();
  const std::vector<ScanFinding> findings = scanFindings(result, kNow);
  EXPECT_EQ(find(findings, "smtp-starttls-offered")->verdict, Verdict::kFail);
  EXPECT_FALSE(find(findings, "smtp-starttls-handshake").has_value());
  EXPECT_FALSE(find(findings, "smtp-certificate-expiry").has_value());
}

TEST(ScanTest, BrokenStarttlsShowsTheServerReply) {
  ProbeResult result = goodResult();
  result.tls_established = false;
  result.tls_error = "454 4.7.0 TLS not available due to local problem";
  result.peer_certificate.reset();
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-starttls-handshake");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_THAT(finding->detail, HasSubstr("454 4.7.0 TLS not available due to local problem"));
}

TEST(ScanTest, OldTlsVersionFails) {
  ProbeResult result = goodResult();
  result.tls_version = "TLSv1";
  const std::optional<ScanFinding> finding = find(scanFindings(result, kNow), "smtp-tls-version");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_THAT(finding->detail, HasSubstr("RFC 8996"));
  result.tls_version = "TLSv1.2";
  EXPECT_EQ(find(scanFindings(result, kNow), "smtp-tls-version")->verdict, Verdict::kPass);
}

TEST(ScanTest, CertificateNameVerdicts) {
  ProbeResult result = goodResult();
  result.certificate_name_matches = false;
  EXPECT_EQ(find(scanFindings(result, kNow), "smtp-certificate-name")->verdict, Verdict::kFail);
  result.certificate_name_matches.reset();
  const std::optional<ScanFinding> info = find(scanFindings(result, kNow), "smtp-certificate-name");
  EXPECT_EQ(info->verdict, Verdict::kInfo);
  EXPECT_THAT(info->detail, HasSubstr("mail.example.com"));
}

TEST(ScanTest, CertificateExpiringWithin30DaysWarns) {
  ProbeResult result = goodResult();
  result.peer_certificate->not_after = kNow + 10 * kDay;
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-certificate-expiry");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kWarn);
  EXPECT_THAT(finding->detail, HasSubstr("in 10 days"));
  result.peer_certificate->not_after = kNow + 31 * kDay;
  EXPECT_EQ(find(scanFindings(result, kNow), "smtp-certificate-expiry")->verdict, Verdict::kPass);
}

TEST(ScanTest, ExpiredCertificateFails) {
  ProbeResult result = goodResult();
  result.peer_certificate->not_after = kNow - kDay;
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-certificate-expiry");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_THAT(finding->detail, HasSubstr("expired on 2025-06-14"));
}

TEST(ScanTest, NotYetValidCertificateFails) {
  ProbeResult result = goodResult();
  result.peer_certificate->not_before = kNow + kDay;
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-certificate-expiry");
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_EQ(finding->title, "Certificate not yet valid");
}

TEST(ScanTest, ChainFindingsSpeakInNessusTerms) {
  ProbeResult result = goodResult();
  EXPECT_FALSE(find(scanFindings(result, kNow), "smtp-certificate-chain").has_value())
      << "no chain check asked, no finding";
  using Problem = tls::ChainCheck::Problem;
  const struct {
    Problem problem;
    Verdict verdict;
    const char* title;
    const char* plugin;
  } cases[] = {{Problem::kNone, Verdict::kPass, "Certificate chain trusted", ""},
               {Problem::kSelfSigned, Verdict::kFail, "Self-signed certificate", "57582"},
               {Problem::kIncomplete, Verdict::kFail, "Certificate chain incomplete", "51192"},
               {Problem::kUntrustedRoot, Verdict::kFail, "Certificate not trusted", "51192"}};
  for (const auto& c : cases) {
    result.certificate_chain = tls::ChainCheck{c.problem, 1, "detail"};
    const std::optional<ScanFinding> finding =
        find(scanFindings(result, kNow), "smtp-certificate-chain");
    ASSERT_TRUE(finding.has_value());
    EXPECT_EQ(finding->verdict, c.verdict) << c.title;
    EXPECT_EQ(finding->title, c.title);
    EXPECT_NE(finding->detail.find(c.plugin), std::string::npos) << finding->detail;
  }
}

TEST(ScanTest, DhGroupOf1024BitsIsLogjam) {
  ProbeResult result = goodResult();
  TlsAttempt dhe{.offered = "DHE",
                 .established = true,
                 .version = "TLSv1.2",
                 .cipher = "DHE-RSA-AES256-GCM-SHA384",
                 .reached_handshake = true,
                 .key_exchange = "DH",
                 .key_exchange_bits = 1024};
  result.tls_attempts = {dhe};
  std::optional<ScanFinding> finding = find(scanFindings(result, kNow), "smtp-tls-dh-group");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
  EXPECT_NE(finding->detail.find("83875"), std::string::npos);
  result.tls_attempts[0].key_exchange_bits = 2048;
  finding = find(scanFindings(result, kNow), "smtp-tls-dh-group");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kPass);
  result.tls_attempts[0] = {
      .offered = "DHE", .error = "handshake failure", .reached_handshake = true};
  finding = find(scanFindings(result, kNow), "smtp-tls-dh-group");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kPass);
}

TEST(ScanTest, IncompleteProbeIsReported) {
  ProbeResult result = goodResult();
  result.failure = "timed out after 5000 ms waiting for the EHLO reply after STARTTLS";
  const std::optional<ScanFinding> finding =
      find(scanFindings(result, kNow), "smtp-probe-complete");
  ASSERT_TRUE(finding.has_value());
  EXPECT_EQ(finding->verdict, Verdict::kFail);
}

TEST(ScanTest, VerdictNames) {
  EXPECT_EQ(verdictName(Verdict::kPass), "PASS");
  EXPECT_EQ(verdictName(Verdict::kFail), "FAIL");
  EXPECT_EQ(verdictName(Verdict::kWarn), "WARN");
  EXPECT_EQ(verdictName(Verdict::kInfo), "INFO");
}

}  // namespace
}  // namespace postwarden::agent::verify
