// The CA side: the authority certificate, and what issued certificates contain.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

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
using testing::rawCsr;
using ::testing::UnorderedElementsAre;

using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, OpensslFree<&BASIC_CONSTRAINTS_free>>;

std::string agentCsr(const std::string& common_name, std::string* key_out = nullptr) {
  Result<std::string> key = generatePrivateKey();
  EXPECT_TRUE(key.ok());
  Result<std::string> csr = createCsr(*key, common_name);
  EXPECT_TRUE(csr.ok()) << csr.status().toString();
  if (key_out != nullptr) *key_out = *key;
  return *csr;
}

bool isCritical(X509* certificate, int nid) {
  const int index = X509_get_ext_by_NID(certificate, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(certificate, index)) == 1;
}

TEST(PkiCreateAuthorityTest, IsASelfSignedV3CaForLeavesOnly) {
  const TimePoint now = nowSeconds();
  Result<KeyAndCertificate> ca = createAuthority("Postwarden CA", now, now + hours(48));
  ASSERT_TRUE(ca.ok()) << ca.status().toString();
  EXPECT_TRUE(checkKeyMatches(ca->certificate_pem, ca->private_key_pem).ok());

  X509Ptr x = parseCertificate(ca->certificate_pem);
  ASSERT_TRUE(x);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(x.get()), 1);
  EXPECT_NE(X509_get_extension_flags(x.get()) & EXFLAG_SS, 0u);
  EXPECT_EQ(X509_get_key_usage(x.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_TRUE(isCritical(x.get(), NID_basic_constraints));
  EXPECT_TRUE(isCritical(x.get(), NID_key_usage));
  BasicConstraintsPtr constraints(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(x.get(), NID_basic_constraints, nullptr, nullptr)));
  ASSERT_TRUE(constraints);
  EXPECT_EQ(ASN1_INTEGER_get(constraints->pathlen), 0);
  EXPECT_NE(X509_get0_subject_key_id(x.get()), nullptr);
  EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);

  Result<CertificateInfo> info = inspectCertificate(ca->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "Postwarden CA");
  EXPECT_EQ(info->issuer_common_name, "Postwarden CA");
  EXPECT_EQ(info->not_before, now);
  EXPECT_EQ(info->not_after, now + hours(48));
  char organization[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_organizationName, organization,
                            sizeof(organization));
  EXPECT_STREQ(organization, "Postwarden");
  EXPECT_TRUE(verifyIssuedBy(ca->certificate_pem, ca->certificate_pem, now).ok());
}

TEST(PkiCreateAuthorityTest, RefusesEmptyNameAndEmptyValidity) {
  const TimePoint now = nowSeconds();
  EXPECT_EQ(createAuthority("", now, now + hours(1)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(createAuthority("CA", now, now).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(createAuthority("CA", now, now - hours(1)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PkiIssueFromCsrTest, RoundTripTakesSubjectFromRequestAndKeyFromCsr) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  std::string agent_key;
  // The CSR asks for another name; the CA decides the subject.
  const std::string csr = agentCsr("i-am-the-admin", &agent_key);
  IssueRequest request = agentRequest(now);

  Result<std::string> certificate = issueFromCsr(ca, csr, request);
  ASSERT_TRUE(certificate.ok()) << certificate.status().toString();

  Result<CertificateInfo> info = inspectCertificate(*certificate);
  ASSERT_TRUE(info.ok()) << info.status().toString();
  EXPECT_EQ(info->common_name, "mx1.example.net");
  EXPECT_EQ(info->organizational_unit, "agent");
  EXPECT_EQ(info->issuer_common_name, "Postwarden CA");
  EXPECT_EQ(info->not_before, request.not_before);
  EXPECT_EQ(info->not_after, request.not_after);
  EXPECT_FALSE(info->serial_hex.empty());

  EXPECT_TRUE(checkKeyMatches(*certificate, agent_key).ok());
  EXPECT_TRUE(verifyIssuedBy(*certificate, ca.certificate_pem, now).ok());

  X509Ptr x = parseCertificate(*certificate);
  X509Ptr ca_x = parseCertificate(ca.certificate_pem);
  ASSERT_TRUE(x && ca_x);
  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(x.get()), 0);
  EXPECT_TRUE(isCritical(x.get(), NID_basic_constraints));
  EXPECT_EQ(X509_get_key_usage(x.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);
  EXPECT_NE(X509_get0_subject_key_id(x.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(x.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x.get()),
                                  X509_get0_subject_key_id(ca_x.get())),
            0);
  EXPECT_EQ(X509_check_issued(ca_x.get(), x.get()), X509_V_OK);
  // No subjectAltName was requested, so none is present.
  EXPECT_LT(X509_get_ext_by_NID(x.get(), NID_subject_alt_name, -1), 0);
}

TEST(PkiIssueFromCsrTest, OmitsEmptyOrganizationalUnit) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  IssueRequest request = agentRequest(now);
  request.organizational_unit.clear();
  Result<std::string> certificate = issueFromCsr(ca, agentCsr("x"), request);
  ASSERT_TRUE(certificate.ok()) << certificate.status().toString();
  X509Ptr x = parseCertificate(*certificate);
  EXPECT_LT(
      X509_NAME_get_index_by_NID(X509_get_subject_name(x.get()), NID_organizationalUnitName, -1),
      0);
  EXPECT_EQ(inspectCertificate(*certificate)->organizational_unit, "");
}

TEST(PkiIssueFromCsrTest, AddsRequestedSubjectAltNames) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  IssueRequest request = agentRequest(now);
  request.usage = Usage::kServer;
  request.dns_names = {"controller.example.net", "localhost"};
  request.ip_addresses = {"127.0.0.1", "::1"};

  Result<std::string> certificate = issueFromCsr(ca, agentCsr("x"), request);
  ASSERT_TRUE(certificate.ok()) << certificate.status().toString();
  X509Ptr x = parseCertificate(*certificate);
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(x.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName)),
                       ASN1_STRING_length(name->d.dNSName));
    } else if (name->type == GEN_IPADD) {
      const int length = ASN1_STRING_length(name->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {};
      ASSERT_TRUE(length == 4 || length == 16);
      inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(name->d.iPAddress), text,
                sizeof(text));
      ips.emplace_back(text);
    }
  }
  EXPECT_THAT(dns, UnorderedElementsAre("controller.example.net", "localhost"));
  EXPECT_THAT(ips, UnorderedElementsAre("127.0.0.1", "::1"));
  // The hostname and IP checks gRPC performs on server certificates.
  EXPECT_EQ(X509_check_host(x.get(), "controller.example.net", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x.get(), "::1", 0), 1);
  EXPECT_EQ(X509_check_host(x.get(), "other.example.net", 0, 0, nullptr), 0);
}

TEST(PkiIssueFromCsrTest, ExtendedKeyUsageFollowsUsage) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  IssueRequest request = agentRequest(now);

  request.usage = Usage::kClient;
  Result<std::string> client = issueFromCsr(ca, agentCsr("c"), request);
  request.usage = Usage::kServer;
  Result<std::string> server = issueFromCsr(ca, agentCsr("s"), request);
  ASSERT_TRUE(client.ok() && server.ok());

  X509Ptr client_x = parseCertificate(*client);
  X509Ptr server_x = parseCertificate(*server);
  EXPECT_EQ(X509_get_extended_key_usage(client_x.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  EXPECT_EQ(X509_get_extended_key_usage(server_x.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  // OpenSSL's TLS purpose checks, as used when a peer verifies the chain.
  EXPECT_EQ(X509_check_purpose(client_x.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_EQ(X509_check_purpose(client_x.get(), X509_PURPOSE_SSL_SERVER, 0), 0);
  EXPECT_EQ(X509_check_purpose(server_x.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_purpose(server_x.get(), X509_PURPOSE_SSL_CLIENT, 0), 0);
}

TEST(PkiIssueFromCsrTest, SerialsAreRandomPositiveAndDistinct) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  const std::string csr = agentCsr("x");
  std::set<std::string> serials;
  for (int i = 0; i < 8; ++i) {
    Result<std::string> certificate = issueFromCsr(ca, csr, agentRequest(now));
    ASSERT_TRUE(certificate.ok());
    Result<CertificateInfo> info = inspectCertificate(*certificate);
    ASSERT_TRUE(info.ok());
    EXPECT_LE(info->serial_hex.size(), 32u);
    EXPECT_NE(info->serial_hex[0], '-');
    serials.insert(info->serial_hex);
  }
  EXPECT_EQ(serials.size(), 8u);
}

TEST(PkiIssueFromCsrTest, RsaKeysAlsoGetKeyEncipherment) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  EvpPkeyPtr rsa(EVP_RSA_gen(2048));
  ASSERT_TRUE(rsa);
  Result<std::string> certificate = issueFromCsr(ca, rawCsr(rsa.get()), agentRequest(now));
  ASSERT_TRUE(certificate.ok()) << certificate.status().toString();
  X509Ptr x = parseCertificate(*certificate);
  EXPECT_EQ(X509_get_key_usage(x.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  // Signed by the EC CA regardless of the subject key type.
  EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);
}

TEST(PkiIssueFromCsrTest, RefusesBadCsr) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  EXPECT_EQ(issueFromCsr(ca, "garbage", agentRequest(now)).status().code(),
            StatusCode::kInvalidArgument);
  EvpPkeyPtr small(EVP_RSA_gen(1024));
  EXPECT_EQ(issueFromCsr(ca, rawCsr(small.get()), agentRequest(now)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PkiIssueFromCsrTest, RefusesBadCa) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  const KeyAndCertificate other = makeCa("Other CA", now);
  const std::string csr = agentCsr("x");

  KeyAndCertificate garbage{.certificate_pem = "nope", .private_key_pem = ca.private_key_pem};
  EXPECT_EQ(issueFromCsr(garbage, csr, agentRequest(now)).status().code(),
            StatusCode::kInvalidArgument);
  KeyAndCertificate no_key{.certificate_pem = ca.certificate_pem, .private_key_pem = "nope"};
  EXPECT_EQ(issueFromCsr(no_key, csr, agentRequest(now)).status().code(),
            StatusCode::kInvalidArgument);

  KeyAndCertificate mismatched{.certificate_pem = ca.certificate_pem,
                               .private_key_pem = other.private_key_pem};
  Status status = issueFromCsr(mismatched, csr, agentRequest(now)).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("does not belong"));

  // A leaf certificate with its own key is not a CA.
  Result<KeyAndCertificate> leaf = issueWithNewKey(ca, agentRequest(now));
  ASSERT_TRUE(leaf.ok());
  status = issueFromCsr(*leaf, csr, agentRequest(now)).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("CA:TRUE"));
}

TEST(PkiIssueFromCsrTest, RefusesBadRequest) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  const std::string csr = agentCsr("x");
  auto code = [&](const IssueRequest& request) {
    return issueFromCsr(ca, csr, request).status().code();
  };

  IssueRequest request = agentRequest(now);
  request.common_name.clear();
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);

  request = agentRequest(now);
  request.not_after = request.not_before;
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);

  request = agentRequest(now);
  request.ip_addresses = {"256.0.0.1"};
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);
  request.ip_addresses = {"localhost"};
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);

  request = agentRequest(now);
  request.dns_names = {"bad name"};
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);
  request.dns_names = {""};
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);

  request = agentRequest(now);
  request.common_name = std::string(65, 'a');  // over the X.520 upper bound
  EXPECT_EQ(code(request), StatusCode::kInvalidArgument);
}

TEST(PkiIssueWithNewKeyTest, IssuesForAFreshKey) {
  const TimePoint now = nowSeconds();
  const KeyAndCertificate ca = makeCa("Postwarden CA", now);
  IssueRequest request = agentRequest(now);
  request.common_name = "alice";
  request.organizational_unit = "operator:admin";

  Result<KeyAndCertificate> first = issueWithNewKey(ca, request);
  Result<KeyAndCertificate> second = issueWithNewKey(ca, request);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->private_key_pem, second->private_key_pem);
  EXPECT_TRUE(checkKeyMatches(first->certificate_pem, first->private_key_pem).ok());
  EXPECT_TRUE(verifyIssuedBy(first->certificate_pem, ca.certificate_pem, now).ok());

  Result<CertificateInfo> info = inspectCertificate(first->certificate_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "alice");
  EXPECT_EQ(info->organizational_unit, "operator:admin");
  EXPECT_EQ(info->issuer_common_name, "Postwarden CA");
}

}  // namespace
}  // namespace postwarden::pki
