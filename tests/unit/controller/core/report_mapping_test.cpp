#include "controller/core/report_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/proto_time.h"

namespace postwarden::controller::core {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr store::UnixMs kNow = 1'700'000'000'000;

v1::ParameterState param(std::string file, std::string service, std::string name,
                         std::string expected, std::string actual, bool expected_absent = false,
                         bool actual_absent = false) {
  v1::ParameterState p;
  p.set_file(std::move(file));
  p.set_service(std::move(service));
  p.set_parameter(std::move(name));
  p.set_expected(std::move(expected));
  p.set_actual(std::move(actual));
  p.set_expected_absent(expected_absent);
  p.set_actual_absent(actual_absent);
  return p;
}

v1::AgentMessage stateMessage(uint64_t seq) {
  v1::AgentMessage m;
  m.set_seq(seq);
  v1::StateReport* s = m.mutable_state();
  s->set_baseline_name("hardening");
  s->set_baseline_digest("0123456789ab");
  s->set_mode(v1::BASELINE_MODE_DETECT);
  s->set_compliance(v1::COMPLIANCE_DRIFTED);
  s->set_outcome(v1::OUTCOME_KEPT);
  s->set_detail("2 parameters out of line");
  // In line.
  *s->add_parameters() = param("main.cf", "", "smtpd_tls_auth_only", "yes", "yes");
  // Different value.
  *s->add_parameters() = param("main.cf", "", "smtpd_tls_security_level", "may", "none");
  // Wanted set, not set.
  *s->add_parameters() = param("main.cf", "", "smtpd_sasl_auth_enable", "yes", "", false, true);
  // Wanted absent, absent: in line.
  *s->add_parameters() = param("main.cf", "", "relayhost", "", "", true, true);
  // Wanted absent, present (also with an empty value).
  *s->add_parameters() =
      param("master.cf", "submission/inet", "smtpd_client_restrictions", "", "", true, false);
  // Wanted "" and set to "" (not absent): in line.
  *s->add_parameters() = param("main.cf", "", "mydestination", "", "");
  return m;
}

v1::AgentMessage driftMessage(uint64_t seq, v1::DriftSource source) {
  v1::AgentMessage m;
  m.set_seq(seq);
  v1::DriftEvent* d = m.mutable_drift();
  d->set_baseline_name("hardening");
  d->set_baseline_digest("0123456789ab");
  d->set_source(source);
  return m;
}

// ---------------------------------------------------------------------------------------
// outOfLine

TEST(ReportMappingTest, OutOfLineComparesValuesAndAbsence) {
  EXPECT_FALSE(outOfLine(param("main.cf", "", "p", "a", "a")));
  EXPECT_TRUE(outOfLine(param("main.cf", "", "p", "a", "b")));
  EXPECT_TRUE(outOfLine(param("main.cf", "", "p", "a", "", false, true)));
  EXPECT_TRUE(outOfLine(param("main.cf", "", "p", "", "a", true, false)));
  EXPECT_TRUE(outOfLine(param("main.cf", "", "p", "", "", true, false)));
  EXPECT_FALSE(outOfLine(param("main.cf", "", "p", "", "", true, true)));
  // Absent on both sides: values (normally "") do not matter.
  EXPECT_FALSE(outOfLine(param("main.cf", "", "p", "x", "y", true, true)));
  EXPECT_FALSE(outOfLine(param("main.cf", "", "p", "", "")));
}

// ---------------------------------------------------------------------------------------
// reportWrite: state

TEST(ReportMappingTest, StateReportWriteCarriesHeaderAndBody) {
  v1::AgentMessage m = stateMessage(7);
  Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
  ASSERT_TRUE(w.ok()) << w.status().toString();
  EXPECT_EQ(w->agent_id, "mx1");
  EXPECT_EQ(w->seq, 7u);
  EXPECT_EQ(w->kind, "state");
  EXPECT_EQ(w->received_at, kNow);
  v1::AgentMessage body;
  ASSERT_TRUE(body.ParseFromString(w->body));
  EXPECT_EQ(body.seq(), 7u);
  EXPECT_TRUE(body.has_state());
  EXPECT_TRUE(w->drift.empty()) << "a state report's drift goes into state->drift";
  ASSERT_TRUE(w->state.has_value());
  EXPECT_EQ(w->state->baseline_name, "hardening");
  EXPECT_EQ(w->state->baseline_version, "0123456789ab");
  EXPECT_EQ(w->state->mode, store::Mode::kDetect);
  EXPECT_EQ(w->state->compliance, store::Compliance::kDrifted);
  v1::StateReport state;
  ASSERT_TRUE(state.ParseFromString(w->state->serialized));
  EXPECT_EQ(state.parameters_size(), 6);
  EXPECT_EQ(state.outcome(), v1::OUTCOME_KEPT);
}

TEST(ReportMappingTest, StateDriftRowsAreExactlyTheOutOfLineParameters) {
  Result<store::ReportWrite> w = reportWrite("mx1", stateMessage(1), kNow);
  ASSERT_TRUE(w.ok()) << w.status().toString();
  const std::vector<store::DriftRow>& rows = w->state->drift;
  ASSERT_THAT(rows, SizeIs(3));

  EXPECT_EQ(rows[0].agent_id, "mx1");
  EXPECT_EQ(rows[0].file, "main.cf");
  EXPECT_EQ(rows[0].service, "");
  EXPECT_EQ(rows[0].parameter, "smtpd_tls_security_level");
  EXPECT_EQ(rows[0].expected, "may");
  EXPECT_EQ(rows[0].actual, "none");
  EXPECT_FALSE(rows[0].expected_absent);
  EXPECT_FALSE(rows[0].actual_absent);
  EXPECT_EQ(rows[0].detected_at, kNow);

  EXPECT_EQ(rows[1].parameter, "smtpd_sasl_auth_enable");
  EXPECT_FALSE(rows[1].expected_absent);
  EXPECT_TRUE(rows[1].actual_absent);

  EXPECT_EQ(rows[2].file, "master.cf");
  EXPECT_EQ(rows[2].service, "submission/inet");
  EXPECT_EQ(rows[2].parameter, "smtpd_client_restrictions");
  EXPECT_TRUE(rows[2].expected_absent);
  EXPECT_FALSE(rows[2].actual_absent);
}

TEST(ReportMappingTest, CompliantStateHasNoDriftRows) {
  v1::AgentMessage m;
  m.set_seq(3);
  v1::StateReport* s = m.mutable_state();
  s->set_mode(v1::BASELINE_MODE_ENFORCE);
  s->set_compliance(v1::COMPLIANCE_COMPLIANT);
  *s->add_parameters() = param("main.cf", "", "smtpd_tls_auth_only", "yes", "yes");
  Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
  ASSERT_TRUE(w.ok()) << w.status().toString();
  ASSERT_TRUE(w->state.has_value());
  EXPECT_THAT(w->state->drift, IsEmpty());
}

TEST(ReportMappingTest, StateHistorySummary) {
  Result<store::ReportWrite> w = reportWrite("mx1", stateMessage(1), kNow);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->history.agent_id, "mx1");
  EXPECT_EQ(w->history.at, kNow);
  EXPECT_EQ(w->history.kind, "state");
  EXPECT_EQ(w->history.summary, "DRIFTED (kept): 2 parameters out of line");

  v1::AgentMessage bare;
  bare.set_seq(2);
  bare.mutable_state()->set_compliance(v1::COMPLIANCE_COMPLIANT);
  bare.mutable_state()->set_mode(v1::BASELINE_MODE_ENFORCE);
  Result<store::ReportWrite> b = reportWrite("mx1", bare, kNow);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->history.summary, "COMPLIANT");

  v1::AgentMessage outcome_only = bare;
  outcome_only.mutable_state()->set_compliance(v1::COMPLIANCE_REFUSED);
  outcome_only.mutable_state()->set_outcome(v1::OUTCOME_REFUSED);
  Result<store::ReportWrite> o = reportWrite("mx1", outcome_only, kNow);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->history.summary, "REFUSED (refused)");

  v1::AgentMessage detail_only = bare;
  detail_only.mutable_state()->set_compliance(v1::COMPLIANCE_NEEDS_HUMAN);
  detail_only.mutable_state()->set_detail("rollback failed");
  Result<store::ReportWrite> d = reportWrite("mx1", detail_only, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->history.summary, "NEEDS_HUMAN: rollback failed");

  v1::AgentMessage rolled_back = bare;
  rolled_back.mutable_state()->set_compliance(v1::COMPLIANCE_ROLLED_BACK);
  rolled_back.mutable_state()->set_outcome(v1::OUTCOME_ROLLED_BACK);
  Result<store::ReportWrite> r = reportWrite("mx1", rolled_back, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->history.summary, "ROLLED_BACK (rolled_back)");
  EXPECT_EQ(r->state->compliance, store::Compliance::kRolledBack);
}

TEST(ReportMappingTest, StateModeAndComplianceMapOneToOne) {
  struct Case {
    v1::Compliance wire;
    store::Compliance stored;
  };
  for (Case c : {Case{v1::COMPLIANCE_UNSPECIFIED, store::Compliance::kUnspecified},
                 Case{v1::COMPLIANCE_COMPLIANT, store::Compliance::kCompliant},
                 Case{v1::COMPLIANCE_DRIFTED, store::Compliance::kDrifted},
                 Case{v1::COMPLIANCE_FAILING, store::Compliance::kFailing},
                 Case{v1::COMPLIANCE_REFUSED, store::Compliance::kRefused},
                 Case{v1::COMPLIANCE_NEEDS_HUMAN, store::Compliance::kNeedsHuman}}) {
    v1::AgentMessage m = stateMessage(1);
    m.mutable_state()->set_compliance(c.wire);
    Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
    ASSERT_TRUE(w.ok()) << v1::Compliance_Name(c.wire);
    EXPECT_EQ(w->state->compliance, c.stored) << v1::Compliance_Name(c.wire);
  }
  struct ModeCase {
    v1::BaselineMode wire;
    store::Mode stored;
  };
  {
    // A state always refers to a baseline, which has a mode (STYLE: UNSPECIFIED is invalid).
    v1::AgentMessage m = stateMessage(1);
    m.mutable_state()->set_mode(v1::BASELINE_MODE_UNSPECIFIED);
    EXPECT_EQ(reportWrite("mx1", m, kNow).status().code(), StatusCode::kInvalidArgument);
  }
  for (ModeCase c : {ModeCase{v1::BASELINE_MODE_ENFORCE, store::Mode::kEnforce},
                     ModeCase{v1::BASELINE_MODE_DETECT, store::Mode::kDetect}}) {
    v1::AgentMessage m = stateMessage(1);
    m.mutable_state()->set_mode(c.wire);
    Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
    ASSERT_TRUE(w.ok()) << v1::BaselineMode_Name(c.wire);
    EXPECT_EQ(w->state->mode, c.stored) << v1::BaselineMode_Name(c.wire);
  }
}

// ---------------------------------------------------------------------------------------
// reportWrite: drift

TEST(ReportMappingTest, ConfigDriftRowsAndSummary) {
  v1::AgentMessage m = driftMessage(9, v1::DRIFT_SOURCE_CONFIG);
  v1::DriftEvent* d = m.mutable_drift();
  *d->add_parameters() = param("main.cf", "", "smtpd_tls_auth_only", "yes", "no");
  *d->add_parameters() =
      param("master.cf", "submission/inet", "smtpd_tls_security_level", "encrypt", "", false, true);
  *d->add_parameters() = param("main.cf", "", "relayhost", "", "", true, false);
  Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
  ASSERT_TRUE(w.ok()) << w.status().toString();
  EXPECT_EQ(w->kind, "drift");
  EXPECT_EQ(w->seq, 9u);
  EXPECT_FALSE(w->state.has_value());
  // A drift event carries only parameters out of line: every one becomes a row.
  ASSERT_THAT(w->drift, SizeIs(3));
  EXPECT_EQ(w->drift[0].parameter, "smtpd_tls_auth_only");
  EXPECT_EQ(w->drift[0].expected, "yes");
  EXPECT_EQ(w->drift[0].actual, "no");
  EXPECT_EQ(w->drift[1].service, "submission/inet");
  EXPECT_TRUE(w->drift[1].actual_absent);
  EXPECT_TRUE(w->drift[2].expected_absent);
  for (const store::DriftRow& row : w->drift) {
    EXPECT_EQ(row.agent_id, "mx1");
    EXPECT_EQ(row.detected_at, kNow);
  }
  EXPECT_EQ(w->history.kind, "drift");
  EXPECT_EQ(w->history.at, kNow);
  EXPECT_EQ(w->history.summary,
            "smtpd_tls_auth_only is no (baseline: yes); "
            "submission/inet smtpd_tls_security_level is (unset) (baseline: encrypt); "
            "relayhost is \"\" (baseline: (unset))");
}

TEST(ReportMappingTest, RepairingDriftSummarySaysSo) {
  v1::AgentMessage m = driftMessage(2, v1::DRIFT_SOURCE_CONFIG);
  m.mutable_drift()->set_repairing(true);
  *m.mutable_drift()->add_parameters() = param("main.cf", "", "smtpd_tls_auth_only", "yes", "no");
  Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->history.summary, "smtpd_tls_auth_only is no (baseline: yes) (repairing)");
}

TEST(ReportMappingTest, ServiceDriftSummaryNamesTheFirstFailure) {
  v1::AgentMessage m = driftMessage(4, v1::DRIFT_SOURCE_SERVICE);
  m.mutable_drift()->add_failures("STARTTLS not offered on smtp");
  m.mutable_drift()->add_failures("AUTH PLAIN offered before TLS");
  Result<store::ReportWrite> w = reportWrite("mx1", m, kNow);
  ASSERT_TRUE(w.ok()) << w.status().toString();
  EXPECT_EQ(w->kind, "drift");
  EXPECT_THAT(w->drift, IsEmpty());
  EXPECT_EQ(w->history.summary, "live service fails its probe: STARTTLS not offered on smtp");

  v1::AgentMessage no_failures = driftMessage(5, v1::DRIFT_SOURCE_SERVICE);
  Result<store::ReportWrite> n = reportWrite("mx1", no_failures, kNow);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->history.summary, "live service fails its probe");
}

// ---------------------------------------------------------------------------------------
// reportWrite: rejected messages

TEST(ReportMappingTest, SeqZeroIsRejected) {
  Result<store::ReportWrite> w = reportWrite("mx1", stateMessage(0), kNow);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(w.status().message(), HasSubstr("seq"));
}

TEST(ReportMappingTest, SeqBeyondWhatTheStoreHoldsIsRejected) {
  // Else the store would refuse it at every redelivery and it would never be acked.
  v1::AgentMessage m = stateMessage(uint64_t{1} << 63);
  EXPECT_EQ(reportWrite("mx1", m, kNow).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(reportWrite("mx1", stateMessage((uint64_t{1} << 63) - 1), kNow).ok());
}

TEST(ReportMappingTest, DriftWithoutASourceIsRejected) {
  v1::AgentMessage m = driftMessage(3, v1::DRIFT_SOURCE_UNSPECIFIED);
  EXPECT_EQ(reportWrite("mx1", m, kNow).status().code(), StatusCode::kInvalidArgument);
}

TEST(ReportMappingTest, MessageWithoutDurableBodyIsRejected) {
  v1::AgentMessage none;
  none.set_seq(1);
  EXPECT_EQ(reportWrite("mx1", none, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage hello;
  hello.set_seq(1);
  hello.mutable_hello()->set_hostname("mx1");
  EXPECT_EQ(reportWrite("mx1", hello, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage heartbeat;
  heartbeat.set_seq(1);
  *heartbeat.mutable_heartbeat()->mutable_sent_at() = timestampFromUnixMs(kNow);
  EXPECT_EQ(reportWrite("mx1", heartbeat, kNow).status().code(), StatusCode::kInvalidArgument);
}

TEST(ReportMappingTest, UnknownEnumValuesAreRejected) {
  v1::AgentMessage compliance = stateMessage(1);
  compliance.mutable_state()->set_compliance(static_cast<v1::Compliance>(99));
  EXPECT_EQ(reportWrite("mx1", compliance, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage compliance7 = stateMessage(1);  // one past COMPLIANCE_ROLLED_BACK
  compliance7.mutable_state()->set_compliance(static_cast<v1::Compliance>(7));
  EXPECT_EQ(reportWrite("mx1", compliance7, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage outcome = stateMessage(1);  // one past the last outcome
  outcome.mutable_state()->set_outcome(static_cast<v1::Outcome>(v1::Outcome_MAX + 1));
  EXPECT_EQ(reportWrite("mx1", outcome, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage negative = stateMessage(1);
  negative.mutable_state()->set_compliance(static_cast<v1::Compliance>(-1));
  EXPECT_EQ(reportWrite("mx1", negative, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage mode = stateMessage(1);
  mode.mutable_state()->set_mode(static_cast<v1::BaselineMode>(7));
  EXPECT_EQ(reportWrite("mx1", mode, kNow).status().code(), StatusCode::kInvalidArgument);

  v1::AgentMessage source = driftMessage(1, static_cast<v1::DriftSource>(9));
  EXPECT_EQ(reportWrite("mx1", source, kNow).status().code(), StatusCode::kInvalidArgument);
}

// Unknown enum values survive a round trip through the wire format (proto3 open enums), so
// the check must hold for parsed messages too, not only for ones built in memory.
TEST(ReportMappingTest, UnknownEnumValuesFromTheWireAreRejected) {
  v1::AgentMessage sent = stateMessage(1);
  sent.mutable_state()->set_compliance(static_cast<v1::Compliance>(99));
  v1::AgentMessage received;
  ASSERT_TRUE(received.ParseFromString(sent.SerializeAsString()));
  EXPECT_EQ(reportWrite("mx1", received, kNow).status().code(), StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------
// parameterState, agentSummary

TEST(ReportMappingTest, ParameterStateFromDriftRow) {
  store::DriftRow row{.agent_id = "mx1",
                      .file = "master.cf",
                      .service = "smtp/inet",
                      .parameter = "smtpd_tls_security_level",
                      .expected = "",
                      .actual = "none",
                      .expected_absent = true,
                      .actual_absent = false,
                      .detected_at = kNow};
  v1::ParameterState p = parameterState(row);
  EXPECT_EQ(p.file(), "master.cf");
  EXPECT_EQ(p.service(), "smtp/inet");
  EXPECT_EQ(p.parameter(), "smtpd_tls_security_level");
  EXPECT_EQ(p.expected(), "");
  EXPECT_EQ(p.actual(), "none");
  EXPECT_TRUE(p.expected_absent());
  EXPECT_FALSE(p.actual_absent());
  EXPECT_TRUE(outOfLine(p));
}

TEST(ReportMappingTest, AgentSummaryCopiesEveryField) {
  store::AgentRecord agent;
  agent.id = "mx1";
  agent.hostname = "mx1.example.org";
  agent.labels = {{"role", "mx"}, {"site", "fra"}};
  agent.enrolled_at = 1;
  agent.last_seen = kNow;
  agent.revoked = true;
  agent.agent_version = "0.4.0";
  agent.postfix_version = "3.7.11";
  agent.baseline_name = "hardening";
  agent.baseline_version = "0123456789ab";
  agent.mode = store::Mode::kDetect;
  agent.compliance = store::Compliance::kFailing;
  agent.last_seq = 42;
  agent.drifted_parameters = 3;

  v1::AgentSummary s = agentSummary(agent, /*connected=*/true);
  EXPECT_EQ(s.id(), "mx1");
  EXPECT_EQ(s.hostname(), "mx1.example.org");
  ASSERT_EQ(s.labels_size(), 2);
  EXPECT_EQ(s.labels().at("role"), "mx");
  EXPECT_EQ(s.labels().at("site"), "fra");
  EXPECT_EQ(s.baseline_name(), "hardening");
  EXPECT_EQ(s.baseline_digest(), "0123456789ab");
  EXPECT_EQ(s.mode(), v1::BASELINE_MODE_DETECT);
  EXPECT_EQ(s.compliance(), v1::COMPLIANCE_FAILING);
  EXPECT_EQ(unixMs(s.last_seen()), kNow);
  EXPECT_TRUE(s.connected());
  EXPECT_TRUE(s.revoked());
  EXPECT_EQ(s.drifted_parameters(), 3);
  EXPECT_EQ(s.agent_version(), "0.4.0");
  EXPECT_EQ(s.postfix_version(), "3.7.11");

  agent.revoked = false;
  v1::AgentSummary offline = agentSummary(agent, /*connected=*/false);
  EXPECT_FALSE(offline.connected());
  EXPECT_FALSE(offline.revoked());
}

// A row stored before every write path checked UTF-8: sent as it is, the reply could not be
// parsed by the client and `baseline list` failed for everyone.
TEST(ReportMappingTest, StoredTextThatIsNotUtf8IsSentWithReplacementCharacters) {
  const std::string bad = "\xff\xfe";
  const std::string replaced = "\xef\xbf\xbd\xef\xbf\xbd";
  v1::ListBaselinesResponse list;
  *list.add_baselines() = baselineVersion(
      {.name = "badutf", .version = "0123456789ab", .label = bad, .content = "x"}, 0);
  *list.add_baselines() =
      baselineVersion({.name = "good", .version = "ba9876543210", .label = "2", .content = "y"}, 1);
  v1::ListBaselinesResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(list.SerializeAsString()));
  ASSERT_EQ(parsed.baselines_size(), 2);
  EXPECT_EQ(parsed.baselines(0).version(), replaced);
  EXPECT_EQ(parsed.baselines(1).version(), "2");

  store::AgentRecord agent{.id = "mx1", .hostname = "mx\xc0", .labels = {{"site", bad}}};
  agent.agent_version = bad;
  v1::ListAgentsResponse agents;
  *agents.add_agents() = agentSummary(agent, true);
  v1::ListAgentsResponse agents_parsed;
  ASSERT_TRUE(agents_parsed.ParseFromString(agents.SerializeAsString()));
  EXPECT_EQ(agents_parsed.agents(0).labels().at("site"), replaced);

  v1::TokenInfo token = tokenInfo({.id = "t", .labels = {{"k", bad}}});
  v1::TokenInfo token_parsed;
  EXPECT_TRUE(token_parsed.ParseFromString(token.SerializeAsString()));
  v1::HistoryEntry entry = historyEntry({.agent_id = "mx1", .kind = "state", .summary = bad});
  v1::HistoryEntry entry_parsed;
  EXPECT_TRUE(entry_parsed.ParseFromString(entry.SerializeAsString()));
  v1::ParameterState p = parameterState({.parameter = "x", .actual = bad});
  v1::ParameterState p_parsed;
  EXPECT_TRUE(p_parsed.ParseFromString(p.SerializeAsString()));
}

TEST(ReportMappingTest, ReportWriteCarriesTheEpoch) {
  v1::AgentMessage m;
  m.set_seq(3);
  m.set_seq_epoch(0xabcdef0123456789ULL);
  v1::StateReport* s = m.mutable_state();
  s->set_mode(v1::BASELINE_MODE_ENFORCE);
  s->set_compliance(v1::COMPLIANCE_COMPLIANT);
  Result<store::ReportWrite> write = reportWrite("mx1", m, 1);
  ASSERT_TRUE(write.ok()) << write.status().toString();
  EXPECT_EQ(write->epoch, 0xabcdef0123456789ULL);
  EXPECT_EQ(write->seq, 3u);
}

}  // namespace
}  // namespace postwarden::controller::core
