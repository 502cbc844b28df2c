// postwardenctl end to end against a mock OperatorService: the arguments, config and flags,
// the request each command sends, the exact text and JSON it prints and its exit status.
#include "controller/ctl/ctl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "common/proto_time.h"
#include "common/version.h"
#include "tests/unit/controller/ctl/mock_operator_stub.h"

namespace postwarden::controller::ctl {
namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Invoke;
using testing::MockOperatorServiceStub;
using ::testing::Not;
using ::testing::Pair;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::SetArgPointee;
using ::testing::StrictMock;

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00Z

class PostwardenctlTest : public ::testing::Test {
 protected:
  PostwardenctlTest() : owned_stub_(std::make_unique<StrictMock<MockOperatorServiceStub>>()) {
    stub_ = owned_stub_.get();
  }

  // Runs postwardenctl with connection flags in front of `args` (unless `with_flags` is false).
  int run(std::vector<std::string> args, bool with_flags = true) {
    std::vector<std::string> full;
    if (with_flags) {
      full = {"--controller", "ctl.example.org:8443", "--ca",  "/pki/ca.crt",
              "--cert",       "/pki/alice.crt",       "--key", "/pki/alice.key"};
    }
    full.insert(full.end(), args.begin(), args.end());
    Environment env{
        .out = out_,
        .err = err_,
        .out_is_terminal = terminal_,
        .getenv = [this](const char* name) -> std::optional<std::string> {
          auto it = vars_.find(name);
          if (it == vars_.end()) return std::nullopt;
          return it->second;
        },
        .now_unix_ms = [] { return kNow; },
        .read_file = [this](const std::string& path, size_t max) -> Result<std::string> {
          auto it = files_.find(path);
          if (it == files_.end()) {
            return NotFoundError("reading '" + path + "': No such file or directory");
          }
          if (it->second.size() > max) {
            return ResourceExhaustedError("reading '" + path + "': larger than " +
                                          std::to_string(max) + " bytes");
          }
          return it->second;
        },
        .connect = [this](const ConnectionSettings& settings)
            -> Result<std::unique_ptr<v1::OperatorService::StubInterface>> {
          ++connects_;
          connected_with_ = settings;
          if (!owned_stub_) return InternalError("connected twice");
          return std::unique_ptr<v1::OperatorService::StubInterface>(std::move(owned_stub_));
        },
    };
    return ctl::run(full, env);
  }

  // An action that checks the call's deadline and answers `reply`.
  template <typename Reply>
  auto answer(Reply reply, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    return [reply, timeout](grpc::ClientContext* context, const auto&, Reply* out) {
      auto left = context->deadline() - std::chrono::system_clock::now();
      EXPECT_GT(left, timeout - std::chrono::seconds(5));
      EXPECT_LE(left, timeout);
      *out = reply;
      return grpc::Status::OK;
    };
  }

  std::unique_ptr<StrictMock<MockOperatorServiceStub>> owned_stub_;
  StrictMock<MockOperatorServiceStub>* stub_;
  std::ostringstream out_;
  std::ostringstream err_;
  bool terminal_ = false;
  std::map<std::string, std::string> vars_;
  std::map<std::string, std::string> files_;
  int connects_ = 0;
  ConnectionSettings connected_with_;
};

v1::ListAgentsResponse fleet() {
  v1::ListAgentsResponse reply;
  v1::AgentSummary* mx2 = reply.add_agents();
  mx2->set_id("mx2");
  mx2->set_hostname("mx2.example.org");
  (*mx2->mutable_labels())["env"] = "prod";
  (*mx2->mutable_labels())["role"] = "mx";
  mx2->set_baseline_name("edge");
  mx2->set_baseline_digest("3f2a1b9c0d1e");
  mx2->set_mode(v1::BASELINE_MODE_ENFORCE);
  mx2->set_compliance(v1::COMPLIANCE_COMPLIANT);
  mx2->set_connected(true);
  *mx2->mutable_last_seen() = timestampFromUnixMs(kNow - 1000);
  mx2->set_agent_version("0.1.0");
  mx2->set_postfix_version("3.7.11");
  v1::AgentSummary* mx1 = reply.add_agents();
  mx1->set_id("mx1");
  mx1->set_hostname("mx1.example.org");
  (*mx1->mutable_labels())["env"] = "prod";
  mx1->set_baseline_name("edge");
  mx1->set_baseline_digest("3f2a1b9c0d1e");
  mx1->set_mode(v1::BASELINE_MODE_DETECT);
  mx1->set_compliance(v1::COMPLIANCE_DRIFTED);
  *mx1->mutable_last_seen() = timestampFromUnixMs(kNow - 180000);
  mx1->set_drifted_parameters(2);
  v1::AgentSummary* fresh = reply.add_agents();
  fresh->set_id("new1");
  v1::AgentSummary* old = reply.add_agents();
  old->set_id("old");
  old->set_hostname("old.example.org");
  old->set_baseline_name("old");
  old->set_baseline_digest("1");
  old->set_mode(v1::BASELINE_MODE_DETECT);
  old->set_compliance(v1::COMPLIANCE_NEEDS_HUMAN);
  old->set_revoked(true);
  *old->mutable_last_seen() = timestampFromUnixMs(kNow - 3 * 86400000LL);
  return reply;
}

// --- agents ------------------------------------------------------------------------------

TEST_F(PostwardenctlTest, AgentsTable) {
  v1::ListAgentsRequest sent;
  EXPECT_CALL(*stub_, ListAgents(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(fleet()))));
  EXPECT_EQ(run({"agents", "--selector", "env=prod,role=mx"}), kExitOk);
  EXPECT_THAT(sent.selector(),
              ::testing::UnorderedElementsAre(Pair("env", "prod"), Pair("role", "mx")));
  EXPECT_EQ(out_.str(),
            "ID    HOSTNAME         LABELS            BASELINE           MODE     COMPLIANCE  "
            "LAST-SEEN\n"
            "mx1   mx1.example.org  env=prod          edge@3f2a1b9c0d1e  detect   drifted     "
            "3m ago\n"
            "mx2   mx2.example.org  env=prod,role=mx  edge@3f2a1b9c0d1e  enforce  compliant   "
            "connected\n"
            "new1  -                -                 -                  -        unknown     "
            "never\n"
            "old   old.example.org  -                 old@1              detect   revoked     "
            "3d ago\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(connects_, 1);
  EXPECT_EQ(connected_with_.controller, "ctl.example.org:8443");
  EXPECT_EQ(connected_with_.ca_file, "/pki/ca.crt");
}

// --- status ------------------------------------------------------------------------------

TEST_F(PostwardenctlTest, StatusListsEveryUnhealthyHostWithItsReasonAndExits2) {
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(fleet())));
  EXPECT_EQ(run({"status"}), kExitUnhealthy);
  // mx1 drifted and not seen for 3 minutes (stale after 90 s); new1 never seen, no baseline;
  // mx2 healthy; old revoked (left out).
  EXPECT_EQ(out_.str(),
            "ID    HOSTNAME         BASELINE           MODE    REASON              LAST-SEEN\n"
            "mx1   mx1.example.org  edge@3f2a1b9c0d1e  detect  drifted, stale      3m ago\n"
            "new1  -                -                  -       no baseline, stale  never\n"
            "2 of 3 agents need attention\n");
}

TEST_F(PostwardenctlTest, StatusNamesARolledBackHostAsRolledBack) {
  v1::ListAgentsResponse reply;
  v1::AgentSummary* mx = reply.add_agents();
  mx->set_id("mx3");
  mx->set_baseline_name("edge");
  mx->set_baseline_digest("1");
  mx->set_mode(v1::BASELINE_MODE_ENFORCE);
  mx->set_compliance(v1::COMPLIANCE_ROLLED_BACK);
  mx->set_connected(true);
  *mx->mutable_last_seen() = timestampFromUnixMs(kNow - 1000);
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"--json", "status"}), kExitUnhealthy);
  EXPECT_THAT(out_.str(), HasSubstr("\"compliance\": \"rolled_back\""));
  EXPECT_THAT(out_.str(), HasSubstr("\"reasons\": [\n        \"rolled-back\"\n      ]"));
}

TEST_F(PostwardenctlTest, StatusStaleAfterAndJson) {
  v1::ListAgentsResponse reply = fleet();
  reply.mutable_agents()->DeleteSubrange(2, 1);  // new1
  reply.mutable_agents(1)->set_compliance(v1::COMPLIANCE_REFUSED);
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"status", "--stale-after", "5m", "--json"}), kExitUnhealthy);
  EXPECT_THAT(out_.str(), HasSubstr("\"healthy\": false"));
  EXPECT_THAT(out_.str(), HasSubstr("\"agents\": 2"));
  EXPECT_THAT(out_.str(), HasSubstr("\"reasons\": [\n        \"refused\"\n      ]"));
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("stale")));
}

TEST_F(PostwardenctlTest, StatusExits0WhenEveryAgentIsHealthy) {
  v1::ListAgentsResponse reply = fleet();
  reply.mutable_agents()->DeleteSubrange(1, 2);  // mx1, new1
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"status"}), kExitOk);
  EXPECT_EQ(out_.str(), "all 1 agents compliant and verified\n");
}

TEST_F(PostwardenctlTest, AgentsColorsOnlyOnATerminalWithoutNoColor) {
  terminal_ = true;
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(fleet())));
  EXPECT_EQ(run({"agents"}), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\x1b[33mdrifted\x1b[0m     3m ago"));
  EXPECT_THAT(out_.str(), HasSubstr("\x1b[32mcompliant\x1b[0m   connected"));
  EXPECT_THAT(out_.str(), HasSubstr("\x1b[31mrevoked\x1b[0m     3d ago"));
}

TEST_F(PostwardenctlTest, NoColorVariableOrFlagTurnsColorsOff) {
  terminal_ = true;
  vars_["NO_COLOR"] = "1";
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(fleet())));
  EXPECT_EQ(run({"agents"}), kExitOk);
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("\x1b[")));
}

TEST_F(PostwardenctlTest, NoColorFlag) {
  terminal_ = true;
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(fleet())));
  EXPECT_EQ(run({"agents", "--no-color"}), kExitOk);
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("\x1b[")));
}

TEST_F(PostwardenctlTest, AgentsJson) {
  v1::ListAgentsResponse reply;
  v1::AgentSummary summary = fleet().agents(0);
  *reply.add_agents() = summary;
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(reply)));
  terminal_ = true;  // JSON is never colored
  EXPECT_EQ(run({"--json", "agents"}), kExitOk);
  EXPECT_EQ(out_.str(), R"([
  {
    "id": "mx2",
    "hostname": "mx2.example.org",
    "labels": {
      "env": "prod",
      "role": "mx"
    },
    "baseline_name": "edge",
    "baseline_digest": "3f2a1b9c0d1e",
    "mode": "enforce",
    "compliance": "compliant",
    "connected": true,
    "revoked": false,
    "last_seen": "2024-05-01T11:59:59.000Z",
    "drifted_parameters": 0,
    "agent_version": "0.1.0",
    "postfix_version": "3.7.11"
  }
]
)");
}

TEST_F(PostwardenctlTest, NoAgents) {
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(v1::ListAgentsResponse())));
  EXPECT_EQ(run({"agents"}), kExitOk);
  EXPECT_EQ(out_.str(), "no agents\n");
}

TEST_F(PostwardenctlTest, EmptyListInJsonIsAnEmptyArray) {
  EXPECT_CALL(*stub_, ListAgents(_, _, _)).WillOnce(Invoke(answer(v1::ListAgentsResponse())));
  EXPECT_EQ(run({"agents", "--json"}), kExitOk);
  EXPECT_EQ(out_.str(), "[]\n");
}

// --- agent show / revoke / approve -------------------------------------------------------

v1::GetAgentResponse agentDetail() {
  v1::GetAgentResponse reply;
  *reply.mutable_agent() = fleet().agents(1);  // mx1, drifted
  v1::ParameterState* p1 = reply.add_parameters();
  p1->set_file("main.cf");
  p1->set_parameter("smtpd_tls_security_level");
  p1->set_expected("may");
  p1->set_actual("none");
  v1::ParameterState* p2 = reply.add_parameters();
  p2->set_file("master.cf");
  p2->set_service("submission/inet");
  p2->set_parameter("smtpd_sasl_auth_enable");
  p2->set_expected("yes");
  p2->set_actual("yes");
  v1::ParameterState* p3 = reply.add_parameters();
  p3->set_file("main.cf");
  p3->set_parameter("smtpd_tls_auth_only");
  p3->set_expected("yes");
  p3->set_actual_absent(true);
  reply.add_probe_transcript("S: 220 mx1.example.org ESMTP");
  reply.add_probe_transcript("C: EHLO postwarden");
  reply.set_detail("2 parameters drifted");
  v1::HistoryEntry* h1 = reply.add_history();
  *h1->mutable_at() = timestampFromUnixMs(kNow - 60000);
  h1->set_kind("drift");
  h1->set_summary("2 parameters drifted");
  v1::HistoryEntry* h2 = reply.add_history();
  *h2->mutable_at() = timestampFromUnixMs(kNow - 7200000);
  h2->set_kind("enrolled");
  h2->set_summary("enrolled with token tok1");
  return reply;
}

TEST_F(PostwardenctlTest, AgentShow) {
  v1::GetAgentRequest sent;
  EXPECT_CALL(*stub_, GetAgent(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(agentDetail()))));
  EXPECT_EQ(run({"agent", "show", "mx1"}), kExitOk);
  EXPECT_EQ(sent.id(), "mx1");
  EXPECT_EQ(out_.str(),
            "agent:       mx1\n"
            "hostname:    mx1.example.org\n"
            "labels:      env=prod\n"
            "baseline:    edge@3f2a1b9c0d1e (detect)\n"
            "compliance:  drifted, 2 drifted parameters\n"
            "last seen:   3m ago (2024-05-01T11:57:00Z)\n"
            "versions:    agent -, Postfix -\n"
            "detail:      2 parameters drifted\n"
            "\n"
            "PARAMETER                          SERVICE          EXPECTED  ACTUAL   OK\n"
            "smtpd_tls_security_level           -                may       none     NO\n"
            "master.cf: smtpd_sasl_auth_enable  submission/inet  yes       yes      yes\n"
            "smtpd_tls_auth_only                -                yes       (unset)  NO\n"
            "\n"
            "last probe:\n"
            "  S: 220 mx1.example.org ESMTP\n"
            "  C: EHLO postwarden\n"
            "\n"
            "history (newest first):\n"
            "TIME                  AGE     KIND      SUMMARY\n"
            "2024-05-01T11:59:00Z  1m ago  drift     2 parameters drifted\n"
            "2024-05-01T10:00:00Z  2h ago  enrolled  enrolled with token tok1\n");
}

TEST_F(PostwardenctlTest, AgentShowJson) {
  EXPECT_CALL(*stub_, GetAgent(_, _, _)).WillOnce(Invoke(answer(agentDetail())));
  EXPECT_EQ(run({"agent", "show", "mx1", "--json"}), kExitOk);
  const std::string json = out_.str();
  EXPECT_THAT(json, ::testing::StartsWith("{\n  \"agent\": {\n    \"id\": \"mx1\",\n"));
  EXPECT_THAT(json, HasSubstr(R"(  "parameters": [
    {
      "file": "main.cf",
      "service": "",
      "parameter": "smtpd_tls_security_level",
      "expected": "may",
      "actual": "none",
      "expected_absent": false,
      "actual_absent": false,
      "ok": false
    },)"));
  EXPECT_THAT(json, HasSubstr(R"(  "probe_transcript": [
    "S: 220 mx1.example.org ESMTP",
    "C: EHLO postwarden"
  ],
  "detail": "2 parameters drifted",
  "history": [
    {
      "at": "2024-05-01T11:59:00.000Z",
      "kind": "drift",
      "summary": "2 parameters drifted"
    },)"));
  EXPECT_THAT(json, ::testing::EndsWith("}\n"));
}

TEST_F(PostwardenctlTest, AgentShowNotFound) {
  EXPECT_CALL(*stub_, GetAgent(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no agent 'mx9'")));
  EXPECT_EQ(run({"agent", "show", "mx9"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "postwardenctl: error: showing agent 'mx9': NOT_FOUND: no agent 'mx9'\n");
}

TEST_F(PostwardenctlTest, AgentRevokeAndApprove) {
  v1::AgentRequest revoked;
  EXPECT_CALL(*stub_, RevokeAgent(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&revoked), Invoke(answer(v1::Empty()))));
  EXPECT_EQ(run({"agent", "revoke", "mx1"}), kExitOk);
  EXPECT_EQ(revoked.id(), "mx1");
  EXPECT_EQ(out_.str(), "revoked agent mx1: its certificate is refused from now on\n");
}

TEST_F(PostwardenctlTest, AgentApproveJson) {
  v1::AgentRequest approved;
  EXPECT_CALL(*stub_, ApproveAgent(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&approved), Invoke(answer(v1::Empty()))));
  EXPECT_EQ(run({"agent", "approve", "mx1", "--json"}), kExitOk);
  EXPECT_EQ(approved.id(), "mx1");
  EXPECT_EQ(out_.str(), "{\n  \"agent_id\": \"mx1\",\n  \"approved\": true\n}\n");
}

// --- drift -------------------------------------------------------------------------------

v1::ListDriftResponse someDrift() {
  v1::ListDriftResponse reply;
  v1::DriftRecord* d = reply.add_drift();
  d->set_agent_id("mx1");
  d->set_hostname("mx1.example.org");
  d->set_baseline_name("edge");
  d->set_baseline_digest("3f2a1b9c0d1e");
  d->mutable_parameter()->set_file("main.cf");
  d->mutable_parameter()->set_parameter("smtpd_tls_security_level");
  d->mutable_parameter()->set_expected("may");
  d->mutable_parameter()->set_actual("none");
  d->set_mode(v1::BASELINE_MODE_DETECT);
  *d->mutable_detected_at() = timestampFromUnixMs(kNow - 600000);
  return reply;
}

TEST_F(PostwardenctlTest, DriftFoundExitsTwo) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _)).WillOnce(Invoke(answer(someDrift())));
  EXPECT_EQ(run({"drift"}), kExitDrift);
  EXPECT_EQ(out_.str(),
            "AGENT  HOSTNAME         BASELINE           FILE     SERVICE  PARAMETER              "
            "   EXPECTED  ACTUAL  MODE    SINCE\n"
            "mx1    mx1.example.org  edge@3f2a1b9c0d1e  main.cf  -        smtpd_tls_security_level"
            "  may       none    detect  10m ago\n");
}

TEST_F(PostwardenctlTest, DriftJsonAlsoExitsTwo) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _)).WillOnce(Invoke(answer(someDrift())));
  EXPECT_EQ(run({"drift", "--json"}), kExitDrift);
  EXPECT_EQ(out_.str(), R"([
  {
    "agent_id": "mx1",
    "hostname": "mx1.example.org",
    "baseline_name": "edge",
    "baseline_digest": "3f2a1b9c0d1e",
    "file": "main.cf",
    "service": "",
    "parameter": "smtpd_tls_security_level",
    "expected": "may",
    "actual": "none",
    "expected_absent": false,
    "actual_absent": false,
    "mode": "detect",
    "detected_at": "2024-05-01T11:50:00.000Z"
  }
]
)");
}

TEST_F(PostwardenctlTest, NoDriftExitsZero) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _)).WillOnce(Invoke(answer(v1::ListDriftResponse())));
  EXPECT_EQ(run({"drift"}), kExitOk);
  EXPECT_EQ(out_.str(), "no drift\n");
}

TEST_F(PostwardenctlTest, DriftCallFailingExitsOne) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                    "failed to connect to all addresses; last error: "
                                    "Connection refused")));
  EXPECT_EQ(run({"drift"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: listing drift: UNAVAILABLE: failed to connect to all "
            "addresses; last error: Connection refused\n"
            "postwardenctl: hint: the controller is down or unreachable, or the address "
            "(--controller) or the CA file (--ca) is wrong\n");
}

// --- baselines ---------------------------------------------------------------------------

v1::BaselineVersion edgeVersion() {
  v1::BaselineVersion b;
  b.set_name("edge");
  b.set_digest("3f2a1b9c0d1e");
  b.set_version("2024.05");
  *b.mutable_pushed_at() = timestampFromUnixMs(kNow - 86400000);
  b.set_size_bytes(1536);
  b.set_assigned_agents(2);
  return b;
}

TEST_F(PostwardenctlTest, BaselinePushSendsTheFile) {
  files_["edge.yaml"] = "name: edge\nversion: 2024.05\n";
  v1::PushBaselineRequest sent;
  v1::PushBaselineResponse reply;
  *reply.mutable_baseline() = edgeVersion();
  reply.set_created(true);
  EXPECT_CALL(*stub_, PushBaseline(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"baseline", "push", "edge.yaml"}), kExitOk);
  EXPECT_EQ(sent.content(), "name: edge\nversion: 2024.05\n");
  EXPECT_EQ(sent.file_name(), "edge.yaml");  // names it in the controller's FILE:LINE:COL
  EXPECT_EQ(out_.str(), "edge@3f2a1b9c0d1e: new (version '2024.05', 1.5 KiB)\n");
}

TEST_F(PostwardenctlTest, BaselinePushPrintsTheControllersWarnings) {
  files_["edge.yaml"] = "name: edge\n";
  v1::PushBaselineResponse reply;
  *reply.mutable_baseline() = edgeVersion();
  reply.set_created(true);
  reply.add_warnings("edge.yaml:4:5: risky");
  EXPECT_CALL(*stub_, PushBaseline(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"baseline", "push", "edge.yaml"}), kExitOk);
  EXPECT_EQ(err_.str(), "postwardenctl: warning: edge.yaml:4:5: risky\n");
}

TEST_F(PostwardenctlTest, BaselinePushRefusedPrintsEveryLineOfTheReason) {
  files_["edge.yaml"] = "name: edge\n";
  EXPECT_CALL(*stub_, PushBaseline(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "edge.yaml:5:5: unknown parameter\nedge.yaml:6:3: bad value")));
  EXPECT_EQ(run({"baseline", "push", "edge.yaml"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: pushing baseline 'edge.yaml': INVALID_ARGUMENT: edge.yaml:5:5: "
            "unknown parameter\npostwardenctl: error: edge.yaml:6:3: bad value\n");
}

TEST_F(PostwardenctlTest, BaselineDeleteSendsNameAndVersion) {
  v1::DeleteBaselineRequest sent;
  v1::DeleteBaselineResponse reply;
  reply.set_digest("3f2a1b9c0d1e");
  EXPECT_CALL(*stub_, DeleteBaseline(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"baseline", "delete", "edge@3f2a"}), kExitOk);
  EXPECT_EQ(sent.name(), "edge");
  EXPECT_EQ(sent.digest(), "3f2a");
  EXPECT_EQ(out_.str(), "deleted baseline edge@3f2a1b9c0d1e\n");
}

TEST_F(PostwardenctlTest, BaselineDeleteJson) {
  v1::DeleteBaselineResponse reply;
  reply.set_digest("3f2a1b9c0d1e");
  EXPECT_CALL(*stub_, DeleteBaseline(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"baseline", "delete", "edge@3f2a", "--json"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "{\n  \"name\": \"edge\",\n  \"digest\": \"3f2a1b9c0d1e\",\n  "
            "\"deleted\": true\n}\n");
}

TEST_F(PostwardenctlTest, BaselineDeleteRefusedWhileAssigned) {
  EXPECT_CALL(*stub_, DeleteBaseline(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "is assigned")));
  EXPECT_EQ(run({"baseline", "delete", "edge@3f2a"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: deleting baseline 'edge@3f2a': FAILED_PRECONDITION: is "
            "assigned\n");
}

TEST_F(PostwardenctlTest, BaselinePushAlreadyStoredJson) {
  files_["edge.yaml"] = "name: edge\n";
  v1::PushBaselineResponse reply;
  *reply.mutable_baseline() = edgeVersion();
  reply.set_created(false);
  EXPECT_CALL(*stub_, PushBaseline(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"baseline", "push", "edge.yaml", "--json"}), kExitOk);
  EXPECT_EQ(out_.str(), R"({
  "name": "edge",
  "digest": "3f2a1b9c0d1e",
  "version": "2024.05",
  "pushed_at": "2024-04-30T12:00:00.000Z",
  "size_bytes": 1536,
  "assigned_agents": 2,
  "created": false
}
)");
}

TEST_F(PostwardenctlTest, BaselinePushRefusesLargeOrMissingFilesWithoutCalling) {
  files_["big.yaml"] = std::string(1024 * 1024 + 1, 'x');
  EXPECT_EQ(run({"baseline", "push", "big.yaml"}), kExitError);
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: baseline: reading 'big.yaml': larger than 1048576 bytes\n");
  EXPECT_EQ(out_.str(), "");
}

TEST_F(PostwardenctlTest, BaselinePushMissingFile) {
  EXPECT_EQ(run({"baseline", "push", "none.yaml"}), kExitError);
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: baseline: reading 'none.yaml': No such file or directory\n");
}

TEST_F(PostwardenctlTest, BaselineList) {
  v1::ListBaselinesResponse reply;
  v1::BaselineVersion newer = edgeVersion();
  newer.set_digest("aaaaaaaaaaaa");
  newer.set_version("");
  *newer.mutable_pushed_at() = timestampFromUnixMs(kNow - 3600000);
  newer.set_size_bytes(900);
  newer.set_assigned_agents(0);
  *reply.add_baselines() = edgeVersion();
  v1::BaselineVersion* base = reply.add_baselines();
  base->set_name("base");
  base->set_digest("0123456789ab");
  base->set_version("1");
  *base->mutable_pushed_at() = timestampFromUnixMs(kNow - 5 * 86400000LL);
  base->set_size_bytes(2 * 1024 * 1024);
  *reply.add_baselines() = newer;
  EXPECT_CALL(*stub_, ListBaselines(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"baseline", "list"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "NAME  DIGEST        VERSION  PUSHED   SIZE     AGENTS\n"
            "base  0123456789ab  1        5d ago   2.0 MiB  0\n"
            "edge  aaaaaaaaaaaa  -        1h ago   900 B    0\n"
            "edge  3f2a1b9c0d1e  2024.05  24h ago  1.5 KiB  2\n");
}

TEST_F(PostwardenctlTest, BaselineAssignSendsNameVersionSelectorAndMode) {
  v1::AssignBaselineRequest sent;
  v1::AssignBaselineResponse reply;
  reply.set_matched_agents(3);
  EXPECT_CALL(*stub_, AssignBaseline(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"baseline", "assign", "edge@3f2a1b9c0d1e", "--selector", "env=prod", "--mode",
                 "enforce"}),
            kExitOk);
  EXPECT_EQ(sent.name(), "edge");
  EXPECT_EQ(sent.digest(), "3f2a1b9c0d1e");
  EXPECT_EQ(sent.mode(), v1::BASELINE_MODE_ENFORCE);
  EXPECT_THAT(sent.selector(), ElementsAre(Pair("env", "prod")));
  EXPECT_EQ(out_.str(),
            "assigned edge@3f2a1b9c0d1e in enforce mode to 3 agents matching env=prod\n");
}

TEST_F(PostwardenctlTest, BaselineAssignDetectJson) {
  v1::AssignBaselineRequest sent;
  v1::AssignBaselineResponse reply;
  reply.set_matched_agents(1);
  EXPECT_CALL(*stub_, AssignBaseline(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"--json", "baseline", "assign", "edge@1", "--mode", "detect", "--yes"}), kExitOk);
  EXPECT_EQ(sent.mode(), v1::BASELINE_MODE_DETECT);
  EXPECT_TRUE(sent.selector().empty());
  EXPECT_FALSE(sent.preview());
  EXPECT_EQ(out_.str(), R"({
  "name": "edge",
  "digest": "1",
  "mode": "detect",
  "selector": {},
  "matched_agents": 1,
  "agent_ids": [],
  "assignment_id": 0,
  "dry_run": false
}
)");
}

TEST_F(PostwardenctlTest, BaselineAssignDryRunShowsWhomItReaches) {
  v1::AssignBaselineRequest sent;
  v1::AssignBaselineResponse reply;
  reply.set_matched_agents(2);
  reply.add_agent_ids("mx1");
  reply.add_agent_ids("mx2");
  EXPECT_CALL(*stub_, AssignBaseline(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"baseline", "assign", "edge@1", "--mode", "enforce", "--dry-run"}), kExitOk);
  EXPECT_TRUE(sent.preview());
  EXPECT_EQ(out_.str(), "would assign edge@1 in enforce mode to 2 agents\n  agents: mx1, mx2\n");
}

TEST_F(PostwardenctlTest, UnassignAndListAssignments) {
  v1::UnassignRequest sent;
  v1::UnassignResponse reply;
  reply.set_affected_agents(3);
  EXPECT_CALL(*stub_, Unassign(_, _, _)).WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"baseline", "unassign", "7"}), kExitOk);
  EXPECT_EQ(sent.id(), 7);
  EXPECT_THAT(out_.str(), ::testing::StartsWith("withdrew assignment 7; it applied to 3 agents"));
}

TEST_F(PostwardenctlTest, BaselineAssignPermissionDenied) {
  EXPECT_CALL(*stub_, AssignBaseline(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                    "role operator may not call AssignBaseline")));
  EXPECT_EQ(run({"baseline", "assign", "edge@1", "--mode", "detect", "--yes"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: assigning baseline 'edge@1': PERMISSION_DENIED: role operator "
            "may not call AssignBaseline\n"
            "postwardenctl: hint: your role may not do this; ask an administrator for a "
            "certificate with a role that may\n");
}

// --- tokens ------------------------------------------------------------------------------

v1::TokenInfo tokenInfo() {
  v1::TokenInfo t;
  t.set_id("tok1");
  (*t.mutable_labels())["env"] = "prod";
  *t.mutable_created_at() = timestampFromUnixMs(kNow);
  *t.mutable_expires_at() = timestampFromUnixMs(kNow + 7 * 86400000LL);
  t.set_uses_left(5);
  t.set_bound_agent_id("mx1.example.org");
  return t;
}

TEST_F(PostwardenctlTest, TokenCreateSendsLabelsTtlUsesAgent) {
  v1::CreateTokenRequest sent;
  v1::CreateTokenResponse reply;
  *reply.mutable_info() = tokenInfo();
  reply.set_token("pwt_s3cr3t");
  EXPECT_CALL(*stub_, CreateToken(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"token", "create", "--labels", "env=prod", "--ttl", "7d", "--uses", "5", "--agent",
                 "mx1.example.org"}),
            kExitOk);
  EXPECT_THAT(sent.labels(), ElementsAre(Pair("env", "prod")));
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToSeconds(sent.ttl()), 7 * 86400);
  EXPECT_EQ(sent.uses(), 5);
  EXPECT_EQ(sent.bound_agent_id(), "mx1.example.org");
  EXPECT_EQ(out_.str(),
            "token:    pwt_s3cr3t\n"
            "id:       tok1\n"
            "labels:   env=prod\n"
            "uses:     5\n"
            "expires:  2024-05-08T12:00:00Z (in 7d)\n"
            "agent:    mx1.example.org (only this identity; may re-enroll)\n"
            "\n"
            "The token is shown only now; the controller keeps only its hash. On the host:\n"
            "  postwarden-agent enroll --config /etc/postwarden/agent.yaml --token-file FILE\n");
}

TEST_F(PostwardenctlTest, TokenCreateDefaultsAndJson) {
  v1::CreateTokenRequest sent;
  v1::CreateTokenResponse reply;
  *reply.mutable_info() = tokenInfo();
  reply.set_token("pwt_s3cr3t");
  EXPECT_CALL(*stub_, CreateToken(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(reply))));
  EXPECT_EQ(run({"token", "create", "--json"}), kExitOk);
  EXPECT_TRUE(sent.labels().empty());
  EXPECT_EQ(google::protobuf::util::TimeUtil::DurationToSeconds(sent.ttl()), 3600);
  EXPECT_EQ(sent.uses(), 1);
  EXPECT_EQ(sent.bound_agent_id(), "");
  EXPECT_EQ(out_.str(), R"({
  "id": "tok1",
  "labels": {
    "env": "prod"
  },
  "created_at": "2024-05-01T12:00:00.000Z",
  "expires_at": "2024-05-08T12:00:00.000Z",
  "uses_left": 5,
  "revoked": false,
  "bound_agent_id": "mx1.example.org",
  "token": "pwt_s3cr3t"
}
)");
}

TEST_F(PostwardenctlTest, TokenList) {
  v1::ListTokensResponse reply;
  v1::TokenInfo active = tokenInfo();
  *active.mutable_created_at() = timestampFromUnixMs(kNow - 60000);
  *reply.add_tokens() = active;
  v1::TokenInfo expired;
  expired.set_id("tok0");
  *expired.mutable_created_at() = timestampFromUnixMs(kNow - 2 * 86400000LL);
  *expired.mutable_expires_at() = timestampFromUnixMs(kNow - 86400000LL);
  expired.set_uses_left(1);
  *reply.add_tokens() = expired;
  v1::TokenInfo revoked = expired;
  revoked.set_id("tok2");
  *revoked.mutable_expires_at() = timestampFromUnixMs(kNow + 3600000);
  revoked.set_revoked(true);
  *reply.add_tokens() = revoked;
  v1::TokenInfo used = revoked;
  used.set_id("tok3");
  used.set_revoked(false);
  used.set_uses_left(0);
  *reply.add_tokens() = used;
  EXPECT_CALL(*stub_, ListTokens(_, _, _)).WillOnce(Invoke(answer(reply)));
  EXPECT_EQ(run({"token", "list"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "ID    LABELS    CREATED  EXPIRES  USES-LEFT  AGENT            STATE\n"
            "tok0  -         2d ago   24h ago  1          -                expired\n"
            "tok2  -         2d ago   in 1h    1          -                revoked\n"
            "tok3  -         2d ago   in 1h    0          -                used\n"
            "tok1  env=prod  1m ago   in 7d    5          mx1.example.org  active\n");
}

TEST_F(PostwardenctlTest, TokenListUnauthenticated) {
  EXPECT_CALL(*stub_, ListTokens(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "certificate revoked")));
  EXPECT_EQ(run({"token", "list", "--json"}), kExitError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: listing tokens: UNAUTHENTICATED: certificate revoked\n"
            "postwardenctl: hint: the controller refused your certificate (revoked, expired, or "
            "issued by another CA); check --cert and --key\n");
}

TEST_F(PostwardenctlTest, TokenRevoke) {
  v1::RevokeTokenRequest sent;
  EXPECT_CALL(*stub_, RevokeToken(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(v1::Empty()))));
  EXPECT_EQ(run({"token", "revoke", "tok1"}), kExitOk);
  EXPECT_EQ(sent.id(), "tok1");
  EXPECT_EQ(out_.str(), "revoked token tok1\n");
}

// --- command -----------------------------------------------------------------------------

TEST_F(PostwardenctlTest, CommandApply) {
  v1::SendCommandRequest sent;
  EXPECT_CALL(*stub_, SendCommand(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(v1::Empty()))));
  EXPECT_EQ(run({"command", "apply", "mx1"}), kExitOk);
  EXPECT_EQ(sent.agent_id(), "mx1");
  EXPECT_EQ(sent.command().kind(), v1::Command::KIND_APPLY_NOW);
  EXPECT_EQ(out_.str(), "sent apply to agent mx1\n");
}

TEST_F(PostwardenctlTest, CommandVerifyJson) {
  v1::SendCommandRequest sent;
  EXPECT_CALL(*stub_, SendCommand(_, _, _))
      .WillOnce(DoAll(SaveArg<1>(&sent), Invoke(answer(v1::Empty()))));
  EXPECT_EQ(run({"command", "verify", "mx1", "--json"}), kExitOk);
  EXPECT_EQ(sent.command().kind(), v1::Command::KIND_VERIFY_NOW);
  EXPECT_EQ(out_.str(),
            "{\n  \"agent_id\": \"mx1\",\n  \"command\": \"verify\",\n  \"sent\": true\n}\n");
}

TEST_F(PostwardenctlTest, CommandToAnUnknownAgentSaysSoAndBlamesNotTheController) {
  EXPECT_CALL(*stub_, SendCommand(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    "no agent 'nosuch' is enrolled at this controller")));
  EXPECT_EQ(run({"command", "apply", "nosuch"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND: no agent 'nosuch' is enrolled"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("controller is down")));
}

// --- deadline, config, usage -------------------------------------------------------------

TEST_F(PostwardenctlTest, NoArgumentsPrintUsageOnStderrAndExitTwo) {
  EXPECT_EQ(run({}, /*with_flags=*/false), kExitUsage);
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(), HasSubstr("Usage: postwardenctl"));
  EXPECT_EQ(run({"--help"}, /*with_flags=*/false), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("Usage: postwardenctl"));
}

TEST_F(PostwardenctlTest, TimeoutSetsTheDeadline) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _))
      .WillOnce(Invoke(answer(v1::ListDriftResponse(), std::chrono::seconds(30))));
  EXPECT_EQ(run({"--timeout", "30", "drift"}), kExitOk);
}

TEST_F(PostwardenctlTest, DeadlineExceededHint) {
  EXPECT_CALL(*stub_, ListDrift(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded")));
  EXPECT_EQ(run({"drift"}), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("raise --timeout"));
}

TEST_F(PostwardenctlTest, ConfigFileFromVariableWithFlagOverride) {
  vars_["POSTWARDENCTL_CONFIG"] = "/home/alice/ops/postwardenctl.yaml";
  files_["/home/alice/ops/postwardenctl.yaml"] =
      "controller: ctl.example.org:8443\ncontroller_name: postwarden-controller\n"
      "ca_file: ca.crt\ncert_file: alice.crt\nkey_file: alice.key\n";
  EXPECT_CALL(*stub_, ListDrift(_, _, _)).WillOnce(Invoke(answer(v1::ListDriftResponse())));
  EXPECT_EQ(run({"--controller", "127.0.0.1:9443", "drift"}, false), kExitOk);
  EXPECT_EQ(connected_with_.controller, "127.0.0.1:9443");
  EXPECT_EQ(connected_with_.controller_name, "postwarden-controller");
  EXPECT_EQ(connected_with_.ca_file, "/home/alice/ops/ca.crt");
  EXPECT_EQ(connected_with_.cert_file, "/home/alice/ops/alice.crt");
  EXPECT_EQ(connected_with_.key_file, "/home/alice/ops/alice.key");
}

TEST_F(PostwardenctlTest, DefaultConfigUnderHome) {
  vars_["HOME"] = "/home/bob";
  files_["/home/bob/.config/postwarden/postwardenctl.yaml"] =
      "controller: ctl:8443\nca_file: ca.crt\ncert_file: bob.crt\nkey_file: bob.key\n";
  EXPECT_CALL(*stub_, ListDrift(_, _, _)).WillOnce(Invoke(answer(v1::ListDriftResponse())));
  EXPECT_EQ(run({"drift"}, false), kExitOk);
  EXPECT_EQ(connected_with_.ca_file, "/home/bob/.config/postwarden/ca.crt");
}

TEST_F(PostwardenctlTest, ExplicitConfigMissing) {
  vars_["HOME"] = "/home/bob";
  EXPECT_EQ(run({"--config", "/etc/none.yaml", "drift"}, false), kExitError);
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: config file: reading '/etc/none.yaml': No such file or "
            "directory\n");
  EXPECT_EQ(connects_, 0);
}

TEST_F(PostwardenctlTest, ConfigUnknownKey) {
  files_["/c.yaml"] = "controller: ctl:8443\nca: ca.crt\n";
  EXPECT_EQ(run({"--config", "/c.yaml", "drift"}, false), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("postwardenctl: error: /c.yaml: unknown key 'ca'"));
  EXPECT_EQ(connects_, 0);
}

TEST_F(PostwardenctlTest, MissingSettingsBeforeAnyConnection) {
  vars_["HOME"] = "/home/bob";
  EXPECT_EQ(run({"--controller", "ctl:8443", "agents"}, false), kExitError);
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: no CA file: pass --ca FILE or set 'ca_file' in the config file "
            "(config file /home/bob/.config/postwarden/postwardenctl.yaml)\n");
  EXPECT_EQ(connects_, 0);
}

TEST_F(PostwardenctlTest, HelpAndVersionNeedNoConfig) {
  EXPECT_EQ(run({"--help"}, false), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("Usage: postwardenctl"));
  EXPECT_EQ(run({"token", "--help"}, false), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("Usage: postwardenctl token create|list|revoke"));
  EXPECT_EQ(run({"--version"}, false), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\n" + versionLine("postwardenctl") + "\n"));
  EXPECT_EQ(connects_, 0);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(PostwardenctlTest, UsageErrorGoesToStderr) {
  EXPECT_EQ(run({"agnets"}), kExitUsage);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: unknown command 'agnets' (did you mean 'agents'?); see "
            "--help\nUsage: postwardenctl [global options] COMMAND ...\nRun 'postwardenctl "
            "--help' for the commands.\n");
  // A bad value of a known command: that command's synopsis.
  err_.str("");
  EXPECT_EQ(run({"status", "--stale-after", "soon"}), kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("\nUsage: postwardenctl status [--stale-after DURATION]"));
  EXPECT_THAT(err_.str(), HasSubstr("Run 'postwardenctl status --help' for more.\n"));
  EXPECT_EQ(connects_, 0);
}

TEST_F(PostwardenctlTest, ConnectFailureIsReported) {
  // The real factory reads the certificates; their errors name the file.
  Environment env{.out = out_,
                  .err = err_,
                  .getenv = [](const char*) -> std::optional<std::string> { return std::nullopt; },
                  .now_unix_ms = [] { return kNow; },
                  .read_file = readLocalFile,
                  .connect = tlsStubFactory(readLocalFile)};
  EXPECT_EQ(ctl::run({"--controller", "127.0.0.1:1", "--ca", "/nonexistent/ca.crt", "--cert",
                      "/nonexistent/op.crt", "--key", "/nonexistent/op.key", "drift"},
                     env),
            kExitError);
  EXPECT_EQ(err_.str(),
            "postwardenctl: error: CA file: reading '/nonexistent/ca.crt': No such file or "
            "directory\n");
}

}  // namespace
}  // namespace postwarden::controller::ctl
