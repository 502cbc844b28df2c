#include "agent/tls/certificate_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <chrono>
#include <string>

#include "common/openssl_handles.h"
#include "tests/fakes/certificate_generator.h"

namespace postwarden::agent::tls {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr auto kDay = hours(24);

// A fixed "now" keeps the tests independent of the wall clock.
const system_clock::time_point kNow = system_clock::from_time_t(1'750'000'000);  // June 2025

GeneratedCertificate generate(CertificateRequest request,
                              const GeneratedCertificate* issuer = nullptr) {
  auto generated = generateCertificate(request, issuer);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : GeneratedCertificate{};
}

CertificateRequest mailRequest() {
  CertificateRequest request;
  request.common_name = "mail.example.com";
  request.dns_names = {"mail.example.com", "smtp.example.com"};
  request.not_before = kNow - 10 * kDay;
  request.not_after = kNow + 90 * kDay;
  return request;
}

std::string publicKeyPem(const std::string& private_key_pem) {
  BioPtr in = readOnlyMemoryBio(private_key_pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  BioPtr out(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(out.get(), key.get()), 1);
  return memoryBioContents(out.get());
}

std::string encryptedKeyPem(const std::string& private_key_pem) {
  BioPtr in = readOnlyMemoryBio(private_key_pem);
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  BioPtr out(BIO_new(BIO_s_mem()));
  static char passphrase[] = "correct horse";
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), passphrase,
                                          sizeof(passphrase) - 1, nullptr, nullptr),
            1);
  return memoryBioContents(out.get());
}

TEST(CertificateCheckTest, ParsesNamesDatesAndIssuer) {
  const GeneratedCertificate generated = generate(mailRequest());
  auto info = parseCertificate(generated.certificate_pem);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->subject_common_name, "mail.example.com");
  EXPECT_EQ(info->subject, "CN=mail.example.com");
  EXPECT_EQ(info->issuer, "CN=mail.example.com");
  EXPECT_THAT(info->dns_names, ElementsAre("mail.example.com", "smtp.example.com"));
  EXPECT_EQ(info->not_before, kNow - 10 * kDay);
  EXPECT_EQ(info->not_after, kNow + 90 * kDay);
  EXPECT_TRUE(info->self_signed);
}

TEST(CertificateCheckTest, CaSignedCertificateIsNotSelfSigned) {
  CertificateRequest ca_request;
  ca_request.common_name = "Postwarden Test CA";
  ca_request.not_before = kNow - kDay;
  ca_request.not_after = kNow + 365 * kDay;
  ca_request.is_ca = true;
  const GeneratedCertificate ca = generate(ca_request);
  const GeneratedCertificate leaf = generate(mailRequest(), &ca);

  auto info = parseCertificate(leaf.certificate_pem);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_FALSE(info->self_signed);
  EXPECT_EQ(info->issuer, "CN=Postwarden Test CA");
  EXPECT_TRUE(checkKeyPair(leaf.certificate_pem, leaf.private_key_pem, kNow).ok());
}

TEST(CertificateCheckTest, ParsesFirstCertificateOfCombinedKeyAndChainFile) {
  // smtpd_tls_chain_files allows the key first, then the leaf, then the chain.
  const GeneratedCertificate generated = generate(mailRequest());
  auto info = parseCertificate(generated.private_key_pem + generated.certificate_pem);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->subject_common_name, "mail.example.com");
}

TEST(CertificateCheckTest, FarFutureExpiryIsClampedNotOverflowed) {
  // RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined expiration date"; it lies beyond
  // what system_clock can represent, so it must clamp to time_point::max().
  const GeneratedCertificate generated = generate(mailRequest());
  BioPtr certificate_in = readOnlyMemoryBio(generated.certificate_pem);
  BioPtr key_in = readOnlyMemoryBio(generated.private_key_pem);
  X509Ptr certificate(PEM_read_bio_X509(certificate_in.get(), nullptr, nullptr, nullptr));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_in.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(certificate && key);
  ASSERT_EQ(ASN1_TIME_set_string(X509_getm_notAfter(certificate.get()), "99991231235959Z"), 1);
  ASSERT_GT(X509_sign(certificate.get(), key.get(), EVP_sha256()), 0);
  BioPtr out(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_X509(out.get(), certificate.get()), 1);

  auto info = parseCertificate(memoryBioContents(out.get()));
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->not_after, system_clock::time_point::max());
  EXPECT_TRUE(checkKeyPair(memoryBioContents(out.get()), generated.private_key_pem, kNow).ok());
}

TEST(CertificateCheckTest, RejectsNonPemCertificateWithInvalidArgument) {
  EXPECT_EQ(parseCertificate("hello").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseCertificate("").status().code(), StatusCode::kInvalidArgument);
  const std::string broken =
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
  EXPECT_EQ(parseCertificate(broken).status().code(), StatusCode::kInvalidArgument);
}

TEST(CertificateCheckTest, AcceptsMatchingValidPair) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status = checkKeyPair(generated.certificate_pem, generated.private_key_pem, kNow);
  EXPECT_TRUE(status.ok()) << status.toString();
}

TEST(CertificateCheckTest, AcceptsRsaPair) {
  CertificateRequest request = mailRequest();
  request.key_type = KeyType::kRsa2048;
  const GeneratedCertificate generated = generate(request);
  EXPECT_TRUE(checkKeyPair(generated.certificate_pem, generated.private_key_pem, kNow).ok());
}

TEST(CertificateCheckTest, RejectsCertificateThatIsNotPem) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status =
      checkKeyPair("\x30\x82\x01\x0a binary DER", generated.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not PEM"));
}

TEST(CertificateCheckTest, RejectsSwappedCertificateAndKey) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status = checkKeyPair(generated.private_key_pem, generated.certificate_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("swapped"));
}

TEST(CertificateCheckTest, RejectsCorruptCertificateBlock) {
  const GeneratedCertificate generated = generate(mailRequest());
  const std::string corrupt =
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
  const Status status = checkKeyPair(corrupt, generated.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not a certificate"));
}

TEST(CertificateCheckTest, RejectsKeyFileHoldingACertificate) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status = checkKeyPair(generated.certificate_pem, generated.certificate_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not a private key"));
}

TEST(CertificateCheckTest, RejectsPublicKeyInsteadOfPrivateKey) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status =
      checkKeyPair(generated.certificate_pem, publicKeyPem(generated.private_key_pem), kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("only a public key"));
}

TEST(CertificateCheckTest, RejectsKeyThatIsNotPem) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status = checkKeyPair(generated.certificate_pem, "garbage", kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("private key is not PEM"));
}

TEST(CertificateCheckTest, RejectsPassphraseProtectedKeyWithoutPrompting) {
  const GeneratedCertificate generated = generate(mailRequest());
  const Status status =
      checkKeyPair(generated.certificate_pem, encryptedKeyPem(generated.private_key_pem), kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("passphrase"));
}

TEST(CertificateCheckTest, RejectsKeyOfAnotherCertificate) {
  const GeneratedCertificate first = generate(mailRequest());
  const GeneratedCertificate second = generate(mailRequest());
  const Status status = checkKeyPair(first.certificate_pem, second.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not match"));
}

TEST(CertificateCheckTest, RejectsKeyOfDifferentType) {
  const GeneratedCertificate ec = generate(mailRequest());
  CertificateRequest rsa_request = mailRequest();
  rsa_request.key_type = KeyType::kRsa2048;
  const GeneratedCertificate rsa = generate(rsa_request);
  const Status status = checkKeyPair(ec.certificate_pem, rsa.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("does not match"));
}

TEST(CertificateCheckTest, RejectsExpiredCertificate) {
  CertificateRequest request = mailRequest();
  request.not_before = kNow - 400 * kDay;
  request.not_after = kNow - kDay;
  const GeneratedCertificate generated = generate(request);
  const Status status = checkKeyPair(generated.certificate_pem, generated.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("expired on"));
}

TEST(CertificateCheckTest, RejectsNotYetValidCertificate) {
  CertificateRequest request = mailRequest();
  request.not_before = kNow + kDay;
  request.not_after = kNow + 90 * kDay;
  const GeneratedCertificate generated = generate(request);
  const Status status = checkKeyPair(generated.certificate_pem, generated.private_key_pem, kNow);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not yet valid"));
}

TEST(CertificateCheckTest, MatchesExactSanCaseInsensitivelyAndIgnoresTrailingDot) {
  CertificateInfo info;
  info.dns_names = {"Mail.Example.com"};
  EXPECT_TRUE(matchesName(info, "mail.example.com"));
  EXPECT_TRUE(matchesName(info, "MAIL.EXAMPLE.COM."));
  EXPECT_FALSE(matchesName(info, "example.com"));
  EXPECT_FALSE(matchesName(info, "mail.example.com.evil.net"));
  EXPECT_FALSE(matchesName(info, ""));
}

TEST(CertificateCheckTest, WildcardCoversExactlyOneLeftmostLabel) {
  CertificateInfo info;
  info.dns_names = {"*.example.com"};
  EXPECT_TRUE(matchesName(info, "mail.example.com"));
  EXPECT_FALSE(matchesName(info, "example.com"));
  EXPECT_FALSE(matchesName(info, "a.mail.example.com"));
  EXPECT_FALSE(matchesName(info, ".example.com"));
  EXPECT_FALSE(matchesName(info, "*.example.com"));
}

TEST(CertificateCheckTest, RejectsWildcardsThatAreTooBroadOrPartial) {
  CertificateInfo tld;
  tld.dns_names = {"*.com"};
  EXPECT_FALSE(matchesName(tld, "example.com"));
  CertificateInfo partial;
  partial.dns_names = {"m*.example.com"};
  EXPECT_FALSE(matchesName(partial, "mail.example.com"));
  CertificateInfo inner;
  inner.dns_names = {"mail.*.com"};
  EXPECT_FALSE(matchesName(inner, "mail.example.com"));
}

TEST(CertificateCheckTest, UsesCommonNameOnlyWithoutSans) {
  CertificateInfo without_sans;
  without_sans.subject_common_name = "mail.example.com";
  EXPECT_TRUE(matchesName(without_sans, "mail.example.com"));

  CertificateInfo with_sans;
  with_sans.subject_common_name = "mail.example.com";
  with_sans.dns_names = {"smtp.example.com"};
  EXPECT_FALSE(matchesName(with_sans, "mail.example.com"));
  EXPECT_TRUE(matchesName(with_sans, "smtp.example.com"));
}

TEST(CertificateCheckTest, MatchesNamesOfParsedCertificate) {
  CertificateRequest request = mailRequest();
  request.dns_names = {"*.example.org", "example.org"};
  auto info = parseCertificate(generate(request).certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(matchesName(*info, "mx1.example.org"));
  EXPECT_TRUE(matchesName(*info, "example.org"));
  EXPECT_FALSE(matchesName(*info, "mail.example.com"));  // CN ignored: SANs present
}

TEST(CertificateCheckTest, FormatsUtcTimes) {
  EXPECT_EQ(formatUtc(system_clock::from_time_t(0)), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(formatUtc(kNow), "2025-06-15 15:06:40 UTC");
}

}  // namespace
}  // namespace postwarden::agent::tls
