#include "agent/applier/preflight.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/tls/certificate_generator.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::InMemoryFileSystem;
using std::chrono::hours;
using ::testing::HasSubstr;

const auto kNow = fakes::FakeClock::kDefaultStart;

tls::GeneratedCertificate certificate(std::chrono::system_clock::time_point not_before,
                                      std::chrono::system_clock::time_point not_after) {
  tls::CertificateRequest request;
  request.common_name = "mail.example.org";
  request.dns_names = {"mail.example.org"};
  request.not_before = not_before;
  request.not_after = not_after;
  Result<tls::GeneratedCertificate> generated = tls::generateCertificate(request);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : tls::GeneratedCertificate{};
}

planner::Plan planNeeding(std::string cert_file, std::string key_file) {
  planner::Plan plan;
  plan.tls_material.push_back({"smtp/inet", std::move(cert_file), std::move(key_file)});
  return plan;
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

TEST(PreflightTest, UnsetCertificateFileIsFailedPrecondition) {
  InMemoryFileSystem fs;

  Status status = checkTlsMaterial(planNeeding("", "/etc/ssl/mail.key"), fs, kNow);

  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "service 'smtp/inet' needs TLS but smtpd_tls_cert_file is not set");
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

}  // namespace
}  // namespace postwarden::agent::applier
