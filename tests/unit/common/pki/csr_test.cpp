// Keys and CSRs: the agent-side half of the PKI.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

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

  BioPtr bio(BIO_new_mem_buf(first->data(), static_cast<int>(first->size())));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
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

  X509ReqPtr request = parseRequest(*csr);
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
  X509ReqPtr request = parseRequest(*csr);
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
  X509ReqPtr tampered(d2i_X509_REQ(nullptr, &cursor, static_cast<long>(bytes.size())));
  ASSERT_TRUE(tampered);
  const std::string tampered_pem = requestToPem(tampered.get());

  Status status = parseCsr(tampered_pem).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("signature"));
}

TEST(PkiCsrTest, ParseEnforcesKeyPolicy) {
  EvpPkeyPtr p384(EVP_EC_gen("P-384"));
  EvpPkeyPtr rsa1024(EVP_RSA_gen(1024));
  EvpPkeyPtr rsa2048(EVP_RSA_gen(2048));
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
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  X509ReqPtr csr(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr.get()), "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("NoName"), -1, -1, 0);
  X509_REQ_set_pubkey(csr.get(), key.get());
  ASSERT_GT(X509_REQ_sign(csr.get(), key.get(), EVP_sha256()), 0);
  Status status = parseCsr(requestToPem(csr.get())).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("common name"));
}

// A signed CSR for CN=`common_name` that asks for `extensions` ("basicConstraints" =>
// "critical,CA:TRUE", ...), built with the OpenSSL API the way an attacker's tool would.
std::string csrAsking(const std::string& common_name,
                      const std::vector<std::pair<int, std::string>>& extensions) {
  Result<std::string> key_pem = generatePrivateKey();
  EXPECT_TRUE(key_pem.ok());
  EvpPkeyPtr key = std::move(internal::readPrivateKey(*key_pem, "key")).value();
  X509ReqPtr csr(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_REQ_set_pubkey(csr.get(), key.get());
  STACK_OF(X509_EXTENSION)* stack = sk_X509_EXTENSION_new_null();
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str());
    EXPECT_NE(extension, nullptr) << value;
    sk_X509_EXTENSION_push(stack, extension);
  }
  EXPECT_EQ(X509_REQ_add_extensions(csr.get(), stack), 1);
  sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  EXPECT_GT(X509_REQ_sign(csr.get(), key.get(), EVP_sha256()), 0);
  return requestToPem(csr.get());
}

Status identityCheck(const std::string& pem) {
  Result<CsrInfo> info = parseCsr(pem);
  EXPECT_TRUE(info.ok()) << info.status().toString();
  return info.ok() ? checkIdentityOnly(*info) : info.status();
}

TEST(PkiCsrTest, AnAgentsOwnRequestAsksForNothingButItsName) {
  Result<std::string> key = generatePrivateKey();
  ASSERT_TRUE(key.ok());
  Result<CsrInfo> info = parseCsr(*createCsr(*key, "mx1.example.net"));
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->requests_ca);
  EXPECT_TRUE(info->subject_alt_names.empty());
  EXPECT_TRUE(checkIdentityOnly(*info).ok());
  // Its own name as a SAN, and CA:FALSE, are harmless.
  EXPECT_TRUE(
      identityCheck(csrAsking("mx1.example.net", {{NID_basic_constraints, "critical,CA:FALSE"},
                                                  {NID_subject_alt_name, "DNS:mx1.example.net"},
                                                  {NID_key_usage, "digitalSignature"}}))
          .ok());
}

TEST(PkiCsrTest, ARequestForACaIsHostile) {
  for (const auto& [nid, value] :
       std::vector<std::pair<int, std::string>>{{NID_basic_constraints, "critical,CA:TRUE"},
                                                {NID_basic_constraints, "CA:TRUE,pathlen:0"},
                                                {NID_key_usage, "keyCertSign"},
                                                {NID_key_usage, "digitalSignature,cRLSign"}}) {
    Status status = identityCheck(csrAsking("mx1.example.net", {{nid, value}}));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << value;
    EXPECT_THAT(status.message(),
                StartsWith("hostile certificate request: asks for a CA certificate"));
  }
}

TEST(PkiCsrTest, ExtraNamesAndWildcardsAreHostile) {
  Status extra = identityCheck(
      csrAsking("mx1.example.net", {{NID_subject_alt_name, "DNS:mx1.example.net,DNS:controller"}}));
  EXPECT_EQ(extra.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(extra.message(), HasSubstr("asks for the extra name 'DNS:controller'"));
  Status ip = identityCheck(csrAsking("mx1.example.net", {{NID_subject_alt_name, "IP:127.0.0.1"}}));
  EXPECT_THAT(ip.message(), HasSubstr("asks for the extra name 'IP:4 bytes'"));
  Status email =
      identityCheck(csrAsking("mx1.example.net", {{NID_subject_alt_name, "email:a@b.example"}}));
  EXPECT_THAT(email.message(), HasSubstr("extra name 'email:a@b.example'"));

  Status wildcard_san =
      identityCheck(csrAsking("mx1.example.net", {{NID_subject_alt_name, "DNS:*.example.net"}}));
  EXPECT_EQ(wildcard_san.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wildcard_san.message(), HasSubstr("wildcard name 'DNS:*.example.net'"));
  Status wildcard_cn = identityCheck(csrAsking("*.example.net", {}));
  EXPECT_EQ(wildcard_cn.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wildcard_cn.message(), HasSubstr("wildcard name '*.example.net'"));
}

}  // namespace
}  // namespace postwarden::pki
