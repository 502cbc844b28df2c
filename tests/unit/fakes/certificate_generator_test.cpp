#include "tests/fakes/certificate_generator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "agent/tls/certificate_check.h"

namespace postwarden::agent::tls {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;
using ::testing::ElementsAre;
using ::testing::StartsWith;

const system_clock::time_point kNow = system_clock::from_time_t(1'750'000'000);

CertificateRequest request(std::string common_name) {
  CertificateRequest request;
  request.common_name = std::move(common_name);
  request.not_before = kNow - hours(1);
  request.not_after = kNow + hours(24);
  return request;
}

TEST(CertificateGeneratorTest, ProducesUnencryptedPkcs8KeyAndPemCertificate) {
  auto generated = generateCertificate(request("mx.example.net"));
  ASSERT_TRUE(generated.ok()) << generated.status().toString();
  EXPECT_THAT(generated->certificate_pem, StartsWith("-----BEGIN CERTIFICATE-----\n"));
  EXPECT_THAT(generated->private_key_pem, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_TRUE(checkKeyPair(generated->certificate_pem, generated->private_key_pem, kNow).ok());
}

TEST(CertificateGeneratorTest, Ed25519CertificatesAreSelfSignedAndMatchTheirKey) {
  CertificateRequest ed_request = request("ed.example.net");
  ed_request.key_type = KeyType::kEd25519;
  auto generated = generateCertificate(ed_request);
  ASSERT_TRUE(generated.ok()) << generated.status().toString();
  EXPECT_TRUE(checkKeyPair(generated->certificate_pem, generated->private_key_pem, kNow).ok());
  auto info = parseCertificate(generated->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->self_signed);
}

TEST(CertificateGeneratorTest, EveryCallMakesAFreshKey) {
  auto first = generateCertificate(request("a"));
  auto second = generateCertificate(request("a"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->private_key_pem, second->private_key_pem);
}

TEST(CertificateGeneratorTest, OmitsSubjectAndSansWhenNotRequested) {
  auto generated = generateCertificate(request(""));
  ASSERT_TRUE(generated.ok());
  auto info = parseCertificate(generated->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->subject_common_name, "");
  EXPECT_TRUE(info->dns_names.empty());
}

TEST(CertificateGeneratorTest, SignsWithIssuerKeyAndName) {
  CertificateRequest ca_request = request("Test CA");
  ca_request.is_ca = true;
  auto ca = generateCertificate(ca_request);
  ASSERT_TRUE(ca.ok());
  CertificateRequest leaf_request = request("leaf");
  leaf_request.dns_names = {"leaf.example.net"};
  auto leaf = generateCertificate(leaf_request, &*ca);
  ASSERT_TRUE(leaf.ok()) << leaf.status().toString();
  auto info = parseCertificate(leaf->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->issuer, "CN=Test CA");
  EXPECT_THAT(info->dns_names, ElementsAre("leaf.example.net"));
  EXPECT_FALSE(info->self_signed);
}

TEST(CertificateGeneratorTest, RejectsUnparsableIssuerWithInvalidArgument) {
  GeneratedCertificate bogus{"not a certificate", "not a key"};
  EXPECT_EQ(generateCertificate(request("leaf"), &bogus).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace postwarden::agent::tls
