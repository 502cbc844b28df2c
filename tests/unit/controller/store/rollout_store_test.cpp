// The RolloutStore contract, against both backends (store_test_support.h): a step is stored
// whole (record, pins, audit) or not at all, only over the revision it read (compare-and-set),
// and a pinned baseline cannot be deleted from under its pin.
#include "controller/store/rollout_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/store.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The pin a step of rollout r-1 gives host mx1 (baseline b at `version`).
PinRow pinOfMx1(const std::string& version) {
  return PinRow{.agent_id = "mx1",
                .baseline_name = "b",
                .baseline_version = version,
                .rollout_id = "r-1",
                .job = "job"};
}

class RolloutStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string why;
    backend_ = GetParam().make(&why);
    if (backend_ == nullptr) GTEST_SKIP() << "skipped: " << why;
    reopen();
    ASSERT_TRUE(opened_->putBaseline({.name = "b", .version = "v1", .content = "name: b"}).ok());
    ASSERT_TRUE(
        rollouts_
            ->createRollout(
                {.id = "r-1", .record = "first", .created_at = 5},
                {{AuditRow{.at = 5, .actor = "alice", .rollout_id = "r-1", .action = "create"}}})
            .ok());
  }

  std::vector<std::string> auditActions(const std::string& rollout, UnixMs since, int limit) {
    Result<std::vector<AuditRow>> rows = rollouts_->audit(rollout, since, limit);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    if (rows.ok()) {
      for (const AuditRow& row : *rows) out.push_back(row.action);
    }
    return out;
  }

  // Both backends are both a Store and a RolloutStore; the tests use the two faces.
  void reopen() {
    rollouts_ = nullptr;
    opened_.reset();
    auto opened = backend_->open();
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    opened_ = std::move(opened).value();
    rollouts_ = dynamic_cast<RolloutStore*>(opened_.get());
    ASSERT_NE(rollouts_, nullptr) << GetParam().name << " store is no RolloutStore";
  }

  std::unique_ptr<StoreBackend> backend_;
  std::unique_ptr<Store> opened_;
  RolloutStore* rollouts_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, RolloutStoreTest, ::testing::Values(sqliteBackend()), backendName);
INSTANTIATE_TEST_SUITE_P(Postgres, RolloutStoreTest, ::testing::Values(postgresBackend()),
                         backendName);

TEST_P(RolloutStoreTest, ASavedStepKeepsRecordPinsAndAuditTogether) {
  const PinRow pin = pinOfMx1("v1");
  const AuditRow dispatch{
      .at = 6, .actor = "controller", .rollout_id = "r-1", .action = "dispatch", .host = "mx1"};
  ASSERT_TRUE(rollouts_
                  ->saveRollout({.id = "r-1", .record = "second", .active = false, .updated_at = 6},
                                {{pin}}, {{dispatch}})
                  .ok());
  Result<RolloutRow> row = rollouts_->getRollout("r-1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->record, "second");
  EXPECT_FALSE(row->active);
  EXPECT_EQ(row->created_at, 5);
  EXPECT_TRUE(rollouts_->listRollouts(true)->empty());
  ASSERT_EQ(rollouts_->listPins()->size(), 1u);
  EXPECT_EQ(rollouts_->listPins()->front().job, "job");
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create", "dispatch"));
  EXPECT_THAT(auditActions("", 6, 10), ElementsAre("dispatch"));
  EXPECT_THAT(auditActions("r-1", 0, 1), ElementsAre("dispatch"));  // the newest
}

TEST_P(RolloutStoreTest, AStepThatCannotBeStoredLeavesNothingBehind) {
  // The pin names a baseline that does not exist: the whole step is refused.
  const PinRow bad = pinOfMx1("nope");
  const AuditRow audit{.at = 6, .actor = "controller", .rollout_id = "r-1", .action = "dispatch"};
  EXPECT_FALSE(
      rollouts_->saveRollout({.id = "r-1", .record = "second", .updated_at = 6}, {{bad}}, {{audit}})
          .ok());
  EXPECT_EQ(rollouts_->getRollout("r-1")->record, "first");
  EXPECT_TRUE(rollouts_->listPins()->empty());
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create"));
  EXPECT_EQ(rollouts_->saveRollout({.id = "r-2"}, {}, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(rollouts_->createRollout({.id = "r-1"}, {}).code(), StatusCode::kAlreadyExists);
}

TEST_P(RolloutStoreTest, APinnedBaselineCannotBeDeleted) {
  const PinRow pin = pinOfMx1("v1");
  ASSERT_TRUE(rollouts_->saveRollout({.id = "r-1", .record = "x"}, {{pin}}, {}).ok());
  Result<std::string> deleted = opened_->deleteBaseline(
      "b", "v1", [](const BaselineRecord&, const std::vector<AssignmentRecord>&) {
        return Result<std::vector<int64_t>>(std::vector<int64_t>{});
      });
  EXPECT_EQ(deleted.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(deleted.status().message(),
            "baseline 'b' digest 'v1' holds 1 host(s) of rollout 'r-1'");
  EXPECT_TRUE(opened_->getBaseline("b", "v1").ok());
}

TEST_P(RolloutStoreTest, RecordsAndJobsKeepEveryByteAcrossAReopen) {
  // Serialized protobuf holds any byte, NUL and invalid UTF-8 included.
  const std::string record("\0rec\xff\x80", 7);
  const std::string job("\x01\0job", 5);
  ASSERT_TRUE(rollouts_
                  ->saveRollout({.id = "r-1", .record = record, .updated_at = 7},
                                {{PinRow{.agent_id = "mx1",
                                         .baseline_name = "b",
                                         .baseline_version = "v1",
                                         .rollout_id = "r-1",
                                         .job = job}}},
                                {})
                  .ok());
  ASSERT_TRUE(rollouts_->addAudit({.at = 8, .actor = "bob", .action = "token create"}).ok());
  reopen();
  EXPECT_EQ(rollouts_->getRollout("r-1")->record, record);
  EXPECT_EQ(rollouts_->listRollouts(false)->size(), 1u);
  ASSERT_EQ(rollouts_->listPins()->size(), 1u);
  EXPECT_EQ(rollouts_->listPins()->front().job, job);
  EXPECT_THAT(auditActions("", 0, 10), ElementsAre("create", "token create"));
  EXPECT_EQ(rollouts_->getRollout("r-9").status().code(), StatusCode::kNotFound);
}

TEST_P(RolloutStoreTest, AStaleRevisionIsRefusedAndStoresNothing) {
  EXPECT_EQ(rollouts_->getRollout("r-1")->revision, 1);
  ASSERT_TRUE(
      rollouts_->saveRollout({.id = "r-1", .record = "second", .revision = 1}, {}, {}).ok());
  EXPECT_EQ(rollouts_->getRollout("r-1")->revision, 2);
  EXPECT_EQ(rollouts_->listRollouts(false)->front().revision, 2);

  // A second writer that also read revision 1: its record, pin and audit row are all refused.
  const PinRow pin = pinOfMx1("v1");
  const AuditRow dispatch{
      .at = 6, .actor = "controller", .rollout_id = "r-1", .action = "dispatch"};
  Status stale = rollouts_->saveRollout({.id = "r-1", .record = "stale", .revision = 1}, {{pin}},
                                        {{dispatch}});
  EXPECT_EQ(stale.code(), StatusCode::kAborted);
  EXPECT_EQ(stale.message(),
            "rollout 'r-1' changed since it was read (revision 1, now 2); read it again");
  Result<RolloutRow> row = rollouts_->getRollout("r-1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->record, "second");
  EXPECT_EQ(row->revision, 2);
  EXPECT_TRUE(rollouts_->listPins()->empty());
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create"));

  // Read again, it goes through.
  ASSERT_TRUE(
      rollouts_->saveRollout({.id = "r-1", .record = "third", .revision = 2}, {{pin}}, {{dispatch}})
          .ok());
  EXPECT_EQ(rollouts_->getRollout("r-1")->revision, 3);
  EXPECT_EQ(rollouts_->listPins()->size(), 1u);
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create", "dispatch"));
  EXPECT_EQ(rollouts_->saveRollout({.id = "r-2", .revision = 3}, {}, {}).code(),
            StatusCode::kNotFound);
}

TEST_P(RolloutStoreTest, OfSavesOverTheSameRevisionAtOnceOneIsStored) {
  constexpr int kWriters = 4;
  std::atomic<int> stored{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      const AuditRow audit{
          .at = 6, .actor = "w" + std::to_string(i), .rollout_id = "r-1", .action = "write"};
      Status saved = rollouts_->saveRollout(
          {.id = "r-1", .record = "by " + std::to_string(i), .revision = 1}, {}, {{audit}});
      if (saved.ok()) {
        ++stored;
      } else if (saved.code() == StatusCode::kAborted) {
        ++refused;
      } else {
        ADD_FAILURE() << saved.toString();
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(stored.load(), 1);
  EXPECT_EQ(refused.load(), kWriters - 1);
  EXPECT_EQ(rollouts_->getRollout("r-1")->revision, 2);
  Result<std::vector<AuditRow>> audit = rollouts_->audit("r-1", 0, 10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);  // create, and the one write that was stored
  EXPECT_EQ(rollouts_->getRollout("r-1")->record, "by " + audit->back().actor.substr(1));
}

TEST_P(RolloutStoreTest, RolloutsStoredBeforeRevisionsStartAtOne) {
  ASSERT_TRUE(
      rollouts_->saveRollout({.id = "r-1", .record = "second", .revision = 1}, {}, {}).ok());
  // Back to the schema before revisions (version 4), then opened again: migrated.
  rollouts_ = nullptr;
  opened_.reset();
  backend_->count("ALTER TABLE rollouts DROP COLUMN revision");
  backend_->count(GetParam().name == "sqlite"
                      ? "PRAGMA user_version = 4"
                      : "DELETE FROM postwarden_schema_migrations WHERE version = 5");
  reopen();
  Result<RolloutRow> row = rollouts_->getRollout("r-1");
  ASSERT_TRUE(row.ok()) << row.status().toString();
  EXPECT_EQ(row->record, "second");
  EXPECT_EQ(row->revision, 1);
  EXPECT_TRUE(rollouts_->saveRollout({.id = "r-1", .record = "third", .revision = 1}, {}, {}).ok());
  EXPECT_THAT(rollouts_->saveRollout({.id = "r-1", .revision = 1}, {}, {}).message(),
              HasSubstr("(revision 1, now 2)"));
}

}  // namespace
}  // namespace postwarden::controller::store
