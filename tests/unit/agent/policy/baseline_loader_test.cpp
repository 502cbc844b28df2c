#include "agent/policy/baseline_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include "tests/unit/agent/policy/policy_test_files.h"

namespace postwarden::agent::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

Baseline loadOk(std::string_view yaml) {
  auto result = loadBaseline(yaml, "test.yaml");
  EXPECT_TRUE(result.ok()) << result.status().toString();
  return result.ok() ? *result : Baseline{};
}

std::string loadError(std::string_view yaml) {
  auto result = loadBaseline(yaml, "test.yaml");
  EXPECT_FALSE(result.ok()) << "loaded: " << yaml;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  return result.status().message();
}

// --- the files in tests/data/policies that the loader must reject -------------------------

struct BadFile {
  const char* file;
  const char* position;  // "LINE:COL"
  const char* message;   // substring of the message
};

constexpr BadFile kLoaderRejects[] = {
    {"malformed-yaml.bad.yaml", "6:1", "invalid YAML: end of sequence flow not found"},
    {"malformed-indentation.bad.yaml", "6:4", "invalid YAML: end of map not found"},
    {"tab-indentation.bad.yaml", "4:5", "invalid YAML: illegal map value"},
    {"unknown-top-key.bad.yaml", "2:1",
     "unknown key 'verison' in the policy (did you mean "
     "'version'?)"},
    {"unknown-main-cf-key.bad.yaml", "4:3", "unknown key 'sets' in main.cf (did you mean 'set'?)"},
    {"unknown-service-key.bad.yaml", "5:5",
     "unknown key 'comand' in master.cf entry (did you "
     "mean 'command'?)"},
    {"unknown-verify-key.bad.yaml", "5:5",
     "unknown key 'starttsl' in verify entry (did you mean "
     "'starttls'?)"},
    {"map-for-scalar.bad.yaml", "2:3", "'name' must be text, not a map"},
    {"map-as-parameter-value.bad.yaml", "5:31",
     "value of 'smtpd_tls_security_level' must be text or a list of text, not a map"},
    {"list-as-main-cf.bad.yaml", "4:3", "main.cf must be a map of set, remove, not a list"},
    {"nested-list-value.bad.yaml", "5:48",
     "an element of 'smtpd_sasl_security_options' must be text, not a list"},
    {"top-level-list.bad.yaml", "1:1", "the policy must be a map"},
    {"duplicate-top-key.bad.yaml", "3:1", "duplicate key 'name' in the policy (first at 1:1)"},
    {"duplicate-parameter.bad.yaml", "7:5",
     "parameter 'smtpd_tls_auth_only' is set twice in main.cf (first at 5:5)"},
    {"missing-name.bad.yaml", "1:1", "missing required key 'name'"},
    {"empty-version.bad.yaml", "2:10", "'version' must not be empty"},
    {"invalid-name.bad.yaml", "1:7", "name 'Smtp_Auth' must match [a-z0-9][a-z0-9-]*"},
    {"null-value.bad.yaml", "5:5",
     "parameter 'smtpd_tls_auth_only' has no value (write \"\" for an empty value)"},
    {"empty.bad.yaml", "1:1", "empty policy"},
    {"two-documents.bad.yaml", "3:1", "one YAML document"},
    {"set-and-removed.bad.yaml", "6:38",
     "parameter 'smtpd_tls_auth_only' is both set (at 5:5) and removed in main.cf"},
    {"removed-twice.bad.yaml", "6:7",
     "parameter 'smtpd_tls_auth_only' is removed twice in main.cf (first at 5:7)"},
    {"duplicate-service.bad.yaml", "6:5",
     "duplicate master.cf service 'submission' (type inet), first at 4:5"},
    {"duplicate-verify.bad.yaml", "6:5", "duplicate verify entry for service 'smtp', first at 4:5"},
    {"service-without-name.bad.yaml", "4:5", "master.cf entry needs 'service'"},
    {"bad-starttls.bad.yaml", "5:15",
     "'starttls' must be required or optional, not 'requird' (did you mean 'required'?)"},
    {"star-in-list.bad.yaml", "5:37", "\"*\" stands alone"},
};

// Files that load but that validateBaseline rejects; baseline_validator_test.cpp checks them.
constexpr const char* kValidatorRejects[] = {
    "noplaintxt.bad.yaml",           "unknown-parameter.bad.yaml", "bad-service-type.bad.yaml",
    "contradicting-verify.bad.yaml", "hash-in-value.bad.yaml",
};

TEST(BaselineLoaderTest, RejectsEveryBadFileWithFileLineAndColumn) {
  for (const BadFile& bad : kLoaderRejects) {
    const auto path = test::sourcePath("tests/data/policies") / bad.file;
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    auto result = loadBaseline(test::readFile(path), bad.file);
    ASSERT_FALSE(result.ok()) << bad.file;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << bad.file;
    EXPECT_THAT(result.status().message(),
                StartsWith(std::string(bad.file) + ":" + bad.position + ": "))
        << bad.file;
    EXPECT_THAT(result.status().message(), HasSubstr(bad.message)) << bad.file;
    EXPECT_EQ(result.status().message().find('\n'), std::string::npos) << bad.file;
  }
}

TEST(BaselineLoaderTest, EveryBadFileIsCovered) {
  std::set<std::string> covered;
  for (const BadFile& bad : kLoaderRejects) covered.insert(bad.file);
  for (const char* file : kValidatorRejects) covered.insert(file);
  for (const auto& entry :
       std::filesystem::directory_iterator(test::sourcePath("tests/data/policies"))) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".bad.yaml")) {
      EXPECT_TRUE(covered.contains(name)) << name << " has no expectation in a test";
    }
  }
}

TEST(BaselineLoaderTest, ValidatorRejectsLoadFine) {
  for (const char* file : kValidatorRejects) {
    const auto path = test::sourcePath("tests/data/policies") / file;
    auto result = loadBaseline(test::readFile(path), file);
    EXPECT_TRUE(result.ok()) << result.status().toString();
  }
}

// --- what a good policy turns into ----------------------------------------------------------

TEST(BaselineLoaderTest, LoadsEveryKeyOfTheSchema) {
  const auto path = test::sourcePath("tests/data/policies/full.yaml");
  auto result = loadBaseline(test::readFile(path), "full.yaml");
  ASSERT_TRUE(result.ok()) << result.status().toString();
  const Baseline& b = *result;
  EXPECT_EQ(b.name, "full-0");
  EXPECT_EQ(b.version, "2024.1");
  EXPECT_EQ(b.description, "Every key.\n");
  EXPECT_EQ(b.source_file, "full.yaml");
  ASSERT_EQ(b.main_cf_set.size(), 7u);
  EXPECT_EQ(b.main_cf_set[0].name, "smtpd_tls_auth_only");
  EXPECT_EQ(b.main_cf_set[0].value, "yes");
  EXPECT_EQ(b.main_cf_set[2].value, "noanonymous, noplaintext");
  EXPECT_EQ(b.main_cf_set[4].value, "41943040");
  EXPECT_EQ(b.main_cf_set[5].value, "3.6");
  EXPECT_EQ(b.main_cf_set[6].name, "relayhost");
  EXPECT_EQ(b.main_cf_set[6].value, "");
  ASSERT_EQ(b.main_cf_remove.size(), 1u);
  EXPECT_EQ(b.main_cf_remove[0].name, "smtpd_tls_dh1024_param_file");

  ASSERT_EQ(b.master_cf.size(), 2u);
  const ServiceOverride& sub = b.master_cf[0];
  EXPECT_EQ(sub.service, "submission");
  EXPECT_EQ(sub.type, "inet");
  EXPECT_EQ(sub.command, "smtpd");
  ASSERT_EQ(sub.options.size(), 3u);
  EXPECT_EQ(sub.options[1].name, "smtpd_sasl_auth_enable");
  EXPECT_EQ(sub.options[1].value, "yes");
  ASSERT_EQ(sub.remove_options.size(), 1u);
  EXPECT_EQ(sub.remove_options[0].name, "smtpd_client_restrictions");
  EXPECT_EQ(b.master_cf[1].type, "unix");
  EXPECT_EQ(b.master_cf[1].command, std::nullopt);

  ASSERT_EQ(b.verify.size(), 2u);
  EXPECT_EQ(b.verify[0].service, "smtp");
  EXPECT_EQ(b.verify[0].starttls, StartTls::kOptional);
  EXPECT_THAT(b.verify[0].forbid_auth_before_tls, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(b.verify[0].require_auth_after_tls, IsEmpty());
  EXPECT_EQ(b.verify[0].certificate_name, std::nullopt);
  EXPECT_EQ(b.verify[1].starttls, StartTls::kRequired);
  EXPECT_THAT(b.verify[1].forbid_auth_before_tls, ElementsAre("*"));
  EXPECT_THAT(b.verify[1].require_auth_after_tls, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_EQ(b.verify[1].certificate_name, "mail.example.org");
}

TEST(BaselineLoaderTest, KeepsScalarTextExactly) {
  // YAML 1.1 would read yes/no/on as booleans and 0755 as octal; Postfix wants the text.
  const Baseline b = loadOk(
      "name: exact\n"
      "version: 1.10\n"
      "main.cf:\n"
      "  set:\n"
      "    a: yes\n"
      "    b: No\n"
      "    c: on\n"
      "    d: 0755\n"
      "    e: 1e3\n"
      "    f: '~'\n"
      "    g: \"null\"\n"
      "    h: $myhostname ESMTP\n"
      "    i: \"\"\n");
  EXPECT_EQ(b.version, "1.10");
  ASSERT_EQ(b.main_cf_set.size(), 9u);
  const char* expected[] = {"yes", "No", "on", "0755", "1e3", "~", "null", "$myhostname ESMTP", ""};
  for (size_t i = 0; i < 9; ++i) EXPECT_EQ(b.main_cf_set[i].value, expected[i]) << i;
}

TEST(BaselineLoaderTest, JoinsListValuesWithCommaSpace) {
  const Baseline b = loadOk(
      "name: lists\nversion: '1'\nmain.cf:\n  set:\n"
      "    smtpd_recipient_restrictions:\n"
      "      - permit_mynetworks\n"
      "      - permit_sasl_authenticated\n"
      "      - reject_unauth_destination\n"
      "    mynetworks: []\n");
  ASSERT_EQ(b.main_cf_set.size(), 2u);
  EXPECT_EQ(b.main_cf_set[0].value,
            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination");
  EXPECT_EQ(b.main_cf_set[1].value, "");
}

TEST(BaselineLoaderTest, RecordsWhereEverythingWasWritten) {
  const Baseline b = loadOk(
      "name: where\n"                                     // 1
      "version: '1'\n"                                    // 2
      "main.cf:\n"                                        // 3
      "  set:\n"                                          // 4
      "    smtpd_tls_auth_only: 'yes'\n"                  // 5
      "  remove: [smtpd_tls_dh512_param_file]\n"          // 6
      "master.cf:\n"                                      // 7
      "  - service: submission\n"                         // 8
      "    set: { smtpd_tls_security_level: encrypt }\n"  // 9
      "verify:\n"                                         // 10
      "  -   service: smtp\n");                           // 11
  ASSERT_EQ(b.main_cf_set.size(), 1u);
  EXPECT_EQ(b.main_cf_set[0].where.file, "test.yaml");
  EXPECT_EQ(b.main_cf_set[0].where.line, 5);
  EXPECT_EQ(b.main_cf_set[0].where.column, 5);
  ASSERT_EQ(b.main_cf_remove.size(), 1u);
  EXPECT_EQ(b.main_cf_remove[0].where.line, 6);
  EXPECT_EQ(b.main_cf_remove[0].where.column, 12);
  ASSERT_EQ(b.master_cf.size(), 1u);
  EXPECT_EQ(b.master_cf[0].where.line, 8);
  EXPECT_EQ(b.master_cf[0].where.column, 5);
  ASSERT_EQ(b.master_cf[0].options.size(), 1u);
  EXPECT_EQ(b.master_cf[0].options[0].where.line, 9);
  EXPECT_EQ(b.master_cf[0].options[0].where.column, 12);
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_EQ(b.verify[0].where.line, 11);
  EXPECT_EQ(b.verify[0].where.column, 7);
}

TEST(BaselineLoaderTest, AppliesDefaults) {
  const Baseline b = loadOk(
      "name: defaults\nversion: '1'\n"
      "master.cf:\n  - service: submission\n"
      "verify:\n  - starttls: required\n");
  ASSERT_EQ(b.master_cf.size(), 1u);
  EXPECT_EQ(b.master_cf[0].type, "inet");
  EXPECT_EQ(b.master_cf[0].command, std::nullopt);
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_EQ(b.verify[0].service, "smtp");
  EXPECT_EQ(b.verify[0].starttls, StartTls::kRequired);
}

TEST(BaselineLoaderTest, AcceptsEmptyOptionalSections) {
  const Baseline b = loadOk(
      "name: empty-sections\nversion: '1'\ndescription:\n"
      "main.cf:\n  set:\n  remove:\nmaster.cf:\nverify:\n");
  EXPECT_EQ(b.description, "");
  EXPECT_THAT(b.main_cf_set, IsEmpty());
  EXPECT_THAT(b.main_cf_remove, IsEmpty());
  EXPECT_THAT(b.master_cf, IsEmpty());
  EXPECT_THAT(b.verify, IsEmpty());
}

TEST(BaselineLoaderTest, AllowsTheSameServiceWithDifferentTypes) {
  const Baseline b = loadOk(
      "name: types\nversion: '1'\nmaster.cf:\n"
      "  - service: smtp\n    type: inet\n"
      "  - service: smtp\n    type: unix\n");
  EXPECT_EQ(b.master_cf.size(), 2u);
}

TEST(BaselineLoaderTest, AuthRequirementCanBeLimitedToListenersWithSasl) {
  const Baseline b = loadOk(
      "name: v\nversion: '1'\nverify:\n"
      "  - require_auth_after_tls: [PLAIN]\n    require_auth_after_tls_where: sasl_enabled\n");
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_TRUE(b.verify[0].require_auth_only_where_sasl_enabled);
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n"
                        "  - require_auth_after_tls: [PLAIN]\n"
                        "    require_auth_after_tls_where: always\n"),
              HasSubstr("test.yaml:5:35: 'require_auth_after_tls_where' must be sasl_enabled"));
}

TEST(BaselineLoaderTest, RejectsWrongTypesInVerify) {
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n  - forbid_auth_before_tls: PLAIN\n"),
              HasSubstr("test.yaml:4:29: forbid_auth_before_tls must be a list of SASL "
                        "mechanisms such as [PLAIN, LOGIN], or \"*\" for any, not the text "
                        "'PLAIN'"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n  - require_auth_after_tls: '*'\n"),
              HasSubstr("test.yaml:4:29: require_auth_after_tls must be a list"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n  - require_auth_after_tls: ['*']\n"),
              HasSubstr("only meaningful in forbid_auth_before_tls"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n"
                        "  - require_auth_after_tls: [PLAIN, PLAIN]\n"),
              HasSubstr("test.yaml:4:37: mechanism 'PLAIN' is listed twice"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n  - certificate_name: ''\n"),
              HasSubstr("test.yaml:4:23: 'certificate_name' must not be empty"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify: {service: smtp}\n"),
              HasSubstr("test.yaml:3:9: verify must be a list"));
  EXPECT_THAT(loadError("name: v\nversion: '1'\nverify:\n  - smtp\n"),
              HasSubstr("test.yaml:4:5: verify entry must be a map"));
}

TEST(BaselineLoaderTest, RejectsWrongTypesInMasterCf) {
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf: {submission: {}}\n"),
              HasSubstr("test.yaml:3:12: master.cf must be a list of services"));
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf:\n  - service: [a, b]\n"),
              HasSubstr("test.yaml:4:14: 'service' must be text, not a list"));
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf:\n  - service: s\n    type:\n"),
              HasSubstr("test.yaml:5:5: 'type' has no value"));
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf:\n  - service: s\n    remove: x\n"),
              HasSubstr("test.yaml:5:13: 'remove' in master.cf entry must be a list of "
                        "parameter names, not text"));
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf:\n  - service: s\n"
                        "    set: {a: 1}\n    remove: [a]\n"),
              HasSubstr("test.yaml:6:14: parameter 'a' is both set (at 5:11) and removed in "
                        "master.cf service 's'"));
  EXPECT_THAT(loadError("name: m\nversion: '1'\nmaster.cf:\n  - service: s\n    set: [a]\n"),
              HasSubstr("test.yaml:5:10: 'set' in master.cf entry must be a map"));
}

TEST(BaselineLoaderTest, RejectsNonTextKeysAndMissingVersion) {
  EXPECT_THAT(loadError("name: k\nversion: '1'\n[a, b]: c\n"),
              HasSubstr("test.yaml:3:1: keys in the policy must be text, not a list"));
  EXPECT_THAT(loadError("name: k\nversion: '1'\nmain.cf:\n  set:\n    [a]: b\n"),
              HasSubstr("test.yaml:5:5: parameter names in main.cf must be text"));
  EXPECT_THAT(loadError("name: k\n"), HasSubstr("test.yaml:1:1: missing required key 'version'"));
  EXPECT_THAT(loadError("name: '-k'\nversion: '1'\n"), HasSubstr("must match"));
  EXPECT_THAT(loadError("name: ''\nversion: '1'\n"), HasSubstr("'name' must not be empty"));
  EXPECT_THAT(loadError("just text\n"), HasSubstr("test.yaml:1:1: the policy must be a map"));
  EXPECT_THAT(loadError("# only a comment\n"), HasSubstr("test.yaml:1:1: empty policy"));
}

TEST(BaselineLoaderTest, ErrorsAlwaysStartWithFileLineColumn) {
  const char* inputs[] = {
      "{",
      "name: [",
      "\t",
      "name: x\nversion: 1\nextra: 1\n",
      "- 1\n- 2\n",
      "!!binary x",
      "&a [*a]",
      "name: x\nversion: 1\nmain.cf: *undefined\n",
      "%YAML 9.9\n---\nname: x\n",
  };
  for (const char* input : inputs) {
    auto result = loadBaseline(input, "dir/p.yaml");
    ASSERT_FALSE(result.ok()) << input;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << input;
    EXPECT_THAT(result.status().message(), MatchesRegex("dir/p\\.yaml:[0-9]+:[0-9]+: .*")) << input;
  }
}

TEST(BaselineLoaderTest, SurvivesHostileInput) {
  // Deep nesting, binary bytes and NULs must come back as errors, never as crashes or throws.
  const std::string deep_flow(100000, '[');
  std::string deep_block;
  for (int i = 0; i < 5000; ++i) deep_block += "- ";
  deep_block += "x\n";
  const std::string binary("name: \x01\x02\xff\xfe\0version: 1\n", 22);
  for (const std::string& input : {deep_flow, deep_block, binary}) {
    auto result = loadBaseline(input, "hostile.yaml");
    EXPECT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(BaselineLoaderTest, RejectsOversizedInput) {
  std::string big = "name: big\nversion: '1'\ndescription: |\n";
  while (big.size() <= (1u << 20)) big += "  " + std::string(78, 'x') + "\n";
  EXPECT_THAT(loadError(big), HasSubstr("test.yaml:1:1: policy is "));
}

TEST(BaselineLoaderTest, AliasesDoNotBypassDuplicateChecks) {
  EXPECT_THAT(loadError("name: a\nversion: '1'\nverify:\n  - &v {service: smtp}\n  - *v\n"),
              HasSubstr("duplicate verify entry for service 'smtp'"));
}

}  // namespace
}  // namespace postwarden::agent::policy
