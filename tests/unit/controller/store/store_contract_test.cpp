// The Store contract (store.h, with SqliteStore's documented details), run against every
// backend: SQLite and PostgreSQL (skipped, saying why, where no PostgreSQL server can be
// started). A behaviour one backend has and the other lacks fails here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/check.h"
#include "controller/core/enrollment_policy.h"
#include "controller/core/targeting.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Both backends keep the same number of rows.
constexpr int kReportsKept = SqliteStore::kReportsKeptPerAgent;
constexpr int kHistoryKept = SqliteStore::kHistoryKeptPerAgent;
static_assert(PostgresStore::kReportsKeptPerAgent == kReportsKept);
static_assert(PostgresStore::kHistoryKeptPerAgent == kHistoryKept);

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string why;
    backend_ = GetParam().make(&why);
    if (backend_ == nullptr) GTEST_SKIP() << "skipped: " << why;
    reopen();
  }

  void reopen() {
    store_.reset();
    auto opened = backend_->open();
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(opened).value();
  }

  int tokenUses(const std::string& id) {
    auto tokens = store_->listTokens();
    PW_CHECK(tokens.ok());
    for (const TokenRecord& token : *tokens) {
      if (token.id == id) return token.uses_left;
    }
    return -1;
  }

  // Creates token "t" and enrolls `agent_id` with it.
  void enroll(const std::string& agent_id) {
    auto tokens = store_->listTokens();
    ASSERT_TRUE(tokens.ok());
    if (tokens->empty()) {
      ASSERT_TRUE(store_->createToken(makeToken("t", 100)).ok());
    }
    auto agent = enrollAgent(enrollment("t", agent_id));
    ASSERT_TRUE(agent.ok()) << agent.status().toString();
  }

  int64_t count(const std::string& sql) { return backend_->count(sql); }

  // The store runs the rules it is handed; these are the ones the Fleet hands it.
  Result<AgentRecord> enrollAgent(const EnrollmentRequest& request) {
    return store_->enrollAgent(request, core::checkEnrollment);
  }
  Status recordHello(const std::string& id, const std::string& hostname,
                     const std::string& agent_version, const std::string& postfix_version,
                     const Labels& agent_labels, UnixMs now) {
    return store_->recordHello(id, hostname, agent_version, postfix_version, agent_labels, now,
                               core::effectiveLabels);
  }
  Result<std::string> deleteBaseline(const std::string& name, const std::string& version) {
    return store_->deleteBaseline(name, version, core::assignmentsDroppedWith);
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(sqliteBackend()),
                         backendName);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest, ::testing::Values(postgresBackend()),
                         backendName);

TEST_P(StoreContractTest, ReopenKeepsData) {
  enroll("a1");
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{report("a1", 3)}).ok());
  reopen();
  auto agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 3u);
  EXPECT_EQ(agent->hostname, "a1.example.net");
  EXPECT_EQ(tokenUses("t"), 99);
}

TEST_P(StoreContractTest, TokensAreListedByIdAndRevocable) {
  ASSERT_TRUE(store_->createToken(makeToken("b")).ok());
  ASSERT_TRUE(store_->createToken(makeToken("a")).ok());
  EXPECT_EQ(store_->createToken(makeToken("a")).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(store_->revokeToken("b").ok());
  EXPECT_EQ(store_->revokeToken("zz").code(), StatusCode::kNotFound);
  auto tokens = store_->listTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 2u);
  EXPECT_EQ((*tokens)[0].id, "a");
  EXPECT_FALSE((*tokens)[0].revoked);
  EXPECT_EQ((*tokens)[0].labels, (Labels{{"env", "prod"}, {"site", "fra"}}));
  EXPECT_EQ((*tokens)[0].secret_sha256, kSecret);
  EXPECT_EQ((*tokens)[1].id, "b");
  EXPECT_TRUE((*tokens)[1].revoked);
}

TEST_P(StoreContractTest, EnrollCreatesAgentWithTokenLabelsAndConsumesAUse) {
  ASSERT_TRUE(store_->createToken(makeToken("t", 2)).ok());
  auto agent = enrollAgent(enrollment("t", "a1"));
  ASSERT_TRUE(agent.ok()) << agent.status().toString();
  EXPECT_EQ(agent->id, "a1");
  EXPECT_EQ(agent->hostname, "a1.example.net");
  EXPECT_EQ(agent->labels, (Labels{{"env", "prod"}, {"site", "fra"}}));
  EXPECT_EQ(agent->enrolled_at, kNow);
  EXPECT_EQ(agent->last_seen, kNow);
  EXPECT_EQ(agent->last_seq, 0u);
  EXPECT_FALSE(agent->revoked);
  EXPECT_EQ(tokenUses("t"), 1);
  auto history = store_->history("a1", 10);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].kind, "enrolled");
  EXPECT_EQ((*history)[0].at, kNow);
}

TEST_P(StoreContractTest, EnrollRefusesUnknownTokenAndWrongSecret) {
  ASSERT_TRUE(store_->createToken(makeToken("t")).ok());
  EXPECT_EQ(enrollAgent(enrollment("nope", "a1")).status().code(), StatusCode::kUnauthenticated);
  EnrollmentRequest wrong = enrollment("t", "a1");
  wrong.secret_sha256 = std::string(63, 'a') + "b";
  EXPECT_EQ(enrollAgent(wrong).status().code(), StatusCode::kUnauthenticated);
  wrong.secret_sha256 = "";
  EXPECT_EQ(enrollAgent(wrong).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(tokenUses("t"), 10);
  EXPECT_EQ(store_->getAgent("a1").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, EnrollRefusesExpiredTokenAtExpiry) {
  TokenRecord token = makeToken("t");
  token.expires_at = kNow;
  ASSERT_TRUE(store_->createToken(token).ok());
  EXPECT_EQ(enrollAgent(enrollment("t", "a1", kNow)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_TRUE(enrollAgent(enrollment("t", "a1", kNow - 1)).ok());
}

TEST_P(StoreContractTest, EnrollRefusesRevokedToken) {
  ASSERT_TRUE(store_->createToken(makeToken("t")).ok());
  ASSERT_TRUE(store_->revokeToken("t").ok());
  EXPECT_EQ(enrollAgent(enrollment("t", "a1")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(tokenUses("t"), 10);
  EXPECT_EQ(store_->getAgent("a1").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, EnrollRefusesUsedUpToken) {
  ASSERT_TRUE(store_->createToken(makeToken("t", 1)).ok());
  ASSERT_TRUE(enrollAgent(enrollment("t", "a1")).ok());
  EXPECT_EQ(tokenUses("t"), 0);
  EXPECT_EQ(enrollAgent(enrollment("t", "a2")).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->getAgent("a2").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, BoundTokenAcceptsOnlyItsIdentityAndMayReenrollIt) {
  TokenRecord token = makeToken("bound", 5);
  token.bound_agent_id = "a1";
  token.labels = {{"role", "relay"}};
  ASSERT_TRUE(store_->createToken(makeToken("t")).ok());
  ASSERT_TRUE(store_->createToken(token).ok());
  EXPECT_EQ(enrollAgent(enrollment("bound", "a2")).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(enrollAgent(enrollment("t", "a1")).ok());
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{report("a1", 7)}).ok());
  ASSERT_TRUE(recordHello("a1", "h", "1.0", "3.7", {{"own", "x"}}, kNow + 1).ok());

  auto agent = enrollAgent(enrollment("bound", "a1", kNow + 10));
  ASSERT_TRUE(agent.ok()) << agent.status().toString();
  EXPECT_EQ(agent->labels, (Labels{{"role", "relay"}}));  // the token's labels again
  EXPECT_EQ(agent->last_seq, 7u);                         // the outbox sequence continues
  EXPECT_EQ(agent->enrolled_at, kNow + 10);
  EXPECT_FALSE(agent->revoked);
  EXPECT_EQ(tokenUses("bound"), 4);
}

TEST_P(StoreContractTest, ExistingIdentityNeedsApprovalWhichIsSpentOnce) {
  ASSERT_TRUE(store_->createToken(makeToken("t")).ok());
  ASSERT_TRUE(enrollAgent(enrollment("t", "a1")).ok());
  auto again = enrollAgent(enrollment("t", "a1"));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(tokenUses("t"), 9);

  ASSERT_TRUE(store_->approveReenrollment("a1", kNow + 1).ok());
  auto approved = store_->getAgent("a1");
  ASSERT_TRUE(approved.ok());
  EXPECT_TRUE(approved->reenroll_approved);
  auto reenrolled = enrollAgent(enrollment("t", "a1", kNow + 2));
  ASSERT_TRUE(reenrolled.ok()) << reenrolled.status().toString();
  EXPECT_FALSE(reenrolled->reenroll_approved);
  EXPECT_EQ(tokenUses("t"), 8);
  EXPECT_EQ(enrollAgent(enrollment("t", "a1", kNow + 3)).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(tokenUses("t"), 8);
  EXPECT_EQ(store_->approveReenrollment("zz", kNow).code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, RevokedIdentityNeverReenrolls) {
  TokenRecord token = makeToken("bound");
  token.bound_agent_id = "a1";
  ASSERT_TRUE(store_->createToken(makeToken("t")).ok());
  ASSERT_TRUE(store_->createToken(token).ok());
  ASSERT_TRUE(enrollAgent(enrollment("t", "a1")).ok());
  ASSERT_TRUE(store_->revokeAgent("a1", kNow + 1).ok());
  EXPECT_EQ(store_->approveReenrollment("a1", kNow + 2).code(), StatusCode::kFailedPrecondition);
  for (const char* token_id : {"t", "bound"}) {
    auto result = enrollAgent(enrollment(token_id, "a1", kNow + 3));
    EXPECT_EQ(result.status().code(), StatusCode::kAlreadyExists) << token_id;
    EXPECT_THAT(result.status().message(), HasSubstr("revoked")) << token_id;
  }
  EXPECT_EQ(tokenUses("t"), 9);
  EXPECT_EQ(tokenUses("bound"), 10);
  auto revoked = store_->revokedAgents();
  ASSERT_TRUE(revoked.ok());
  EXPECT_THAT(*revoked, ElementsAre("a1"));
  EXPECT_EQ(store_->revokeAgent("zz", kNow).code(), StatusCode::kNotFound);
  auto history = store_->history("a1", 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].kind, "revoked");
  EXPECT_EQ((*history)[1].kind, "enrolled");
}

TEST_P(StoreContractTest, HelloMergesLabelsUnderTheTokensAndEscapesThem) {
  TokenRecord token = makeToken("t");
  token.labels = {{"env", "prod"}, {"quote\"key", "back\\slash\nnew \"line\" ünïcode"}};
  ASSERT_TRUE(store_->createToken(token).ok());
  ASSERT_TRUE(enrollAgent(enrollment("t", "a1")).ok());
  Labels own = {{"env", "dev"}, {"rack", "r1'); DROP TABLE agents; --"}, {"tab", "a\tb"}};
  ASSERT_TRUE(recordHello("a1", "mx1", "0.1.0", "3.7.10", own, kNow + 5).ok());
  auto agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->labels, (Labels{{"env", "prod"},
                                   {"quote\"key", "back\\slash\nnew \"line\" ünïcode"},
                                   {"rack", "r1'); DROP TABLE agents; --"},
                                   {"tab", "a\tb"}}));
  EXPECT_EQ(agent->hostname, "mx1");
  EXPECT_EQ(agent->agent_version, "0.1.0");
  EXPECT_EQ(agent->postfix_version, "3.7.10");
  EXPECT_EQ(agent->last_seen, kNow + 5);
  // A hello never moves last_seen backwards.
  ASSERT_TRUE(recordHello("a1", "mx1", "0.1.0", "3.7.10", {}, kNow).ok());
  agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seen, kNow + 5);
  EXPECT_EQ(agent->labels, token.labels);
  EXPECT_EQ(recordHello("zz", "h", "", "", {}, kNow).code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ListAgentsIsSortedById) {
  enroll("c");
  enroll("a");
  enroll("b");
  auto agents = store_->listAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(agents->size(), 3u);
  EXPECT_EQ((*agents)[0].id, "a");
  EXPECT_EQ((*agents)[1].id, "b");
  EXPECT_EQ((*agents)[2].id, "c");
}

// The rollout loop's narrow read: the same agents and values as listAgents, including a
// report committed just before (SQLite reads it on a connection of its own).
TEST_P(StoreContractTest, AgentProgressIsWhatListAgentsSays) {
  enroll("b");
  enroll("a");
  ReportWrite write = report("a", 1, kNow + 10);
  write.state = ReportWrite::State{.baseline_name = "hardening",
                                   .baseline_version = "v1digest",
                                   .serialized = std::string("state\0a", 7),
                                   .job_state = std::string("job\0a", 5)};
  ASSERT_TRUE(store_->recordReports(std::span(&write, 1)).ok());
  ASSERT_TRUE(store_->revokeAgent("b", kNow + 20).ok());

  auto progress = store_->listAgentProgress();
  ASSERT_TRUE(progress.ok()) << progress.status().toString();
  auto agents = store_->listAgents();
  ASSERT_TRUE(agents.ok());
  ASSERT_EQ(progress->size(), 2u);
  ASSERT_EQ(agents->size(), 2u);
  for (size_t i = 0; i < agents->size(); ++i) {
    const AgentRecord& agent = (*agents)[i];
    const AgentProgress& p = (*progress)[i];
    EXPECT_EQ(p.id, agent.id);
    EXPECT_EQ(p.last_seen, agent.last_seen);
    EXPECT_EQ(p.revoked, agent.revoked);
    EXPECT_EQ(p.baseline_name, agent.baseline_name);
    EXPECT_EQ(p.baseline_version, agent.baseline_version);
    EXPECT_EQ(p.last_state, agent.last_state);
    EXPECT_EQ(p.last_job_state, agent.last_job_state);
  }
  const AgentProgress& a = (*progress)[0];
  EXPECT_EQ(a.id, "a");
  EXPECT_EQ(a.last_seen, kNow + 10);
  EXPECT_EQ(a.baseline_version, "v1digest");
  EXPECT_EQ(a.last_state, std::string("state\0a", 7));
  EXPECT_EQ(a.last_job_state, std::string("job\0a", 5));
  EXPECT_TRUE((*progress)[1].revoked);
}

TEST_P(StoreContractTest, TouchAgentsKeepsTheLatestAndIgnoresUnknownIds) {
  enroll("a");
  enroll("b");
  std::vector<std::pair<std::string, UnixMs>> seen = {
      {"a", kNow + 100}, {"b", kNow - 100}, {"zz", kNow + 5}, {"a", kNow + 50}};
  ASSERT_TRUE(store_->touchAgents(seen).ok());
  EXPECT_EQ(store_->getAgent("a")->last_seen, kNow + 100);
  EXPECT_EQ(store_->getAgent("b")->last_seen, kNow);
  EXPECT_EQ(store_->getAgent("zz").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ReportsAreStoredExactlyOnce) {
  enroll("a1");
  std::vector<ReportWrite> batch = {report("a1", 5, kNow + 10), report("a1", 6, kNow + 20)};
  auto first = store_->recordReports(batch);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  EXPECT_THAT(*first, ElementsAre(true, true));
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 6u);
  EXPECT_EQ(store_->getAgent("a1")->last_seen, kNow + 20);

  auto again = store_->recordReports(
      std::vector<ReportWrite>{report("a1", 6), report("a1", 5), report("a1", 7), report("a1", 7)});
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(*again, ElementsAre(false, false, true, false));
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 7u);
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), 3);
  EXPECT_EQ(count("SELECT length(body) FROM reports WHERE seq = 7"), 6);  // NUL kept
}

TEST_P(StoreContractTest, BatchOfSeveralAgentsIsOneTransaction) {
  enroll("a1");
  enroll("a2");
  enroll("a3");
  std::vector<ReportWrite> batch = {report("a1", 1), report("a2", 1), report("a1", 2),
                                    report("a3", 9)};
  batch[1].history = HistoryRow{.kind = "state", .summary = "compliant"};
  auto stored = store_->recordReports(batch);
  ASSERT_TRUE(stored.ok());
  EXPECT_THAT(*stored, ElementsAre(true, true, true, true));
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 2u);
  EXPECT_EQ(store_->getAgent("a2")->last_seq, 1u);
  EXPECT_EQ(store_->getAgent("a3")->last_seq, 9u);
  auto history = store_->history("a2", 1);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].kind, "state");
  EXPECT_EQ((*history)[0].at, kNow);  // received_at when `at` is 0
}

TEST_P(StoreContractTest, UnknownAgentFailsTheWholeBatch) {
  enroll("a1");
  ReportWrite with_state = report("a1", 1);
  with_state.state = ReportWrite::State{.baseline_name = "base",
                                        .compliance = Compliance::kDrifted,
                                        .drift = {drift("smtpd_tls_auth_only", "no")}};
  with_state.history = HistoryRow{.kind = "state", .summary = "s"};
  auto result = store_->recordReports(std::vector<ReportWrite>{with_state, report("ghost", 1)});
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  auto agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 0u);
  EXPECT_EQ(agent->baseline_name, "");
  EXPECT_EQ(count("SELECT count(*) FROM reports"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM drift"), 0);
  EXPECT_EQ(store_->history("a1", 0)->size(), 1u);  // only "enrolled"
}

TEST_P(StoreContractTest, StateReplacesAllDriftAndDriftEventsUpsert) {
  enroll("a1");
  enroll("a2");
  ReportWrite first = report("a1", 1);
  first.state = ReportWrite::State{.baseline_name = "base",
                                   .baseline_version = "abcdef012345",
                                   .mode = Mode::kDetect,
                                   .compliance = Compliance::kDrifted,
                                   .serialized = std::string("st\0ate", 6),
                                   .drift = {drift("p1", "no"), drift("p2", "no")}};
  ReportWrite other = report("a2", 1);
  other.drift = {drift("z", "no")};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{first, other}).ok());
  auto agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->baseline_name, "base");
  EXPECT_EQ(agent->baseline_version, "abcdef012345");
  EXPECT_EQ(agent->mode, Mode::kDetect);
  EXPECT_EQ(agent->compliance, Compliance::kDrifted);
  EXPECT_EQ(agent->last_state, std::string("st\0ate", 6));
  EXPECT_EQ(agent->drifted_parameters, 2);

  // A drift event: p2 replaced, p3 added, agent drifted.
  ReportWrite event = report("a1", 2);
  event.kind = "drift";
  DriftRow p2 = drift("p2", "maybe");
  p2.actual_absent = true;
  event.drift = {p2, drift("p3", "no")};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{event}).ok());
  auto rows = store_->agentDrift("a1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].parameter, "p2");
  EXPECT_EQ((*rows)[1].actual, "maybe");
  EXPECT_TRUE((*rows)[1].actual_absent);
  EXPECT_EQ((*rows)[1].agent_id, "a1");
  EXPECT_EQ(store_->getAgent("a1")->drifted_parameters, 3);

  // A compliant state report clears every drift row of a1 only.
  ReportWrite clean = report("a1", 3);
  clean.state = ReportWrite::State{.baseline_name = "base",
                                   .baseline_version = "abcdef012345",
                                   .mode = Mode::kEnforce,
                                   .compliance = Compliance::kCompliant};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{clean}).ok());
  agent = store_->getAgent("a1");
  EXPECT_EQ(agent->compliance, Compliance::kCompliant);
  EXPECT_EQ(agent->drifted_parameters, 0);
  auto all = store_->listDrift();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].agent_id, "a2");
  EXPECT_EQ(store_->getAgent("a2")->compliance, Compliance::kDrifted);
  EXPECT_EQ(store_->getAgent("a2")->drifted_parameters, 1);
}

TEST_P(StoreContractTest, ListDriftIsSortedByAgentFileServiceParameter) {
  enroll("b");
  enroll("a");
  ReportWrite rb = report("b", 1);
  rb.drift = {drift("x", "1")};
  ReportWrite ra = report("a", 1);
  DriftRow master = drift("maxproc", "5");
  master.file = "master.cf";
  master.service = "smtp/inet";
  ra.drift = {master, drift("z", "1"), drift("b", "1")};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{rb, ra}).ok());
  auto rows = store_->listDrift();
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> order;
  for (const DriftRow& row : *rows)
    order.push_back(row.agent_id + "/" + row.file + "/" + row.parameter);
  EXPECT_THAT(order,
              ElementsAre("a/main.cf/b", "a/main.cf/z", "a/master.cf/maxproc", "b/main.cf/x"));
}

TEST_P(StoreContractTest, KeepsTheNewestReportsAndHistoryPerAgent) {
  enroll("a1");
  enroll("a2");
  std::vector<ReportWrite> batch;
  for (uint64_t seq = 1; seq <= 1005; ++seq) {
    batch.push_back(report("a1", seq));
    batch.back().history = HistoryRow{.at = kNow + static_cast<UnixMs>(seq), .kind = "state"};
  }
  batch.push_back(report("a2", 1));
  auto stored = store_->recordReports(batch);
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), kReportsKept);
  EXPECT_EQ(count("SELECT min(seq) FROM reports WHERE agent_id = 'a1'"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a2'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM history WHERE agent_id = 'a1'"), kHistoryKept);
  auto history = store_->history("a1", 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 200u);
  EXPECT_EQ(history->front().at, kNow + 1005);
  EXPECT_EQ(history->back().at, kNow + 806);

  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->addHistory(HistoryRow{.agent_id = "a2", .at = kNow + i, .kind = "x"}).ok());
  }
  EXPECT_EQ(store_->history("a2", 3)->size(), 3u);
  EXPECT_EQ(store_->addHistory(HistoryRow{.agent_id = "zz", .kind = "x"}).code(),
            StatusCode::kNotFound);
}

// Retention runs only for the agents a batch added rows to; it must still hold when the
// limit is crossed one batch at a time, in reports and history separately.
TEST_P(StoreContractTest, RetentionHoldsWhenTheLimitIsCrossedBatchByBatch) {
  enroll("a1");
  const auto reports_kept = static_cast<uint64_t>(kReportsKept);
  const auto history_kept = static_cast<uint64_t>(kHistoryKept);
  std::vector<ReportWrite> batch;
  for (uint64_t seq = 1; seq <= reports_kept; ++seq) {
    batch.push_back(report("a1", seq));
    if (seq > reports_kept - history_kept) {
      batch.back().history = HistoryRow{.at = kNow + static_cast<UnixMs>(seq), .kind = "state"};
    }
  }
  ASSERT_TRUE(store_->recordReports(batch).ok());
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), kReportsKept);
  EXPECT_EQ(count("SELECT count(*) FROM history WHERE agent_id = 'a1'"), kHistoryKept);
  // A report without history: reports trimmed, history untouched.
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{report("a1", reports_kept + 1)}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), kReportsKept);
  EXPECT_EQ(count("SELECT min(seq) FROM reports WHERE agent_id = 'a1'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM history WHERE agent_id = 'a1'"), kHistoryKept);
  // A redelivery adds nothing; a new report with history trims the oldest history row.
  ReportWrite next = report("a1", reports_kept + 2);
  next.history = HistoryRow{.at = kNow + 5000, .kind = "drift"};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{report("a1", 1), next}).ok());
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), kReportsKept);
  EXPECT_EQ(count("SELECT min(seq) FROM reports WHERE agent_id = 'a1'"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM history WHERE agent_id = 'a1'"), kHistoryKept);
  auto history = store_->history("a1", 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), static_cast<size_t>(kHistoryKept));
  EXPECT_EQ(history->front().at, kNow + 5000);
  EXPECT_EQ(history->back().at, kNow + kReportsKept - kHistoryKept + 2);
}

TEST_P(StoreContractTest, BaselinesAreContentAddressed) {
  auto put = store_->putBaseline(baseline("edge", "abcd12340000", kNow));
  ASSERT_TRUE(put.ok());
  EXPECT_TRUE(*put);
  put = store_->putBaseline(baseline("edge", "abcd12340000", kNow + 1));
  ASSERT_TRUE(put.ok());
  EXPECT_FALSE(*put);
  BaselineRecord clash = baseline("edge", "abcd12340000", kNow);
  clash.content = "different";
  EXPECT_EQ(store_->putBaseline(clash).status().code(), StatusCode::kAlreadyExists);
  auto got = store_->getBaseline("edge", "abcd12340000");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->pushed_at, kNow);
  EXPECT_EQ(got->content, "content of abcd12340000");
}

TEST_P(StoreContractTest, BaselineVersionPrefixLookup) {
  ASSERT_TRUE(store_->putBaseline(baseline("edge", "abcd12340000", kNow)).ok());
  ASSERT_TRUE(store_->putBaseline(baseline("edge", "abcd99990000", kNow + 1)).ok());
  ASSERT_TRUE(store_->putBaseline(baseline("core", "abcd12345555", kNow + 2)).ok());

  auto unique = store_->getBaseline("edge", "abcd1");
  ASSERT_TRUE(unique.ok()) << unique.status().toString();
  EXPECT_EQ(unique->version, "abcd12340000");
  auto upper = store_->getBaseline("edge", "ABCD9");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(upper->version, "abcd99990000");

  auto ambiguous = store_->getBaseline("edge", "abcd");
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ambiguous.status().message(), HasSubstr("ambiguous"));
  EXPECT_EQ(store_->getBaseline("edge", "abc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->getBaseline("edge", "abcx").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->getBaseline("edge", "ffff").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->getBaseline("nope", "abcd1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->getBaseline("core", "abcd").value().version, "abcd12345555");

  auto all = store_->listBaselines();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].name, "core");
  EXPECT_EQ((*all)[1].version, "abcd12340000");
  EXPECT_EQ((*all)[2].version, "abcd99990000");
}

TEST_P(StoreContractTest, AssignmentsGetIncreasingIdsAndListInOrder) {
  ASSERT_TRUE(store_->putBaseline(baseline("edge", "abcd12340000", kNow)).ok());
  AssignmentRecord a{.baseline_name = "edge",
                     .baseline_version = "abcd12340000",
                     .selector = {{"env", "prod"}, {"we\"ird", "v\\al"}},
                     .mode = Mode::kDetect,
                     .created_at = kNow};
  auto first = store_->addAssignment(a);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  a.selector = {};
  a.mode = Mode::kEnforce;
  a.repair_windows = {"Sat,Sun 02:00-04:00 Europe/Berlin", "daily 23:00-01:00 UTC"};
  auto second = store_->addAssignment(a);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->id, first->id);
  AssignmentRecord missing = a;
  missing.baseline_version = "ffff00000000";
  EXPECT_EQ(store_->addAssignment(missing).status().code(), StatusCode::kNotFound);

  reopen();
  auto all = store_->listAssignments();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, first->id);
  EXPECT_EQ((*all)[0].selector, (Labels{{"env", "prod"}, {"we\"ird", "v\\al"}}));
  EXPECT_EQ((*all)[0].mode, Mode::kDetect);
  EXPECT_EQ((*all)[1].id, second->id);
  EXPECT_TRUE((*all)[1].selector.empty());
  EXPECT_TRUE((*all)[0].repair_windows.empty());
  EXPECT_EQ((*all)[1].repair_windows, a.repair_windows);
}

TEST_P(StoreContractTest, ARepairWindowThatSpansLinesIsRefused) {
  ASSERT_TRUE(store_->putBaseline(baseline("edge", "abcd12340000", kNow)).ok());
  AssignmentRecord a{.baseline_name = "edge",
                     .baseline_version = "abcd12340000",
                     .created_at = kNow,
                     .repair_windows = {"Sat 02:00-04:00 UTC\nSun 02:00-04:00 UTC"}};
  EXPECT_EQ(store_->addAssignment(a).status().code(), StatusCode::kInvalidArgument);
  a.repair_windows = {""};
  EXPECT_EQ(store_->addAssignment(a).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->listAssignments()->empty());
}

TEST_P(StoreContractTest, ConcurrentTouchAndReportsSmoke) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 100;
  for (int t = 0; t < kThreads; ++t) enroll("agent-" + std::to_string(t));
  std::vector<std::thread> threads;
  std::vector<Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = "agent-" + std::to_string(t);
      for (int i = 1; i <= kRounds; ++i) {
        std::vector<std::pair<std::string, UnixMs>> seen = {{id, kNow + i}, {"agent-0", kNow}};
        Status touched = store_->touchAgents(seen);
        if (!touched.ok()) failures[t] = touched;
        auto stored = store_->recordReports(
            std::vector<ReportWrite>{report(id, static_cast<uint64_t>(i), kNow + i)});
        if (!stored.ok()) failures[t] = stored.status();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Status& failure : failures) EXPECT_TRUE(failure.ok()) << failure.toString();
  for (int t = 0; t < kThreads; ++t) {
    auto agent = store_->getAgent("agent-" + std::to_string(t));
    ASSERT_TRUE(agent.ok());
    EXPECT_EQ(agent->last_seq, static_cast<uint64_t>(kRounds));
    EXPECT_EQ(agent->last_seen, kNow + kRounds);
  }
  EXPECT_EQ(count("SELECT count(*) FROM reports"), kThreads * kRounds);
}

TEST_P(StoreContractTest, RefusesABaselineWhoseLabelIsNotUtf8AndStoresNothing) {
  BaselineRecord bad{.name = "badutf",
                     .version = "0123456789ab",
                     .label = "\xff\xfe",
                     .content = "name: badutf\n",
                     .pushed_at = kNow};
  auto put = store_->putBaseline(bad);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(put.status().message(), HasSubstr("baseline label is not valid UTF-8 (byte 0)"));
  EXPECT_EQ(count("SELECT count(*) FROM baselines"), 0);
  bad.label = "1";
  bad.content = "name: x\nversion: \"\xc3\x28\"\n";  // a 2-byte lead without continuation
  EXPECT_THAT(store_->putBaseline(bad).status().message(),
              HasSubstr("baseline content is not valid UTF-8 (byte 18)"));
  bad.content = "name: b\nversion: \"\xc3\xa9t\xc3\xa9 \xf0\x9f\x93\xa8\"\n";  // été 📨
  EXPECT_TRUE(store_->putBaseline(bad).ok());
}

TEST_P(StoreContractTest, RefusesNonUtf8TokensHellosHistoryAndReports) {
  TokenRecord token = makeToken("t2");
  token.labels["site"] = "fr\xe0";
  EXPECT_EQ(store_->createToken(token).code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(store_->createToken(token).message(), HasSubstr("token label 'site'"));
  EXPECT_EQ(count("SELECT count(*) FROM tokens"), 0);

  enroll("a1");
  Status hello = recordHello("a1", "a1", "1.0\xed\xa0\x80", "3.7", {}, kNow);  // surrogate
  EXPECT_EQ(hello.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(hello.message(), HasSubstr("agent version is not valid UTF-8"));
  EXPECT_EQ(
      store_->addHistory({.agent_id = "a1", .at = kNow, .kind = "x", .summary = "\xc0\xaf"}).code(),
      StatusCode::kInvalidArgument);  // an overlong '/'

  ReportWrite bad = report("a1", 5);
  bad.drift.push_back(drift("smtpd_tls_auth_only", "ye\xf5"));
  auto stored = store_->recordReports(std::vector<ReportWrite>{report("a1", 4), bad});
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(stored.status().message(),
              HasSubstr("drift actual value of 'smtpd_tls_auth_only' is not valid UTF-8"));
  EXPECT_EQ(count("SELECT count(*) FROM reports"), 0);
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 0u);
}

TEST_P(StoreContractTest, DeletesAnUnassignedBaselineAndRefusesAnAssignedOne) {
  BaselineRecord a{.name = "hard", .version = "aaaa00000000", .label = "1", .content = "a"};
  BaselineRecord b{.name = "hard", .version = "bbbb00000000", .label = "2", .content = "b"};
  ASSERT_TRUE(store_->putBaseline(a).ok());
  ASSERT_TRUE(store_->putBaseline(b).ok());
  ASSERT_TRUE(store_
                  ->addAssignment({.baseline_name = "hard",
                                   .baseline_version = a.version,
                                   .selector = {{"site", "fra"}}})
                  .ok());
  auto refused = deleteBaseline("hard", "aaaa");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("is assigned"));
  EXPECT_EQ(count("SELECT count(*) FROM baselines"), 2);

  // A newer assignment with a narrower selector leaves site=fra agents without env=prod on a.
  ASSERT_TRUE(store_
                  ->addAssignment({.baseline_name = "hard",
                                   .baseline_version = b.version,
                                   .selector = {{"site", "fra"}, {"env", "prod"}}})
                  .ok());
  EXPECT_EQ(deleteBaseline("hard", "aaaa").status().code(), StatusCode::kFailedPrecondition);
  // One that selects every agent a's selects shadows it: a is dead and can go.
  ASSERT_TRUE(store_->addAssignment({.baseline_name = "hard", .baseline_version = b.version}).ok());
  auto deleted = deleteBaseline("hard", "aaaa");
  ASSERT_TRUE(deleted.ok()) << deleted.status().toString();
  EXPECT_EQ(*deleted, a.version);
  EXPECT_EQ(count("SELECT count(*) FROM baselines"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 2);
  EXPECT_EQ(deleteBaseline("hard", "aaaa00000000").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(deleteBaseline("hard", "bbbb").status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(StoreContractTest, EnrollmentShowsTheCheckWhatItReadAndARefusalWritesNothing) {
  ASSERT_TRUE(store_->createToken(makeToken("t", 3)).ok());
  std::optional<TokenRecord> seen_token;
  std::optional<AgentRecord> seen_agent;
  auto refuse = [&](const EnrollmentRequest&, const std::optional<TokenRecord>& token,
                    const std::optional<AgentRecord>& existing) {
    seen_token = token;
    seen_agent = existing;
    return PermissionDeniedError("no");
  };
  EXPECT_EQ(store_->enrollAgent(enrollment("t", "a1"), refuse).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(seen_token.has_value());
  EXPECT_EQ(seen_token->id, "t");
  EXPECT_FALSE(seen_agent.has_value());
  EXPECT_EQ(tokenUses("t"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM agents"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM history"), 0);

  // An unknown token id reaches the check as nullopt; the existing agent as its record.
  enroll("a1");
  EXPECT_EQ(store_->enrollAgent(enrollment("nope", "a1"), refuse).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_FALSE(seen_token.has_value());
  ASSERT_TRUE(seen_agent.has_value());
  EXPECT_EQ(seen_agent->id, "a1");
}

TEST_P(StoreContractTest, BaselineDeletionDropsWhatTheRuleNamesOrNothingWhenItRefuses) {
  BaselineRecord a{.name = "hard", .version = "aaaa00000000", .label = "1", .content = "a"};
  ASSERT_TRUE(store_->putBaseline(a).ok());
  auto first = store_->addAssignment({.baseline_name = "hard", .baseline_version = a.version});
  auto second = store_->addAssignment({.baseline_name = "hard", .baseline_version = a.version});
  ASSERT_TRUE(first.ok() && second.ok());
  std::vector<int64_t> shown;
  auto refuse = [&](const BaselineRecord& baseline,
                    const std::vector<AssignmentRecord>& all) -> Result<std::vector<int64_t>> {
    EXPECT_EQ(baseline.version, a.version);  // the prefix, resolved
    for (const AssignmentRecord& r : all) shown.push_back(r.id);
    return FailedPreconditionError("kept");
  };
  EXPECT_EQ(store_->deleteBaseline("hard", "aaaa", refuse).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_THAT(shown, ElementsAre(first->id, second->id));
  EXPECT_EQ(count("SELECT count(*) FROM baselines"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 2);

  auto drop_both = [&](const BaselineRecord&,
                       const std::vector<AssignmentRecord>&) -> Result<std::vector<int64_t>> {
    return std::vector<int64_t>{first->id, second->id};
  };
  auto deleted = store_->deleteBaseline("hard", "aaaa", drop_both);
  ASSERT_TRUE(deleted.ok()) << deleted.status().toString();
  EXPECT_EQ(count("SELECT count(*) FROM baselines"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM assignments"), 0);
}

TEST_P(StoreContractTest, HelloStoresTheLabelsTheMergeRuleReturns) {
  enroll("a1");
  auto own_only = [](const Labels&, const Labels& agent_labels) { return agent_labels; };
  ASSERT_TRUE(
      store_->recordHello("a1", "a1", "1.0", "3.7", {{"rack", "r1"}}, kNow + 1, own_only).ok());
  EXPECT_EQ(store_->getAgent("a1")->labels, (Labels{{"rack", "r1"}}));
}

TEST_P(StoreContractTest, ANewEpochStartsCountingAgainAndItsFirstReportIsStored) {
  enroll("a1");
  ReportWrite old_install = report("a1", 1'000'000);
  old_install.epoch = 111;
  ASSERT_THAT(store_->recordReports(std::vector<ReportWrite>{old_install}).value(),
              ElementsAre(true));
  // The reinstalled agent's fresh outbox: a new epoch, numbers far below the old ones.
  ReportWrite fresh = report("a1", 1);
  fresh.epoch = 222;
  ReportWrite next = report("a1", 2);
  next.epoch = 222;
  auto stored = store_->recordReports(std::vector<ReportWrite>{fresh, next, fresh});
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_THAT(*stored, ElementsAre(true, true, false));
  AgentRecord agent = store_->getAgent("a1").value();
  EXPECT_EQ(agent.seq_epoch, 222u);
  EXPECT_EQ(agent.last_seq, 2u);
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), 3);
  // Survives a reopen.
  reopen();
  EXPECT_EQ(store_->getAgent("a1")->seq_epoch, 222u);
}

TEST_P(StoreContractTest, RefusesAnAbsurdSeqJumpInsteadOfAdoptingIt) {
  enroll("a1");
  ReportWrite first = report("a1", 10);
  first.epoch = 7;
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{first}).ok());
  ReportWrite huge = report("a1", 10 + kMaxSeqJump + 1);
  huge.epoch = 7;
  auto refused = store_->recordReports(std::vector<ReportWrite>{huge});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("jumps more than 2^32"));
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 10u);
  // The agent's later reports still count.
  ReportWrite later = report("a1", 11);
  later.epoch = 7;
  EXPECT_THAT(store_->recordReports(std::vector<ReportWrite>{later}).value(), ElementsAre(true));
  ReportWrite at_limit = report("a1", 11 + kMaxSeqJump);
  at_limit.epoch = 7;
  EXPECT_THAT(store_->recordReports(std::vector<ReportWrite>{at_limit}).value(), ElementsAre(true));
}

TEST_P(StoreContractTest, TheSimulatorCannotTakeOverAnAgentEnrolledForReal) {
  enroll("sim-0001");  // enrolled for real (before enrollment refused sim-* names)
  Status taken = store_->registerSimulatedAgent("sim-0001", kNow);
  EXPECT_EQ(taken.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(taken.message(), HasSubstr("enrolled for real"));
  // Its own agents stay its own, also on the next hello.
  ASSERT_TRUE(store_->registerSimulatedAgent("sim-0002", kNow).ok());
  EXPECT_TRUE(store_->registerSimulatedAgent("sim-0002", kNow + 1).ok());
}

}  // namespace
}  // namespace postwarden::controller::store
