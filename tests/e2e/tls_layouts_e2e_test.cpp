// End-to-end: the TLS certificate layouts real hosts use, on a real, isolated Postfix
// (script/postfix-sandbox) with the real postwarden-agent. For each layout the agent's pre-flight
// must agree with Postfix itself: layouts smtpd loads are applied and then serve STARTTLS
// (checked with `openssl s_client -starttls smtp`, run from an argv), layouts smtpd refuses are
// refused before any change, and the test shows that smtpd really does refuse them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/os/process_command_runner.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"
#include "tests/fakes/certificate_generator.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

class TlsLayoutsE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    tls_dir_ = sandbox().configDir() + "/tls";
    rsa_key_ = readFileText(sandbox().keyFile());
    rsa_cert_ = readFileText(sandbox().certFile());
    ASSERT_NE(rsa_key_.find("PRIVATE KEY-----"), std::string::npos);
    ASSERT_NE(rsa_cert_.find("BEGIN CERTIFICATE"), std::string::npos);
  }

  // `postwarden-agent apply --policy smtp-auth-hardening.yaml` against the sandbox.
  CommandResult applyHardening() {
    std::vector<std::string> argv = {kAgent,
                                     "apply",
                                     "--policy",
                                     kHardening,
                                     "--state-dir",
                                     sandbox().dir() + "/agent-state",
                                     "--verify-deadline",
                                     "8",
                                     "--postfix-dir",
                                     sandbox().configDir(),
                                     "--role",
                                     "smtp=" + std::to_string(sandbox().port())};
    return runProgram(argv, std::chrono::seconds(90), {}, &last_output_);
  }

  // A STARTTLS handshake by OpenSSL's own client: its summary (-brief: "CONNECTION
  // ESTABLISHED", the peer certificate, the signature type), stdout and stderr together. The
  // client sends EHLO and STARTTLS itself and leaves at the end of its input.
  std::string starttlsSession() {
    os::ProcessCommandRunner runner;
    Result<CommandResult> result =
        runner.run({.argv = {"openssl", "s_client", "-brief", "-starttls", "smtp", "-connect",
                             "127.0.0.1:" + std::to_string(sandbox().port()), "-servername",
                             sandbox().hostname()},
                    .timeout = std::chrono::seconds(20)});
    EXPECT_TRUE(result.ok()) << result.status().toString();
    if (!result.ok()) return "";
    return result->stdout_data + result->stderr_data;
  }

  // A fresh ECDSA P-256 certificate for the sandbox's host name.
  agent::tls::GeneratedCertificate ecdsaCertificate() {
    agent::tls::CertificateRequest request;
    request.common_name = sandbox().hostname();
    request.dns_names = {sandbox().hostname()};
    request.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    request.not_after = std::chrono::system_clock::now() + std::chrono::hours(48);
    request.key_type = agent::tls::KeyType::kEcP256;
    Result<agent::tls::GeneratedCertificate> generated = agent::tls::generateCertificate(request);
    EXPECT_TRUE(generated.ok()) << generated.status().toString();
    return generated.ok() ? *generated : agent::tls::GeneratedCertificate{};
  }

  // The hardening baseline is in place (the agent's own probe already logged in over
  // STARTTLS) and OpenSSL completes a STARTTLS handshake signed with the `signature` key type
  // ("RSA", which also matches RSA-PSS, or "ECDSA"), as -brief reports it.
  void expectAppliedAndServing(const CommandResult& applied, const std::string& signature) {
    ASSERT_EQ(applied.exit_code, 0) << last_output_;
    EXPECT_NE(applied.stdout_data.find("result: repaired"), std::string::npos) << last_output_;
    const std::string session = starttlsSession();
    EXPECT_NE(session.find("CONNECTION ESTABLISHED"), std::string::npos) << session;
    EXPECT_NE(session.find("Peer certificate: CN = " + sandbox().hostname()), std::string::npos)
        << session;
    EXPECT_NE(session.find("Signature type: " + signature), std::string::npos) << session;
    const std::string log = sandbox().readLog();
    EXPECT_EQ(log.find("disabling TLS support"), std::string::npos) << log;
  }

  std::string tls_dir_;
  std::string rsa_key_;
  std::string rsa_cert_;
  std::string last_output_;
};

// postconf(5)'s form, shipped by docker-mailserver and YunoHost: the key file, then the
// certificate file, here also through ${config_directory}, which must be this instance's
// directory (the agent used to read /etc/postfix/tls/... instead).
TEST_F(TlsLayoutsE2eTest, ChainFilesKeyThenCertificateAreAppliedAndServeStarttls) {
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=", "smtpd_tls_key_file=",
                             "smtpd_tls_chain_files=${config_directory}/tls/key.pem, "
                             "$config_directory/tls/cert.pem"})
                  .ok());

  CommandResult applied = applyHardening();

  expectAppliedAndServing(applied, "RSA");
}

TEST_F(TlsLayoutsE2eTest, EcdsaOnlyPairIsAppliedAndServesStarttls) {
  const agent::tls::GeneratedCertificate ec = ecdsaCertificate();
  writeFileText(tls_dir_ + "/ec-cert.pem", ec.certificate_pem, 0644);
  writeFileText(tls_dir_ + "/ec-key.pem", ec.private_key_pem, 0600);
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=", "smtpd_tls_key_file=",
                             "smtpd_tls_eccert_file=" + tls_dir_ + "/ec-cert.pem",
                             "smtpd_tls_eckey_file=" + tls_dir_ + "/ec-key.pem"})
                  .ok());

  CommandResult applied = applyHardening();

  expectAppliedAndServing(applied, "ECDSA");
}

TEST_F(TlsLayoutsE2eTest, RsaAndEcdsaGroupsInOneChainFileAreApplied) {
  const agent::tls::GeneratedCertificate ec = ecdsaCertificate();
  writeFileText(tls_dir_ + "/both.pem",
                rsa_key_ + rsa_cert_ + ec.private_key_pem + ec.certificate_pem, 0600);
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=", "smtpd_tls_key_file=",
                             "smtpd_tls_chain_files=" + tls_dir_ + "/both.pem"})
                  .ok());

  CommandResult applied = applyHardening();

  // OpenSSL prefers the ECDSA chain when the client offers both.
  expectAppliedAndServing(applied, "ECDSA");
}

// A chain file with the certificate before the key: the agent refuses it, and Postfix itself
// indeed logs "key not first" and offers no STARTTLS with it.
TEST_F(TlsLayoutsE2eTest, CertificateBeforeKeyIsRefusedAndPostfixAgrees) {
  writeFileText(tls_dir_ + "/cert-first.pem", rsa_cert_ + rsa_key_, 0600);
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=", "smtpd_tls_key_file=",
                             "smtpd_tls_chain_files=" + tls_dir_ + "/cert-first.pem"})
                  .ok());
  const std::string before = readFileText(sandbox().mainCfPath());

  CommandResult refused = applyHardening();

  EXPECT_EQ(refused.exit_code, 1) << last_output_;
  EXPECT_NE(last_output_.find("key not first"), std::string::npos) << last_output_;
  EXPECT_NE(last_output_.find("disable TLS"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);

  // What smtpd makes of this layout once TLS is wanted: it still announces STARTTLS, fails to
  // load the chain ("key not first") and answers the STARTTLS command with "454 TLS not
  // available", so no handshake ever completes.
  ASSERT_TRUE(sandbox().postconf({"smtpd_tls_security_level=may"}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  const std::string session = starttlsSession();
  EXPECT_EQ(session.find("CONNECTION ESTABLISHED"), std::string::npos) << session;
  EXPECT_TRUE(sandbox().logEventuallyContains("key not first"));
  EXPECT_TRUE(sandbox().logEventuallyContains("disabling TLS support"));
}

// smtpd_tls_key_file defaults to $smtpd_tls_cert_file: one file, certificate first, which
// Postfix reads in "mixed" mode and accepts.
TEST_F(TlsLayoutsE2eTest, CombinedCertificateThenKeyFileIsApplied) {
  writeFileText(tls_dir_ + "/combined.pem", rsa_cert_ + rsa_key_, 0600);
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=" + tls_dir_ + "/combined.pem",
                             "smtpd_tls_key_file=$smtpd_tls_cert_file"})
                  .ok());

  CommandResult applied = applyHardening();

  expectAppliedAndServing(applied, "RSA");
}

}  // namespace
}  // namespace postwarden::testing
