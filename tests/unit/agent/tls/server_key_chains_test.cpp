#include "agent/tls/server_key_chains.h"

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
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr auto kDay = hours(24);
const system_clock::time_point kNow = system_clock::from_time_t(1'750'000'000);  // June 2025

// The prime256v1 curve OID as `openssl ecparam -genkey` writes it before an EC key.
constexpr char kEcParameters[] =
    "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";

GeneratedCertificate generate(KeyType type, const GeneratedCertificate* issuer = nullptr,
                              system_clock::time_point not_after = kNow + 90 * kDay) {
  CertificateRequest request;
  request.common_name = issuer == nullptr ? "mail.example.com" : "leaf.example.com";
  request.dns_names = {request.common_name};
  request.not_before = kNow - kDay;
  request.not_after = not_after;
  request.key_type = type;
  Result<GeneratedCertificate> generated = generateCertificate(request, issuer);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : GeneratedCertificate{};
}

GeneratedCertificate generateCa() {
  CertificateRequest request;
  request.common_name = "Example Intermediate CA";
  request.not_before = kNow - kDay;
  request.not_after = kNow + 365 * kDay;
  request.is_ca = true;
  Result<GeneratedCertificate> generated = generateCertificate(request);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : GeneratedCertificate{};
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

// RSA key generation takes a while: one RSA and one ECDSA pair serve the whole suite.
class ServerKeyChainsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_rsa_ = generate(KeyType::kRsa2048);
    shared_ec_ = generate(KeyType::kEcP256);
  }

  static inline GeneratedCertificate shared_rsa_;
  static inline GeneratedCertificate shared_ec_;
  const GeneratedCertificate& rsa_ = shared_rsa_;
  const GeneratedCertificate& ec_ = shared_ec_;
};

// postconf(5)'s own example and docker-mailserver's layout: the key file, then the certificate
// (chain) file.
TEST_F(ServerKeyChainsTest, KeyThenCertificateInSeparateFilesIsAccepted) {
  auto chains = checkChainFiles(
      {{"/c/key.pem", rsa_.private_key_pem}, {"/c/cert.pem", rsa_.certificate_pem}}, kNow);

  ASSERT_TRUE(chains.ok()) << chains.status().toString();
  ASSERT_THAT(*chains, SizeIs(1));
  EXPECT_EQ((*chains)[0].key_type, "RSA");
  EXPECT_EQ((*chains)[0].key_file, "/c/key.pem");
  EXPECT_EQ((*chains)[0].key_object, 1);
  EXPECT_EQ((*chains)[0].leaf.subject_common_name, "mail.example.com");
  EXPECT_EQ((*chains)[0].issuer_count, 0u);
}

TEST_F(ServerKeyChainsTest, SingleFileWithKeyFirstAndIssuerChainIsAccepted) {
  const GeneratedCertificate ca = generateCa();
  const GeneratedCertificate leaf = generate(KeyType::kEcP256, &ca);

  auto chains = checkChainFiles(
      {{"/c/chain.pem", leaf.private_key_pem + leaf.certificate_pem + ca.certificate_pem}}, kNow);

  ASSERT_TRUE(chains.ok()) << chains.status().toString();
  ASSERT_THAT(*chains, SizeIs(1));
  EXPECT_EQ((*chains)[0].key_type, "ECDSA");
  EXPECT_EQ((*chains)[0].leaf.subject_common_name, "leaf.example.com");
  EXPECT_EQ((*chains)[0].issuer_count, 1u);
}

TEST_F(ServerKeyChainsTest, CertificateBeforeKeyIsRefusedAsPostfixSaysKeyNotFirst) {
  auto chains =
      checkChainFiles({{"/c/chain.pem", rsa_.certificate_pem + rsa_.private_key_pem}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_EQ(chains.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chains.status().message(),
              AllOf(HasSubstr("PEM object 1 in '/c/chain.pem' comes before any private key"),
                    HasSubstr("key not first"), HasSubstr("disable TLS")));
}

TEST_F(ServerKeyChainsTest, CertificateFileListedBeforeKeyFileIsRefused) {
  auto chains = checkChainFiles(
      {{"/c/cert.pem", rsa_.certificate_pem}, {"/c/key.pem", rsa_.private_key_pem}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_EQ(chains.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chains.status().message(),
              HasSubstr("error loading chain from /c/cert.pem: key not first"));
}

TEST_F(ServerKeyChainsTest, RsaAndEcdsaGroupsInOneFileAreCheckedPairByPair) {
  auto chains = checkChainFiles({{"/c/both.pem", rsa_.private_key_pem + rsa_.certificate_pem +
                                                     ec_.private_key_pem + ec_.certificate_pem}},
                                kNow);

  ASSERT_TRUE(chains.ok()) << chains.status().toString();
  ASSERT_THAT(*chains, SizeIs(2));
  EXPECT_EQ((*chains)[0].key_type, "RSA");
  EXPECT_EQ((*chains)[0].key_object, 1);
  EXPECT_EQ((*chains)[1].key_type, "ECDSA");
  EXPECT_EQ((*chains)[1].key_object, 3);
}

TEST_F(ServerKeyChainsTest, RsaEcdsaAndEd25519GroupsAcrossFilesAreAccepted) {
  const GeneratedCertificate ed = generate(KeyType::kEd25519);

  auto chains = checkChainFiles({{"/c/rsa.pem", rsa_.private_key_pem + rsa_.certificate_pem},
                                 {"/c/ec.key", ec_.private_key_pem},
                                 {"/c/ec.crt", ec_.certificate_pem},
                                 {"/c/ed.pem", ed.private_key_pem + ed.certificate_pem}},
                                kNow);

  ASSERT_TRUE(chains.ok()) << chains.status().toString();
  ASSERT_THAT(*chains, SizeIs(3));
  EXPECT_EQ((*chains)[1].key_type, "ECDSA");
  EXPECT_EQ((*chains)[1].key_file, "/c/ec.key");
  EXPECT_EQ((*chains)[2].key_type, "Ed25519");
}

TEST_F(ServerKeyChainsTest, MismatchInSecondGroupIsRefused) {
  const GeneratedCertificate other = generate(KeyType::kEcP256);

  auto chains = checkChainFiles({{"/c/both.pem", rsa_.private_key_pem + rsa_.certificate_pem +
                                                     ec_.private_key_pem + other.certificate_pem}},
                                kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_EQ(chains.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chains.status().message(),
              AllOf(HasSubstr("the private key at PEM object 3 in '/c/both.pem' does not match"),
                    HasSubstr("key at index 3 in /c/both.pem does not match next certificate")));
}

TEST_F(ServerKeyChainsTest, TwoKeysOfOneTypeAreRefused) {
  const GeneratedCertificate second_ec = generate(KeyType::kEcP256);

  auto chains =
      checkChainFiles({{"/c/a.pem", ec_.private_key_pem + ec_.certificate_pem},
                       {"/c/b.pem", second_ec.private_key_pem + second_ec.certificate_pem}},
                      kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(),
              HasSubstr("is a second ECDSA key (the first is at PEM object 1 in '/c/a.pem')"));
}

TEST_F(ServerKeyChainsTest, KeyFollowedByAnotherKeyIsRefused) {
  auto chains = checkChainFiles(
      {{"/c/keys.pem", rsa_.private_key_pem + ec_.private_key_pem + ec_.certificate_pem}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(), HasSubstr("not followed by a certificate"));
}

TEST_F(ServerKeyChainsTest, KeyWithoutCertificateIsRefused) {
  auto chains = checkChainFiles({{"/c/key.pem", rsa_.private_key_pem}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(), HasSubstr("No certs for key at index 1 in /c/key.pem"));
}

TEST_F(ServerKeyChainsTest, FilesWithoutPemDataAreRefused) {
  auto chains = checkChainFiles({{"/c/empty.pem", ""}, {"/c/der.crt", "\x30\x82\x01\x0a"}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(), HasSubstr("No PEM data in /c/empty.pem, /c/der.crt"));
}

TEST_F(ServerKeyChainsTest, EcParametersBlockIsIgnoredAsPostfixDoes) {
  auto chains = checkChainFiles(
      {{"/c/ec.pem", kEcParameters + ec_.private_key_pem + ec_.certificate_pem}}, kNow);

  ASSERT_TRUE(chains.ok()) << chains.status().toString();
  EXPECT_EQ((*chains)[0].key_object, 2);
}

TEST_F(ServerKeyChainsTest, PassphraseProtectedKeyIsRefusedWithAHint) {
  auto chains = checkChainFiles(
      {{"/c/key.pem", encryptedKeyPem(ec_.private_key_pem)}, {"/c/cert.pem", ec_.certificate_pem}},
      kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(),
              AllOf(HasSubstr("key not first"), HasSubstr("protected by a passphrase")));
}

TEST_F(ServerKeyChainsTest, ExpiredLeafIsRefused) {
  const GeneratedCertificate expired = generate(KeyType::kEcP256, nullptr, kNow - hours(1));

  auto chains =
      checkChainFiles({{"/c/chain.pem", expired.private_key_pem + expired.certificate_pem}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_EQ(chains.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chains.status().message(), HasSubstr("expired on"));
}

TEST_F(ServerKeyChainsTest, CorruptCertificateIsRefused) {
  std::string corrupt = rsa_.certificate_pem;
  corrupt.replace(corrupt.find('\n') + 10, 8, "AAAAAAAA");

  auto chains = checkChainFiles({{"/c/chain.pem", rsa_.private_key_pem + corrupt}}, kNow);

  ASSERT_FALSE(chains.ok());
  EXPECT_THAT(chains.status().message(),
              HasSubstr("PEM object 2 in '/c/chain.pem' is not a valid certificate"));
}

// smtpd_tls_cert_file == smtpd_tls_key_file: Postfix's "mixed" mode takes either order.
TEST_F(ServerKeyChainsTest, CombinedFileAcceptsCertificateBeforeKey) {
  auto chain =
      checkCombinedFile({"/c/mail.pem", rsa_.certificate_pem + rsa_.private_key_pem}, kNow);

  ASSERT_TRUE(chain.ok()) << chain.status().toString();
  EXPECT_EQ(chain->key_type, "RSA");
  EXPECT_EQ(chain->key_object, 2);
}

TEST_F(ServerKeyChainsTest, CombinedFileAcceptsKeyFirstAndIgnoresASecondKey) {
  auto chain = checkCombinedFile(
      {"/c/mail.pem", ec_.private_key_pem + ec_.certificate_pem + rsa_.private_key_pem}, kNow);

  ASSERT_TRUE(chain.ok()) << chain.status().toString();
  EXPECT_EQ(chain->key_type, "ECDSA");
}

TEST_F(ServerKeyChainsTest, CombinedFileWithoutKeyIsRefused) {
  auto chain = checkCombinedFile({"/c/mail.pem", rsa_.certificate_pem}, kNow);

  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chain.status().message(), HasSubstr("No private key found in /c/mail.pem"));
}

TEST_F(ServerKeyChainsTest, CombinedFileWithForeignKeyIsRefused) {
  auto chain = checkCombinedFile({"/c/mail.pem", ec_.certificate_pem + rsa_.private_key_pem}, kNow);

  ASSERT_FALSE(chain.ok());
  EXPECT_THAT(chain.status().message(), HasSubstr("does not match"));
}

TEST_F(ServerKeyChainsTest, SeparateFilesCountTheIssuerChain) {
  const GeneratedCertificate ca = generateCa();
  const GeneratedCertificate leaf = generate(KeyType::kEcP256, &ca);

  auto chain =
      checkCertificateAndKeyFiles({"/c/fullchain.pem", leaf.certificate_pem + ca.certificate_pem},
                                  {"/c/privkey.pem", leaf.private_key_pem}, kNow);

  ASSERT_TRUE(chain.ok()) << chain.status().toString();
  EXPECT_EQ(chain->key_type, "ECDSA");
  EXPECT_EQ(chain->issuer_count, 1u);
  EXPECT_EQ(chain->leaf.subject_common_name, "leaf.example.com");
}

TEST_F(ServerKeyChainsTest, SeparateFilesWithForeignKeyAreRefused) {
  auto chain = checkCertificateAndKeyFiles({"/c/cert.pem", ec_.certificate_pem},
                                           {"/c/key.pem", rsa_.private_key_pem}, kNow);

  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(chain.status().message(), HasSubstr("does not match"));
}

}  // namespace
}  // namespace postwarden::agent::tls
