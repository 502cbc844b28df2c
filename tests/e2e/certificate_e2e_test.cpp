// End-to-end: policies/certificate.yaml and `scan` on a real, isolated Postfix serving
// throwaway certificates made by the test (a root CA, an intermediate, leaves): a good chain
// passes; a missing intermediate, the wrong name, an expired and an expiring leaf and the
// sandbox's own self-signed certificate each fail with the reason, in agreement with
// `openssl s_client -verify_return_error`. The throwaway root is the trust store only for the
// processes the test starts (SSL_CERT_FILE), never the system's.
#include <gtest/gtest.h>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"
#include "tests/fakes/certificate_generator.h"

namespace postwarden::testing {
namespace {

using agent::tls::CertificateRequest;
using agent::tls::generateCertificate;
using agent::tls::GeneratedCertificate;
using os::CommandResult;
using std::chrono::hours;

const auto kNow = std::chrono::system_clock::now();

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

GeneratedCertificate issue(const std::string& name, const GeneratedCertificate* issuer,
                           bool ca = false, hours valid_for = hours(24 * 365)) {
  CertificateRequest request{
      .common_name = name,
      .dns_names = ca ? std::vector<std::string>{} : std::vector<std::string>{name},
      .not_before = kNow - hours(24 * 400),
      .not_after = kNow + valid_for,
      .key_type = agent::tls::KeyType::kRsa2048,
      .is_ca = ca};
  auto generated = generateCertificate(request, issuer);
  EXPECT_TRUE(generated.ok()) << generated.status().toString();
  return generated.ok() ? *generated : GeneratedCertificate{};
}

class CertificateE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    root_ = issue("Postwarden Test Root", nullptr, true);
    intermediate_ = issue("Postwarden Test Intermediate", &root_, true);
    ca_file_ = sandbox().dir() + "/test-root.pem";
    writeFileText(ca_file_, root_.certificate_pem);
    ASSERT_TRUE(sandbox().postconf({"smtpd_tls_security_level=may"}).ok());
    ASSERT_TRUE(sandbox().reload().ok());
  }

  // Serves `chain` (leaf first) with `key` on the sandbox's port 25 listener.
  void serve(const std::string& chain, const std::string& key) {
    const std::string cert_file = sandbox().dir() + "/served-cert.pem";
    const std::string key_file = sandbox().dir() + "/served-key.pem";
    writeFileText(cert_file, chain);
    writeFileText(key_file, key, 0600);
    ASSERT_TRUE(
        sandbox()
            .postconf({"smtpd_tls_cert_file=" + cert_file, "smtpd_tls_key_file=" + key_file})
            .ok());
    ASSERT_TRUE(sandbox().reload().ok());
  }

  void serveLeaf(const GeneratedCertificate& leaf, bool with_intermediate = true) {
    serve(leaf.certificate_pem + (with_intermediate ? intermediate_.certificate_pem : ""),
          leaf.private_key_pem);
  }

  std::map<std::string, std::string> trustingTheTestRoot() const {
    return {{"SSL_CERT_FILE", ca_file_}};
  }

  // `postwarden-agent verify --policy policies/certificate.yaml`: exit 0 pass, 2 fail.
  CommandResult verify() {
    return runProgram(
        {kAgent, "verify", "--policy", kSource + "/policies/certificate.yaml", "--postfix-dir",
         sandbox().configDir(), "--role", "smtp=" + std::to_string(sandbox().port())},
        std::chrono::seconds(60), trustingTheTestRoot(), &last_output_);
  }

  std::string scan() {
    std::string output;
    runProgram({kAgent, "scan", "127.0.0.1:" + std::to_string(sandbox().port()), "--name",
                sandbox().hostname()},
               std::chrono::seconds(60), trustingTheTestRoot(), &output);
    return output;
  }

  // `openssl s_client -verify_return_error` with the test root and the host name to check:
  // what a verifying client concludes.
  std::string openssl() {
    std::string output;
    runProgram({"openssl", "s_client", "-brief", "-starttls", "smtp", "-connect",
                "127.0.0.1:" + std::to_string(sandbox().port()), "-verify_return_error", "-CAfile",
                ca_file_, "-verify_hostname", sandbox().hostname()},
               std::chrono::seconds(20), {}, &output);
    return output;
  }

  GeneratedCertificate root_;
  GeneratedCertificate intermediate_;
  std::string ca_file_;
  std::string last_output_;
};

TEST_F(CertificateE2eTest, AGoodChainForMyhostnamePassesAndOpensslAgrees) {
  serveLeaf(issue(sandbox().hostname(), &intermediate_));
  CommandResult verified = verify();
  EXPECT_EQ(verified.exit_code, 0) << last_output_;
  EXPECT_TRUE(contains(openssl(), "Verification: OK"));
  const std::string scanned = scan();
  EXPECT_TRUE(contains(scanned, "PASS  Certificate chain trusted")) << scanned;
  EXPECT_TRUE(contains(scanned, "PASS  Certificate matches the host name")) << scanned;
  EXPECT_TRUE(contains(scanned, "PASS  Certificate is within its validity")) << scanned;
  // plan: the baseline changes nothing, ever.
  std::string planned;
  CommandResult plan =
      runProgram({kAgent, "plan", "--policy", kSource + "/policies/certificate.yaml",
                  "--postfix-dir", sandbox().configDir()},
                 std::chrono::seconds(60), {}, &planned);
  EXPECT_EQ(plan.exit_code, 0) << planned;
}

TEST_F(CertificateE2eTest, AMissingIntermediateIsAnIncompleteChain) {
  serveLeaf(issue(sandbox().hostname(), &intermediate_), /*with_intermediate=*/false);
  CommandResult verified = verify();
  EXPECT_EQ(verified.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "certificate chain is incomplete (1 certificate(s) sent)"))
      << last_output_;
  const std::string openssl_said = openssl();
  EXPECT_TRUE(contains(openssl_said, "unable to get local issuer certificate")) << openssl_said;
  EXPECT_TRUE(contains(scan(), "FAIL  Certificate chain incomplete"));
}

TEST_F(CertificateE2eTest, TheWrongNameFailsAgainstMyhostname) {
  serveLeaf(issue("other.example.org", &intermediate_));
  CommandResult verified = verify();
  EXPECT_EQ(verified.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "certificate is not valid for '" + sandbox().hostname() +
                                         "' (it names: other.example.org)"))
      << last_output_;
  const std::string openssl_said = openssl();
  EXPECT_TRUE(contains(openssl_said, "hostname mismatch")) << openssl_said;
  EXPECT_TRUE(contains(scan(), "FAIL  Certificate does not match the host name"));
}

TEST_F(CertificateE2eTest, ExpiredAndExpiringLeavesFailWhereOpensslSeesOnlyTheExpiredOne) {
  serveLeaf(issue(sandbox().hostname(), &intermediate_, false, -hours(24)));
  CommandResult verified = verify();
  EXPECT_EQ(verified.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "the certificate expired on")) << last_output_;
  std::string openssl_said = openssl();
  EXPECT_TRUE(contains(openssl_said, "certificate has expired")) << openssl_said;
  EXPECT_TRUE(contains(scan(), "FAIL  Certificate expired"));

  serveLeaf(issue(sandbox().hostname(), &intermediate_, false, hours(24 * 10)));
  verified = verify();
  EXPECT_EQ(verified.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "within 30 days")) << last_output_;
  // A client only checks that it is valid now: the 30 days are the baseline's own margin.
  openssl_said = openssl();
  EXPECT_TRUE(contains(openssl_said, "Verification: OK")) << openssl_said;
  EXPECT_TRUE(contains(scan(), "WARN  Certificate expires soon"));
}

TEST_F(CertificateE2eTest, TheSandboxesSelfSignedCertificateIsReportedAsSuch) {
  CommandResult verified = verify();
  EXPECT_EQ(verified.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "certificate chain is self-signed")) << last_output_;
  const std::string openssl_said = openssl();
  EXPECT_TRUE(contains(openssl_said, "self-signed certificate")) << openssl_said;
  EXPECT_TRUE(contains(scan(), "FAIL  Self-signed certificate"));
}

}  // namespace
}  // namespace postwarden::testing
