#include "agent/planner/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

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

// kCertMain plus the hardening values (lines 4-7, smtpd_tls_auth_only on line 4), optionally
// without the smtpd_tls_auth_only line.
std::string compliantMainText(bool without_auth_only = false) {
  return std::string(kCertMain) + (without_auth_only ? "" : "smtpd_tls_auth_only = yes\n") +
         "smtpd_sasl_security_options = noanonymous, noplaintext\n"
         "smtpd_sasl_tls_security_options = noanonymous\n"
         "smtpd_tls_security_level = may\n";
}

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

// Several main.cf entries of a parameter the baseline governs: the edit leaves one, the last
// (the one Postfix uses) rewritten, and the plan line says which lines go. With maillog_file a
// burst of "overriding earlier entry" warnings at start-up can wedge postlogd.
TEST(PlannerTest, ChangedParameterWithDuplicatesLeavesOneEntryAndThePlanSaysSo) {
  const std::string main_cf = std::string(kCertMain) +       // lines 1-3
                              "smtpd_tls_auth_only = yes\n"  // 4
                              "mynetworks = 127.0.0.0/8\n"   // 5
                              "smtpd_tls_auth_only = no\n";  // 6
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_FALSE(plan->changes.empty());
  const Change& c = plan->changes[0];
  EXPECT_EQ(c.parameter, "smtpd_tls_auth_only");
  EXPECT_EQ(c.before, "no");
  EXPECT_EQ(c.after, "yes");
  EXPECT_EQ(c.removed_main_cf_lines, std::vector<int>{4});
  EXPECT_EQ(c.describe(),
            "main.cf: smtpd_tls_auth_only: no -> yes (defined 2 times: the last entry "
            "rewritten, the earlier one at line 4 removed)");
  const postfix::MainCfDocument after = postfix::MainCfDocument::parse(plan->main_cf_after);
  EXPECT_THAT(after.duplicateNames(), ::testing::IsEmpty());
  EXPECT_EQ(plan->main_cf_after.find("smtpd_tls_auth_only = yes\nmynetworks"), std::string::npos)
      << plan->main_cf_after;
  EXPECT_NE(plan->main_cf_after.find("mynetworks = 127.0.0.0/8\nsmtpd_tls_auth_only = yes\n"),
            std::string::npos)
      << plan->main_cf_after;

  Result<Plan> second = planFor(hardening(), plan->main_cf_after);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_TRUE(second->compliant());
  EXPECT_THAT(second->warnings, ::testing::IsEmpty());
}

TEST(PlannerTest, KeptParameterWithDuplicatesIsCollapsedToItsLastEntry) {
  // The value in effect (the last) already agrees: still one change, which keeps that entry
  // byte for byte and removes the earlier ones.
  const std::string main_cf =
      "smtpd_tls_auth_only = no\n" + compliantMainText() + "smtpd_tls_auth_only=yes\n";
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 1u);
  const Change& c = plan->changes[0];
  EXPECT_EQ(c.kind, ChangeKind::kSetMain);
  EXPECT_EQ(c.parameter, "smtpd_tls_auth_only");
  EXPECT_EQ(c.before, "yes");
  EXPECT_EQ(c.after, "yes");
  EXPECT_EQ(c.mode, params::ApplyMode::kReload);
  EXPECT_EQ(c.removed_main_cf_lines, (std::vector<int>{1, 5}));
  EXPECT_EQ(c.describe(),
            "main.cf: smtpd_tls_auth_only: yes (unchanged; defined 3 times: the last entry "
            "kept, the earlier ones at lines 1, 5 removed)");
  EXPECT_EQ(plan->main_cf_after,
            compliantMainText(/*without_auth_only=*/true) + "smtpd_tls_auth_only=yes\n");
  EXPECT_TRUE(plan->also_affected.empty());

  Result<Plan> second = planFor(hardening(), plan->main_cf_after);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_TRUE(second->compliant());
}

TEST(PlannerTest, DuplicateOfAnUngovernedParameterIsWarnedWithLinesAndKept) {
  const std::string main_cf =
      "mynetworks = 10.0.0.0/8\n" + compliantMainText() + "mynetworks = 127.0.0.0/8\n";
  Result<Plan> plan = planFor(hardening(), main_cf);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant());
  EXPECT_EQ(plan->main_cf_after, main_cf);
  EXPECT_THAT(plan->warnings,
              ::testing::ElementsAre("main.cf:1: 'mynetworks' is defined 2 times (lines 1, 9); "
                                     "Postfix uses the last, '127.0.0.0/8', and warns "
                                     "\"overriding earlier entry\" for the others"));
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

// ---- Effective values per listener --------------------------------------------------------

// Debian's own master.cf, read from the installed postfix package (never copied into the repo).
std::string debianMasterCf() {
  for (const char* path : {"/usr/share/postfix/master.cf.dist", "/etc/postfix/master.cf.proto",
                           "/usr/share/postfix/master.cf.proto"}) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }
  ADD_FAILURE() << "no master.cf.dist from the postfix package; run script/bootstrap";
  return {};
}

// `text` with `inserted` put right after the first line that starts with `line_prefix`.
std::string insertAfterLine(std::string text, const std::string& line_prefix,
                            const std::string& inserted) {
  size_t start = 0;
  while (start < text.size() && text.compare(start, line_prefix.size(), line_prefix) != 0) {
    size_t nl = text.find('\n', start);
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  EXPECT_LT(start, text.size()) << "no line starts with " << line_prefix;
  if (start >= text.size()) return text;
  const size_t end = text.find('\n', start);
  text.insert(end == std::string::npos ? text.size() : end + 1, inserted);
  return text;
}

// The hardened main.cf, so that only master.cf differs.
std::string compliantMain() {
  return std::string(kCertMain) +
         "smtpd_tls_auth_only = yes\n"
         "smtpd_sasl_security_options = noanonymous, noplaintext\n"
         "smtpd_sasl_tls_security_options = noanonymous\n"
         "smtpd_tls_security_level = may\n";
}

std::vector<const Change*> removals(const Plan& plan) {
  std::vector<const Change*> out;
  for (const Change& c : plan.changes) {
    if (c.kind == ChangeKind::kRemoveServiceOption) out.push_back(&c);
  }
  return out;
}

// Plans, expects exactly one removal of `parameter` on `service` at master.cf `line`, checks that
// master.cf_after equals `expected_master_after`, and that a second plan over the result is clean.
void expectOverrideRemoved(const std::string& main_cf, const std::string& master_cf,
                           const postfix::ServiceKey& service, int line,
                           const std::string& expected_master_after, PlanOptions options = {},
                           const std::string& parameter = "smtpd_tls_auth_only") {
  Result<Plan> plan = planFor(hardening(), main_cf, master_cf, options);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_FALSE(plan->compliant());
  std::vector<const Change*> removed = removals(*plan);
  ASSERT_EQ(removed.size(), 1u) << plan->master_cf_after;
  EXPECT_EQ(removed[0]->service, service);
  EXPECT_EQ(removed[0]->parameter, parameter);
  EXPECT_EQ(removed[0]->master_cf_line, line);
  const std::string text = removed[0]->describe();
  EXPECT_NE(text.find(service.toString()), std::string::npos) << text;
  EXPECT_NE(text.find("master.cf line " + std::to_string(line)), std::string::npos) << text;
  EXPECT_EQ(plan->master_cf_after, expected_master_after);

  postfix::MasterCfDocument after = postfix::MasterCfDocument::parse(plan->master_cf_after);
  EXPECT_EQ(after.option(service, parameter), std::nullopt);

  Result<Plan> second = planFor(hardening(), plan->main_cf_after, plan->master_cf_after, options);
  ASSERT_TRUE(second.ok()) << second.status().toString();
  EXPECT_TRUE(second->compliant())
      << (second->changes.empty() ? "" : second->changes[0].describe());
}

TEST(PlannerListenerTest, DebianMasterCfOverrideOnSmtpIsRemoved) {
  const std::string debian = debianMasterCf();
  ASSERT_FALSE(debian.empty());
  const std::string master =
      insertAfterLine(debian, "smtp      inet", "  -o smtpd_tls_auth_only=no\n");
  ASSERT_NE(master, debian);
  const postfix::MasterCfDocument doc = postfix::MasterCfDocument::parse(master);
  const int line = doc.optionLine({"smtp", "inet"}, "smtpd_tls_auth_only");
  ASSERT_GT(line, 0);
  // main.cf already compliant: the override alone makes the host non-compliant, and removing
  // it gives back Debian's file byte for byte.
  expectOverrideRemoved(compliantMain(), master, {"smtp", "inet"}, line, debian);
  // And from the vulnerable main.cf too.
  expectOverrideRemoved(kCertMain, master, {"smtp", "inet"}, line, debian);
}

TEST(PlannerListenerTest, GovernedServicesOfDebianMasterCf) {
  const postfix::MasterCfDocument doc = postfix::MasterCfDocument::parse(debianMasterCf());
  std::vector<postfix::ServiceKey> keys =
      governedServices(postfix::MainCfDocument(), doc, hardening(), {});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0], (postfix::ServiceKey{"smtp", "inet"}));
}

TEST(PlannerListenerTest, PostscreenHandsOffToGovernedSmtpdPass) {
  const std::string clean =
      "smtp      inet  n       -       y       -       1       postscreen\n"
      "smtpd     pass  -       -       y       -       -       smtpd\n"
      "  -o syslog_name=postfix/smtpd\n"
      "dnsblog   unix  -       -       y       -       0       dnsblog\n"
      "tlsproxy  unix  -       -       y       -       0       tlsproxy\n"
      "smtp      unix  -       -       y       -       -       smtp\n";
  const std::string master =
      insertAfterLine(clean, "  -o syslog_name", "  -o smtpd_tls_auth_only=no\n");
  expectOverrideRemoved(kCertMain, master, {"smtpd", "pass"}, 4, clean);

  // postscreen's smtpd_service_name picks the pass service.
  const std::string renamed =
      "smtp      inet  n       -       y       -       1       postscreen\n"
      "  -o smtpd_service_name=smtpd-mx\n"
      "smtpd     pass  -       -       y       -       -       smtpd\n"
      "smtpd-mx  pass  -       -       y       -       -       smtpd\n";
  const std::string renamed_bad =
      insertAfterLine(renamed, "smtpd-mx  pass", "  -o smtpd_tls_auth_only=no\n");
  expectOverrideRemoved(kCertMain, renamed_bad, {"smtpd-mx", "pass"}, 5, renamed);
  EXPECT_EQ(governedServices(postfix::MainCfDocument(), postfix::MasterCfDocument::parse(renamed),
                             hardening(), {}),
            (std::vector<postfix::ServiceKey>{{"smtpd-mx", "pass"}}));
}

TEST(PlannerListenerTest, ServingSmtpdFollowsPostscreenToItsPassService) {
  const postfix::MasterCfDocument master = postfix::MasterCfDocument::parse(
      "127.0.0.1:2525 inet n - n - 1 postscreen\n"
      "smtpd pass - - n - - smtpd -o smtpd_sasl_auth_enable=no\n"
      "127.0.0.1:2526 inet n - n - 1 postscreen -o smtpd_service_name=mx\n"
      "mx pass - - n - - smtpd\n"
      "submission inet n - n - - smtpd\n"
      "127.0.0.1:2527 inet n - n - 1 postscreen -o smtpd_service_name=nowhere\n"
      "pickup unix n - n 60 1 pickup\n");
  const postfix::MainCfDocument main;
  using Key = postfix::ServiceKey;
  EXPECT_EQ(servingSmtpd(main, master, {"127.0.0.1:2525", "inet"}), (Key{"smtpd", "pass"}));
  EXPECT_EQ(servingSmtpd(main, master, {"127.0.0.1:2526", "inet"}), (Key{"mx", "pass"}));
  EXPECT_EQ(servingSmtpd(main, master, {"submission", "inet"}), (Key{"submission", "inet"}));
  EXPECT_EQ(servingSmtpd(main, master, {"127.0.0.1:2527", "inet"}), std::nullopt);
  EXPECT_EQ(servingSmtpd(main, master, {"pickup", "unix"}), std::nullopt);
  EXPECT_EQ(servingSmtpd(main, master, {"absent", "inet"}), std::nullopt);
  // main.cf's smtpd_service_name when the listener has no -o of its own.
  EXPECT_EQ(servingSmtpd(postfix::MainCfDocument::parse("smtpd_service_name = mx\n"), master,
                         {"127.0.0.1:2525", "inet"}),
            (Key{"mx", "pass"}));
}

TEST(PlannerListenerTest, AnSmtpdOverrideOfAPostscreenListenerGoesToItsPassService) {
  // postscreen does not hand its own -o options to smtpd: written on the listener, the
  // override would change nothing a client sees.
  Baseline b;
  b.name = "ps";
  b.version = "1";
  b.master_cf.push_back(
      {.service = "smtp", .command = "smtpd", .options = {{"smtpd_tls_auth_only", "yes", {}}}});
  const std::string master =
      "smtp inet n - y - 1 postscreen\n"
      "smtpd pass - - y - - smtpd\n"
      "tlsproxy unix - - y - 0 tlsproxy\n";
  Result<Plan> plan = planFor(b, kCertMain, master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 1u);
  EXPECT_EQ(plan->changes[0].service, (postfix::ServiceKey{"smtpd", "pass"}));
  EXPECT_EQ(plan->master_cf_after,
            "smtp inet n - y - 1 postscreen\n"
            "smtpd pass - - y - - smtpd\n"
            "  -o smtpd_tls_auth_only=yes\n"
            "tlsproxy unix - - y - 0 tlsproxy\n");

  // Without a pass service behind postscreen there is nowhere to put it: refused.
  Result<Plan> nowhere = planFor(b, kCertMain, "smtp inet n - y - 1 postscreen\n");
  ASSERT_FALSE(nowhere.ok());
  EXPECT_THAT(nowhere.status().message(),
              ::testing::HasSubstr("runs postscreen, and no smtpd pass service"));

  // A baseline that does not say it means smtpd keeps writing to the listener itself.
  b.master_cf[0].command.reset();
  b.master_cf[0].options = {{"postscreen_greet_action", "enforce", {}}};
  Result<Plan> own = planFor(b, kCertMain, master);
  ASSERT_TRUE(own.ok()) << own.status().toString();
  EXPECT_EQ(own->changes[0].service, (postfix::ServiceKey{"smtp", "inet"}));
}

TEST(PlannerListenerTest, AddressQualifiedPort25NamesAreGoverned) {
  for (const std::string name : {"0.0.0.0:25", "127.0.0.1:25", "[::1]:smtp", "*:smtp"}) {
    const std::string clean = "# listeners\n" + name + " inet n - y - - smtpd\n";
    const std::string master = clean + "  -o smtpd_tls_auth_only=no\n";
    SCOPED_TRACE(name);
    expectOverrideRemoved(kCertMain, master, {name, "inet"}, 3, clean);
  }
}

TEST(PlannerListenerTest, BracedOverrideIsRemovedAndTheRestIsByteIdentical) {
  const std::string master =
      "smtp inet n - y - - smtpd -o syslog_name=postfix/mx\n"
      "  -o { smtpd_tls_auth_only = no }\n"
      "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n";
  const std::string expected =
      "smtp inet n - y - - smtpd -o syslog_name=postfix/mx\n"
      "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n";
  expectOverrideRemoved(kCertMain, master, {"smtp", "inet"}, 2, expected);

  // On the entry's first line, between other options.
  const std::string inline_master =
      "smtp inet n - y - - smtpd -o a_x=1 -o { smtpd_tls_auth_only = no } -o b_y=2\n";
  expectOverrideRemoved(kCertMain, inline_master, {"smtp", "inet"}, 1,
                        "smtp inet n - y - - smtpd -o a_x=1 -o b_y=2\n");
}

TEST(PlannerListenerTest, ExpandedOverrideIsJudgedByItsEffectiveValue) {
  const std::string master =
      "smtp inet n - y - - smtpd\n"
      "  -o smtpd_tls_auth_only=$mx_auth_only\n";
  // $mx_auth_only expands to "no": contradicts, removed.
  expectOverrideRemoved(compliantMain() + "mx_auth_only = no\n", master, {"smtp", "inet"}, 2,
                        "smtp inet n - y - - smtpd\n");
  // ... to "yes": what the baseline wants, kept.
  Result<Plan> plan = planFor(hardening(), compliantMain() + "mx_auth_only = yes\n", master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant()) << plan->changes[0].describe();
  // ${name} and an -o that names another -o of the same service.
  const std::string chained =
      "smtp inet n - y - - smtpd -o mx_flag=no\n"
      "  -o smtpd_tls_auth_only=${mx_flag}\n";
  expectOverrideRemoved(compliantMain(), chained, {"smtp", "inet"}, 2,
                        "smtp inet n - y - - smtpd -o mx_flag=no\n");
}

TEST(PlannerListenerTest, AgreeingOverrideIsKept) {
  const std::string master = "smtp inet n - y - - smtpd\n  -o smtpd_tls_security_level=may\n";
  Result<Plan> plan = planFor(hardening(), compliantMain(), master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant());
}

TEST(PlannerListenerTest, DuplicateOptionIsWarnedAndEditLeavesNone) {
  // The last one wins ("no"): non-compliant; every definition goes, main.cf's value remains.
  const std::string master =
      "smtp inet n - y - - smtpd\n"
      "  -o smtpd_tls_auth_only=yes\n"
      "  -o syslog_name=postfix/mx\n"
      "  -o smtpd_tls_auth_only=no\n";
  Result<Plan> plan = planFor(hardening(), compliantMain(), master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  bool warned = false;
  for (const std::string& w : plan->warnings) {
    if (w.find("smtp/inet") != std::string::npos &&
        w.find("smtpd_tls_auth_only") != std::string::npos &&
        w.find("lines 2, 4") != std::string::npos)
      warned = true;
  }
  EXPECT_TRUE(warned) << ::testing::PrintToString(plan->warnings);
  ASSERT_EQ(removals(*plan).size(), 1u);
  EXPECT_EQ(removals(*plan)[0]->master_cf_line, 4);
  EXPECT_EQ(plan->master_cf_after, "smtp inet n - y - - smtpd\n  -o syslog_name=postfix/mx\n");

  // The last one agrees: compliant, but still warned about.
  const std::string agreeing =
      "smtp inet n - y - - smtpd -o smtpd_tls_auth_only=no -o smtpd_tls_auth_only=yes\n";
  Result<Plan> kept = planFor(hardening(), compliantMain(), agreeing);
  ASSERT_TRUE(kept.ok()) << kept.status().toString();
  EXPECT_TRUE(kept->compliant());
  ASSERT_EQ(kept->warnings.size(), 1u);
  EXPECT_NE(kept->warnings[0].find("uses the last, 'yes'"), std::string::npos) << kept->warnings[0];
}

TEST(PlannerListenerTest, DuplicateOptionCollapsesWhenTheBaselineSetsIt) {
  Baseline b = hardening();
  b.master_cf.push_back(
      {.service = "submission", .options = {{"smtpd_tls_security_level", "encrypt", {}}}});
  const std::string master =
      "submission inet n - y - - smtpd\n"
      "  -o smtpd_tls_security_level=may\n"
      "  -o smtpd_tls_security_level=none\n";
  Result<Plan> plan = planFor(b, compliantMain(), master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_EQ(plan->master_cf_after,
            "submission inet n - y - - smtpd\n  -o smtpd_tls_security_level=encrypt\n");
  EXPECT_TRUE(postfix::MasterCfDocument::parse(plan->master_cf_after).duplicateOptions().empty());
}

TEST(PlannerListenerTest, RolePortIsGovernedOnlyWhenNamed) {
  const std::string clean = "127.0.0.1:2525 inet n - n - - smtpd\n";
  const std::string master = clean + "  -o smtpd_tls_auth_only=no\n";
  PlanOptions options;
  options.role_ports.emplace("smtp", "2525");
  expectOverrideRemoved(kCertMain, master, {"127.0.0.1:2525", "inet"}, 2, clean, options);

  // Without --role smtp=2525 it is not governed: kept, and what main.cf reaches is listed.
  Result<Plan> plan = planFor(hardening(), kCertMain, master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(removals(*plan).empty());
  EXPECT_EQ(plan->master_cf_after, master);
  EXPECT_FALSE(plan->also_affected.empty());
}

TEST(PlannerListenerTest, OtherSmtpdServicesAreListedAsAlsoAffected) {
  const std::string master =
      "smtp inet n - y - - smtpd\n"
      "submission inet n - y - - smtpd\n"
      "  -o smtpd_tls_security_level=encrypt\n"
      "  -o smtpd_tls_auth_only=no\n"
      "127.0.0.1:10025 inet n - n - - smtpd\n"
      "  -o smtpd_tls_auth_only=no\n"
      "  -o smtpd_sasl_auth_enable=no\n"
      "smtp unix - - y - - smtp\n";
  Result<Plan> plan = planFor(hardening(), kCertMain, master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(removals(*plan).empty()) << "ungoverned overrides are never removed";
  EXPECT_EQ(plan->master_cf_after, master);
  std::vector<std::string> listed;
  for (const AffectedService& a : plan->also_affected) listed.push_back(a.describe());
  // The re-injection port gets the new TLS level and SASL options; submission keeps its own
  // level and auth_only but inherits the SASL options. Values are compared expanded, so
  // smtpd_sasl_tls_security_options ($smtpd_sasl_security_options = noanonymous before,
  // noanonymous after) is no change. The smtp client is no smtpd.
  EXPECT_THAT(listed, ::testing::UnorderedElementsAre(
                          "submission/inet: smtpd_sasl_security_options: noanonymous -> "
                          "noanonymous, noplaintext",
                          "127.0.0.1:10025/inet: smtpd_sasl_security_options: noanonymous -> "
                          "noanonymous, noplaintext",
                          "127.0.0.1:10025/inet: smtpd_tls_security_level: (empty) -> may"));
}

TEST(PlannerListenerTest, RoleTheBaselineNamesIsGoverned) {
  Baseline b = hardening();
  b.master_cf.push_back({.service = "submission", .options = {{"syslog_name", "postfix/sub", {}}}});
  const std::string master =
      "smtp inet n - y - - smtpd\n"
      "submission inet n - y - - smtpd -o syslog_name=postfix/sub\n"
      "  -o smtpd_tls_auth_only=no\n";
  Result<Plan> plan = planFor(b, compliantMain(), master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(removals(*plan).size(), 1u);
  EXPECT_EQ(removals(*plan)[0]->service, (postfix::ServiceKey{"submission", "inet"}));
  EXPECT_EQ(plan->governed_services,
            (std::vector<postfix::ServiceKey>{{"smtp", "inet"}, {"submission", "inet"}}));
}

TEST(PlannerListenerTest, BaselineOwnOverrideWinsOverMainCfValue) {
  // submission-587 style: main.cf says no AUTH, the baseline's submission -o says yes.
  Baseline b;
  b.name = "submission";
  b.version = "1";
  b.main_cf_set = {{"smtpd_tls_auth_only", "no", {}}};
  b.master_cf.push_back({.service = "submission", .options = {{"smtpd_tls_auth_only", "yes", {}}}});
  const std::string master =
      "smtp inet n - y - - smtpd\n"
      "submission inet n - y - - smtpd -o smtpd_tls_auth_only=yes\n";
  Result<Plan> plan = planFor(b, "smtpd_tls_auth_only = no\n", master);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_TRUE(plan->compliant()) << plan->changes[0].describe();
}

TEST(PlannerListenerTest, EncryptOnPostscreensSmtpdPassIsRefused) {
  // With postscreen on port 25 the level that counts is the smtpd pass service's.
  Baseline b = hardening();
  b.master_cf.push_back({.service = "smtpd",
                         .type = "pass",
                         .options = {{"smtpd_tls_security_level", "encrypt", {}}}});
  const std::string master =
      "smtp inet n - y - 1 postscreen\n"
      "smtpd pass - - y - - smtpd\n";
  Result<Plan> plan = planFor(b, kCertMain, master);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(plan.status().message().find("smtpd/pass"), std::string::npos)
      << plan.status().toString();
}

}  // namespace
}  // namespace postwarden::agent::planner
