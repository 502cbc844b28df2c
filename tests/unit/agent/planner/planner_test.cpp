#include "agent/planner/planner.h"

#include <gtest/gtest.h>

#include "agent/postfix/main_cf_document.h"

namespace postwarden::agent::planner {
namespace {

using policy::Baseline;

const char* kMaster =
    "# service type private unpriv chroot wakeup maxproc command\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "smtp      unix  -       -       y       -       -       smtp\n";

const char* kCertMain =
    "smtpd_tls_cert_file = /etc/ssl/mail.pem\n"
    "smtpd_tls_key_file = /etc/ssl/mail.key\n"
    "smtpd_sasl_auth_enable = yes\n";

Baseline hardening() {
  Baseline b;
  b.name = "smtp-auth-hardening";
  b.version = "1";
  b.source_file = "hardening.yaml";
  b.main_cf_set = {{"smtpd_tls_auth_only", "yes", {}},
                   {"smtpd_sasl_security_options", "noanonymous, noplaintext", {}},
                   {"smtpd_sasl_tls_security_options", "noanonymous", {}},
                   {"smtpd_tls_security_level", "may", {}}};
  return b;
}

Result<Plan> planFor(const Baseline& b, std::string main_cf, std::string master_cf = kMaster,
                     PlanOptions options = {}) {
  return makePlan(b, {std::move(main_cf), std::move(master_cf)},
                  params::ParameterCatalog::builtin(), options);
}

TEST(PlannerTest, NonCompliantHostGetsOneChangePerSetting) {
  Result<Plan> plan = planFor(hardening(), kCertMain);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 4u);
  EXPECT_EQ(plan->changes[0].parameter, "smtpd_tls_auth_only");
  EXPECT_FALSE(plan->changes[0].before.has_value());
  EXPECT_EQ(plan->changes[0].after, "yes");
  EXPECT_EQ(plan->applyMode(), params::ApplyMode::kReload);
  postfix::MainCfDocument after = postfix::MainCfDocument::parse(plan->main_cf_after);
  EXPECT_EQ(after.get("smtpd_tls_auth_only"), "yes");
  EXPECT_EQ(after.get("smtpd_tls_security_level"), "may");
  EXPECT_EQ(plan->master_cf_after, plan->master_cf_before);
}

TEST(PlannerTest, PlanIsDeterministic) {
  Result<Plan> a = planFor(hardening(), kCertMain);
  Result<Plan> b = planFor(hardening(), kCertMain);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->main_cf_after, b->main_cf_after);
  ASSERT_EQ(a->changes.size(), b->changes.size());
  for (size_t i = 0; i < a->changes.size(); ++i) {
    EXPECT_EQ(a->changes[i].describe(), b->changes[i].describe());
  }
}

TEST(PlannerTest, CompliantHostHasNoChangesAndSameBytes) {
  Result<Plan> first = planFor(hardening(), kCertMain);
  ASSERT_TRUE(first.ok());
  Result<Plan> second = planFor(hardening(), first->main_cf_after);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_TRUE(second->compliant());
  EXPECT_EQ(second->main_cf_after, first->main_cf_after);
}

TEST(PlannerTest, EquivalentListSpellingIsCompliant) {
  std::string main_cf = std::string(kCertMain) +
                        "smtpd_tls_auth_only = yes\n"
                        "smtpd_sasl_security_options = noanonymous,noplaintext\n"
                        "smtpd_sasl_tls_security_options = noanonymous\n"
                        "smtpd_tls_security_level = may\n";
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant());
}

TEST(PlannerTest, ServiceOverrideOnSmtpMakesHostNonCompliant) {
  Baseline b = hardening();
  b.master_cf.push_back({.service = "smtp", .options = {{"smtpd_tls_auth_only", "yes", {}}}});
  std::string master = std::string(kMaster) + "";
  master.replace(master.find("smtpd\n"), 6, "smtpd\n  -o smtpd_tls_auth_only=no\n");
  Result<Plan> plan = planFor(b, kCertMain, master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_FALSE(plan->changes.empty());
  const Change& last = plan->changes.back();
  EXPECT_EQ(last.kind, ChangeKind::kSetServiceOption);
  EXPECT_EQ(last.before, "no");
  EXPECT_EQ(last.after, "yes");
  EXPECT_NE(plan->master_cf_after.find("smtpd_tls_auth_only=yes"), std::string::npos);
}

TEST(PlannerTest, RoleResolvesNonStandardPortThroughOptions) {
  std::string master = "127.0.0.1:2525 inet n - n - - smtpd\n";
  PlanOptions options;
  options.role_ports.emplace("smtp", "2525");
  postfix::MasterCfDocument doc = postfix::MasterCfDocument::parse(master);
  EXPECT_TRUE(resolveServices(doc, "smtp", "inet", {}).empty());
  std::vector<postfix::ServiceKey> keys = resolveServices(doc, "smtp", "inet", options);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].name, "127.0.0.1:2525");
}

TEST(PlannerTest, EncryptOnPort25IsRefused) {
  Baseline b = hardening();
  b.main_cf_set[3].value = "encrypt";
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("RFC 3207"), std::string::npos);
}

TEST(PlannerTest, EncryptOnSubmissionIsAllowed) {
  Baseline b;
  b.name = "submission";
  b.version = "1";
  b.master_cf.push_back({.service = "submission",
                         .command = "smtpd",
                         .options = {{"smtpd_tls_security_level", "encrypt", {}}}});
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 2u);
  EXPECT_EQ(plan->changes[0].kind, ChangeKind::kAddService);
  EXPECT_EQ(plan->applyMode(), params::ApplyMode::kRestart);
  postfix::MasterCfDocument after = postfix::MasterCfDocument::parse(plan->master_cf_after);
  EXPECT_EQ(after.option({"submission", "inet"}, "smtpd_tls_security_level"), "encrypt");
}

TEST(PlannerTest, MissingServiceWithoutCommandIsRefused) {
  Baseline b;
  b.name = "submission";
  b.version = "1";
  b.master_cf.push_back(
      {.service = "submission", .options = {{"smtpd_tls_security_level", "encrypt", {}}}});
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
}

TEST(PlannerTest, NoplaintextWithoutTlsOptionsIsRefused) {
  Baseline b = hardening();
  b.main_cf_set.erase(b.main_cf_set.begin() + 2);  // drop smtpd_sasl_tls_security_options
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("smtpd_sasl_tls_security_options"), std::string::npos);
}

TEST(PlannerTest, InvalidSaslOptionIsRefusedBeforeAnyPlan) {
  Baseline b = hardening();
  b.main_cf_set[1].value = "noanonymous, noplaintxt";
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("noplaintxt"), std::string::npos);
}

TEST(PlannerTest, TlsMaterialFollowsKeyFileDefault) {
  std::string main_cf = "smtpd_tls_cert_file = /etc/ssl/combined.pem\n";
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->tls_material.size(), 1u);
  EXPECT_EQ(plan->tls_material[0].cert_file, "/etc/ssl/combined.pem");
  // smtpd_tls_key_file defaults to $smtpd_tls_cert_file.
  EXPECT_EQ(plan->tls_material[0].key_file, "/etc/ssl/combined.pem");
}

TEST(PlannerTest, DuplicateDefinitionIsReportedAndCollapsed) {
  std::string main_cf = std::string(kCertMain) +
                        "smtpd_tls_auth_only = no\n"
                        "smtpd_tls_auth_only = no\n";
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  postfix::MainCfDocument after = postfix::MainCfDocument::parse(plan->main_cf_after);
  EXPECT_TRUE(after.duplicateNames().empty());
  EXPECT_EQ(after.get("smtpd_tls_auth_only"), "yes");
  EXPECT_FALSE(plan->warnings.empty());
}

TEST(PlannerTest, RemovalOfAbsentParameterIsNoChange) {
  Baseline b;
  b.name = "x";
  b.version = "1";
  b.main_cf_remove = {{"smtpd_tls_auth_only", {}}};
  Result<Plan> plan = planFor(b, kCertMain);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant());
}

TEST(PlannerTest, RestartOnlyParameterMakesPlanNeedRestart) {
  Baseline b;
  b.name = "x";
  b.version = "1";
  b.main_cf_set = {{"inet_interfaces", "127.0.0.2", {}}};
  Result<Plan> plan = planFor(b, "inet_interfaces = 127.0.0.1\n");
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_EQ(plan->applyMode(), params::ApplyMode::kRestart);
}

}  // namespace
}  // namespace postwarden::agent::planner
