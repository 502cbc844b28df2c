// Keys and CSRs: the agent-side half of the PKI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/pki/pki.h"
#include "pki_test_util.h"

namespace postwarden::pki {
namespace {

using ::testing::HasSubstr;
using testing::parseRequest;
using testing::rawCsr;
using testing::requestToPem;
using ::testing::StartsWith;

TEST(PkiKeyTest, ProducesDistinctUnencryptedPkcs8EcP256Keys) {
  Result<std::string> first = generatePrivateKey();
  Result<std::string> second = generatePrivateKey();
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_THAT(*first, StartsWith("-----BEGIN PRIVATE KEY-----\n"));
  EXPECT_NE(*first, *second);

  internal::BioPtr bio(BIO_new_mem_buf(first->data(), static_cast<int>(first->size())));
  internal::EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  char group[64] = {};
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof(group), nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
}

TEST(PkiCsrTest, RoundTripsTheCommonName) {
  Result<std::string> key = generatePrivateKey();
  ASSERT_TRUE(key.ok());
  Result<std::string> csr = createCsr(*key, "mx1.example.net");
  ASSERT_TRUE(csr.ok()) << csr.status().toString();
  EXPECT_THAT(*csr, StartsWith("-----BEGIN CERTIFICATE REQUEST-----\n"));

  Result<CsrInfo> info = parseCsr(*csr);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->common_name, "mx1.example.net");

  internal::X509ReqPtr request = parseRequest(*csr);
  ASSERT_TRUE(request);
  EXPECT_EQ(X509_REQ_get_signature_nid(request.get()), NID_ecdsa_with_SHA256);
}

TEST(PkiCsrTest, CreateRefusesGarbageKeyAndEmptyName) {
  Result<std::string> key = generatePrivateKey();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(createCsr("not a key", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(createCsr(*key, "").status().code(), StatusCode::kInvalidArgument);
}

TEST(PkiCsrTest, ParseRefusesGarbageWithOpensslDetail) {
  Status status = parseCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  status = parseCsr("hello").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  // ERR_error_string text, e.g. "error:0480006C:PEM routines::no start line".
  EXPECT_THAT(status.message(), HasSubstr("no start line"));
  EXPECT_EQ(parseCsr("").status().code(), StatusCode::kInvalidArgument);
}

TEST(PkiCsrTest, ParseRefusesTamperedSignature) {
  Result<std::string> key = generatePrivateKey();
  ASSERT_TRUE(key.ok());
  Result<std::string> csr = createCsr(*key, "agent-01");
  ASSERT_TRUE(csr.ok());

  // Rewrite the signed subject without re-signing: the structure parses, the signature fails.
  internal::X509ReqPtr request = parseRequest(*csr);
  ASSERT_TRUE(request);
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  ASSERT_GT(length, 0);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  const size_t at = bytes.find("agent-01");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 7] = '2';
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  internal::X509ReqPtr tampered(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(bytes.size())));
  ASSERT_TRUE(tampered);
  const std::string tampered_pem = requestToPem(tampered.get());

  Status status = parseCsr(tampered_pem).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("signature"));
}

TEST(PkiCsrTest, ParseEnforcesKeyPolicy) {
  internal::EvpPkeyPtr p384(EVP_EC_gen("P-384"));
  internal::EvpPkeyPtr rsa1024(EVP_RSA_gen(1024));
  internal::EvpPkeyPtr rsa2048(EVP_RSA_gen(2048));
  ASSERT_TRUE(p384 && rsa1024 && rsa2048);

  Status status = parseCsr(rawCsr(p384.get())).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("secp384r1"));
  EXPECT_EQ(parseCsr(rawCsr(rsa1024.get())).status().code(), StatusCode::kInvalidArgument);
  Result<CsrInfo> rsa = parseCsr(rawCsr(rsa2048.get()));
  ASSERT_TRUE(rsa.ok()) << rsa.status().toString();
  EXPECT_EQ(rsa->common_name, "odd-key");
}

TEST(PkiCsrTest, ParseRefusesMissingCommonName) {
  internal::EvpPkeyPtr key(EVP_EC_gen("P-256"));
  internal::X509ReqPtr csr(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr.get()), "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("NoName"), -1, -1, 0);
  X509_REQ_set_pubkey(csr.get(), key.get());
  ASSERT_GT(X509_REQ_sign(csr.get(), key.get(), EVP_sha256()), 0);
  Status status = parseCsr(requestToPem(csr.get())).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("common name"));
}

}  // namespace
}  // namespace postwarden::pki
