// The scanner-finding baselines in policies/ (tls-protocols, tls-ciphers, vrfy, banner,
// smtp-smuggling) and the language they need: postfix_version on a baseline, parameter
// alternatives per Postfix version, if_exists services, and the new verify keys. Each version
// branch of the shipped files is resolved for the versions on both sides of its boundary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "agent/policy/applicability.h"
#include "agent/policy/baseline_loader.h"
#include "agent/policy/baseline_validator.h"
#include "tests/unit/agent/policy/policy_test_files.h"

namespace postwarden::agent::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kLibrary[] = {"policies/tls-protocols.yaml",  "policies/tls-ciphers.yaml",
                                    "policies/vrfy.yaml",           "policies/banner.yaml",
                                    "policies/smtp-smuggling.yaml", "policies/certificate.yaml",
                                    "policies/open-relay.yaml",     "policies/rate-limits.yaml"};

Baseline loadShipped(const std::string& relative) {
  auto loaded = loadBaseline(test::readFile(test::sourcePath(relative)), relative);
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  return loaded.ok() ? *loaded : Baseline{};
}

std::vector<int> version(std::string_view text) {
  std::optional<std::vector<int>> parsed = parsePostfixVersion(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed.value_or(std::vector<int>{});
}

// The value `name` gets in main.cf on a host running `installed`, or "<none>".
std::string resolvedValue(const Baseline& b, std::string_view installed, std::string_view name) {
  Applicability a = resolveForHost(b, version(installed));
  int count = 0;
  std::string value = "<none>";
  for (const Setting& s : a.resolved.main_cf_set) {
    if (s.name == name) {
      ++count;
      value = s.value;
      EXPECT_FALSE(s.postfix_version.has_value());
      EXPECT_FALSE(s.alternative);
    }
  }
  EXPECT_LE(count, 1) << name << " resolved more than once for " << installed;
  return value;
}

std::string joinedNotes(const Applicability& a) {
  std::string out;
  for (const std::string& n : a.notes) out += n + "\n";
  return out;
}

Status loadError(const std::string& yaml) { return loadBaseline(yaml, "t.yaml").status(); }

TEST(BaselineLibraryTest, EveryLibraryFileLoadsAndValidatesWithoutFindings) {
  const auto catalog = params::ParameterCatalog::builtin();
  for (const char* file : kLibrary) {
    Baseline b = loadShipped(file);
    EXPECT_FALSE(b.name.empty()) << file;
    std::string findings;
    for (const Finding& f : validateBaseline(b, catalog)) findings += f.toString() + "\n";
    EXPECT_EQ(findings, "") << file;
    // Resolved for this Postfix, the result validates too.
    Applicability a = resolveForHost(b, version("3.7.11"));
    ASSERT_TRUE(a.applies) << file;
    EXPECT_THAT(validateBaseline(a.resolved, catalog), IsEmpty()) << file;
  }
}

TEST(BaselineLibraryTest, TlsProtocolsUsesTheRangeSyntaxFromPostfix36AndTheExclusionListBefore) {
  const Baseline b = loadShipped("policies/tls-protocols.yaml");
  for (const char* name : {"smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"}) {
    EXPECT_EQ(resolvedValue(b, "3.5.25", name), "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1") << name;
    EXPECT_EQ(resolvedValue(b, "3.6.0", name), ">=TLSv1.2") << name;
    EXPECT_EQ(resolvedValue(b, "3.7.11", name), ">=TLSv1.2") << name;
    EXPECT_EQ(resolvedValue(b, "3.10.1", name), ">=TLSv1.2") << name;
  }
  // tlsproxy (port 25 behind postscreen) falls back to $smtpd_tls_protocols.
  std::vector<std::string> removed;
  for (const Removal& r : b.main_cf_remove) removed.push_back(r.name);
  EXPECT_THAT(removed, ElementsAre("tlsproxy_tls_protocols", "tlsproxy_tls_mandatory_protocols"));
  // Both submission roles are governed where they exist, never created.
  ASSERT_EQ(b.master_cf.size(), 2u);
  for (const ServiceOverride& o : b.master_cf) {
    EXPECT_TRUE(o.only_if_exists) << o.service;
    EXPECT_FALSE(o.command.has_value()) << o.service;
  }
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_THAT(b.verify[0].tls_refused, ElementsAre("TLSv1", "TLSv1.1"));
  EXPECT_THAT(b.verify[0].tls_accepted, ElementsAre("TLSv1.2"));
  EXPECT_EQ(b.verify[0].starttls, StartTls::kOptional);
}

TEST(BaselineLibraryTest, SmugglingBranchesOnEveryPatchedPostfixLine) {
  const Baseline b = loadShipped("policies/smtp-smuggling.yaml");
  const std::string kBare = "smtpd_forbid_bare_newline";
  const std::string kPipe = "smtpd_forbid_unauth_pipelining";
  struct Case {
    const char* installed;
    const char* bare_newline;
    const char* pipelining;
  };
  for (const Case& c : {
           Case{"3.4.14", "<none>", "<none>"}, Case{"3.5.19", "<none>", "<none>"},
           Case{"3.5.20", "<none>", "yes"},    Case{"3.5.23", "yes", "yes"},
           Case{"3.5.24", "normalize", "yes"}, Case{"3.6.9", "<none>", "<none>"},
           Case{"3.6.10", "<none>", "yes"},    Case{"3.6.13", "yes", "yes"},
           Case{"3.6.14", "normalize", "yes"}, Case{"3.7.5", "<none>", "<none>"},
           Case{"3.7.6", "<none>", "yes"},     Case{"3.7.9", "yes", "yes"},
           Case{"3.7.10", "normalize", "yes"}, Case{"3.7.11", "normalize", "yes"},
           Case{"3.8.0", "<none>", "<none>"},  Case{"3.8.1", "<none>", "yes"},
           Case{"3.8.4", "yes", "yes"},        Case{"3.8.5", "normalize", "yes"},
           Case{"3.9.0", "normalize", "yes"},  Case{"3.10.2", "normalize", "yes"},
       }) {
    EXPECT_EQ(resolvedValue(b, c.installed, kBare), c.bare_newline) << c.installed;
    EXPECT_EQ(resolvedValue(b, c.installed, kPipe), c.pipelining) << c.installed;
    // HELO is required on every version.
    EXPECT_EQ(resolvedValue(b, c.installed, "smtpd_helo_required"), "yes") << c.installed;
  }
  // The plan says why a parameter is left alone.
  Applicability old = resolveForHost(b, version("3.7.5"));
  EXPECT_THAT(joinedNotes(old),
              HasSubstr("main.cf: smtpd_forbid_bare_newline does not apply to this host: no "
                        "alternative is for its Postfix ("));
  EXPECT_THAT(joinedNotes(old), HasSubstr("this host runs Postfix 3.7.5"));
  Applicability current = resolveForHost(b, version("3.7.11"));
  EXPECT_THAT(joinedNotes(current), HasSubstr("main.cf: smtpd_forbid_bare_newline = normalize "
                                              "(policies/smtp-smuggling.yaml:"));
  EXPECT_THAT(joinedNotes(current), HasSubstr(">= 3.7.10, < 3.8) is the alternative for Postfix "
                                              "3.7.11"));
}

TEST(BaselineLibraryTest, UnknownVersionAppliesNothingConditional) {
  const Baseline b = loadShipped("policies/smtp-smuggling.yaml");
  Applicability a = resolveForHost(b, std::nullopt);
  ASSERT_TRUE(a.applies);
  ASSERT_EQ(a.resolved.main_cf_set.size(), 1u);
  EXPECT_EQ(a.resolved.main_cf_set[0].name, "smtpd_helo_required");
  EXPECT_THAT(joinedNotes(a), HasSubstr("the installed Postfix version is unknown"));
}

TEST(BaselineLibraryTest, CiphersKeepMediumOnPort25AndHighWhereTlsIsMandatory) {
  const Baseline b = loadShipped("policies/tls-ciphers.yaml");
  EXPECT_EQ(resolvedValue(b, "3.7.11", "smtpd_tls_ciphers"), "medium");
  EXPECT_EQ(resolvedValue(b, "3.7.11", "smtpd_tls_mandatory_ciphers"), "high");
  EXPECT_EQ(resolvedValue(b, "3.7.11", "smtpd_tls_exclude_ciphers"),
            "aNULL, eNULL, EXPORT, DES, 3DES, RC4, MD5");
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_THAT(b.verify[0].tls_refused, ElementsAre("aNULL"));
}

TEST(BaselineLibraryTest, VrfyAndBannerSayWhatTheProbeChecks) {
  const Baseline vrfy = loadShipped("policies/vrfy.yaml");
  EXPECT_EQ(resolvedValue(vrfy, "3.7.11", "disable_vrfy_command"), "yes");
  ASSERT_EQ(vrfy.verify.size(), 1u);
  EXPECT_TRUE(vrfy.verify[0].vrfy_refused);
  const Baseline banner = loadShipped("policies/banner.yaml");
  EXPECT_EQ(resolvedValue(banner, "3.7.11", "smtpd_banner"), "$myhostname ESMTP");
  ASSERT_EQ(banner.verify.size(), 1u);
  EXPECT_THAT(banner.verify[0].banner_must_not_contain, ElementsAre("Postfix", "Debian", "Ubuntu"));
}

TEST(ApplicabilityTest, BaselineVersionRequirementDecidesWhetherItApplies) {
  auto loaded = loadBaseline(
      "name: new-only\nversion: \"1\"\npostfix_version: \">= 3.6\"\n"
      "main.cf:\n  set:\n    smtpd_tls_protocols: \">=TLSv1.2\"\n",
      "new.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_TRUE(hasVersionConditions(*loaded));
  Applicability old = resolveForHost(*loaded, version("3.5.6"));
  EXPECT_FALSE(old.applies);
  EXPECT_THAT(old.notes, ElementsAre("baseline 'new-only' does not apply to this host: it needs "
                                     "Postfix >= 3.6 (new.yaml:3:18); this host runs Postfix "
                                     "3.5.6"));
  EXPECT_TRUE(resolveForHost(*loaded, version("3.6.0")).applies);
  EXPECT_TRUE(resolveForHost(*loaded, version("3.10")).applies);
  EXPECT_FALSE(resolveForHost(*loaded, std::nullopt).applies);
}

TEST(ApplicabilityTest, VersionsCompareNumericallyPartByPart) {
  EXPECT_THAT(version("3.7.11"), ElementsAre(3, 7, 11));
  EXPECT_THAT(version("3.9-20231105"), ElementsAre(3, 9));
  EXPECT_FALSE(parsePostfixVersion("").has_value());
  EXPECT_FALSE(parsePostfixVersion("v3.7").has_value());
  auto at_least = [](const char* text) {
    std::optional<VersionRequirement> r = parseVersionRequirement(text);
    EXPECT_TRUE(r.has_value()) << text;
    return r.value_or(VersionRequirement{});
  };
  EXPECT_TRUE(meetsVersion({3, 10}, at_least(">= 3.9")));
  EXPECT_FALSE(meetsVersion({3, 9}, at_least(">= 3.10")));
  EXPECT_TRUE(meetsVersion({3, 7}, at_least(">=3.7.0")));
  EXPECT_FALSE(meetsVersion({3, 7, 9}, at_least(">= 3.7.10")));
  const VersionRequirement range = at_least(">= 3.7.10, < 3.8");
  EXPECT_FALSE(meetsVersion({3, 7, 9}, range));
  EXPECT_TRUE(meetsVersion({3, 7, 10}, range));
  EXPECT_TRUE(meetsVersion({3, 7, 99}, range));
  EXPECT_FALSE(meetsVersion({3, 8}, range));
  EXPECT_FALSE(meetsVersion({3, 8, 0}, range));
  EXPECT_TRUE(meetsVersion({3, 5}, at_least("< 3.6")));
  for (const char* bad : {"3.6", "> 3.6", "<= 3.6", ">= 3.6, >= 3.7", ">= 3.8, < 3.8", ">= 3.x",
                          ">= 3.6.1.2", ">=", "", ">= 3.6,"}) {
    EXPECT_FALSE(parseVersionRequirement(bad).has_value()) << bad;
  }
}

TEST(BaselineLanguageTest, AlternativeKeysAreStrictWithPositionAndSuggestion) {
  Status s = loadError(
      "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_protocols:\n"
      "      - postfix_verison: \">= 3.6\"\n        value: \">=TLSv1.2\"\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:6:9:"));
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'postfix_version'?"));

  s = loadError(
      "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_protocols:\n"
      "      - postfix_version: \">= 3.6\"\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:6:9: this alternative of 'smtpd_tls_protocols' "
                                     "needs 'value'"));

  s = loadError(
      "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_protocols:\n"
      "      - value: \"!SSLv2\"\n      - postfix_version: \">= 3.6\"\n        value: x\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:7:9: this alternative of 'smtpd_tls_protocols' can "
                                     "never apply: the one at 6:9 has no postfix_version"));

  s = loadError(
      "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_protocols:\n"
      "      - postfix_version: \"3.6\"\n        value: x\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:6:26: 'postfix_version' must be"));

  s = loadError("name: x\nversion: \"1\"\npostfix_versoin: \">= 3.6\"\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:3:1:"));
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'postfix_version'?"));
}

TEST(BaselineLanguageTest, AlternativesAsASingleMapAndInMasterCf) {
  auto loaded = loadBaseline(
      "name: x\nversion: \"1\"\nmain.cf:\n  set:\n"
      "    smtpd_forbid_unauth_pipelining: {postfix_version: \">= 3.7.6\", value: \"yes\"}\n"
      "master.cf:\n  - service: submission\n    if_exists: yes\n    set:\n"
      "      smtpd_tls_mandatory_ciphers:\n        - {postfix_version: \">= 3.6\", value: high}\n"
      "        - {value: medium}\n",
      "t.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  ASSERT_EQ(loaded->main_cf_set.size(), 1u);
  EXPECT_TRUE(loaded->main_cf_set[0].alternative);
  EXPECT_EQ(resolvedValue(*loaded, "3.7.5", "smtpd_forbid_unauth_pipelining"), "<none>");
  EXPECT_EQ(resolvedValue(*loaded, "3.7.6", "smtpd_forbid_unauth_pipelining"), "yes");
  ASSERT_EQ(loaded->master_cf.size(), 1u);
  EXPECT_TRUE(loaded->master_cf[0].only_if_exists);
  for (auto [installed, want] : {std::pair{"3.5.6", "medium"}, std::pair{"3.6.0", "high"}}) {
    Applicability a = resolveForHost(*loaded, version(installed));
    ASSERT_EQ(a.resolved.master_cf[0].options.size(), 1u);
    EXPECT_EQ(a.resolved.master_cf[0].options[0].value, want) << installed;
  }
}

TEST(BaselineLanguageTest, IfExistsAndVerifyKeysAreChecked) {
  Status s = loadError(
      "name: x\nversion: \"1\"\nmaster.cf:\n  - service: submission\n    command: smtpd\n"
      "    if_exists: yes\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:4:5: 'if_exists: yes' and 'command' contradict"));
  s = loadError(
      "name: x\nversion: \"1\"\nmaster.cf:\n  - service: submission\n    if_exists: maybe\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:5:16: 'if_exists' must be yes or no"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - tls_refused: [TLSv1, TLS1.1]\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:4:26: 'TLS1.1' in tls_refused must be one of"));
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'TLSv1.1'?"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - tls_refused: [SSLv3]\n");
  EXPECT_THAT(s.message(), HasSubstr("'SSLv3' in tls_refused must be one of"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - vrfy: refuse\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:4:11: 'vrfy' must be refused, not 'refuse'"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - banner_must_not_contain: Postfix\n");
  EXPECT_THAT(s.message(), HasSubstr("banner_must_not_contain must be a list"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - vrfi: refused\n");
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'vrfy'?"));
}

TEST(BaselineLanguageTest, CertificateAndDhKeysAreCheckedWithPosition) {
  Status s = loadError("name: x\nversion: \"1\"\nverify:\n  - certificate_valid_days: soon\n");
  EXPECT_THAT(s.message(), HasSubstr("t.yaml:4:29: 'certificate_valid_days' must be a whole "
                                     "number from 0 to 3650, not 'soon'"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - dh_min_bits: 100\n");
  EXPECT_THAT(s.message(), HasSubstr("'dh_min_bits' must be a whole number from 512"));
  s = loadError("name: x\nversion: \"1\"\nverify:\n  - certificate_chain: trustd\n");
  EXPECT_THAT(s.message(), HasSubstr("did you mean 'trusted'?"));
}

TEST(BaselineLanguageTest, MessageSizeLimitMayNotExceedMailboxSizeLimit) {
  const auto catalog = params::ParameterCatalog::builtin();
  auto findings = [&](const std::string& set) {
    std::string text;
    auto b = loadBaseline("name: x\nversion: \"1\"\nmain.cf:\n  set:\n" + set, "t.yaml");
    EXPECT_TRUE(b.ok()) << b.status().toString();
    if (!b.ok()) return text;
    for (const Finding& f : validateBaseline(*b, catalog)) text += f.toString() + "\n";
    return text;
  };
  EXPECT_EQ(findings("    message_size_limit: \"1000\"\n    mailbox_size_limit: \"2000\"\n"), "");
  EXPECT_THAT(findings("    message_size_limit: \"3000\"\n    mailbox_size_limit: \"2000\"\n"),
              HasSubstr("t.yaml:5:5: error: message_size_limit (3000) is larger than "
                        "mailbox_size_limit (2000)"));
  // Against Postfix's default mailbox_size_limit (51200000).
  EXPECT_THAT(findings("    message_size_limit: \"60000000\"\n"),
              HasSubstr("mailbox_size_limit (51200000, Postfix's default)"));
  EXPECT_EQ(findings("    message_size_limit: \"60000000\"\n    mailbox_size_limit: \"0\"\n"), "")
      << "0 is an unlimited mailbox";
  EXPECT_THAT(findings("    message_size_limit: \"0\"\n    mailbox_size_limit: \"2000\"\n"),
              HasSubstr("is larger than"))
      << "0 is an unlimited message";
}

TEST(BaselineLibraryTest, CertificateBaselineOnlyChecksAndNamesMyhostname) {
  const Baseline b = loadShipped("policies/certificate.yaml");
  EXPECT_TRUE(b.main_cf_set.empty());
  EXPECT_TRUE(b.main_cf_remove.empty());
  EXPECT_TRUE(b.master_cf.empty());
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_EQ(b.verify[0].certificate_name, "$myhostname");
  EXPECT_EQ(b.verify[0].certificate_valid_days, 30);
  EXPECT_TRUE(b.verify[0].certificate_chain_trusted);
}

}  // namespace
}  // namespace postwarden::agent::policy
