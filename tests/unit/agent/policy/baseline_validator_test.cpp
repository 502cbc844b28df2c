#include "agent/policy/baseline_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "agent/policy/baseline_loader.h"
#include "tests/unit/agent/policy/policy_test_files.h"

namespace postwarden::agent::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Severity = Finding::Severity;

const params::ParameterCatalog& catalog() {
  static const params::ParameterCatalog kCatalog = params::ParameterCatalog::builtin();
  return kCatalog;
}

// Loads `yaml` (which must load) and validates it.
std::vector<Finding> findingsFor(std::string_view yaml) {
  auto loaded = loadBaseline(yaml, "p.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  if (!loaded.ok()) return {};
  return validateBaseline(*loaded, catalog());
}

std::string mainCf(std::string_view settings) {
  return "name: t\nversion: '1'\nmain.cf:\n  set:\n" + std::string(settings);
}

// Finding::toString() of every finding, for readable failures.
std::string all(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) out += f.toString() + "\n";
  return out;
}

// The single finding of `yaml`, checked for severity.
Finding only(std::string_view yaml, Severity severity) {
  const auto findings = findingsFor(yaml);
  if (findings.size() != 1) {
    ADD_FAILURE() << "expected exactly one finding, got:\n" << all(findings);
  }
  if (findings.empty()) return {};
  EXPECT_EQ(findings[0].severity, severity) << findings[0].toString();
  return findings[0];
}

// --- the rejected files in tests/data/policies ----------------------------------------------

TEST(BaselineValidatorTest, RejectsTheValidatorBadFiles) {
  const struct {
    const char* file;
    const char* expected;  // Finding::toString() of the first error
  } cases[] = {
      {"noplaintxt.bad.yaml",
       "noplaintxt.bad.yaml:7:5: error: parameter 'smtpd_sasl_security_options': unknown SASL "
       "security option 'noplaintxt' (did you mean 'noplaintext'?); valid choices: noplaintext, "
       "noactive, nodictionary, noanonymous, mutual_auth, forward_secrecy"},
      {"unknown-parameter.bad.yaml",
       "unknown-parameter.bad.yaml:5:5: error: unknown parameter 'smtpd_tls_auth_onyl' (did you "
       "mean 'smtpd_tls_auth_only'?)"},
      {"bad-service-type.bad.yaml",
       "bad-service-type.bad.yaml:4:5: error: unknown master.cf service type 'inett' (did you "
       "mean 'inet'?); valid types: inet, unix, unix-dgram, fifo, pass"},
      {"contradicting-verify.bad.yaml",
       "contradicting-verify.bad.yaml:8:5: error: verify on 'submission' requires AUTH after "
       "STARTTLS, but SASL AUTH is disabled (smtpd_sasl_auth_enable = no at 6:7)"},
      {"hash-in-value.bad.yaml",
       "hash-in-value.bad.yaml:5:5: error: parameter 'smtpd_banner': value '$myhostname ESMTP # "
       "no product name' contains '#'; main.cf has no trailing comments, so Postfix would keep "
       "it as part of the value"},
  };
  for (const auto& c : cases) {
    auto loaded =
        loadBaseline(test::readFile(test::sourcePath("tests/data/policies") / c.file), c.file);
    ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
    const auto findings = validateBaseline(*loaded, catalog());
    ASSERT_TRUE(hasErrors(findings)) << c.file;
    const auto first_error = std::find_if(findings.begin(), findings.end(), [](const Finding& f) {
      return f.severity == Severity::kError;
    });
    EXPECT_EQ(first_error->toString(), c.expected);
  }
}

// --- parameter names ----------------------------------------------------------------------

TEST(BaselineValidatorTest, UnknownParameterNearABuiltinIsAnError) {
  const Finding f = only(mainCf("    smtpd_sasl_security_option: noanonymous\n"), Severity::kError);
  EXPECT_EQ(f.message,
            "unknown parameter 'smtpd_sasl_security_option' (did you mean "
            "'smtpd_sasl_security_options'?)");
  EXPECT_EQ(f.where.line, 5);
  EXPECT_EQ(f.where.column, 5);
}

TEST(BaselineValidatorTest, UnreferencedCustomParameterIsAWarning) {
  const Finding f = only(mainCf("    mua_client_restrictions: permit_sasl_authenticated, reject\n"),
                         Severity::kWarning);
  EXPECT_THAT(f.message, HasSubstr("'mua_client_restrictions' is not a Postfix parameter"));
  EXPECT_THAT(f.message, HasSubstr("$mua_client_restrictions"));
}

TEST(BaselineValidatorTest, ReferencedCustomParameterIsAccepted) {
  EXPECT_THAT(findingsFor("name: t\nversion: '1'\n"
                          "main.cf:\n  set:\n"
                          "    mua_client_restrictions: permit_sasl_authenticated, reject\n"
                          "master.cf:\n  - service: submission\n"
                          "    set: {smtpd_client_restrictions: $mua_client_restrictions}\n"),
              IsEmpty());
  // Restriction classes are the other way Postfix uses custom names.
  EXPECT_THAT(findingsFor(mainCf("    smtpd_restriction_classes: from_friends\n"
                                 "    from_friends: permit_mynetworks, reject\n")),
              IsEmpty());
}

TEST(BaselineValidatorTest, PerTransportParametersAreKnown) {
  EXPECT_THAT(findingsFor(mainCf("    dovecot_destination_recipient_limit: 1\n")), IsEmpty());
  const Finding f =
      only(mainCf("    dovecot_destination_recipient_limit: one\n"), Severity::kError);
  EXPECT_THAT(f.message, HasSubstr("invalid integer 'one'"));
}

TEST(BaselineValidatorTest, InvalidOrReadOnlyNamesAreErrors) {
  EXPECT_THAT(only(mainCf("    'smtpd tls': x\n"), Severity::kError).message,
              HasSubstr("invalid parameter name 'smtpd tls'"));
  EXPECT_THAT(only(mainCf("    '': x\n"), Severity::kError).message,
              HasSubstr("empty parameter name"));
  EXPECT_THAT(only(mainCf("    mail_version: 9.9\n"), Severity::kError).message,
              HasSubstr("read-only"));
}

TEST(BaselineValidatorTest, RemovingANearMissIsAnErrorButCustomCleanUpIsFine) {
  const Finding f =
      only("name: t\nversion: '1'\nmain.cf:\n  remove: [smtpd_tls_auth_onl]\n", Severity::kError);
  EXPECT_EQ(f.message,
            "cannot remove unknown parameter 'smtpd_tls_auth_onl' (did you mean "
            "'smtpd_tls_auth_only'?)");
  EXPECT_EQ(f.where.line, 4);
  EXPECT_EQ(f.where.column, 12);
  EXPECT_THAT(findingsFor("name: t\nversion: '1'\nmain.cf:\n  remove: [my_old_restrictions]\n"),
              IsEmpty());
  EXPECT_THAT(
      only("name: t\nversion: '1'\nmain.cf:\n  remove: ['a b']\n", Severity::kError).message,
      HasSubstr("invalid parameter name"));
}

// --- values -------------------------------------------------------------------------------

TEST(BaselineValidatorTest, ReportsInvalidValuesInMainCfAndMasterCf) {
  EXPECT_THAT(only(mainCf("    smtpd_tls_auth_only: maybe\n"), Severity::kError).message,
              HasSubstr("invalid boolean 'maybe'"));
  const Finding f = only(
      "name: t\nversion: '1'\nmaster.cf:\n  - service: submission\n"
      "    set:\n      smtpd_tls_security_level: verify\n",
      Severity::kError);
  EXPECT_THAT(f.message, HasSubstr("client-only TLS security level 'verify'"));
  EXPECT_EQ(f.where.line, 6);
  EXPECT_EQ(f.where.column, 7);
}

// --- master.cf services -------------------------------------------------------------------

TEST(BaselineValidatorTest, ChecksServiceNamesAndCommands) {
  EXPECT_THAT(
      only("name: t\nversion: '1'\nmaster.cf:\n  - service: 'sub mission'\n", Severity::kError)
          .message,
      HasSubstr("invalid master.cf service name 'sub mission'"));
  EXPECT_THAT(only("name: t\nversion: '1'\nmaster.cf:\n  - service: submission\n"
                   "    command: smptd\n",
                   Severity::kError)
                  .message,
              HasSubstr("unknown Postfix daemon 'smptd' (did you mean 'smtpd'?)"));
  EXPECT_THAT(only("name: t\nversion: '1'\nmaster.cf:\n  - service: policy\n    type: unix\n"
                   "    command: policyd-weight\n",
                   Severity::kWarning)
                  .message,
              HasSubstr("'policyd-weight' is not a Postfix 3.7 daemon"));
  EXPECT_THAT(findingsFor("name: t\nversion: '1'\nmaster.cf:\n"
                          "  - service: dovecot\n    type: unix\n"
                          "    command: pipe flags=DRhu user=vmail argv=/usr/lib/deliver\n"
                          "  - service: 127.0.0.1:10025\n    command: smtpd\n"
                          "  - service: postlog\n    type: unix-dgram\n    command: postlogd\n"),
              IsEmpty());
}

// --- verify -------------------------------------------------------------------------------

TEST(BaselineValidatorTest, ChecksMechanismAndCertificateNames) {
  EXPECT_THAT(only("name: t\nversion: '1'\nverify:\n  - require_auth_after_tls: [plain]\n",
                   Severity::kError)
                  .message,
              HasSubstr("invalid SASL mechanism name 'plain'"));
  EXPECT_THAT(only("name: t\nversion: '1'\nverify:\n"
                   "  - forbid_auth_before_tls: [THIS-NAME-IS-MUCH-TOO-LONG]\n",
                   Severity::kError)
                  .message,
              HasSubstr("invalid SASL mechanism name"));
  EXPECT_THAT(only("name: t\nversion: '1'\nverify:\n  - certificate_name: 'mail example'\n",
                   Severity::kError)
                  .message,
              HasSubstr("certificate_name 'mail example' is neither a DNS name nor a parameter"));
  EXPECT_THAT(findingsFor("name: t\nversion: '1'\nverify:\n"
                          "  - certificate_name: '*.example.org'\n"
                          "    require_auth_after_tls: [SCRAM-SHA-256, CRAM-MD5, XOAUTH2]\n"),
              IsEmpty());
}

TEST(BaselineValidatorTest, StartTlsRequiredWhileTlsIsOffIsAContradiction) {
  // Decided by the service's own override: certain, an error.
  const Finding certain = only(
      "name: t\nversion: '1'\nmaster.cf:\n  - service: submission\n"
      "    set: {smtpd_tls_security_level: none}\n"
      "verify:\n  - service: submission\n    starttls: required\n",
      Severity::kError);
  EXPECT_THAT(certain.message, HasSubstr("requires STARTTLS"));
  EXPECT_EQ(certain.where.line, 7);
  // Decided by main.cf: the host's master.cf may override it, so only a warning.
  const Finding likely = only(mainCf("    smtpd_tls_security_level: none\n") +
                                  "verify:\n  - service: smtp\n    starttls: required\n",
                              Severity::kWarning);
  EXPECT_THAT(likely.message, HasSubstr("unless the host's master.cf overrides it"));
}

TEST(BaselineValidatorTest, RequiringPlainAfterTlsWithNoplaintextIsAContradiction) {
  const auto findings = findingsFor(mainCf("    smtpd_sasl_security_options: noanonymous, "
                                           "noplaintext\n") +
                                    "verify:\n  - require_auth_after_tls: [PLAIN]\n");
  ASSERT_EQ(findings.size(), 2u) << all(findings);
  // The setting itself: the risky default of smtpd_sasl_tls_security_options.
  EXPECT_EQ(findings[0].where.line, 5);
  EXPECT_THAT(findings[0].message, HasSubstr("smtpd_sasl_tls_security_options is not set"));
  // The verify entry that can never pass.
  EXPECT_EQ(findings[1].where.line, 7);
  EXPECT_THAT(findings[1].message, HasSubstr("noplaintext refuses them over TLS too"));
}

// --- warnings for risky but legal choices ---------------------------------------------------

TEST(BaselineValidatorTest, WarnsAboutNoplaintextWithoutExplicitTlsOptions) {
  const Finding f = only(mainCf("    smtpd_sasl_security_options: noanonymous, noplaintext\n"),
                         Severity::kWarning);
  EXPECT_THAT(f.message, HasSubstr("set smtpd_sasl_tls_security_options = noanonymous"));
  EXPECT_EQ(f.where.line, 5);
  EXPECT_THAT(findingsFor(mainCf("    smtpd_sasl_security_options: noanonymous, noplaintext\n"
                                 "    smtpd_sasl_tls_security_options: noanonymous\n")),
              IsEmpty());
  // In master.cf the main.cf value counts as explicit too.
  EXPECT_THAT(findingsFor(mainCf("    smtpd_sasl_tls_security_options: noanonymous\n") +
                          "master.cf:\n  - service: submission\n"
                          "    set: {smtpd_sasl_security_options: 'noanonymous noplaintext'}\n"),
              IsEmpty());
}

TEST(BaselineValidatorTest, WarnsAboutAnonymousAuthentication) {
  EXPECT_THAT(only(mainCf("    smtpd_sasl_security_options: ''\n"), Severity::kWarning).message,
              HasSubstr("allows anonymous authentication"));
}

TEST(BaselineValidatorTest, WarnsAboutRequiringTlsOnPort25) {
  EXPECT_THAT(only(mainCf("    smtpd_tls_security_level: encrypt\n"), Severity::kWarning).message,
              HasSubstr("RFC 3207"));
  EXPECT_THAT(only("name: t\nversion: '1'\nmaster.cf:\n  - service: smtp\n"
                   "    set: {smtpd_tls_security_level: encrypt}\n",
                   Severity::kWarning)
                  .message,
              HasSubstr("RFC 3207"));
  // Port 25 overridden back to may: main.cf's encrypt no longer reaches it.
  EXPECT_THAT(findingsFor(mainCf("    smtpd_tls_security_level: encrypt\n") +
                          "master.cf:\n  - service: smtp\n"
                          "    set: {smtpd_tls_security_level: may}\n"),
              IsEmpty());
  EXPECT_THAT(findingsFor("name: t\nversion: '1'\nmaster.cf:\n  - service: submission\n"
                          "    set: {smtpd_tls_security_level: encrypt}\n"),
              IsEmpty());
}

TEST(BaselineValidatorTest, WarnsAboutPerHostCertificatePaths) {
  const auto findings =
      findingsFor(mainCf("    smtpd_tls_cert_file: /etc/ssl/mail.pem\n"
                         "    smtpd_tls_key_file: /etc/ssl/mail.key\n"));
  ASSERT_EQ(findings.size(), 2u) << all(findings);
  EXPECT_EQ(findings[0].severity, Severity::kWarning);
  EXPECT_THAT(findings[0].message, HasSubstr("per-host path"));
}

TEST(BaselineValidatorTest, WarnsAboutAuthBeforeTls) {
  EXPECT_THAT(only(mainCf("    smtpd_sasl_auth_enable: 'yes'\n"), Severity::kWarning).message,
              HasSubstr("Nessus 54582"));
  EXPECT_THAT(findingsFor(mainCf("    smtpd_sasl_auth_enable: 'yes'\n"
                                 "    smtpd_tls_auth_only: 'yes'\n"
                                 "    smtpd_tls_security_level: may\n")),
              IsEmpty());
}

TEST(BaselineValidatorTest, WarnsWhenTlsAuthOnlyMeetsDisabledTls) {
  EXPECT_THAT(only(mainCf("    smtpd_tls_auth_only: 'yes'\n"
                          "    smtpd_tls_security_level: none\n"),
                   Severity::kWarning)
                  .message,
              HasSubstr("AUTH is never offered"));
}

TEST(BaselineValidatorTest, WarnsAboutBrokenProtocolsAndWeakCiphers) {
  EXPECT_THAT(only(mainCf("    smtpd_tls_protocols: '>=SSLv3'\n"), Severity::kWarning).message,
              HasSubstr("SSLv2 and SSLv3 are broken"));
  EXPECT_THAT(only(mainCf("    smtp_tls_ciphers: export\n"), Severity::kWarning).message,
              HasSubstr("weak or no encryption"));
  EXPECT_THAT(findingsFor(mainCf("    smtpd_tls_protocols: '!SSLv2, !SSLv3'\n"
                                 "    smtpd_tls_mandatory_protocols: '>=TLSv1.2'\n"
                                 "    smtpd_tls_mandatory_ciphers: high\n")),
              IsEmpty());
}

// --- the Finding type ------------------------------------------------------------------------

TEST(BaselineValidatorTest, FindingToStringUsesTheCompilerFormat) {
  Finding f{Severity::kError, "something is wrong", SourceLocation{"a/b.yaml", 3, 7}};
  EXPECT_EQ(f.toString(), "a/b.yaml:3:7: error: something is wrong");
  f.severity = Severity::kWarning;
  EXPECT_EQ(f.toString(), "a/b.yaml:3:7: warning: something is wrong");
}

TEST(BaselineValidatorTest, FindingsAreOrderedByPosition) {
  const auto findings =
      findingsFor(mainCf("    smtpd_tls_cert_file: /x.pem\n"
                         "    smtpd_tls_auth_only: maybe\n"
                         "    smtpd_tls_ciphers: nul\n"));
  ASSERT_EQ(findings.size(), 3u) << all(findings);
  EXPECT_EQ(findings[0].where.line, 5);
  EXPECT_EQ(findings[1].where.line, 6);
  EXPECT_EQ(findings[2].where.line, 7);
  EXPECT_TRUE(hasErrors(findings));
  EXPECT_FALSE(hasErrors({findings[0]}));
  EXPECT_FALSE(hasErrors({}));
}

}  // namespace
}  // namespace postwarden::agent::policy
