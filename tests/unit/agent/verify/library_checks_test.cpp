// The probe checks the scanner-finding baselines need (VRFY, banner, handshakes offering one
// TLS version or only anonymous suites): what the prober records from a scripted server, how
// evaluate() judges it, and how scan() reports it in scanner terms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>

#include "agent/verify/expectation.h"
#include "agent/verify/scan.h"
#include "agent/verify/smtp_prober.h"
#include "common/check.h"
#include "tests/fakes/fake_smtp_server.h"

namespace postwarden::agent::verify {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const auto kNow = std::chrono::system_clock::from_time_t(1'750'000'000);

ProbeResult tlsResult() {
  ProbeResult result;
  result.connected = true;
  result.banner_code = 220;
  result.banner = "mail.example.com ESMTP";
  result.before_tls.starttls = true;
  result.starttls_offered = true;
  result.tls_established = true;
  result.tls_version = "TLSv1.3";
  result.tls_cipher = "TLS_AES_256_GCM_SHA384";
  tls::CertificateInfo certificate;
  certificate.subject_common_name = "mail.example.com";
  certificate.dns_names = {"mail.example.com"};
  certificate.not_before = kNow - std::chrono::hours(24);
  certificate.not_after = kNow + std::chrono::hours(24 * 90);
  result.peer_certificate = certificate;
  return result;
}

TlsAttempt refused(std::string offered) {
  return {.offered = std::move(offered),
          .error = "TLS handshake failed: unsupported protocol",
          .reached_handshake = true};
}

TlsAttempt accepted(std::string offered, std::string version) {
  return {.offered = std::move(offered),
          .established = true,
          .version = std::move(version),
          .cipher = "ECDHE-RSA-AES256-SHA",
          .reached_handshake = true};
}

policy::ProbeExpectation protocolExpectation() {
  policy::ProbeExpectation e;
  e.starttls = policy::StartTls::kOptional;
  e.tls_refused = {"TLSv1", "TLSv1.1"};
  e.tls_accepted = {"TLSv1.2"};
  return e;
}

TEST(LibraryExpectationTest, RequestChecksForAsksForEachHandshakeOnceAndForVrfy) {
  policy::ProbeExpectation e = protocolExpectation();
  e.tls_refused.push_back("aNULL");
  e.tls_accepted.push_back("TLSv1.1");  // contradictory, but asked once
  e.vrfy_refused = true;
  ProbeTarget target;
  requestChecksFor(e, target);
  EXPECT_TRUE(target.try_vrfy);
  EXPECT_THAT(target.tls_attempts, ElementsAre("TLSv1", "TLSv1.1", "aNULL", "TLSv1.2"));
  ProbeTarget plain;
  requestChecksFor(policy::ProbeExpectation{}, plain);
  EXPECT_FALSE(plain.try_vrfy);
  EXPECT_THAT(plain.tls_attempts, IsEmpty());
}

TEST(LibraryExpectationTest, OldVersionsRefusedAndTls12AcceptedPasses) {
  ProbeResult result = tlsResult();
  result.tls_attempts = {refused("TLSv1"), refused("TLSv1.1"), accepted("TLSv1.2", "TLSv1.2")};
  const Verdict verdict = evaluate(result, protocolExpectation());
  EXPECT_TRUE(verdict.passed) << ::testing::PrintToString(verdict.failures);
}

TEST(LibraryExpectationTest, AcceptedOldVersionFails) {
  ProbeResult result = tlsResult();
  result.tls_attempts = {refused("TLSv1"), accepted("TLSv1.1", "TLSv1.1"),
                         accepted("TLSv1.2", "TLSv1.2")};
  const Verdict verdict = evaluate(result, protocolExpectation());
  EXPECT_FALSE(verdict.passed);
  EXPECT_THAT(verdict.failures, ElementsAre("a handshake offering only TLSv1.1 succeeded (TLSv1.1 "
                                            "ECDHE-RSA-AES256-SHA)"));
}

TEST(LibraryExpectationTest, AnAttemptThatNeverReachedTheHandshakeIsNoProofOfRefusal) {
  ProbeResult result = tlsResult();
  TlsAttempt lost{.offered = "TLSv1", .error = "timed out after 5000 ms waiting for the banner"};
  result.tls_attempts = {lost, refused("TLSv1.1"), accepted("TLSv1.2", "TLSv1.2")};
  const Verdict verdict = evaluate(result, protocolExpectation());
  EXPECT_THAT(verdict.failures,
              ElementsAre("the TLSv1 handshake could not be tried: timed out after 5000 ms "
                          "waiting for the banner"));
}

TEST(LibraryExpectationTest, MissingAttemptsAndAWrongNegotiatedVersionFail) {
  ProbeResult result = tlsResult();
  result.tls_attempts = {refused("TLSv1"), accepted("TLSv1.2", "TLSv1.3")};
  const Verdict verdict = evaluate(result, protocolExpectation());
  EXPECT_THAT(verdict.failures, ElementsAre("the TLSv1.1 handshake was not attempted",
                                            "a handshake offering only TLSv1.2 negotiated "
                                            "TLSv1.3"));
  result.tls_attempts = {refused("TLSv1"), refused("TLSv1.1"), refused("TLSv1.2")};
  EXPECT_THAT(evaluate(result, protocolExpectation()).failures,
              ElementsAre("a handshake offering only TLSv1.2 failed: TLS handshake failed: "
                          "unsupported protocol"));
}

TEST(LibraryExpectationTest, WithoutStarttlsThereIsNoOldTlsToRefuse) {
  ProbeResult result = tlsResult();
  result.starttls_offered = false;
  result.tls_established = false;
  EXPECT_TRUE(evaluate(result, protocolExpectation()).passed);
  policy::ProbeExpectation required = protocolExpectation();
  required.starttls = policy::StartTls::kRequired;
  EXPECT_THAT(evaluate(result, required).failures, ElementsAre("STARTTLS not offered"));
}

TEST(LibraryExpectationTest, VrfyMustBe502) {
  policy::ProbeExpectation e;
  e.starttls = policy::StartTls::kOptional;
  e.vrfy_refused = true;
  ProbeResult result = tlsResult();
  EXPECT_THAT(evaluate(result, e).failures, ElementsAre("VRFY was not answered"));
  result.vrfy_code = 252;
  result.vrfy_reply = "252 2.0.0 root";
  EXPECT_THAT(evaluate(result, e).failures,
              ElementsAre("VRFY root was answered '252 2.0.0 root', not 502 "
                          "(disable_vrfy_command = yes)"));
  result.vrfy_code = 550;  // "user unknown" still enumerates
  EXPECT_FALSE(evaluate(result, e).passed);
  result.vrfy_code = 502;
  result.vrfy_reply = "502 5.5.1 VRFY command is disabled";
  EXPECT_TRUE(evaluate(result, e).passed);
}

TEST(LibraryExpectationTest, BannerWordsAreMatchedWithoutCase) {
  policy::ProbeExpectation e;
  e.starttls = policy::StartTls::kOptional;
  e.banner_must_not_contain = {"Postfix", "Debian"};
  ProbeResult result = tlsResult();
  result.banner = "mail.example.com ESMTP POSTFIX (debian/GNU)";
  EXPECT_THAT(evaluate(result, e).failures,
              ElementsAre("the banner 'mail.example.com ESMTP POSTFIX (debian/GNU)' names "
                          "'Postfix'",
                          "the banner 'mail.example.com ESMTP POSTFIX (debian/GNU)' names "
                          "'Debian'"));
  result.banner = "mail.example.com ESMTP";
  EXPECT_TRUE(evaluate(result, e).passed);
}

std::vector<std::string> idsWith(const std::vector<ScanFinding>& findings,
                                 ScanFinding::Verdict verdict) {
  std::vector<std::string> ids;
  for (const ScanFinding& f : findings) {
    if (f.verdict == verdict) ids.push_back(f.id);
  }
  return ids;
}

const ScanFinding* findingById(const std::vector<ScanFinding>& findings, std::string_view id) {
  for (const ScanFinding& f : findings) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

TEST(LibraryScanTest, DefaultPostfixFindingsCarryTheScannerIds) {
  ProbeResult result = tlsResult();
  result.banner = "mail.example.com ESMTP Postfix (Debian/GNU)";
  result.vrfy_code = 252;
  result.vrfy_reply = "252 2.0.0 root";
  result.tls_attempts = {accepted("TLSv1", "TLSv1"), accepted("TLSv1.1", "TLSv1.1"),
                         accepted("aNULL", "TLSv1.2")};
  const std::vector<ScanFinding> findings = scanFindings(result, kNow);
  EXPECT_THAT(
      idsWith(findings, ScanFinding::Verdict::kFail),
      ElementsAre("smtp-vrfy", "smtp-tls-1.0", "smtp-tls-1.1", "smtp-tls-anonymous-cipher"));
  EXPECT_THAT(idsWith(findings, ScanFinding::Verdict::kWarn), Contains("smtp-banner"));
  EXPECT_THAT(findingById(findings, "smtp-vrfy")->detail, HasSubstr("Nessus 10249"));
  EXPECT_THAT(findingById(findings, "smtp-tls-1.0")->detail, HasSubstr("Nessus 104743"));
  EXPECT_THAT(findingById(findings, "smtp-tls-1.1")->detail, HasSubstr("Nessus 157288"));
  EXPECT_THAT(findingById(findings, "smtp-tls-anonymous-cipher")->detail,
              HasSubstr("Nessus 31705"));
  EXPECT_THAT(findingById(findings, "smtp-banner")->detail, HasSubstr("postfix, debian"));
}

TEST(LibraryScanTest, HardenedServerPassesTheLibraryFindings) {
  ProbeResult result = tlsResult();
  result.vrfy_code = 502;
  result.vrfy_reply = "502 5.5.1 VRFY command is disabled";
  result.tls_attempts = {refused("TLSv1"), refused("TLSv1.1"), refused("aNULL")};
  const std::vector<ScanFinding> findings = scanFindings(result, kNow);
  EXPECT_THAT(idsWith(findings, ScanFinding::Verdict::kFail), IsEmpty());
  for (const char* id :
       {"smtp-vrfy", "smtp-banner", "smtp-tls-1.0", "smtp-tls-1.1", "smtp-tls-anonymous-cipher"}) {
    const ScanFinding* f = findingById(findings, id);
    ASSERT_NE(f, nullptr) << id;
    EXPECT_EQ(f->verdict, ScanFinding::Verdict::kPass) << id;
  }
  // Not tried is not reported as passed.
  result.tls_attempts = {TlsAttempt{.offered = "TLSv1", .error = "connection refused"}};
  const ScanFinding* untested = findingById(scanFindings(result, kNow), "smtp-tls-1.0");
  ASSERT_NE(untested, nullptr);
  EXPECT_EQ(untested->verdict, ScanFinding::Verdict::kInfo);
}

TEST(LibraryScanTest, RequestScanChecksAsksForVrfyAndTheLegacyHandshakes) {
  ProbeTarget target;
  requestScanChecks(target);
  EXPECT_TRUE(target.try_vrfy);
  EXPECT_THAT(target.tls_attempts, ElementsAre("TLSv1", "TLSv1.1", "aNULL", "DHE"));
  EXPECT_TRUE(target.check_certificate_chain);
}

TEST(CertificateExpectationTest, ValidDaysChainAndDhGroupAreJudged) {
  policy::ProbeExpectation e;
  e.certificate_valid_days = 30;
  e.certificate_chain_trusted = true;
  e.dh_min_bits = 2048;
  ProbeResult result = tlsResult();
  result.certificate_chain = tls::ChainCheck{tls::ChainCheck::Problem::kNone, 2, ""};
  TlsAttempt dhe = accepted("DHE", "TLSv1.2");
  dhe.key_exchange = "DH";
  dhe.key_exchange_bits = 2048;
  result.tls_attempts = {dhe};
  EXPECT_TRUE(evaluate(result, e, kNow).passed)
      << ::testing::PrintToString(evaluate(result, e, kNow).failures);

  ProbeResult soon = result;
  soon.peer_certificate->not_after = kNow + std::chrono::hours(24 * 10);
  EXPECT_THAT(evaluate(soon, e, kNow).failures, ElementsAre(HasSubstr("within 30 days")));
  ProbeResult expired = result;
  expired.peer_certificate->not_after = kNow - std::chrono::hours(1);
  EXPECT_THAT(evaluate(expired, e, kNow).failures, ElementsAre(HasSubstr("expired on")));

  ProbeResult incomplete = result;
  incomplete.certificate_chain =
      tls::ChainCheck{tls::ChainCheck::Problem::kIncomplete, 1, "unable to get issuer"};
  EXPECT_THAT(evaluate(incomplete, e, kNow).failures,
              ElementsAre(HasSubstr("certificate chain is incomplete (1 certificate(s) sent)")));

  ProbeResult weak = result;
  weak.tls_attempts[0].key_exchange_bits = 1024;
  EXPECT_THAT(evaluate(weak, e, kNow).failures, ElementsAre(HasSubstr("1024-bit DH group")));
  ProbeResult no_dhe = result;
  no_dhe.tls_attempts = {refused("DHE")};
  EXPECT_TRUE(evaluate(no_dhe, e, kNow).passed) << "no DHE suite at all is no Logjam";
}

TEST(CertificateExpectationTest, AnUnresolvedNameReferenceFailsWithTheReason) {
  policy::ProbeExpectation e;
  e.certificate_name = "$myhostname";
  EXPECT_THAT(evaluate(tlsResult(), e, kNow).failures,
              ElementsAre(HasSubstr("certificate_name '$myhostname' names a parameter that "
                                    "neither main.cf nor the service sets")));
}

TEST(CertificateExpectationTest, ChainAndDhAreRequestedFromTheProbe) {
  policy::ProbeExpectation e;
  e.certificate_chain_trusted = true;
  e.dh_min_bits = 2048;
  ProbeTarget target;
  requestChecksFor(e, target);
  EXPECT_TRUE(target.check_certificate_chain);
  EXPECT_THAT(target.tls_attempts, ElementsAre("DHE"));
}

class LibraryProberTest : public ::testing::Test {
 protected:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
  std::unique_ptr<fakes::FakeSmtpServer> startServer(fakes::FakeSmtpServer::Script script) {
    auto server = fakes::FakeSmtpServer::start(std::move(script));
    PW_CHECK(server.ok());
    return std::move(server).value();
  }
  SocketSmtpProber prober_;
};

TEST_F(LibraryProberTest, RecordsTheBannerTextAndTheVrfyReply) {
  fakes::FakeSmtpServer::Script script;
  script.replies["VRFY"] = "502 5.5.1 VRFY command is disabled";
  auto server = startServer(script);
  ProbeTarget target;
  target.port = server->port();
  target.try_vrfy = true;
  const ProbeResult result = prober_.probe(target);
  EXPECT_EQ(result.failure, "");
  EXPECT_EQ(result.banner, "fake.example.com ESMTP Postfix (Debian/GNU)");
  EXPECT_EQ(result.vrfy_code, 502);
  EXPECT_EQ(result.vrfy_reply, "502 5.5.1 VRFY command is disabled");
  EXPECT_THAT(server->commands(), Contains("VRFY root"));
}

TEST_F(LibraryProberTest, NoVrfyUnlessAskedAndNoAttemptsWithoutStarttls) {
  fakes::FakeSmtpServer::Script script;
  script.ehlo_lines = {"fake.example.com", "PIPELINING"};  // no STARTTLS
  auto server = startServer(script);
  ProbeTarget target;
  target.port = server->port();
  target.tls_attempts = {"TLSv1.1"};
  const ProbeResult result = prober_.probe(target);
  EXPECT_FALSE(result.vrfy_code.has_value());
  EXPECT_THAT(server->commands(), ::testing::Not(Contains("VRFY root")));
  EXPECT_THAT(result.tls_attempts, IsEmpty());
}

TEST_F(LibraryProberTest, AnAttemptRefusedAtStarttlsDidNotReachTheHandshake) {
  // STARTTLS is offered but answered 454: the attempt proves nothing about TLS versions.
  auto server = startServer({});
  ProbeTarget target;
  target.port = server->port();
  target.tls_attempts = {"TLSv1.1"};
  const ProbeResult result = prober_.probe(target);
  ASSERT_EQ(result.tls_attempts.size(), 1u);
  EXPECT_FALSE(result.tls_attempts[0].established);
  EXPECT_FALSE(result.tls_attempts[0].reached_handshake);
  EXPECT_EQ(result.tls_attempts[0].error, "454 4.7.0 TLS not available due to local problem");
}

TEST_F(LibraryProberTest, TheRelayTestPresentsAnOutsideClientWithXclientAndNeverSendsData) {
  fakes::FakeSmtpServer::Script script;
  script.ehlo_lines.push_back("XCLIENT ADDR NAME");
  script.replies["XCLIENT"] = "220 fake.example.com ESMTP";
  script.replies["RCPT"] = "554 5.7.1 <postwarden-relay-probe@example.net>: Relay access denied";
  auto server = startServer(script);
  ProbeTarget target;
  target.port = server->port();
  target.relay_test = RelayTest{};
  const ProbeResult result = prober_.probe(target);
  EXPECT_EQ(result.failure, "");
  ASSERT_TRUE(result.relay.has_value());
  EXPECT_TRUE(result.relay->from_loopback);
  EXPECT_TRUE(result.relay->xclient_accepted);
  EXPECT_EQ(result.relay->rcpt_code, 554);
  EXPECT_TRUE(result.relay->refused());
  EXPECT_THAT(server->commands(), Contains("XCLIENT ADDR=192.0.2.1 NAME=[UNAVAILABLE]"));
  EXPECT_THAT(server->commands(), Contains("RCPT TO:<postwarden-relay-probe@example.net>"));
  EXPECT_THAT(server->commands(), Contains("RSET"));
  EXPECT_THAT(server->commands(), ::testing::Not(Contains("DATA")));
}

TEST(LibraryScanTest, RelayAcceptedIsAFindingOnlyWhereTheProbeWasAnOutsideClient) {
  ProbeResult result = tlsResult();
  auto relayFinding = [&](RelayResult relay) {
    result.relay = relay;
    for (const ScanFinding& f : scanFindings(result, kNow)) {
      if (f.id == "smtp-open-relay") return f;
    }
    return ScanFinding{};
  };
  RelayResult accepted{.from_loopback = true, .rcpt_code = 250, .rcpt_reply = "250 2.1.5 Ok"};
  EXPECT_EQ(relayFinding(accepted).verdict, ScanFinding::Verdict::kInfo);
  accepted.xclient_accepted = true;
  EXPECT_EQ(relayFinding(accepted).verdict, ScanFinding::Verdict::kFail);
  EXPECT_THAT(relayFinding(accepted).detail, HasSubstr("Nessus 10262"));
  RelayResult remote{.from_loopback = false, .rcpt_code = 250, .rcpt_reply = "250 2.1.5 Ok"};
  EXPECT_EQ(relayFinding(remote).verdict, ScanFinding::Verdict::kFail);
  RelayResult deferred{.from_loopback = true, .rcpt_code = 454, .rcpt_reply = "454 4.7.1"};
  EXPECT_EQ(relayFinding(deferred).verdict, ScanFinding::Verdict::kPass);
}

}  // namespace
}  // namespace postwarden::agent::verify
