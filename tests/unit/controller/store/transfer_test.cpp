// export | import (controller/store/transfer.h): a SQLite store with a row in every table
// (binary report bodies and records, NUL bytes, ids with gaps) exported, imported into a fresh
// PostgreSQL schema, exported again: the two exports are identical byte for byte, and the
// imported store works on (new ids continue after the imported ones). Malformed, truncated or
// misdirected imports are refused. PostgreSQL parts skip, saying why, without a server.
#include "controller/store/transfer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "controller/core/enrollment_policy.h"
#include "controller/core/targeting.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::HasSubstr;

// One of everything, through the Store API, as a running controller writes it.
void populate(SqliteStore& store) {
  ASSERT_TRUE(store.createToken(makeToken("t", 5)).ok());
  ASSERT_TRUE(store.createToken(makeToken("spent", 1)).ok());
  ASSERT_TRUE(store.revokeToken("spent").ok());
  for (const char* id : {"a1", "a2"}) {
    ASSERT_TRUE(store.enrollAgent(enrollment("t", id), core::checkEnrollment).ok());
  }
  ASSERT_TRUE(
      store
          .recordHello("a1", "mx1", "0.9", "3.7", {{"site", "fra\t1"}}, kNow, core::effectiveLabels)
          .ok());
  ASSERT_TRUE(store.putBaseline(baseline("b", "0123456789ab", kNow)).ok());
  ASSERT_TRUE(store.putBaseline(baseline("b", "ba9876543210", kNow + 1)).ok());
  ASSERT_TRUE(store
                  .addAssignment({.baseline_name = "b",
                                  .baseline_version = "0123456789ab",
                                  .selector = {{"site", "fra1"}},
                                  .mode = Mode::kEnforce,
                                  .created_at = kNow})
                  .ok());
  auto second = store.addAssignment(
      {.baseline_name = "b", .baseline_version = "ba9876543210", .created_at = kNow});
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(store.removeAssignment(second->id).ok());  // a gap in the ids
  ReportWrite state = report("a1", 1);
  state.epoch = 77;
  state.state = ReportWrite::State{.baseline_name = "b",
                                   .baseline_version = "0123456789ab",
                                   .mode = Mode::kEnforce,
                                   .compliance = Compliance::kDrifted,
                                   .serialized = std::string("\0\xff state", 8),
                                   .job_state = "job\0",
                                   .drift = {drift("smtpd_tls_auth_only", "no")}};
  ReportWrite event = report("a2", 1);
  event.kind = "drift";
  event.drift = {drift("smtpd_banner", "$myhostname ESMTP")};
  event.history = {.agent_id = "a2", .at = kNow, .kind = "drift", .summary = "banner"};
  ReportWrite later = report("a1", 2);
  later.epoch = 77;
  ASSERT_TRUE(store.recordReports(std::vector<ReportWrite>{state, event, later}).ok());
  ASSERT_TRUE(
      store.addHistory({.agent_id = "a1", .at = kNow, .kind = "note", .summary = "é"}).ok());
  ASSERT_TRUE(store.revokeAgent("a2", kNow).ok());
  ASSERT_TRUE(
      store
          .createRollout(
              {.id = "r-1",
               .record = std::string("\x08\x01\0", 3),
               .created_at = kNow,
               .updated_at = kNow},
              {{AuditRow{.at = kNow, .actor = "alice", .rollout_id = "r-1", .action = "create"}}})
          .ok());
  ASSERT_TRUE(store
                  .saveRollout({.id = "r-1", .record = "x", .active = false, .updated_at = kNow},
                               {{PinRow{.agent_id = "a1",
                                        .baseline_name = "b",
                                        .baseline_version = "ba9876543210",
                                        .rollout_id = "r-1",
                                        .job = std::string("j\0b", 3)}}},
                               {})
                  .ok());
  ASSERT_TRUE(store.addAudit({.at = kNow, .actor = "bob", .action = "token create"}).ok());
}

class TransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::open(dir_.file("controller.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    sqlite_ = std::move(opened).value();
    populate(*sqlite_);
  }

  std::string exported(Transferable& from) {
    std::ostringstream out;
    Result<TransferCounts> counts = exportStore(from, out);
    EXPECT_TRUE(counts.ok()) << counts.status().toString();
    return out.str();
  }

  os::TempDir dir_;
  std::unique_ptr<SqliteStore> sqlite_;
};

TEST_F(TransferTest, AnExportCountsEveryTableAndEndsWithItsTotal) {
  std::ostringstream out;
  Result<TransferCounts> counts = exportStore(*sqlite_, out);
  ASSERT_TRUE(counts.ok()) << counts.status().toString();
  EXPECT_EQ(counts->at("tokens"), 2);
  EXPECT_EQ(counts->at("agents"), 2);
  EXPECT_EQ(counts->at("reports"), 3);
  EXPECT_EQ(counts->at("assignments"), 1);
  EXPECT_EQ(counts->at("rollout_pins"), 1);
  EXPECT_EQ(counts->at("audit"), 2);
  EXPECT_EQ(counts->size(), transferTables().size());
  EXPECT_THAT(out.str(), HasSubstr("\nend "));
  // SQLite takes no imports.
  std::istringstream in(out.str());
  EXPECT_EQ(importStore(*sqlite_, in).status().code(), StatusCode::kUnimplemented);
}

class PostgresTransferTest : public TransferTest {
 protected:
  void SetUp() override {
    TransferTest::SetUp();
    std::string why;
    const std::string conninfo = freshPostgresConninfo(&why);
    if (conninfo.empty()) GTEST_SKIP() << "skipped: " << why;
    auto opened = PostgresStore::open(conninfo);
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    postgres_ = std::move(opened).value();
  }

  std::unique_ptr<PostgresStore> postgres_;
};

TEST_F(PostgresTransferTest, SqliteToPostgresRoundTripsEveryRow) {
  const std::string first = exported(*sqlite_);
  std::istringstream in(first);
  Result<TransferCounts> imported = importStore(*postgres_, in);
  ASSERT_TRUE(imported.ok()) << imported.status().toString();
  EXPECT_EQ(imported->at("reports"), 3);
  EXPECT_EQ(exported(*postgres_), first);

  // The imported store works on: what it reads is what SQLite held, and ids continue.
  EXPECT_EQ(postgres_->getAgent("a1")->last_seq, 2u);
  EXPECT_EQ(postgres_->getAgent("a1")->seq_epoch, 77u);
  EXPECT_TRUE(postgres_->getAgent("a2")->revoked);
  EXPECT_EQ(postgres_->listDrift()->size(), 2u);
  EXPECT_EQ(postgres_->listPins()->front().job, std::string("j\0b", 3));
  // A rollout's revision is not moved: saved once in SQLite (2), it starts again at 1.
  EXPECT_EQ(sqlite_->getRollout("r-1")->revision, 2);
  EXPECT_EQ(postgres_->getRollout("r-1")->revision, 1);
  EXPECT_TRUE(postgres_->saveRollout({.id = "r-1", .record = "y", .revision = 1}, {}, {}).ok());
  auto next = postgres_->addAssignment(
      {.baseline_name = "b", .baseline_version = "ba9876543210", .created_at = kNow});
  ASSERT_TRUE(next.ok()) << next.status().toString();
  // After the imported ids, and never the id of the assignment removed before the move (2).
  EXPECT_EQ(next->id, 3);
  ReportWrite repeated = report("a1", 2);
  repeated.epoch = 77;
  EXPECT_EQ(postgres_->recordReports(std::vector<ReportWrite>{repeated})->front(), false)
      << "seq 2 was stored before the move: a duplicate";

  // A second import into the now non-empty database is refused.
  std::istringstream again(first);
  EXPECT_EQ(importStore(*postgres_, again).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(PostgresTransferTest, MalformedOrTruncatedExportsAreRefusedWithTheirLine) {
  std::istringstream wrong("hello\n");
  EXPECT_THAT(importStore(*postgres_, wrong).status().message(),
              HasSubstr("line 1: not a Postwarden export"));
  std::istringstream unknown("postwarden-export 1\nwidgets\tAA==\nend 1\n");
  EXPECT_THAT(importStore(*postgres_, unknown).status().message(),
              HasSubstr("line 2: unknown table 'widgets'"));
  // Last: the rows before the cut are imported (docs: recreate the database and retry).
  const std::string full = exported(*sqlite_);
  std::istringstream truncated(full.substr(0, full.rfind("end ")));
  EXPECT_THAT(importStore(*postgres_, truncated).status().message(),
              HasSubstr("ends without its 'end' line"));
}

}  // namespace
}  // namespace postwarden::controller::store
