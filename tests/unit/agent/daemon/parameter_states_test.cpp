#include "agent/daemon/parameter_states.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "agent/params/parameter_catalog.h"

namespace postwarden::agent::daemon {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

const char* kMaster =
    "# service type private unpriv chroot wakeup maxproc command\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "  -o smtpd_tls_security_level=may\n"
    "  -o smtpd_client_restrictions=permit_mynetworks,reject\n"
    "10.0.0.1:25 inet n      -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "smtp      unix  -       -       y       -       -       smtp\n";

const char* kCertMain =
    "smtpd_tls_cert_file = /etc/ssl/mail.pem\n"
    "smtpd_tls_key_file = /etc/ssl/mail.key\n"
    "smtpd_sasl_auth_enable = yes\n";

// What a state should say: nullopt for absent.
struct Expect {
  std::string file;
  std::string service;
  std::string parameter;
  std::optional<std::string> expected;
  std::optional<std::string> actual;
};

void expectState(const v1::ParameterState& s, const Expect& e) {
  SCOPED_TRACE(e.file + " " + e.service + " " + e.parameter);
  EXPECT_EQ(s.file(), e.file);
  EXPECT_EQ(s.service(), e.service);
  EXPECT_EQ(s.parameter(), e.parameter);
  EXPECT_EQ(s.expected_absent(), !e.expected.has_value());
  EXPECT_EQ(s.expected(), e.expected.value_or(""));
  EXPECT_EQ(s.actual_absent(), !e.actual.has_value());
  EXPECT_EQ(s.actual(), e.actual.value_or(""));
}

v1::ParameterState state(std::optional<std::string> expected, std::optional<std::string> actual) {
  v1::ParameterState s;
  s.set_file("main.cf");
  s.set_parameter("p");
  s.set_expected(expected.value_or(""));
  s.set_expected_absent(!expected.has_value());
  s.set_actual(actual.value_or(""));
  s.set_actual_absent(!actual.has_value());
  return s;
}

policy::Baseline hardening() {
  policy::Baseline b;
  b.name = "smtp-auth-hardening";
  b.version = "1";
  b.source_file = "hardening.yaml";
  b.main_cf_set = {{"smtpd_tls_auth_only", "yes", {}},
                   {"smtpd_sasl_security_options", "noanonymous, noplaintext", {}},
                   {"smtpd_sasl_tls_security_options", "noanonymous", {}},
                   {"smtpd_tls_security_level", "may", {}}};
  return b;
}

Result<planner::Plan> planFor(const policy::Baseline& b, const planner::PostfixConfig& config,
                              const planner::PlanOptions& options = {}) {
  return planner::makePlan(b, config, params::ParameterCatalog::builtin(), options);
}

// ---------------------------------------------------------------------------------------
// parameterStates

TEST(ParameterStatesTest, MainCfSetAndRemove) {
  policy::Baseline b;
  b.main_cf_set = {{"smtpd_tls_auth_only", "yes", {}}, {"smtpd_tls_security_level", "may", {}}};
  b.main_cf_remove = {{"relayhost", {}}, {"smtp_sasl_password_maps", {}}};
  planner::PostfixConfig config{.main_cf =
                                    "smtpd_tls_security_level = may\n"
                                    "relayhost = [smarthost]:587\n",
                                .master_cf = kMaster};
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(4));
  expectState(states[0], {"main.cf", "", "smtpd_tls_auth_only", "yes", std::nullopt});
  expectState(states[1], {"main.cf", "", "smtpd_tls_security_level", "may", "may"});
  expectState(states[2], {"main.cf", "", "relayhost", std::nullopt, "[smarthost]:587"});
  expectState(states[3], {"main.cf", "", "smtp_sasl_password_maps", std::nullopt, std::nullopt});

  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].parameter(), "smtpd_tls_auth_only");
  EXPECT_EQ(out[1].parameter(), "relayhost");
}

TEST(ParameterStatesTest, MainCfValueIsReportedAsWritten) {
  policy::Baseline b;
  b.main_cf_set = {{"mynetworks", "127.0.0.0/8, [::1]/128", {}}};
  planner::PostfixConfig config{.main_cf = "mynetworks = 127.0.0.0/8\n    [::1]/128\n",
                                .master_cf = kMaster};
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(1));
  EXPECT_FALSE(states[0].actual_absent());
  EXPECT_NE(states[0].actual(), "");
}

TEST(ParameterStatesTest, EmptyMainCfValueIsPresentNotAbsent) {
  policy::Baseline b;
  b.main_cf_set = {{"relayhost", "", {}}};
  planner::PostfixConfig config{.main_cf = "relayhost =\n", .master_cf = kMaster};
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(1));
  expectState(states[0], {"main.cf", "", "relayhost", "", ""});
  EXPECT_FALSE(outOfLine(states[0]));
}

TEST(ParameterStatesTest, MasterCfOptionsResolvedByRole) {
  policy::Baseline b;
  policy::ServiceOverride smtp;
  smtp.service = "smtp";  // the role: every inet service on port 25
  smtp.options = {{"smtpd_tls_security_level", "may", {}}, {"smtpd_sasl_auth_enable", "no", {}}};
  smtp.remove_options = {{"smtpd_client_restrictions", {}}};
  b.master_cf = {smtp};
  planner::PostfixConfig config{.main_cf = kCertMain, .master_cf = kMaster};
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(6));
  expectState(states[0], {"master.cf", "smtp/inet", "smtpd_tls_security_level", "may", "may"});
  expectState(states[1], {"master.cf", "smtp/inet", "smtpd_sasl_auth_enable", "no", std::nullopt});
  expectState(states[2], {"master.cf", "smtp/inet", "smtpd_client_restrictions", std::nullopt,
                          "permit_mynetworks,reject"});
  expectState(states[3],
              {"master.cf", "10.0.0.1:25/inet", "smtpd_tls_security_level", "may", std::nullopt});
  expectState(states[4],
              {"master.cf", "10.0.0.1:25/inet", "smtpd_sasl_auth_enable", "no", std::nullopt});
  expectState(states[5], {"master.cf", "10.0.0.1:25/inet", "smtpd_client_restrictions",
                          std::nullopt, std::nullopt});
  // The unix smtp client is not the smtp role.
  for (const v1::ParameterState& s : states) EXPECT_NE(s.service(), "smtp/unix");
}

TEST(ParameterStatesTest, RolePortsFromOptions) {
  policy::Baseline b;
  policy::ServiceOverride smtp;
  smtp.service = "smtp";
  smtp.options = {{"smtpd_tls_security_level", "may", {}}};
  b.master_cf = {smtp};
  planner::PostfixConfig config{.main_cf = kCertMain,
                                .master_cf = "127.0.0.1:2525 inet n - n - - smtpd\n"};
  EXPECT_THAT(parameterStates(b, config, {}), SizeIs(1)) << "no port-25 service: missing";
  planner::PlanOptions options;
  options.role_ports.emplace("smtp", "2525");
  std::vector<v1::ParameterState> states = parameterStates(b, config, options);
  ASSERT_THAT(states, SizeIs(1));
  expectState(states[0], {"master.cf", "127.0.0.1:2525/inet", "smtpd_tls_security_level", "may",
                          std::nullopt});
}

TEST(ParameterStatesTest, MissingServiceReportsEveryOverrideMissing) {
  policy::Baseline b;
  policy::ServiceOverride submission;
  submission.service = "submission";
  submission.options = {{"smtpd_tls_security_level", "encrypt", {}},
                        {"smtpd_sasl_auth_enable", "yes", {}}};
  submission.remove_options = {{"smtpd_client_restrictions", {}}};
  b.master_cf = {submission};
  planner::PostfixConfig config{.main_cf = kCertMain, .master_cf = kMaster};
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(2));  // removals of a missing service are trivially in line
  expectState(states[0], {"master.cf", "submission/inet", "smtpd_tls_security_level", "encrypt",
                          std::nullopt});
  expectState(states[1],
              {"master.cf", "submission/inet", "smtpd_sasl_auth_enable", "yes", std::nullopt});
  EXPECT_THAT(outOfLineStates(states), SizeIs(2));
}

TEST(ParameterStatesTest, EmptyBaselineHasNoStates) {
  planner::PostfixConfig config{.main_cf = kCertMain, .master_cf = kMaster};
  EXPECT_THAT(parameterStates(policy::Baseline{}, config, {}), IsEmpty());
}

// ---------------------------------------------------------------------------------------
// outOfLine

TEST(ParameterStatesTest, OutOfLineCombinations) {
  EXPECT_FALSE(outOfLine(state("a", "a")));
  EXPECT_TRUE(outOfLine(state("a", "b")));
  EXPECT_TRUE(outOfLine(state("a, b", "a,b"))) << "a text comparison; alignWithPlan fixes that";
  EXPECT_TRUE(outOfLine(state("a", std::nullopt)));
  EXPECT_TRUE(outOfLine(state("", std::nullopt)));
  EXPECT_TRUE(outOfLine(state(std::nullopt, "a")));
  EXPECT_TRUE(outOfLine(state(std::nullopt, "")));
  EXPECT_FALSE(outOfLine(state(std::nullopt, std::nullopt)));
  EXPECT_FALSE(outOfLine(state("", "")));
}

TEST(ParameterStatesTest, OutOfLineStatesKeepsOrder) {
  std::vector<v1::ParameterState> states = {state("a", "a"), state("a", "b"),
                                            state(std::nullopt, std::nullopt),
                                            state(std::nullopt, "x"), state("y", std::nullopt)};
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(3));
  EXPECT_EQ(out[0].actual(), "b");
  EXPECT_EQ(out[1].actual(), "x");
  EXPECT_EQ(out[2].expected(), "y");
  EXPECT_THAT(outOfLineStates({}), IsEmpty());
}

// ---------------------------------------------------------------------------------------
// alignWithPlan

TEST(ParameterStatesTest, EquivalentSpellingIsNotOutOfLineAfterAlignment) {
  planner::PostfixConfig config{.main_cf = std::string(kCertMain) +
                                           "smtpd_sasl_security_options = noanonymous,noplaintext\n"
                                           "smtpd_sasl_tls_security_options = noanonymous\n",
                                .master_cf = kMaster};
  policy::Baseline b = hardening();
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 2u);  // smtpd_tls_auth_only, smtpd_tls_security_level

  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(4));
  EXPECT_TRUE(outOfLine(states[1])) << "before alignment the text differs";
  alignWithPlan(states, *plan);

  // The equal-to-Postfix value now expects what is written.
  expectState(states[1], {"main.cf", "", "smtpd_sasl_security_options", "noanonymous,noplaintext",
                          "noanonymous,noplaintext"});
  // The plan's parameters keep the baseline's value.
  expectState(states[0], {"main.cf", "", "smtpd_tls_auth_only", "yes", std::nullopt});
  expectState(states[3], {"main.cf", "", "smtpd_tls_security_level", "may", std::nullopt});

  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(2));
  EXPECT_EQ(out[0].parameter(), "smtpd_tls_auth_only");
  EXPECT_EQ(out[1].parameter(), "smtpd_tls_security_level");
}

TEST(ParameterStatesTest, CompliantHostHasNothingOutOfLineAfterAlignment) {
  planner::PostfixConfig config{.main_cf = std::string(kCertMain) +
                                           "smtpd_tls_auth_only = yes\n"
                                           "smtpd_sasl_security_options = noanonymous,noplaintext\n"
                                           "smtpd_sasl_tls_security_options = noanonymous\n"
                                           "smtpd_tls_security_level = may\n",
                                .master_cf = kMaster};
  policy::Baseline b = hardening();
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_TRUE(plan->compliant());
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  alignWithPlan(states, *plan);
  EXPECT_THAT(outOfLineStates(states), IsEmpty());
}

TEST(ParameterStatesTest, ACollapseOfDuplicateEntriesIsOutOfLineAndSaysSo) {
  // The right value, defined twice: the plan removes the earlier entry, and the drift must
  // name the parameter although its value does not change.
  planner::PostfixConfig config{.main_cf = std::string(kCertMain) +
                                           "smtpd_tls_auth_only = no\n"
                                           "smtpd_tls_auth_only = yes\n"
                                           "smtpd_sasl_security_options = noanonymous,noplaintext\n"
                                           "smtpd_sasl_tls_security_options = noanonymous\n"
                                           "smtpd_tls_security_level = may\n",
                                .master_cf = kMaster};
  policy::Baseline b = hardening();
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->changes.size(), 1u);
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  alignWithPlan(states, *plan);
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(1));
  expectState(out[0], {"main.cf", "", "smtpd_tls_auth_only", "yes", "yes (defined 2 times)"});
}

TEST(ParameterStatesTest, AlignmentKeepsRemovalsThePlanMakes) {
  policy::Baseline b;
  b.name = "no-relay";
  b.version = "1";
  b.source_file = "no-relay.yaml";
  b.main_cf_remove = {{"relayhost", {}}, {"smtp_sasl_password_maps", {}}};
  planner::PostfixConfig config{.main_cf = std::string(kCertMain) + "relayhost = [smarthost]\n",
                                .master_cf = kMaster};
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  alignWithPlan(states, *plan);
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(1));
  expectState(out[0], {"main.cf", "", "relayhost", std::nullopt, "[smarthost]"});
}

TEST(ParameterStatesTest, AlignmentMatchesMasterCfChangesByService) {
  policy::Baseline b;
  b.name = "mx";
  b.version = "1";
  b.source_file = "mx.yaml";
  policy::ServiceOverride smtp;
  smtp.service = "smtp";
  // Written "permit_mynetworks,reject" on smtp/inet: the same list to Postfix.
  smtp.options = {{"smtpd_client_restrictions", "permit_mynetworks, reject", {}},
                  {"smtpd_tls_security_level", "may", {}}};
  b.master_cf = {smtp};
  planner::PostfixConfig config{.main_cf = kCertMain, .master_cf = kMaster};
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();

  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  ASSERT_THAT(states, SizeIs(4));
  alignWithPlan(states, *plan);
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  // smtp/inet has both (one as an equivalent spelling); 10.0.0.1:25/inet has neither.
  ASSERT_THAT(out, SizeIs(2));
  expectState(out[0], {"master.cf", "10.0.0.1:25/inet", "smtpd_client_restrictions",
                       "permit_mynetworks, reject", std::nullopt});
  expectState(out[1],
              {"master.cf", "10.0.0.1:25/inet", "smtpd_tls_security_level", "may", std::nullopt});
  // Every out-of-line state is one the plan changes, and vice versa.
  size_t option_changes = 0;
  for (const planner::Change& c : plan->changes) {
    if (c.kind == planner::ChangeKind::kSetServiceOption) ++option_changes;
  }
  EXPECT_EQ(option_changes, out.size());
}

TEST(ParameterStatesTest, AlignmentOfAServiceThePlanCreates) {
  policy::Baseline b;
  b.name = "submission";
  b.version = "1";
  b.source_file = "submission.yaml";
  policy::ServiceOverride submission;
  submission.service = "submission";
  submission.command = "smtpd";
  submission.options = {{"smtpd_tls_security_level", "encrypt", {}}};
  b.master_cf = {submission};
  planner::PostfixConfig config{.main_cf = kCertMain, .master_cf = kMaster};
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  alignWithPlan(states, *plan);
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(1));
  expectState(out[0], {"master.cf", "submission/inet", "smtpd_tls_security_level", "encrypt",
                       std::nullopt});
}

TEST(ParameterStatesTest, AlignmentWithAnEmptyPlanAlignsEverything) {
  std::vector<v1::ParameterState> states = {state("a, b", "a,b"), state(std::nullopt, "x"),
                                            state("y", std::nullopt)};
  alignWithPlan(states, planner::Plan{});
  EXPECT_THAT(outOfLineStates(states), IsEmpty());
  EXPECT_EQ(states[0].expected(), "a,b");
  EXPECT_FALSE(states[1].expected_absent());
  EXPECT_EQ(states[1].expected(), "x");
  EXPECT_TRUE(states[2].expected_absent());
}

TEST(ParameterStatesTest, GovernedListenerOverrideIsNamedInTheDrift) {
  // main.cf is compliant; the port-25 listener's own -o is what is out of line.
  planner::PostfixConfig config{
      .main_cf = std::string(kCertMain) +
                 "smtpd_tls_auth_only = yes\n"
                 "smtpd_sasl_security_options = noanonymous, noplaintext\n"
                 "smtpd_sasl_tls_security_options = noanonymous\n"
                 "smtpd_tls_security_level = may\n",
      .master_cf = kMaster};
  const std::string listener = "10.0.0.1:25 inet n      -       y       -       -       smtpd\n";
  config.master_cf.insert(config.master_cf.find(listener) + listener.size(),
                          "  -o smtpd_tls_auth_only=no\n");
  policy::Baseline b = hardening();
  Result<planner::Plan> plan = planFor(b, config);
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_FALSE(plan->compliant());

  std::vector<v1::ParameterState> states = parameterStates(b, config, {});
  EXPECT_THAT(outOfLineStates(states), IsEmpty()) << "main.cf alone looks compliant";
  alignWithPlan(states, *plan);
  std::vector<v1::ParameterState> out = outOfLineStates(states);
  ASSERT_THAT(out, SizeIs(1));
  expectState(out[0], {"master.cf", "10.0.0.1:25/inet", "smtpd_tls_auth_only", std::nullopt, "no"});

  // Once repaired, nothing is out of line and nothing is added.
  planner::PostfixConfig after{plan->main_cf_after, plan->master_cf_after};
  Result<planner::Plan> replan = planFor(b, after);
  ASSERT_TRUE(replan.ok()) << replan.status().toString();
  std::vector<v1::ParameterState> after_states = parameterStates(b, after, {});
  const size_t count = after_states.size();
  alignWithPlan(after_states, *replan);
  EXPECT_EQ(after_states.size(), count);
  EXPECT_THAT(outOfLineStates(after_states), IsEmpty());
}

}  // namespace
}  // namespace postwarden::agent::daemon
