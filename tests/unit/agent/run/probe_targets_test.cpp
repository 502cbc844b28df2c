#include "agent/run/probe_targets.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace postwarden::agent::run {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

const std::string kMaster =
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o smtpd_tls_security_level=encrypt\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "smtp      unix  -       -       y       -       -       smtp\n";

void expectAddress(std::string_view service, std::string_view inet_interfaces,
                   const std::string& host, uint16_t port) {
  Result<HostPort> address = listenerAddress(service, inet_interfaces);
  ASSERT_TRUE(address.ok()) << service << " / " << inet_interfaces << ": "
                            << address.status().toString();
  EXPECT_EQ(address->host, host) << service << " / " << inet_interfaces;
  EXPECT_EQ(address->port, port) << service << " / " << inet_interfaces;
}

std::string describe(const applier::ProbeCheck& check) {
  return check.expectation.service + "@" + check.target.host + ":" +
         std::to_string(check.target.port);
}

std::vector<std::string> describeAll(const std::vector<applier::ProbeCheck>& checks) {
  std::vector<std::string> out;
  for (const applier::ProbeCheck& check : checks) out.push_back(describe(check));
  return out;
}

// --- listenerAddress --------------------------------------------------------------------

TEST(ListenerAddressTest, ExplicitHostAndPortAreUsedAsWritten) {
  expectAddress("127.0.0.1:2525", "all", "127.0.0.1", 2525);
}

TEST(ListenerAddressTest, ServiceNameOnAllInterfacesIsLoopbackPort25) {
  expectAddress("smtp", "all", "127.0.0.1", 25);
}

TEST(ListenerAddressTest, BracketedIpv6IsUnbracketed) {
  expectAddress("[::1]:25", "all", "::1", 25);
}

TEST(ListenerAddressTest, BarePortUsesFirstInetInterface) {
  expectAddress("2525", "127.0.0.2", "127.0.0.2", 2525);
  expectAddress("2525", "127.0.0.2, 192.0.2.1", "127.0.0.2", 2525);
}

TEST(ListenerAddressTest, LoopbackOnlyAndEmptyInterfacesMeanIpv4Loopback) {
  expectAddress("25", "loopback-only", "127.0.0.1", 25);
  expectAddress("25", "", "127.0.0.1", 25);
}

TEST(ListenerAddressTest, WildcardHostsBecomeLoopback) {
  expectAddress("0.0.0.0:25", "all", "127.0.0.1", 25);
  expectAddress("*:25", "all", "127.0.0.1", 25);
  expectAddress("localhost:25", "all", "127.0.0.1", 25);
  expectAddress("[::]:25", "all", "::1", 25);
}

TEST(ListenerAddressTest, UnknownServiceNameIsNotFound) {
  Result<HostPort> address = listenerAddress("no-such-service-pw", "all");

  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(address.status().message(), HasSubstr("'no-such-service-pw'"));
}

TEST(ListenerAddressTest, PortOutOfRangeIsInvalidArgument) {
  Result<HostPort> zero = listenerAddress("127.0.0.1:0", "all");
  Result<HostPort> big = listenerAddress("70000", "all");

  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().code(), StatusCode::kInvalidArgument);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
}

// --- probeChecks / healthChecks -------------------------------------------------------------

policy::Baseline baselineExpecting(std::vector<std::string> services) {
  policy::Baseline baseline;
  baseline.name = "b";
  for (std::string& service : services) {
    policy::ProbeExpectation e;
    e.service = std::move(service);
    e.starttls = policy::StartTls::kRequired;
    baseline.verify.push_back(std::move(e));
  }
  return baseline;
}

TEST(ProbeChecksTest, EachExpectationProbesItsListeners) {
  policy::Baseline baseline = baselineExpecting({"smtp", "submission"});
  baseline.verify[1].certificate_name = "mail.example.org";
  ProbeSettings settings;
  settings.timeout = std::chrono::milliseconds(1234);

  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(baseline, {"inet_interfaces = 127.0.0.1\n", kMaster}, {}, std::nullopt, settings);

  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  EXPECT_EQ(describeAll(*checks),
            (std::vector<std::string>{"smtp@127.0.0.1:25", "submission@127.0.0.1:587"}));
  EXPECT_EQ((*checks)[0].target.timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ((*checks)[0].target.expected_certificate_name, std::nullopt);
  EXPECT_EQ((*checks)[1].target.expected_certificate_name, "mail.example.org");
}

TEST(ProbeChecksTest, ACertificateNameReferenceIsTheListenersOwnValue) {
  policy::Baseline baseline = baselineExpecting({"smtp", "submission"});
  baseline.verify[0].certificate_name = "$myhostname";
  baseline.verify[1].certificate_name = "${myhostname}";
  const std::string master =
      "smtp      inet  n       -       y       -       -       smtpd\n"
      "submission inet n       -       y       -       -       smtpd\n"
      "  -o myhostname=submit.example.org\n";
  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(baseline, {"myhostname = mx.example.org\n", master}, {}, std::nullopt, {});
  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  ASSERT_THAT(*checks, SizeIs(2));
  EXPECT_EQ((*checks)[0].target.expected_certificate_name, "mx.example.org");
  EXPECT_EQ((*checks)[1].target.expected_certificate_name, "submit.example.org");
}

TEST(ProbeChecksTest, AReferenceToAnUnsetParameterIsLeftForTheCheckToReport) {
  policy::Baseline baseline = baselineExpecting({"smtp"});
  baseline.verify[0].certificate_name = "$myhostname";
  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(baseline, {"", kMaster}, {}, std::nullopt, {});
  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  ASSERT_THAT(*checks, SizeIs(1));
  EXPECT_EQ((*checks)[0].target.expected_certificate_name, "$myhostname");
}

TEST(ProbeChecksTest, ExplicitProbeAddressTakesEveryExpectation) {
  policy::Baseline baseline = baselineExpecting({"smtp", "submission"});

  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(baseline, {"", ""}, {}, HostPort{"127.0.0.9", 2525}, {});

  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  EXPECT_EQ(describeAll(*checks),
            (std::vector<std::string>{"smtp@127.0.0.9:2525", "submission@127.0.0.9:2525"}));
}

TEST(ProbeChecksTest, RoleOnNonStandardPortNeedsRoleOption) {
  policy::Baseline baseline = baselineExpecting({"smtp"});
  const std::string master = "127.0.0.1:2525 inet n - n - - smtpd\n";

  Result<std::vector<applier::ProbeCheck>> without =
      probeChecks(baseline, {"", master}, {}, std::nullopt, {});
  planner::PlanOptions options;
  options.role_ports.emplace("smtp", "2525");
  Result<std::vector<applier::ProbeCheck>> with =
      probeChecks(baseline, {"", master}, options, std::nullopt, {});

  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(without.status().message(), HasSubstr("--role smtp=PORT"));
  ASSERT_TRUE(with.ok()) << with.status().toString();
  EXPECT_EQ(describeAll(*with), (std::vector<std::string>{"smtp@127.0.0.1:2525"}));
}

TEST(ProbeChecksTest, BaselineWithoutExpectationsGetsHealthChecks) {
  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(policy::Baseline{}, {"", kMaster}, {}, std::nullopt, {});

  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  ASSERT_THAT(*checks, SizeIs(2));
  EXPECT_EQ((*checks)[0].target.port, 25);
  EXPECT_EQ((*checks)[1].target.port, 587);
  EXPECT_EQ((*checks)[0].expectation.starttls, policy::StartTls::kOptional);
}

TEST(HealthChecksTest, ProbeEverySmtpdInetListener) {
  Result<std::vector<applier::ProbeCheck>> checks =
      healthChecks({"inet_interfaces = loopback-only\n", kMaster}, std::nullopt, {});

  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  ASSERT_THAT(*checks, SizeIs(2));
  EXPECT_EQ((*checks)[0].target.host, "127.0.0.1");
  EXPECT_EQ((*checks)[0].target.port, 25);
  EXPECT_EQ((*checks)[1].target.port, 587);
  for (const applier::ProbeCheck& check : *checks) {
    EXPECT_EQ(check.expectation.starttls, policy::StartTls::kOptional);
    EXPECT_TRUE(check.expectation.forbid_auth_before_tls.empty());
    EXPECT_TRUE(check.expectation.require_auth_after_tls.empty());
  }
}

TEST(HealthChecksTest, ExplicitProbeIsTheOnlyCheck) {
  Result<std::vector<applier::ProbeCheck>> checks =
      healthChecks({"", kMaster}, HostPort{"::1", 25}, {});

  ASSERT_TRUE(checks.ok());
  ASSERT_THAT(*checks, SizeIs(1));
  EXPECT_EQ((*checks)[0].target.host, "::1");
}

TEST(HealthChecksTest, MasterCfWithoutSmtpdListenerIsFailedPrecondition) {
  Result<std::vector<applier::ProbeCheck>> checks = healthChecks(
      {"", "pickup unix n - y 60 1 pickup\nsmtp unix - - y - - smtp\n"}, std::nullopt, {});

  ASSERT_FALSE(checks.ok());
  EXPECT_EQ(checks.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(checks.status().message(), HasSubstr("no smtpd listener"));
}

TEST(HealthChecksTest, UnknownServicePortIsNotFoundWithTheServiceName) {
  Result<std::vector<applier::ProbeCheck>> checks =
      healthChecks({"", "no-such-service-pw inet n - y - - smtpd\n"}, std::nullopt, {});

  ASSERT_FALSE(checks.ok());
  EXPECT_EQ(checks.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(checks.status().message(), HasSubstr("master.cf service no-such-service-pw"));
}

// --- plan agrees with verify ------------------------------------------------------------

policy::Baseline authBaseline(bool only_where_sasl) {
  policy::Baseline b;
  policy::ProbeExpectation e;
  e.service = "smtp";
  e.forbid_auth_before_tls = {"*"};
  e.require_auth_after_tls = {"PLAIN", "LOGIN"};
  e.require_auth_only_where_sasl_enabled = only_where_sasl;
  b.verify.push_back(e);
  return b;
}

const std::string kSmtpOnly = "smtp      inet  n       -       y       -       -       smtpd\n";

TEST(PredictedProbeFailuresTest, AuthRequiredWhereSaslIsOffIsPredictedToFail) {
  planner::PostfixConfig config{"smtpd_tls_security_level = may\n", kSmtpOnly};
  std::vector<std::string> failures = predictedProbeFailures(authBaseline(false), config, {});
  ASSERT_THAT(failures, SizeIs(1));
  EXPECT_THAT(failures[0], HasSubstr("smtp/inet"));
  EXPECT_THAT(failures[0], HasSubstr("smtpd_sasl_auth_enable is 'no'"));
}

TEST(PredictedProbeFailuresTest, ConditionalRequirementIsNotAFailureWithoutSasl) {
  planner::PostfixConfig config{"smtpd_tls_security_level = may\n", kSmtpOnly};
  EXPECT_THAT(predictedProbeFailures(authBaseline(true), config, {}), SizeIs(0));
}

TEST(PredictedProbeFailuresTest, SaslOnThroughAReferenceOrOverrideSatisfiesIt) {
  planner::PostfixConfig via_reference{
      "flag = yes\nsmtpd_sasl_auth_enable = $flag\nsmtpd_tls_security_level = may\n", kSmtpOnly};
  EXPECT_THAT(predictedProbeFailures(authBaseline(false), via_reference, {}), SizeIs(0));
  planner::PostfixConfig via_override{"smtpd_tls_security_level = may\n",
                                      kSmtpOnly + "  -o smtpd_sasl_auth_enable=yes\n"};
  EXPECT_THAT(predictedProbeFailures(authBaseline(false), via_override, {}), SizeIs(0));
}

TEST(PredictedProbeFailuresTest, StarttlsRequiredWithoutATlsLevelIsPredictedToFail) {
  policy::Baseline b;
  b.verify.push_back(policy::ProbeExpectation{});  // starttls: required by default
  planner::PostfixConfig none{"smtpd_tls_security_level = none\n", kSmtpOnly};
  std::vector<std::string> failures = predictedProbeFailures(b, none, {});
  ASSERT_THAT(failures, SizeIs(1));
  EXPECT_THAT(failures[0], HasSubstr("requires STARTTLS"));
  planner::PostfixConfig legacy{"smtpd_use_tls = yes\n", kSmtpOnly};
  EXPECT_THAT(predictedProbeFailures(b, legacy, {}), SizeIs(0));
}

TEST(ProbeChecksTest, ConditionalAuthRequirementIsDroppedOnlyWhereSaslIsOff) {
  planner::PostfixConfig config{
      "smtpd_tls_security_level = may\n",
      kSmtpOnly +
          "2525      inet  n       -       y       -       -       smtpd\n"
          "  -o smtpd_sasl_auth_enable=yes\n"};
  policy::Baseline b = authBaseline(true);
  b.verify[0].service = "smtp";
  Result<std::vector<applier::ProbeCheck>> checks =
      probeChecks(b, config, {.role_ports = {{"smtp", "2525"}}}, std::nullopt, {});
  ASSERT_TRUE(checks.ok()) << checks.status().toString();
  ASSERT_THAT(*checks, SizeIs(2));
  for (const applier::ProbeCheck& c : *checks) {
    if (c.target.port == 25) {
      EXPECT_TRUE(c.expectation.require_auth_after_tls.empty());
    } else {
      EXPECT_THAT(c.expectation.require_auth_after_tls, SizeIs(2));
    }
  }
}

}  // namespace
}  // namespace postwarden::agent::run
