#include "agent/applier/preflight.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/planner/planner.h"
#include "tests/fakes/certificate_generator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::InMemoryFileSystem;
using std::chrono::hours;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

const auto kNow = fakes::FakeClock::kDefaultStart;

const char* kMaster =
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n";

tls::GeneratedCertificate certificate(std::chrono::system_clock::time_point not_before,
                                      std::chrono::system_clock::time_point not_after,
                                      tls::KeyType key_type = tls::KeyType::kEcP256) {
  tls::CertificateRequest request;
  request.common_name = "mail.example.org";
  request.dns_names = {"mail.example.org"};
  request.not_before = not_before;
  request.not_after = not_after;
  request.key_type = key_type;
  Result<tls::GeneratedCertificate> generated = tls::generateCertificate(request);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : tls::GeneratedCertificate{};
}

tls::GeneratedCertificate validEc() { return certificate(kNow - hours(1), kNow + hours(24 * 90)); }

// RSA key generation is slow; one RSA pair serves every test.
const tls::GeneratedCertificate& validRsa() {
  static const tls::GeneratedCertificate rsa =
      certificate(kNow - hours(1), kNow + hours(24 * 90), tls::KeyType::kRsa2048);
  return rsa;
}

planner::Plan planNeeding(std::string cert_file, std::string key_file) {
  planner::Plan plan;
  plan.tls_material.push_back({"smtp/inet", std::move(cert_file), std::move(key_file)});
  return plan;
}

// The real planner over `main_cf` with the hardening settings (STARTTLS wanted on smtp/inet),
// so that these tests cover what the planner collects as well as what pre-flight makes of it.
planner::Plan planFor(const std::string& main_cf, const params::ParameterCatalog& catalog =
                                                      params::ParameterCatalog::builtin()) {
  policy::Baseline baseline;
  baseline.name = "tls";
  baseline.version = "1";
  baseline.main_cf_set = {{"smtpd_tls_security_level", "may", {}},
                          {"smtpd_tls_auth_only", "yes", {}}};
  Result<planner::Plan> plan = planner::makePlan(baseline, {main_cf, kMaster}, catalog);
  EXPECT_TRUE(plan.ok()) << plan.status().toString();
  if (!plan.ok()) return {};
  EXPECT_THAT(plan->tls_material, SizeIs(1));
  return *plan;
}

TEST(PreflightTest, PlanWithoutTlsMaterialPassesWithoutReading) {
  InMemoryFileSystem fs;

  Status status = checkTlsMaterial(planner::Plan{}, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_TRUE(fs.operations().empty());
}

TEST(PreflightTest, MatchingValidPairPasses) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate pair = certificate(kNow - hours(1), kNow + hours(24 * 90));
  fs.addFile("/etc/ssl/mail.pem", pair.certificate_pem);
  fs.addFile("/etc/ssl/mail.key", pair.private_key_pem, 0600);

  Status status = checkTlsMaterial(planNeeding("/etc/ssl/mail.pem", "/etc/ssl/mail.key"), fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, NoCertificateAtAllIsFailedPrecondition) {
  InMemoryFileSystem fs;

  Status status = checkTlsMaterial(planFor("smtpd_sasl_auth_enable = yes\n"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(),
            "service 'smtp/inet' needs TLS but no server certificate is configured "
            "(smtpd_tls_chain_files, smtpd_tls_cert_file and smtpd_tls_eccert_file are all "
            "empty): Postfix would not offer STARTTLS");
}

TEST(PreflightTest, UnsetKeyFileIsFailedPrecondition) {
  InMemoryFileSystem fs;

  Status status = checkTlsMaterial(planNeeding("/etc/ssl/mail.pem", ""), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("smtpd_tls_key_file is not set"));
}

TEST(PreflightTest, MissingKeyFileIsFailedPrecondition) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate pair = certificate(kNow - hours(1), kNow + hours(24));
  fs.addFile("/etc/ssl/mail.pem", pair.certificate_pem);

  Status status = checkTlsMaterial(planNeeding("/etc/ssl/mail.pem", "/etc/ssl/mail.key"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("cannot read key"));
  EXPECT_THAT(status.message(), HasSubstr("/etc/ssl/mail.key"));
}

TEST(PreflightTest, ExpiredCertificateIsFailedPrecondition) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate pair = certificate(kNow - hours(48), kNow - hours(1));
  fs.addFile("/etc/ssl/mail.pem", pair.certificate_pem);
  fs.addFile("/etc/ssl/mail.key", pair.private_key_pem);

  Status status = checkTlsMaterial(planNeeding("/etc/ssl/mail.pem", "/etc/ssl/mail.key"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("certificate '/etc/ssl/mail.pem' and key"));
}

TEST(PreflightTest, KeyOfAnotherCertificateIsFailedPrecondition) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate pair = certificate(kNow - hours(1), kNow + hours(24));
  tls::GeneratedCertificate other = certificate(kNow - hours(1), kNow + hours(24));
  fs.addFile("/etc/ssl/mail.pem", pair.certificate_pem);
  fs.addFile("/etc/ssl/mail.key", other.private_key_pem);

  Status status = checkTlsMaterial(planNeeding("/etc/ssl/mail.pem", "/etc/ssl/mail.key"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("service 'smtp/inet' needs TLS: certificate"));
}

// --- smtpd_tls_chain_files -------------------------------------------------------------------

// postconf(5)'s own form, shipped by docker-mailserver and YunoHost: the key, then its chain.
TEST(PreflightTest, ChainFilesKeyThenCertificateInSeparateFilesPass) {
  InMemoryFileSystem fs;
  const tls::GeneratedCertificate& rsa = validRsa();
  fs.addFile("/c/key.pem", rsa.private_key_pem, 0600);
  fs.addFile("/c/cert.pem", rsa.certificate_pem);
  planner::Plan plan = planFor("smtpd_tls_chain_files = /c/key.pem, /c/cert.pem\n");
  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_THAT(plan.tls_material[0].chain_files, ElementsAre("/c/key.pem", "/c/cert.pem"));

  Status status = checkTlsMaterial(plan, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, SingleChainFileWithKeyFirstPasses) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/chain.pem", ec.private_key_pem + ec.certificate_pem, 0600);

  Status status = checkTlsMaterial(planFor("smtpd_tls_chain_files = /c/chain.pem\n"), fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, ChainFileWithCertificateBeforeKeyIsRefusedAsPostfixWouldDisableTls) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/chain.pem", ec.certificate_pem + ec.private_key_pem, 0600);

  Status status = checkTlsMaterial(planFor("smtpd_tls_chain_files = /c/chain.pem\n"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("service 'smtp/inet' needs TLS: smtpd_tls_chain_files: "),
                    HasSubstr("key not first"), HasSubstr("disable TLS")));
}

TEST(PreflightTest, RsaAndEcdsaGroupsInOneChainFilePass) {
  InMemoryFileSystem fs;
  const tls::GeneratedCertificate& rsa = validRsa();
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/both.pem",
             rsa.private_key_pem + rsa.certificate_pem + ec.private_key_pem + ec.certificate_pem);

  Status status = checkTlsMaterial(planFor("smtpd_tls_chain_files = /c/both.pem\n"), fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, MismatchedEcdsaGroupInChainFileIsRefused) {
  InMemoryFileSystem fs;
  const tls::GeneratedCertificate& rsa = validRsa();
  tls::GeneratedCertificate ec = validEc();
  tls::GeneratedCertificate other = validEc();
  fs.addFile("/c/both.pem", rsa.private_key_pem + rsa.certificate_pem + ec.private_key_pem +
                                other.certificate_pem);

  Status status = checkTlsMaterial(planFor("smtpd_tls_chain_files = /c/both.pem\n"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("PEM object 3 in '/c/both.pem' does not match"));
}

// Postfix ignores the per-algorithm files when smtpd_tls_chain_files is set.
TEST(PreflightTest, ChainFilesReplaceTheLegacyFiles) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/chain.pem", ec.private_key_pem + ec.certificate_pem);
  planner::Plan plan = planFor(
      "smtpd_tls_cert_file = /nonexistent/old.pem\n"
      "smtpd_tls_chain_files = /c/chain.pem\n");
  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_EQ(plan.tls_material[0].cert_file, "");

  Status status = checkTlsMaterial(plan, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(fs.operations(), ElementsAre("readFile /c/chain.pem"));
}

TEST(PreflightTest, MissingChainFileIsRefused) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/key.pem", ec.private_key_pem);

  Status status =
      checkTlsMaterial(planFor("smtpd_tls_chain_files = /c/key.pem /c/cert.pem\n"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("cannot read smtpd_tls_chain_files file '/c/cert.pem'"));
}

// --- per-algorithm pairs ---------------------------------------------------------------------

TEST(PreflightTest, EcdsaOnlyPairPasses) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/ec.crt", ec.certificate_pem);
  fs.addFile("/c/ec.key", ec.private_key_pem, 0600);
  planner::Plan plan = planFor(
      "smtpd_tls_eccert_file = /c/ec.crt\n"
      "smtpd_tls_eckey_file = /c/ec.key\n");
  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_EQ(plan.tls_material[0].eccert_file, "/c/ec.crt");
  EXPECT_EQ(plan.tls_material[0].eckey_file, "/c/ec.key");

  Status status = checkTlsMaterial(plan, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, EcdsaKeyFileDefaultsToTheCertificateFile) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/ec.pem", ec.certificate_pem + ec.private_key_pem, 0600);

  Status status = checkTlsMaterial(planFor("smtpd_tls_eccert_file = /c/ec.pem\n"), fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, MismatchedEcdsaPairIsRefused) {
  InMemoryFileSystem fs;
  const tls::GeneratedCertificate& rsa = validRsa();
  tls::GeneratedCertificate ec = validEc();
  tls::GeneratedCertificate other = validEc();
  fs.addFile("/c/rsa.crt", rsa.certificate_pem);
  fs.addFile("/c/rsa.key", rsa.private_key_pem);
  fs.addFile("/c/ec.crt", ec.certificate_pem);
  fs.addFile("/c/ec.key", other.private_key_pem);

  Status status = checkTlsMaterial(planFor("smtpd_tls_cert_file = /c/rsa.crt\n"
                                           "smtpd_tls_key_file = /c/rsa.key\n"
                                           "smtpd_tls_eccert_file = /c/ec.crt\n"
                                           "smtpd_tls_eckey_file = /c/ec.key\n"),
                                   fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), AllOf(HasSubstr("certificate '/c/ec.crt' and key '/c/ec.key'"),
                                      HasSubstr("does not match")));
}

TEST(PreflightTest, RsaAndEcdsaPairsAreCheckedPairByPair) {
  InMemoryFileSystem fs;
  const tls::GeneratedCertificate& rsa = validRsa();
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/rsa.crt", rsa.certificate_pem);
  fs.addFile("/c/rsa.key", rsa.private_key_pem);
  fs.addFile("/c/ec.crt", ec.certificate_pem);
  fs.addFile("/c/ec.key", ec.private_key_pem);

  Status status = checkTlsMaterial(planFor("smtpd_tls_cert_file = /c/rsa.crt\n"
                                           "smtpd_tls_key_file = /c/rsa.key\n"
                                           "smtpd_tls_eccert_file = /c/ec.crt\n"
                                           "smtpd_tls_eckey_file = /c/ec.key\n"),
                                   fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(fs.operations(), ElementsAre("readFile /c/rsa.crt", "readFile /c/rsa.key",
                                           "readFile /c/ec.crt", "readFile /c/ec.key"));
}

TEST(PreflightTest, EmptyEcdsaKeyFileIsRefused) {
  InMemoryFileSystem fs;

  Status status = checkTlsMaterial(planFor("smtpd_tls_eccert_file = /c/ec.crt\n"
                                           "smtpd_tls_eckey_file =\n"),
                                   fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("smtpd_tls_eckey_file is not set"));
}

// smtpd_tls_key_file defaults to $smtpd_tls_cert_file; Postfix then reads the one file in
// "mixed" mode, where the key may follow the certificate.
TEST(PreflightTest, CombinedCertificateThenKeyFilePasses) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/mail.pem", ec.certificate_pem + ec.private_key_pem, 0600);

  Status status = checkTlsMaterial(planFor("smtpd_tls_cert_file = /c/mail.pem\n"), fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
  EXPECT_THAT(fs.operations(), ElementsAre("readFile /c/mail.pem"));
}

TEST(PreflightTest, CombinedFileWithoutKeyIsRefused) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/c/mail.pem", ec.certificate_pem);

  Status status = checkTlsMaterial(planFor("smtpd_tls_cert_file = /c/mail.pem\n"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("No private key found in /c/mail.pem"));
}

// --- $config_directory -----------------------------------------------------------------------

// A second instance (postmulti, `postfix -c /etc/postfix-out`): $config_directory is its own
// directory, never the default instance's /etc/postfix.
TEST(PreflightTest, ConfigDirectoryIsTheInstanceDirectory) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  tls::GeneratedCertificate other = validEc();
  fs.addFile("/etc/postfix-out/tls/key.pem", ec.private_key_pem, 0600);
  fs.addFile("/etc/postfix-out/tls/cert.pem", ec.certificate_pem);
  // The default instance's files do not match each other: reading them would fail the check.
  fs.addFile("/etc/postfix/tls/key.pem", other.private_key_pem, 0600);
  fs.addFile("/etc/postfix/tls/cert.pem", ec.certificate_pem);
  const params::ParameterCatalog catalog =
      params::ParameterCatalog::builtin().withConfigDirectory("/etc/postfix-out");

  planner::Plan plan = planFor(
      "smtpd_tls_chain_files = ${config_directory}/tls/key.pem, $config_directory/tls/cert.pem\n",
      catalog);
  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_THAT(plan.tls_material[0].chain_files,
              ElementsAre("/etc/postfix-out/tls/key.pem", "/etc/postfix-out/tls/cert.pem"));
  Status status = checkTlsMaterial(plan, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(PreflightTest, ConfigDirectoryRelativeLegacyPairUsesTheInstanceDirectory) {
  InMemoryFileSystem fs;
  tls::GeneratedCertificate ec = validEc();
  fs.addFile("/srv/pf2/etc/cert.pem", ec.certificate_pem);
  fs.addFile("/srv/pf2/etc/key.pem", ec.private_key_pem, 0600);
  const params::ParameterCatalog catalog =
      params::ParameterCatalog::builtin().withConfigDirectory("/srv/pf2/etc");

  planner::Plan plan = planFor(
      "tls_dir = $config_directory\n"
      "smtpd_tls_cert_file = $tls_dir/cert.pem\n"
      "smtpd_tls_key_file = $(config_directory)/key.pem\n",
      catalog);
  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_EQ(plan.tls_material[0].cert_file, "/srv/pf2/etc/cert.pem");
  EXPECT_EQ(plan.tls_material[0].key_file, "/srv/pf2/etc/key.pem");

  Status status = checkTlsMaterial(plan, fs, kNow);

  EXPECT_TRUE(status.ok()) << status.toString();
}

// As in Postfix, an explicit config_directory in main.cf overrides the instance directory.
TEST(PreflightTest, ExplicitConfigDirectoryInMainCfWins) {
  const params::ParameterCatalog catalog =
      params::ParameterCatalog::builtin().withConfigDirectory("/srv/pf2/etc");

  planner::Plan plan = planFor(
      "config_directory = /opt/pf\n"
      "smtpd_tls_cert_file = $config_directory/cert.pem\n",
      catalog);

  ASSERT_THAT(plan.tls_material, SizeIs(1));
  EXPECT_EQ(plan.tls_material[0].cert_file, "/opt/pf/cert.pem");
}

}  // namespace
}  // namespace postwarden::agent::applier
