// Reading certificates back: inspection, issuer verification and key matching.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "common/pki/pki.h"
#include "pki_test_util.h"

namespace postwarden::pki {
namespace {

using testing::agentRequest;
using ::testing::HasSubstr;
using testing::hours;
using testing::makeCa;
using testing::nowSeconds;
using testing::parseCertificate;

class PkiVerifyIssuedByTest : public ::testing::Test {
 protected:
  const TimePoint now_ = nowSeconds();
  const KeyAndCertificate ca_ = makeCa("Postwarden CA", now_);

  std::string issue(TimePoint not_before, TimePoint not_after) {
    IssueRequest request = agentRequest(now_);
    request.not_before = not_before;
    request.not_after = not_after;
    Result<KeyAndCertificate> issued = issueWithNewKey(ca_, request);
    EXPECT_TRUE(issued.ok()) << issued.status().toString();
    return issued.ok() ? issued->certificate_pem : "";
  }
};

TEST_F(PkiVerifyIssuedByTest, AcceptsCertificateFromTheCa) {
  EXPECT_EQ(verifyIssuedBy(issue(now_ - hours(1), now_ + hours(1)), ca_.certificate_pem, now_),
            OkStatus());
}

TEST_F(PkiVerifyIssuedByTest, RefusesExpiredCertificate) {
  Status status =
      verifyIssuedBy(issue(now_ - hours(48), now_ - hours(24)), ca_.certificate_pem, now_);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("expired"));
}

TEST_F(PkiVerifyIssuedByTest, RefusesNotYetValidCertificate) {
  Status status =
      verifyIssuedBy(issue(now_ + hours(24), now_ + hours(48)), ca_.certificate_pem, now_);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("not yet valid"));
}

TEST_F(PkiVerifyIssuedByTest, UsesTheGivenTimeNotTheClock) {
  const std::string certificate = issue(now_ - hours(1), now_ + hours(1));
  EXPECT_EQ(verifyIssuedBy(certificate, ca_.certificate_pem, now_ + hours(2)).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(verifyIssuedBy(certificate, ca_.certificate_pem, now_ - hours(2)).code(),
            StatusCode::kPermissionDenied);
}

TEST_F(PkiVerifyIssuedByTest, RefusesCertificateFromAnotherCaEvenWithTheSameName) {
  const std::string certificate = issue(now_ - hours(1), now_ + hours(1));
  for (const std::string& name : {std::string("Other CA"), std::string("Postwarden CA")}) {
    const KeyAndCertificate other = makeCa(name, now_);
    Status status = verifyIssuedBy(certificate, other.certificate_pem, now_);
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << name;
    EXPECT_THAT(status.message(), HasSubstr("another CA")) << name;
  }
}

TEST_F(PkiVerifyIssuedByTest, RefusesTamperedCertificate) {
  X509Ptr x = parseCertificate(issue(now_ - hours(1), now_ + hours(1)));
  ASSERT_TRUE(x);
  unsigned char* der = nullptr;
  const int length = i2d_X509(x.get(), &der);
  ASSERT_GT(length, 0);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  const size_t at = bytes.find("mx1.example.net");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = '2';
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  X509Ptr tampered(d2i_X509(nullptr, &cursor, static_cast<long>(bytes.size())));
  ASSERT_TRUE(tampered);
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), tampered.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  const std::string tampered_pem(data, static_cast<size_t>(size));

  Status status = verifyIssuedBy(tampered_pem, ca_.certificate_pem, now_);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("bad signature"));
}

TEST_F(PkiVerifyIssuedByTest, RefusesWhenTheCaIsNotValidAtThatTime) {
  Result<KeyAndCertificate> old_ca = createAuthority("Old CA", now_ - hours(48), now_ - hours(24));
  ASSERT_TRUE(old_ca.ok());
  Result<KeyAndCertificate> issued = issueWithNewKey(*old_ca, agentRequest(now_));
  ASSERT_TRUE(issued.ok()) << issued.status().toString();
  Status status = verifyIssuedBy(issued->certificate_pem, old_ca->certificate_pem, now_);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("CA certificate has expired"));
}

TEST_F(PkiVerifyIssuedByTest, AcceptsAnyCaInABundle) {
  const KeyAndCertificate next = makeCa("Next CA", now_);
  const std::string bundle = next.certificate_pem + ca_.certificate_pem;
  EXPECT_EQ(verifyIssuedBy(issue(now_ - hours(1), now_ + hours(1)), bundle, now_), OkStatus());
}

TEST_F(PkiVerifyIssuedByTest, DoesNotTrustALeafJustBecauseItIsInTheBundle) {
  const KeyAndCertificate other = makeCa("Other CA", now_);
  Result<KeyAndCertificate> foreign = issueWithNewKey(other, agentRequest(now_));
  ASSERT_TRUE(foreign.ok());
  Status status = verifyIssuedBy(foreign->certificate_pem,
                                 ca_.certificate_pem + foreign->certificate_pem, now_);
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
}

TEST_F(PkiVerifyIssuedByTest, RefusesGarbage) {
  const std::string certificate = issue(now_ - hours(1), now_ + hours(1));
  EXPECT_EQ(verifyIssuedBy("garbage", ca_.certificate_pem, now_).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(verifyIssuedBy(certificate, "garbage", now_).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(verifyIssuedBy(certificate, "", now_).code(), StatusCode::kInvalidArgument);
}

TEST(PkiCheckKeyMatchesTest, AcceptsOwnKeyAndRefusesOthers) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  Result<KeyAndCertificate> issued = issueWithNewKey(ca, agentRequest(now));
  ASSERT_TRUE(issued.ok());
  Result<std::string> other_key = generatePrivateKey();
  ASSERT_TRUE(other_key.ok());

  EXPECT_EQ(checkKeyMatches(issued->certificate_pem, issued->private_key_pem), OkStatus());
  EXPECT_EQ(checkKeyMatches(issued->certificate_pem, *other_key).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(checkKeyMatches(issued->certificate_pem, ca.private_key_pem).code(),
            StatusCode::kInvalidArgument);
  EvpPkeyPtr rsa(EVP_RSA_gen(2048));
  EXPECT_EQ(checkKeyMatches(issued->certificate_pem, testing::keyToPem(rsa.get())).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(checkKeyMatches(issued->certificate_pem, "garbage").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(checkKeyMatches("garbage", issued->private_key_pem).code(),
            StatusCode::kInvalidArgument);
}

TEST(PkiInspectCertificateTest, ReadsTheFirstCertificateOfAChain) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  Result<KeyAndCertificate> issued = issueWithNewKey(ca, agentRequest(now));
  ASSERT_TRUE(issued.ok());
  Result<CertificateInfo> info = inspectCertificate(issued->certificate_pem + ca.certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "mx1.example.net");
  EXPECT_EQ(info->issuer_common_name, "Postwarden CA");
}

TEST(PkiInspectCertificateTest, RefusesGarbage) {
  Status status = inspectCertificate("garbage").status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("PEM routines"));
  EXPECT_EQ(inspectCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(PkiInspectCertificateTest, HandlesValidityBeyond2049AsGeneralizedTime) {
  const TimePoint not_before = nowSeconds();
  const TimePoint not_after = not_before + hours(24 * 365 * 40);
  Result<KeyAndCertificate> ca = createAuthority("Long CA", not_before, not_after);
  ASSERT_TRUE(ca.ok());
  Result<CertificateInfo> info = inspectCertificate(ca->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->not_after, not_after);
}

}  // namespace
}  // namespace postwarden::pki
