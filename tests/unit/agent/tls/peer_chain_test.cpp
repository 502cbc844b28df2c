// checkChainPem over throwaway CA / intermediate / leaf certificates: each Nessus-relevant
// chain problem is told apart, and validity times do not count here.
#include "agent/tls/peer_chain.h"

#include <gtest/gtest.h>

#include "tests/fakes/certificate_generator.h"

namespace postwarden::agent::tls {
namespace {

using Problem = ChainCheck::Problem;
using std::chrono::hours;

const auto kNow = std::chrono::system_clock::now();

GeneratedCertificate make(const std::string& name, bool ca, const GeneratedCertificate* issuer,
                          std::chrono::system_clock::time_point not_after = kNow + hours(24 * 90)) {
  CertificateRequest request{
      .common_name = name,
      .dns_names = ca ? std::vector<std::string>{} : std::vector<std::string>{name},
      .not_before = kNow - hours(24),
      .not_after = not_after,
      .is_ca = ca};
  auto generated = generateCertificate(request, issuer);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : GeneratedCertificate{};
}

class PeerChainTest : public ::testing::Test {
 protected:
  GeneratedCertificate root_ = make("Test Root", true, nullptr);
  GeneratedCertificate intermediate_ = make("Test Intermediate", true, &root_);
  GeneratedCertificate leaf_ = make("mail.example.org", false, &intermediate_);
};

TEST_F(PeerChainTest, LeafAndIntermediateUnderATrustedRootAreTrusted) {
  auto check =
      checkChainPem(leaf_.certificate_pem + intermediate_.certificate_pem, root_.certificate_pem);
  ASSERT_TRUE(check.ok()) << check.status().toString();
  EXPECT_TRUE(check->trusted()) << check->detail;
  EXPECT_EQ(check->served, 2);
}

TEST_F(PeerChainTest, AMissingIntermediateIsAnIncompleteChain) {
  auto check = checkChainPem(leaf_.certificate_pem, root_.certificate_pem);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->problem, Problem::kIncomplete) << check->detail;
  EXPECT_NE(check->detail.find("depth 0"), std::string::npos) << check->detail;
}

TEST_F(PeerChainTest, ACompleteChainUnderAnUnknownRootIsUntrusted) {
  auto check = checkChainPem(leaf_.certificate_pem + intermediate_.certificate_pem, "");
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->problem, Problem::kUntrustedRoot) << check->detail;
}

TEST_F(PeerChainTest, ASelfSignedLeafIsSelfSigned) {
  const GeneratedCertificate self = make("mail.example.org", false, nullptr);
  auto check = checkChainPem(self.certificate_pem, root_.certificate_pem);
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->problem, Problem::kSelfSigned) << check->detail;
  EXPECT_EQ(chainProblemName(check->problem), "self-signed");
}

TEST_F(PeerChainTest, AnExpiredLeafStillHasATrustedChain) {
  const GeneratedCertificate expired =
      make("old.example.org", false, &intermediate_, kNow - hours(1));
  auto check =
      checkChainPem(expired.certificate_pem + intermediate_.certificate_pem, root_.certificate_pem);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->trusted()) << check->detail;
}

TEST_F(PeerChainTest, NoCertificateIsAnError) {
  EXPECT_FALSE(checkChainPem("", root_.certificate_pem).ok());
}

}  // namespace
}  // namespace postwarden::agent::tls
