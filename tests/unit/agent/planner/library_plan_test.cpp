// Plans of the scanner-finding baselines: the installed Postfix version (mail_version in the
// catalog, as `postconf -d` reports it) picks a parameter's alternative or rules a baseline
// out, and `if_exists` services are governed where the host has them and noted where not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/planner/planner.h"
#include "agent/policy/baseline_loader.h"

namespace postwarden::agent::planner {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* kMain =
    "smtpd_tls_cert_file = /etc/ssl/mail.pem\n"
    "smtpd_tls_key_file = /etc/ssl/mail.key\n"
    "smtpd_tls_security_level = may\n";

const char* kMasterSmtpOnly =
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n";

policy::Baseline shipped(const std::string& relative) {
  std::ifstream in(std::filesystem::path(POSTWARDEN_SOURCE_DIR) / relative);
  std::stringstream text;
  text << in.rdbuf();
  auto loaded = policy::loadBaseline(text.str(), relative);
  EXPECT_TRUE(loaded.ok()) << loaded.status().toString();
  return loaded.ok() ? *loaded : policy::Baseline{};
}

// The built-in catalog as `postconf -d` of Postfix `version` would give it.
params::ParameterCatalog catalogOf(const std::string& version) {
  const params::ParameterCatalog builtin = params::ParameterCatalog::builtin();
  std::string text;
  for (std::string_view name : builtin.names()) {
    text += std::string(name) + " = " +
            (name == "mail_version" ? version : builtin.defaultValue(name).value_or("")) + "\n";
  }
  auto catalog = params::ParameterCatalog::fromPostconfDefaults(text);
  EXPECT_TRUE(catalog.ok()) << catalog.status().toString();
  return catalog.ok() ? *catalog : builtin;
}

std::string afterValue(const Plan& plan, std::string_view parameter) {
  for (const Change& c : plan.changes) {
    if (!c.inMasterCf() && c.parameter == parameter) return c.after.value_or("<removed>");
  }
  return "<unchanged>";
}

TEST(LibraryPlanTest, InstalledVersionPicksTheProtocolSyntax) {
  const policy::Baseline b = shipped("policies/tls-protocols.yaml");
  auto old = makePlan(b, {kMain, kMasterSmtpOnly}, catalogOf("3.5.6"));
  ASSERT_TRUE(old.ok()) << old.status().toString();
  EXPECT_EQ(afterValue(*old, "smtpd_tls_protocols"), "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1");
  auto current = makePlan(b, {kMain, kMasterSmtpOnly}, catalogOf("3.7.11"));
  ASSERT_TRUE(current.ok()) << current.status().toString();
  EXPECT_EQ(afterValue(*current, "smtpd_tls_protocols"), ">=TLSv1.2");
  EXPECT_EQ(afterValue(*current, "smtpd_tls_mandatory_protocols"), ">=TLSv1.2");
  EXPECT_THAT(current->applicability,
              Contains(HasSubstr("smtpd_tls_protocols = >=TLSv1.2 (policies/tls-protocols.yaml:")));
}

TEST(LibraryPlanTest, MissingSubmissionServicesAreNotedNotRefused) {
  auto plan = makePlan(shipped("policies/tls-protocols.yaml"), {kMain, kMasterSmtpOnly},
                       catalogOf("3.7.11"));
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_THAT(plan->applicability,
              Contains(HasSubstr("master.cf: the entry for 'submission' (policies/"
                                 "tls-protocols.yaml:")));
  EXPECT_THAT(plan->applicability,
              Contains(HasSubstr("does not apply to this host: master.cf has no inet service "
                                 "playing that role (if_exists: yes)")));
  for (const Change& c : plan->changes) EXPECT_FALSE(c.inMasterCf()) << c.describe();
}

TEST(LibraryPlanTest, AWeakOverrideOnAnExistingSubmissionPortIsRemoved) {
  const std::string master = std::string(kMasterSmtpOnly) +
                             "submission inet n       -       y       -       -       smtpd\n"
                             "  -o smtpd_tls_security_level=encrypt\n"
                             "  -o smtpd_tls_mandatory_protocols=>=TLSv1\n";
  auto plan =
      makePlan(shipped("policies/tls-protocols.yaml"), {kMain, master}, catalogOf("3.7.11"));
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  bool removed = false;
  for (const Change& c : plan->changes) {
    if (c.kind == ChangeKind::kRemoveServiceOption &&
        c.parameter == "smtpd_tls_mandatory_protocols") {
      removed = true;
      EXPECT_EQ(c.service->name, "submission");
    }
  }
  EXPECT_TRUE(removed) << plan->master_cf_after;
  EXPECT_THAT(plan->master_cf_after, ::testing::Not(HasSubstr(">=TLSv1\n")));
  EXPECT_THAT(plan->master_cf_after, HasSubstr("smtpd_tls_security_level=encrypt"));
}

TEST(LibraryPlanTest, SmugglingOnAVersionWithoutTheParameterLeavesItAndSaysWhy) {
  const policy::Baseline b = shipped("policies/smtp-smuggling.yaml");
  auto old = makePlan(b, {kMain, kMasterSmtpOnly}, catalogOf("3.7.5"));
  ASSERT_TRUE(old.ok()) << old.status().toString();
  EXPECT_EQ(afterValue(*old, "smtpd_forbid_bare_newline"), "<unchanged>");
  EXPECT_EQ(afterValue(*old, "smtpd_forbid_unauth_pipelining"), "<unchanged>");
  EXPECT_EQ(afterValue(*old, "smtpd_helo_required"), "yes");
  EXPECT_THAT(old->applicability,
              Contains(HasSubstr("smtpd_forbid_bare_newline does not apply to this host")));
  auto patched = makePlan(b, {kMain, kMasterSmtpOnly}, catalogOf("3.7.9"));
  ASSERT_TRUE(patched.ok()) << patched.status().toString();
  EXPECT_EQ(afterValue(*patched, "smtpd_forbid_bare_newline"), "yes");
  auto current = makePlan(b, {kMain, kMasterSmtpOnly}, catalogOf("3.7.11"));
  ASSERT_TRUE(current.ok()) << current.status().toString();
  EXPECT_EQ(afterValue(*current, "smtpd_forbid_bare_newline"), "normalize");
}

TEST(LibraryPlanTest, ABaselineForALaterPostfixPlansNothingAndSaysWhy) {
  auto loaded = policy::loadBaseline(
      "name: later\nversion: \"1\"\npostfix_version: \">= 3.9\"\n"
      "main.cf:\n  set:\n    smtpd_helo_required: \"yes\"\n",
      "later.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  auto plan = makePlan(*loaded, {kMain, kMasterSmtpOnly}, catalogOf("3.7.11"));
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant());
  EXPECT_EQ(plan->main_cf_after, kMain);
  EXPECT_EQ(plan->master_cf_after, kMasterSmtpOnly);
  EXPECT_THAT(plan->applicability,
              ::testing::ElementsAre("baseline 'later' does not apply to this host: it needs "
                                     "Postfix >= 3.9 (later.yaml:3:18); this host runs Postfix "
                                     "3.7.11"));
  auto applies = makePlan(*loaded, {kMain, kMasterSmtpOnly}, catalogOf("3.9.1"));
  ASSERT_TRUE(applies.ok());
  EXPECT_FALSE(applies->compliant());
  EXPECT_THAT(applies->applicability, IsEmpty());
}

}  // namespace
}  // namespace postwarden::agent::planner
