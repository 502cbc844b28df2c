// The policies shipped in policies/ and the good examples in tests/data/policies must load and
// validate without a single error or warning, and must say what their documentation promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "agent/policy/baseline_loader.h"
#include "agent/policy/baseline_validator.h"
#include "tests/unit/agent/policy/policy_test_files.h"

namespace postwarden::agent::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Baseline loadShipped(const std::string& relative) {
  auto loaded = loadBaseline(test::readFile(test::sourcePath(relative)), relative);
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  return loaded.ok() ? *loaded : Baseline{};
}

std::string all(const std::vector<Finding>& findings) {
  std::string out;
  for (const Finding& f : findings) out += f.toString() + "\n";
  return out;
}

const Setting* find(const std::vector<Setting>& settings, std::string_view name) {
  for (const Setting& s : settings) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string valueOf(const std::vector<Setting>& settings, std::string_view name) {
  const Setting* s = find(settings, name);
  return s != nullptr ? s->value : "<unset>";
}

TEST(ShippedPoliciesTest, AllLoadAndValidateWithoutFindings) {
  const auto catalog = params::ParameterCatalog::builtin();
  std::vector<std::filesystem::path> files = {test::sourcePath("policies/smtp-auth-hardening.yaml"),
                                              test::sourcePath("policies/submission-587.yaml")};
  for (const auto& entry :
       std::filesystem::directory_iterator(test::sourcePath("tests/data/policies"))) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".yaml") && !name.ends_with(".bad.yaml")) files.push_back(entry.path());
  }
  ASSERT_GE(files.size(), 4u);
  for (const auto& file : files) {
    auto loaded = loadBaseline(test::readFile(file), file.filename().string());
    ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
    EXPECT_THAT(validateBaseline(*loaded, catalog), IsEmpty())
        << file << ":\n"
        << all(validateBaseline(*loaded, catalog));
  }
}

TEST(ShippedPoliciesTest, SmtpAuthHardeningIsTheNessus54582Remediation) {
  const Baseline b = loadShipped("policies/smtp-auth-hardening.yaml");
  EXPECT_EQ(b.name, "smtp-auth-hardening");
  EXPECT_EQ(valueOf(b.main_cf_set, "smtpd_tls_auth_only"), "yes");
  EXPECT_EQ(valueOf(b.main_cf_set, "smtpd_sasl_security_options"), "noanonymous, noplaintext");
  // Explicit, or it would copy noplaintext and lock clients out inside TLS.
  EXPECT_EQ(valueOf(b.main_cf_set, "smtpd_sasl_tls_security_options"), "noanonymous");
  // Opportunistic on port 25 (RFC 3207), never encrypt.
  EXPECT_EQ(valueOf(b.main_cf_set, "smtpd_tls_security_level"), "may");
  // Certificate paths are per host.
  for (const char* name : {"smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_tls_chain_files"}) {
    EXPECT_EQ(find(b.main_cf_set, name), nullptr) << name;
  }
  EXPECT_THAT(b.master_cf, IsEmpty());
  ASSERT_EQ(b.verify.size(), 1u);
  EXPECT_EQ(b.verify[0].service, "smtp");
  EXPECT_EQ(b.verify[0].starttls, StartTls::kRequired);
  EXPECT_THAT(b.verify[0].forbid_auth_before_tls, ElementsAre("*"));
  EXPECT_THAT(b.verify[0].require_auth_after_tls, ElementsAre("PLAIN", "LOGIN"));
}

TEST(ShippedPoliciesTest, Submission587MovesAuthToPort587) {
  const Baseline b = loadShipped("policies/submission-587.yaml");
  EXPECT_EQ(b.name, "submission-587");
  EXPECT_EQ(valueOf(b.main_cf_set, "smtpd_sasl_auth_enable"), "no");
  ASSERT_EQ(b.master_cf.size(), 1u);
  const ServiceOverride& sub = b.master_cf[0];
  EXPECT_EQ(sub.service, "submission");
  EXPECT_EQ(sub.type, "inet");
  EXPECT_EQ(sub.command, "smtpd");
  EXPECT_EQ(valueOf(sub.options, "smtpd_tls_security_level"), "encrypt");
  EXPECT_EQ(valueOf(sub.options, "smtpd_sasl_auth_enable"), "yes");
  EXPECT_EQ(valueOf(sub.options, "smtpd_tls_auth_only"), "yes");
  // master.cf -o values carry no blanks.
  for (const Setting& s : sub.options) {
    EXPECT_EQ(s.value.find(' '), std::string::npos) << s.name;
  }
  ASSERT_EQ(b.verify.size(), 2u);
  EXPECT_EQ(b.verify[0].service, "smtp");
  EXPECT_THAT(b.verify[0].forbid_auth_before_tls, ElementsAre("*"));
  EXPECT_THAT(b.verify[0].require_auth_after_tls, IsEmpty());
  EXPECT_EQ(b.verify[1].service, "submission");
  EXPECT_EQ(b.verify[1].starttls, StartTls::kRequired);
  EXPECT_THAT(b.verify[1].require_auth_after_tls, ElementsAre("PLAIN", "LOGIN"));
}

TEST(ShippedPoliciesTest, DocumentationExamplesLoadAndValidateWithoutFindings) {
  // Every ```yaml block of docs/baselines.md is a complete baseline; keep them honest.
  const std::string doc = test::readFile(test::sourcePath("docs/baselines.md"));
  ASSERT_FALSE(doc.empty());
  const auto catalog = params::ParameterCatalog::builtin();
  int blocks = 0;
  size_t pos = 0;
  while ((pos = doc.find("```yaml\n", pos)) != std::string::npos) {
    const size_t start = pos + 8;
    const size_t end = doc.find("```", start);
    ASSERT_NE(end, std::string::npos);
    const std::string block = doc.substr(start, end - start);
    pos = end + 3;
    ++blocks;
    auto loaded = loadBaseline(block, "docs/baselines.md#" + std::to_string(blocks));
    ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
    EXPECT_THAT(validateBaseline(*loaded, catalog), IsEmpty())
        << all(validateBaseline(*loaded, catalog));
  }
  EXPECT_EQ(blocks, 4);
}

TEST(ShippedPoliciesTest, DocumentationShowsTheShippedSettings) {
  // The abbreviated copies in the documentation must say what the shipped files say.
  const std::string doc = test::readFile(test::sourcePath("docs/baselines.md"));
  for (const char* file : {"policies/smtp-auth-hardening.yaml", "policies/submission-587.yaml"}) {
    const Baseline shipped = loadShipped(file);
    const std::string header = std::string("name: ") + shipped.name + "\n";
    const size_t start = doc.find(header);
    ASSERT_NE(start, std::string::npos) << file;
    const size_t end = doc.find("```", start);
    auto documented = loadBaseline(doc.substr(start, end - start), "docs/baselines.md");
    ASSERT_TRUE(documented.ok()) << documented.status().toString();
    EXPECT_EQ(documented->version, shipped.version);
    EXPECT_EQ(documented->description, shipped.description);
    auto same = [](const std::vector<Setting>& a, const std::vector<Setting>& b) {
      return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                        [](const Setting& x, const Setting& y) {
                          return x.name == y.name && x.value == y.value;
                        });
    };
    EXPECT_TRUE(same(documented->main_cf_set, shipped.main_cf_set)) << file;
    ASSERT_EQ(documented->master_cf.size(), shipped.master_cf.size()) << file;
    for (size_t i = 0; i < shipped.master_cf.size(); ++i) {
      EXPECT_EQ(documented->master_cf[i].service, shipped.master_cf[i].service);
      EXPECT_EQ(documented->master_cf[i].command, shipped.master_cf[i].command);
      EXPECT_TRUE(same(documented->master_cf[i].options, shipped.master_cf[i].options)) << file;
    }
    ASSERT_EQ(documented->verify.size(), shipped.verify.size()) << file;
    for (size_t i = 0; i < shipped.verify.size(); ++i) {
      EXPECT_EQ(documented->verify[i].service, shipped.verify[i].service);
      EXPECT_EQ(documented->verify[i].starttls, shipped.verify[i].starttls);
      EXPECT_EQ(documented->verify[i].forbid_auth_before_tls,
                shipped.verify[i].forbid_auth_before_tls);
      EXPECT_EQ(documented->verify[i].require_auth_after_tls,
                shipped.verify[i].require_auth_after_tls);
    }
  }
}

}  // namespace
}  // namespace postwarden::agent::policy
