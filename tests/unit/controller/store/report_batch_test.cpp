// Report batches with several reports of the same agents, run against both backends: a batch
// must leave exactly what storing its reports one after the other would (PostgreSQL writes a
// batch's rows with one statement per table, postgres_reports.cpp; SQLite one report at a
// time), and a batch with one refused report must leave nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "controller/core/enrollment_policy.h"
#include "controller/store/report_sequence.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::ElementsAre;

class ReportBatchTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string why;
    backend_ = GetParam().make(&why);
    if (backend_ == nullptr) GTEST_SKIP() << "skipped: " << why;
    auto opened = backend_->open();
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(opened).value();
    ASSERT_TRUE(store_->createToken(makeToken("t", 100)).ok());
    for (const char* id : {"a1", "a2"}) {
      auto agent = store_->enrollAgent(enrollment("t", id), core::checkEnrollment);
      ASSERT_TRUE(agent.ok()) << agent.status().toString();
    }
  }

  int64_t count(const std::string& sql) { return backend_->count(sql); }

  // "file/parameter=actual" of each drift row of `id`, in the store's order.
  std::vector<std::string> driftOf(const std::string& id) {
    std::vector<std::string> out;
    std::vector<DriftRow> rows = store_->agentDrift(id).value();
    for (const DriftRow& row : rows) {
      out.push_back(row.file + "/" + row.parameter + "=" + row.actual);
    }
    return out;
  }

  std::vector<std::string> historyKinds(const std::string& id) {
    std::vector<std::string> out;
    std::vector<HistoryRow> rows = store_->history(id, 0).value();
    for (const HistoryRow& row : rows) out.push_back(row.kind);
    return out;
  }

  static ReportWrite withState(ReportWrite write, ReportWrite::State state) {
    write.state = std::move(state);
    return write;
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, ReportBatchTest, ::testing::Values(sqliteBackend()), backendName);
INSTANTIATE_TEST_SUITE_P(Postgres, ReportBatchTest, ::testing::Values(postgresBackend()),
                         backendName);

TEST_P(ReportBatchTest, ADuplicateSeqInOneBatchStoresOnlyTheFirstCopy) {
  ReportWrite first = report("a1", 1);
  first.body = "first";
  first.history = HistoryRow{.kind = "first"};
  ReportWrite copy = report("a1", 1, kNow + 99);
  copy.body = "copy";
  copy.history = HistoryRow{.kind = "copy"};
  copy.drift = {drift("p1", "no")};
  auto stored = store_->recordReports(std::vector<ReportWrite>{first, copy, report("a1", 2)});
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_THAT(*stored, ElementsAre(true, false, true));
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE agent_id = 'a1'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM reports WHERE length(body) = 4"), 0);  // "copy"
  EXPECT_THAT(historyKinds("a1"), ElementsAre("first", "enrolled"));
  EXPECT_TRUE(driftOf("a1").empty());
  AgentRecord a1 = store_->getAgent("a1").value();
  EXPECT_EQ(a1.last_seq, 2u);
  EXPECT_EQ(a1.last_seen, kNow);  // the copy's later arrival is not counted
  EXPECT_EQ(a1.drifted_parameters, 0);
}

TEST_P(ReportBatchTest, TwoAgentsInterleavedEndAsIfStoredOneByOne) {
  // a1: a state with a job outcome, a drift event, a newer state without one, a plain report.
  ReportWrite w1 = withState(report("a1", 1, kNow + 50), {.baseline_name = "b1",
                                                          .baseline_version = "v1",
                                                          .mode = Mode::kDetect,
                                                          .compliance = Compliance::kCompliant,
                                                          .serialized = "s1",
                                                          .job_state = "j1",
                                                          .drift = {drift("p1", "no")}});
  ReportWrite w2 = report("a2", 1);
  w2.kind = "drift";
  w2.drift = {drift("z", "no")};
  ReportWrite w3 = report("a1", 2, kNow + 20);
  w3.kind = "drift";
  w3.drift = {drift("p1", "maybe"), drift("p3", "no")};
  ReportWrite w4 =
      withState(report("a2", 2),
                {.baseline_name = "b2", .compliance = Compliance::kCompliant, .serialized = "s2"});
  ReportWrite w5 = withState(report("a1", 3), {.baseline_name = "b1",
                                               .baseline_version = "v2",
                                               .mode = Mode::kEnforce,
                                               .compliance = Compliance::kDrifted,
                                               .serialized = "s3",
                                               .drift = {drift("p9", "no")}});
  ReportWrite w6 = report("a1", 4);
  auto stored = store_->recordReports(std::vector<ReportWrite>{w1, w2, w3, w4, w5, w6});
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_THAT(*stored, ElementsAre(true, true, true, true, true, true));

  AgentRecord a1 = store_->getAgent("a1").value();
  EXPECT_EQ(a1.baseline_name, "b1");
  EXPECT_EQ(a1.baseline_version, "v2");
  EXPECT_EQ(a1.mode, Mode::kEnforce);
  EXPECT_EQ(a1.last_state, "s3");
  EXPECT_EQ(a1.last_job_state, "j1");  // the last non-empty job outcome
  EXPECT_EQ(a1.compliance, Compliance::kDrifted);
  EXPECT_EQ(a1.last_seq, 4u);
  EXPECT_EQ(a1.last_seen, kNow + 50);  // the latest arrival, not the last report's
  EXPECT_THAT(driftOf("a1"), ElementsAre("main.cf/p9=no"));  // w5 replaced w1's and w3's
  EXPECT_EQ(a1.drifted_parameters, 1);

  AgentRecord a2 = store_->getAgent("a2").value();
  EXPECT_EQ(a2.baseline_name, "b2");
  EXPECT_EQ(a2.last_state, "s2");
  EXPECT_EQ(a2.last_job_state, "");
  EXPECT_EQ(a2.compliance, Compliance::kCompliant);
  EXPECT_EQ(a2.last_seq, 2u);
  EXPECT_TRUE(driftOf("a2").empty());
  EXPECT_EQ(a2.drifted_parameters, 0);
  EXPECT_EQ(count("SELECT count(*) FROM reports"), 6);
}

TEST_P(ReportBatchTest, TheSameDriftParameterSeveralTimesInOneBatchKeepsTheLastValue) {
  ReportWrite state = withState(report("a1", 1), {.compliance = Compliance::kDrifted,
                                                  .drift = {drift("p1", "no"), drift("p1", "2")}});
  ReportWrite event = report("a1", 2);
  event.kind = "drift";
  event.drift = {drift("p2", "no"), drift("p1", "maybe")};
  ReportWrite last = report("a1", 3);
  last.kind = "drift";
  last.drift = {drift("p1", "last")};
  DriftRow other_file = drift("p1", "master");
  other_file.file = "master.cf";
  other_file.service = "smtp/inet";
  last.drift.push_back(other_file);
  auto stored = store_->recordReports(std::vector<ReportWrite>{state, event, last});
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_THAT(driftOf("a1"),
              ElementsAre("main.cf/p1=last", "main.cf/p2=no", "master.cf/p1=master"));
  AgentRecord a1 = store_->getAgent("a1").value();
  EXPECT_EQ(a1.drifted_parameters, 3);
  EXPECT_EQ(a1.compliance, Compliance::kDrifted);
}

TEST_P(ReportBatchTest, ADriftEventAfterACompliantStateInOneBatchLeavesTheAgentDrifted) {
  ReportWrite clean = withState(report("a1", 1), {.compliance = Compliance::kCompliant});
  ReportWrite event = report("a1", 2);
  event.kind = "drift";
  event.drift = {drift("p1", "no")};
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{clean, event}).ok());
  EXPECT_EQ(store_->getAgent("a1")->compliance, Compliance::kDrifted);
  // And the other way round: the state report, later, wins.
  ReportWrite event2 = report("a1", 3);
  event2.kind = "drift";
  event2.drift = {drift("p2", "no")};
  ReportWrite clean2 = withState(report("a1", 4), {.compliance = Compliance::kCompliant});
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{event2, clean2}).ok());
  AgentRecord a1 = store_->getAgent("a1").value();
  EXPECT_EQ(a1.compliance, Compliance::kCompliant);
  EXPECT_EQ(a1.drifted_parameters, 0);
  EXPECT_TRUE(driftOf("a1").empty());
}

TEST_P(ReportBatchTest, OneRefusedReportFailsTheBatchAndWritesNothing) {
  ReportWrite good = withState(report("a1", 1), {.baseline_name = "b1",
                                                 .compliance = Compliance::kDrifted,
                                                 .serialized = "s1",
                                                 .job_state = "j1",
                                                 .drift = {drift("p1", "no")}});
  good.history = HistoryRow{.kind = "state"};
  ReportWrite other = report("a2", 1);
  other.drift = {drift("z", "no")};
  ReportWrite absurd = report("a1", 2 + kMaxSeqJump);  // more than 2^32 above 1
  std::vector<ReportWrite> batch = {good, other, absurd, report("a2", 2)};
  auto refused = store_->recordReports(batch);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(count("SELECT count(*) FROM reports"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM drift"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM history WHERE kind <> 'enrolled'"), 0);
  AgentRecord a1 = store_->getAgent("a1").value();
  EXPECT_EQ(a1.last_seq, 0u);
  EXPECT_EQ(a1.baseline_name, "");
  EXPECT_EQ(a1.last_job_state, "");
  EXPECT_EQ(store_->getAgent("a2")->last_seq, 0u);

  // As the report writer then does (Fleet::flush): one by one, the others are stored.
  std::vector<bool> alone;
  for (const ReportWrite& write : batch) alone.push_back(store_->recordReports({&write, 1}).ok());
  EXPECT_THAT(alone, ElementsAre(true, true, false, true));
  EXPECT_EQ(count("SELECT count(*) FROM reports"), 3);
  EXPECT_EQ(store_->getAgent("a1")->last_seq, 1u);
  EXPECT_EQ(store_->getAgent("a2")->last_seq, 2u);
}

TEST_P(ReportBatchTest, HistoryRowsOfOneBatchKeepTheirOrderAtTheSameTime) {
  std::vector<ReportWrite> batch;
  for (uint64_t seq = 1; seq <= 4; ++seq) {
    batch.push_back(report(seq % 2 == 0 ? "a2" : "a1", seq));
    batch.back().history = HistoryRow{.at = kNow + 7, .kind = "h" + std::to_string(seq)};
  }
  ASSERT_TRUE(store_->recordReports(batch).ok());
  EXPECT_THAT(historyKinds("a1"), ElementsAre("h3", "h1", "enrolled"));
  EXPECT_THAT(historyKinds("a2"), ElementsAre("h4", "h2", "enrolled"));
}

}  // namespace
}  // namespace postwarden::controller::store
