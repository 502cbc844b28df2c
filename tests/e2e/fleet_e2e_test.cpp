// End-to-end: the fleet story on real processes. A controller (SQLite, mTLS) and agent
// daemons, each on its own isolated Postfix: enrollment, a baseline assigned in enforce and in
// detect-only mode, a hand edit reported as drift and repaired, a controller outage.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <thread>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;

// Long enough for every other test; renewal comes after about two thirds of it.
const std::string kCertificateTtl = "30s";

// "NAME@<12 hex digits>" as `postwardenctl baseline push` prints it, or "" when absent.
// (Not std::regex: GCC 12 warns inside it under ASan, and the build uses -Werror.)
std::string baselineRef(const std::string& out, const std::string& name) {
  size_t at = out.find(name + "@");
  if (at == std::string::npos) return "";
  std::string version = out.substr(at + name.size() + 1, 12);
  bool hex =
      version.size() == 12 && version.find_first_not_of("0123456789abcdef") == std::string::npos;
  return hex ? name + "@" + version : "";
}

class FleetE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-fleet-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    // Short agent certificates, so that one test sees a renewal.
    Result<std::unique_ptr<Controller>> controller =
        Controller::start(dir_, {"--agent-cert-ttl", kCertificateTtl});
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
  }

  void TearDown() override {
    // A clean exit on SIGTERM (under ASan this also means no leak report).
    for (auto& a : agents_) EXPECT_EQ(a->stop(), 0) << a->id() << ":\n" << a->log();
    EXPECT_EQ(controller_->stop(), 0) << controller_->log();
    if (HasFailure()) {
      std::cerr << "--- controller log ---\n" << controller_->log();
      for (auto& a : agents_) std::cerr << "--- agent " << a->id() << " log ---\n" << a->log();
    }
    agents_.clear();
    controller_.reset();
    fs::remove_all(dir_);
  }

  FleetAgent& addAgent(const std::string& id, std::map<std::string, std::string> labels,
                       const std::string& check_interval = "30s",
                       const std::string& verify_deadline = "20s") {
    Result<std::string> token = controller_->createToken(labels);
    EXPECT_TRUE(token.ok()) << token.status().message();
    Result<std::unique_ptr<FleetAgent>> agent =
        FleetAgent::enrollAndStart(*controller_, token.ok() ? *token : "",
                                   {.id = id,
                                    .labels = {{"role", "mx"}},
                                    .check_interval = check_interval,
                                    .verify_deadline = verify_deadline});
    EXPECT_TRUE(agent.ok()) << agent.status().message();
    if (!agent.ok()) throw std::runtime_error("agent did not start");
    agents_.push_back(std::move(agent).value());
    return *agents_.back();
  }

  // Pushes the hardening baseline with postwardenctl and assigns it; returns name@digest.
  std::string assignHardening(const std::string& selector, const std::string& mode) {
    std::string out;
    EXPECT_EQ(controller_->ctl({"baseline", "push", kHardening}, &out), 0) << out;
    std::string ref = baselineRef(out, "smtp-auth-hardening");
    EXPECT_FALSE(ref.empty()) << out;
    EXPECT_EQ(
        controller_->ctl({"baseline", "assign", ref, "--selector", selector, "--mode", mode}, &out),
        0)
        << out;
    return ref;
  }

  bool hasCompliance(const std::string& id, v1::Compliance compliance) {
    Result<v1::AgentSummary> a = controller_->agent(id);
    return a.ok() && a->compliance() == compliance;
  }

  std::vector<v1::HistoryEntry> history(const std::string& id) {
    auto stub = controller_->operatorStub();
    grpc::ClientContext context;
    v1::GetAgentRequest request;
    request.set_id(id);
    v1::GetAgentResponse response;
    EXPECT_TRUE(stub->GetAgent(&context, request, &response).ok());
    return {response.history().begin(), response.history().end()};
  }

  int historyCount(const std::string& id, const std::string& kind, const std::string& needle) {
    int n = 0;
    for (const v1::HistoryEntry& e : history(id)) {
      if (e.kind() == kind && e.summary().find(needle) != std::string::npos) ++n;
    }
    return n;
  }

  std::vector<v1::DriftRecord> drift() {
    auto stub = controller_->operatorStub();
    grpc::ClientContext context;
    v1::ListDriftResponse response;
    EXPECT_TRUE(stub->ListDrift(&context, {}, &response).ok());
    return {response.drift().begin(), response.drift().end()};
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::vector<std::unique_ptr<FleetAgent>> agents_;
};

TEST_F(FleetE2eTest, TwoAgentsBecomeCompliantAndAHandEditIsReportedAndRepaired) {
  FleetAgent& mx1 = addAgent("mx1.test", {{"site", "fra1"}});
  FleetAgent& mx2 = addAgent("mx2.test", {{"site", "fra1"}});
  ASSERT_TRUE(eventually([&] {
    auto a = controller_->agent("mx1.test");
    auto b = controller_->agent("mx2.test");
    return a.ok() && a->connected() && b.ok() && b->connected();
  }));
  // Both hosts offer AUTH PLAIN/LOGIN before STARTTLS (the Nessus 54582 finding).
  EXPECT_NE(mx1.sandbox().ehlo().find("AUTH"), std::string::npos);

  std::string ref = assignHardening("site=fra1", "enforce");
  ASSERT_TRUE(eventually([&] {
    return hasCompliance("mx1.test", v1::COMPLIANCE_COMPLIANT) &&
           hasCompliance("mx2.test", v1::COMPLIANCE_COMPLIANT);
  })) << controller_->log();
  // An independent SMTP session sees the fix on both hosts: no AUTH before STARTTLS.
  for (FleetAgent* a : {&mx1, &mx2}) {
    EXPECT_EQ(a->sandbox().ehlo().find("AUTH"), std::string::npos) << a->id();
    EXPECT_NE(readFileText(a->sandbox().mainCfPath()).find("smtpd_tls_auth_only = yes"),
              std::string::npos);
  }
  std::string out;
  EXPECT_EQ(controller_->ctl({"agents"}, &out), 0);
  EXPECT_NE(out.find("compliant"), std::string::npos) << out;
  EXPECT_NE(out.find(ref), std::string::npos) << out;

  // A hand edit on mx1: reported with the parameter and its values, then repaired.
  ASSERT_TRUE(mx1.sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  EXPECT_TRUE(eventually([&] {
    return historyCount("mx1.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)") == 1;
  })) << controller_->log();
  EXPECT_TRUE(eventually([&] {
    return hasCompliance("mx1.test", v1::COMPLIANCE_COMPLIANT) &&
           readFileText(mx1.sandbox().mainCfPath()).find("smtpd_tls_auth_only = yes") !=
               std::string::npos &&
           drift().empty();
  })) << mx1.log();
  EXPECT_EQ(mx1.sandbox().ehlo().find("AUTH"), std::string::npos);
  // The agent's own repair is not drift: one drift event, none for mx2.
  EXPECT_EQ(historyCount("mx1.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)"), 1);
  EXPECT_EQ(historyCount("mx2.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)"), 0);
  EXPECT_EQ(controller_->ctl({"drift"}, &out), 0) << out;
}

TEST_F(FleetE2eTest, DetectOnlyModeReportsDriftAndChangesNothing) {
  FleetAgent& mx = addAgent("watched.test", {{"site", "ams1"}});
  std::string before = readFileText(mx.sandbox().mainCfPath());
  assignHardening("site=ams1", "detect");
  // The drift event marks the host drifted; the state report after it brings the mode.
  ASSERT_TRUE(eventually([&] {
    Result<v1::AgentSummary> a = controller_->agent("watched.test");
    return a.ok() && a->compliance() == v1::COMPLIANCE_DRIFTED &&
           a->mode() == v1::BASELINE_MODE_DETECT;
  })) << controller_->log();
  std::vector<v1::DriftRecord> rows = drift();
  ASSERT_EQ(rows.size(), 4u);  // the four parameters of the baseline
  bool auth_only = false;
  for (const v1::DriftRecord& r : rows) {
    EXPECT_EQ(r.agent_id(), "watched.test");
    EXPECT_EQ(r.mode(), v1::BASELINE_MODE_DETECT);
    if (r.parameter().parameter() == "smtpd_tls_auth_only") {
      auth_only = true;
      EXPECT_EQ(r.parameter().expected(), "yes");
      EXPECT_TRUE(r.parameter().actual_absent());
    }
  }
  EXPECT_TRUE(auth_only);
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()), before);  // detect only: nothing written
  std::string out;
  EXPECT_EQ(controller_->ctl({"drift"}, &out), 2) << out;  // drift found
  EXPECT_NE(out.find("smtpd_tls_auth_only"), std::string::npos) << out;
  // A further hand edit is reported too; nothing is repaired.
  ASSERT_TRUE(mx.sandbox().postconf({"smtpd_tls_security_level=none"}).ok());
  std::string edited = readFileText(mx.sandbox().mainCfPath());
  EXPECT_TRUE(eventually([&] {
    return historyCount("watched.test", "drift",
                        "smtpd_tls_security_level is none (baseline: may)") == 1;
  })) << mx.log();
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()), edited);
  EXPECT_NE(mx.sandbox().ehlo().find("AUTH"), std::string::npos);
}

// "daily HH:MM-HH:MM UTC" starting `from_now` (whole minutes) and `minutes` long.
std::string dailyWindowUtc(std::chrono::minutes from_now, int minutes) {
  const std::time_t start =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + from_now);
  std::tm tm{};
  gmtime_r(&start, &tm);
  const int begin = tm.tm_hour * 60 + tm.tm_min;
  const int end = (begin + minutes) % 1440;
  char text[64];
  std::snprintf(text, sizeof(text), "daily %02d:%02d-%02d:%02d UTC", begin / 60, begin % 60,
                end / 60, end % 60);
  return text;
}

TEST_F(FleetE2eTest, ARepairWindowHoldsDriftRepairUntilOneIsOpen) {
  FleetAgent& mx = addAgent("windowed.test", {{"site", "lis1"}}, "2s");
  const std::string ref = assignHardening("site=lis1", "enforce");
  ASSERT_TRUE(eventually([&] { return hasCompliance("windowed.test", v1::COMPLIANCE_COMPLIANT); }))
      << controller_->log();
  std::string out;
  // A window that is not a window is refused, and nothing is assigned.
  EXPECT_NE(controller_->ctl({"baseline", "assign", ref, "--selector", "site=lis1", "--mode",
                              "enforce", "--repair-window", "Sat 25:00-26:00 UTC"},
                             &out),
            0);
  EXPECT_NE(out.find("repair window 'Sat 25:00-26:00 UTC'"), std::string::npos) << out;

  // The same version, now repaired only in a window twelve hours away.
  const std::string closed = dailyWindowUtc(std::chrono::hours(12), 60);
  ASSERT_EQ(controller_->ctl({"baseline", "assign", ref, "--selector", "site=lis1", "--mode",
                              "enforce", "--repair-window", closed},
                             &out),
            0)
      << out;
  EXPECT_EQ(controller_->ctl({"baseline", "assignments"}, &out), 0);
  EXPECT_NE(out.find(closed), std::string::npos) << out;
  ASSERT_TRUE(mx.sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  ASSERT_TRUE(eventually([&] {
    auto stub = controller_->operatorStub();
    grpc::ClientContext context;
    v1::GetAgentRequest request;
    request.set_id("windowed.test");
    v1::GetAgentResponse response;
    return stub->GetAgent(&context, request, &response).ok() &&
           response.agent().compliance() == v1::COMPLIANCE_DRIFTED &&
           response.detail() == "repair waits for a repair window: " + closed;
  })) << mx.log();
  // Several checks later (every 2 s) the edit is still there.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_NE(readFileText(mx.sandbox().mainCfPath()).find("smtpd_tls_auth_only = no"),
            std::string::npos)
      << mx.log();
  EXPECT_TRUE(hasCompliance("windowed.test", v1::COMPLIANCE_DRIFTED));

  // A window open now: the next check repairs.
  ASSERT_EQ(
      controller_->ctl({"baseline", "assign", ref, "--selector", "site=lis1", "--mode", "enforce",
                        "--repair-window", dailyWindowUtc(-std::chrono::minutes(5), 30)},
                       &out),
      0)
      << out;
  EXPECT_TRUE(eventually([&] {
    return hasCompliance("windowed.test", v1::COMPLIANCE_COMPLIANT) &&
           readFileText(mx.sandbox().mainCfPath()).find("smtpd_tls_auth_only = yes") !=
               std::string::npos;
  })) << mx.log();
}

TEST_F(FleetE2eTest, ReportsMadeDuringAControllerOutageArriveExactlyOnce) {
  FleetAgent& mx = addAgent("outage.test", {{"site", "lon1"}});
  assignHardening("site=lon1", "enforce");
  ASSERT_TRUE(eventually([&] { return hasCompliance("outage.test", v1::COMPLIANCE_COMPLIANT); }));

  controller_->kill9();  // and SQLite must survive it
  ASSERT_TRUE(mx.sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  // The agent keeps enforcing its cached baseline while the controller is down.
  EXPECT_TRUE(eventually([&] {
    return readFileText(mx.sandbox().mainCfPath()).find("smtpd_tls_auth_only = yes") !=
           std::string::npos;
  })) << mx.log();
  ASSERT_TRUE(controller_->restart().ok()) << controller_->log();
  EXPECT_TRUE(eventually([&] {
    return historyCount("outage.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)") == 1 &&
           hasCompliance("outage.test", v1::COMPLIANCE_COMPLIANT);
  })) << mx.log()
      << controller_->log();
  // The agent killed mid-stream: it reconnects, and nothing already delivered is stored twice.
  mx.kill9();
  ASSERT_TRUE(mx.restart().ok());
  EXPECT_TRUE(eventually([&] {
    auto a = controller_->agent("outage.test");
    return a.ok() && a->connected();
  }));
  EXPECT_EQ(historyCount("outage.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)"), 1);
}

TEST_F(FleetE2eTest, AServiceThatStopsAnsweringIsReportedAsServiceDrift) {
  FleetAgent& mx = addAgent("probed.test", {{"site", "par1"}}, "1s");
  assignHardening("site=par1", "enforce");
  ASSERT_TRUE(eventually([&] { return hasCompliance("probed.test", v1::COMPLIANCE_COMPLIANT); }));
  // The files stay compliant; the live service is gone (as with a dead master or smtpd).
  ASSERT_TRUE(mx.sandbox().stop().ok());
  EXPECT_TRUE(eventually([&] {
    return hasCompliance("probed.test", v1::COMPLIANCE_FAILING) &&
           historyCount("probed.test", "drift", "live service fails its probe") == 1;
  })) << mx.log();
  EXPECT_TRUE(drift().empty());  // no parameter is out of line
  ASSERT_TRUE(mx.sandbox().restart().ok());
  EXPECT_TRUE(eventually([&] { return hasCompliance("probed.test", v1::COMPLIANCE_COMPLIANT); }))
      << mx.log();
}

TEST_F(FleetE2eTest, TheAgentRenewsItsCertificateBeforeItExpires) {
  FleetAgent& mx = addAgent("renewing.test", {{"site", "ber1"}});
  std::string first = readFileText(mx.identityFile());
  ASSERT_FALSE(first.empty());
  std::this_thread::sleep_for(std::chrono::seconds(12));
  EXPECT_EQ(readFileText(mx.identityFile()), first) << "renewed too early";
  // Renewal is checked at each heartbeat (5 s here) once about 20 of the 30 s have passed.
  EXPECT_TRUE(eventually([&] { return readFileText(mx.identityFile()) != first; },
                         std::chrono::seconds(60)))
      << mx.log();
  EXPECT_NE(mx.log().find("client certificate renewed"), std::string::npos);
  // The next connection uses the new certificate: the agent is still served.
  ASSERT_TRUE(mx.restart().ok());
  EXPECT_TRUE(eventually([&] {
    auto a = controller_->agent("renewing.test");
    return a.ok() && a->connected();
  }));
}

TEST_F(FleetE2eTest, AnUnsafeBaselineIsRefusedByTheAgentForThatVersion) {
  FleetAgent& mx = addAgent("strict.test", {{"site", "mad1"}});
  // Valid YAML the controller stores, but "encrypt" on the public port 25 would bounce mail
  // from every server without TLS (RFC 3207): the agent's planner refuses it.
  std::string policy = dir_ + "/too-strict.yaml";
  writeFileText(policy,
                "name: too-strict\nversion: \"1\"\nmain.cf:\n  set:\n"
                "    smtpd_tls_security_level: encrypt\n");
  std::string before = readFileText(mx.sandbox().mainCfPath());
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "push", policy}, &out), 0) << out;
  const std::string ref = baselineRef(out, "too-strict");
  ASSERT_FALSE(ref.empty()) << out;
  const std::string version = ref.substr(ref.find('@') + 1);
  ASSERT_EQ(controller_->ctl(
                {"baseline", "assign", ref, "--selector", "site=mad1", "--mode", "enforce"}, &out),
            0)
      << out;
  ASSERT_TRUE(eventually([&] {
    auto a = controller_->agent("strict.test");
    return a.ok() && a->compliance() == v1::COMPLIANCE_REFUSED && a->baseline_digest() == version;
  })) << mx.log();
  EXPECT_GE(historyCount("strict.test", "state", "REFUSED"), 1);
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()), before);  // nothing written
}

// The daemon judges like `postwarden-agent plan`: a change whose own verify cannot pass (AUTH
// required after TLS on a port 25 the change takes SASL from) is refused before anything is
// written, not applied and rolled back.
TEST_F(FleetE2eTest, AChangeWhoseVerifyCannotPassIsRefusedBeforeAnythingIsWritten) {
  FleetAgent& mx = addAgent("predicted.test", {{"site", "vie1"}});
  std::string policy = dir_ + "/no-sasl.yaml";
  writeFileText(policy,
                "name: no-sasl-but-auth\nversion: \"1\"\nmain.cf:\n  set:\n"
                "    smtpd_sasl_auth_enable: \"no\"\n"
                "verify:\n  - service: smtp\n    require_auth_after_tls: [PLAIN]\n");
  const std::string before = readFileText(mx.sandbox().mainCfPath());
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "push", policy}, &out), 0) << out;
  const std::string ref = baselineRef(out, "no-sasl-but-auth");
  ASSERT_FALSE(ref.empty()) << out;
  ASSERT_EQ(controller_->ctl(
                {"baseline", "assign", ref, "--selector", "site=vie1", "--mode", "enforce"}, &out),
            0)
      << out;
  ASSERT_TRUE(eventually([&] {
    return historyCount("predicted.test", "state", "verify cannot pass") >= 1;
  })) << mx.log();
  EXPECT_TRUE(hasCompliance("predicted.test", v1::COMPLIANCE_REFUSED));
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()), before);  // nothing written
  EXPECT_EQ(mx.log().find("repair of"), std::string::npos) << mx.log();
  EXPECT_NE(mx.log().find("refused: the baseline's verify cannot pass"), std::string::npos)
      << mx.log();
}

TEST_F(FleetE2eTest, AChangeThatFailsOnTheWireIsRolledBackAndNotRetriedOnItsOwn) {
  FleetAgent& mx = addAgent("rollback.test", {{"site", "osl1"}}, "1s", "4s");
  // Passes `postfix check`, then every smtpd dies at its first connection: there is no
  // Dovecot on this host. Only the probe can tell.
  std::string policy = dir_ + "/dovecot.yaml";
  writeFileText(policy,
                "name: dovecot-auth\nversion: \"1\"\nmain.cf:\n  set:\n"
                "    smtpd_sasl_type: dovecot\n");
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "push", policy}, &out), 0) << out;
  const std::string ref = baselineRef(out, "dovecot-auth");
  ASSERT_FALSE(ref.empty()) << out;
  ASSERT_EQ(controller_->ctl(
                {"baseline", "assign", ref, "--selector", "site=osl1", "--mode", "enforce"}, &out),
            0)
      << out;
  ASSERT_TRUE(eventually([&] {
    return historyCount("rollback.test", "state", "rolled_back") >= 1;
  })) << mx.log();
  EXPECT_TRUE(hasCompliance("rollback.test", v1::COMPLIANCE_ROLLED_BACK))
      << "a rolled-back change shows as rolled back, not refused";
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()).find("dovecot"), std::string::npos);
  EXPECT_NE(mx.sandbox().ehlo().find("250"), std::string::npos);  // mail flows
  // Periodic checks every second leave it alone: one rollback, not one a minute. The
  // controller is told once that it is not retried.
  const std::string kRolledBack = "repair of 1 parameter(s): rolled_back";
  auto repairs = [&] {
    std::string log = mx.log();
    int n = 0;
    for (size_t at = log.find(kRolledBack); at != std::string::npos;
         at = log.find(kRolledBack, at + 1)) {
      ++n;
    }
    return n;
  };
  std::this_thread::sleep_for(std::chrono::seconds(5));
  EXPECT_EQ(repairs(), 1) << mx.log();
  EXPECT_EQ(historyCount("rollback.test", "state", "not retried"), 1);
  // An operator's command tries again (and fails again, safely).
  ASSERT_EQ(controller_->ctl({"command", "apply", "rollback.test"}, &out), 0) << out;
  EXPECT_TRUE(eventually([&] { return repairs() == 2; })) << mx.log();
  EXPECT_EQ(readFileText(mx.sandbox().mainCfPath()).find("dovecot"), std::string::npos);
}

TEST_F(FleetE2eTest, AnOperatorCommandMakesTheAgentCheckNow) {
  addAgent("commanded.test", {{"site", "vie1"}});
  assignHardening("site=vie1", "enforce");
  ASSERT_TRUE(
      eventually([&] { return hasCompliance("commanded.test", v1::COMPLIANCE_COMPLIANT); }));
  const int states = historyCount("commanded.test", "state", "COMPLIANT");
  std::string out;
  ASSERT_EQ(controller_->ctl({"command", "verify", "commanded.test"}, &out), 0) << out;
  // A commanded check always reports, even when nothing changed.
  EXPECT_TRUE(eventually(
      [&] { return historyCount("commanded.test", "state", "COMPLIANT") == states + 1; }));
  // A command for an agent that does not exist says so (not that it is offline).
  EXPECT_EQ(controller_->ctl({"command", "apply", "nobody.test"}, &out), 1);
  EXPECT_NE(out.find("NOT_FOUND: no agent 'nobody.test' is enrolled"), std::string::npos) << out;
}

// A reinstalled agent (state directory wiped, approved, enrolled again) starts a new outbox.
// Its reports used to number from 1 again and the controller, which had stored higher
// numbers from the first install, dropped them as redeliveries: the drift below was lost.
TEST_F(FleetE2eTest, AReinstalledAgentsReportsAreStored) {
  FleetAgent& mx1 = addAgent("mx1.test", {{"site", "fra1"}});
  ASSERT_TRUE(eventually([&] {
    auto a = controller_->agent("mx1.test");
    return a.ok() && a->connected();
  }));
  assignHardening("site=fra1", "enforce");
  ASSERT_TRUE(eventually([&] { return hasCompliance("mx1.test", v1::COMPLIANCE_COMPLIANT); }))
      << controller_->log();
  // Some reports from the first install: a drift and its repair.
  ASSERT_TRUE(mx1.sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  ASSERT_TRUE(eventually([&] {
    return historyCount("mx1.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)") == 1 &&
           hasCompliance("mx1.test", v1::COMPLIANCE_COMPLIANT);
  })) << mx1.log();
  const size_t states_before = history("mx1.test").size();

  {
    auto stub = controller_->operatorStub();
    grpc::ClientContext context;
    v1::AgentRequest request;
    request.set_id("mx1.test");
    v1::Empty empty;
    ASSERT_TRUE(stub->ApproveAgent(&context, request, &empty).ok());
  }
  Result<std::string> token = controller_->createToken({{"site", "fra1"}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  ASSERT_TRUE(mx1.reinstall(*controller_, *token).ok()) << mx1.log();
  // The new install's first state report is stored (history grows beyond the enrollment).
  ASSERT_TRUE(eventually([&] {
    auto a = controller_->agent("mx1.test");
    return a.ok() && a->connected() && history("mx1.test").size() > states_before + 1;
  })) << controller_->log()
      << mx1.log();

  ASSERT_TRUE(mx1.sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  EXPECT_TRUE(eventually([&] {
    return historyCount("mx1.test", "drift", "smtpd_tls_auth_only is no (baseline: yes)") == 2;
  })) << controller_->log()
      << mx1.log();
  EXPECT_TRUE(eventually([&] {
    return hasCompliance("mx1.test", v1::COMPLIANCE_COMPLIANT) && drift().empty();
  })) << mx1.log();
}

}  // namespace
}  // namespace postwarden::testing
