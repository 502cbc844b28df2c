// The rollout tables of the SQLite store: a step is stored whole (record, pins, audit) or not at
// all, and a pinned baseline cannot be deleted from under its pin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::controller::store {
namespace {

using os::TempDir;  // tests/unit/common/os/temp_dir.h
using ::testing::ElementsAre;

class SqliteRolloutsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteStore::open(dir_.file("controller.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(*opened);
    ASSERT_TRUE(store_->putBaseline({.name = "b", .version = "v1", .content = "name: b"}).ok());
    ASSERT_TRUE(
        store_
            ->createRollout(
                {.id = "r-1", .record = "first", .created_at = 5},
                {{AuditRow{.at = 5, .actor = "alice", .rollout_id = "r-1", .action = "create"}}})
            .ok());
  }

  std::vector<std::string> auditActions(const std::string& rollout, UnixMs since, int limit) {
    Result<std::vector<AuditRow>> rows = store_->audit(rollout, since, limit);
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> out;
    if (rows.ok()) {
      for (const AuditRow& row : *rows) out.push_back(row.action);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteRolloutsTest, ASavedStepKeepsRecordPinsAndAuditTogether) {
  const PinRow pin{.agent_id = "mx1",
                   .baseline_name = "b",
                   .baseline_version = "v1",
                   .rollout_id = "r-1",
                   .job = "job"};
  const AuditRow dispatch{
      .at = 6, .actor = "controller", .rollout_id = "r-1", .action = "dispatch", .host = "mx1"};
  ASSERT_TRUE(store_
                  ->saveRollout({.id = "r-1", .record = "second", .active = false, .updated_at = 6},
                                {{pin}}, {{dispatch}})
                  .ok());
  Result<RolloutRow> row = store_->getRollout("r-1");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->record, "second");
  EXPECT_FALSE(row->active);
  EXPECT_EQ(row->created_at, 5);
  EXPECT_TRUE(store_->listRollouts(true)->empty());
  ASSERT_EQ(store_->listPins()->size(), 1u);
  EXPECT_EQ(store_->listPins()->front().job, "job");
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create", "dispatch"));
  EXPECT_THAT(auditActions("", 6, 10), ElementsAre("dispatch"));
  EXPECT_THAT(auditActions("r-1", 0, 1), ElementsAre("dispatch"));  // the newest
}

TEST_F(SqliteRolloutsTest, AStepThatCannotBeStoredLeavesNothingBehind) {
  // The pin names a baseline that does not exist: the whole step is refused.
  const PinRow bad{.agent_id = "mx1",
                   .baseline_name = "b",
                   .baseline_version = "nope",
                   .rollout_id = "r-1",
                   .job = "job"};
  const AuditRow audit{.at = 6, .actor = "controller", .rollout_id = "r-1", .action = "dispatch"};
  EXPECT_FALSE(
      store_->saveRollout({.id = "r-1", .record = "second", .updated_at = 6}, {{bad}}, {{audit}})
          .ok());
  EXPECT_EQ(store_->getRollout("r-1")->record, "first");
  EXPECT_TRUE(store_->listPins()->empty());
  EXPECT_THAT(auditActions("r-1", 0, 10), ElementsAre("create"));
  EXPECT_EQ(store_->saveRollout({.id = "r-2"}, {}, {}).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->createRollout({.id = "r-1"}, {}).code(), StatusCode::kAlreadyExists);
}

TEST_F(SqliteRolloutsTest, APinnedBaselineCannotBeDeleted) {
  const PinRow pin{.agent_id = "mx1",
                   .baseline_name = "b",
                   .baseline_version = "v1",
                   .rollout_id = "r-1",
                   .job = "job"};
  ASSERT_TRUE(store_->saveRollout({.id = "r-1", .record = "x"}, {{pin}}, {}).ok());
  Result<std::string> deleted = store_->deleteBaseline(
      "b", "v1", [](const BaselineRecord&, const std::vector<AssignmentRecord>&) {
        return Result<std::vector<int64_t>>(std::vector<int64_t>{});
      });
  EXPECT_EQ(deleted.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(deleted.status().message(),
            "baseline 'b' version 'v1' holds 1 host(s) of rollout 'r-1'");
  EXPECT_TRUE(store_->getBaseline("b", "v1").ok());
}

}  // namespace
}  // namespace postwarden::controller::store
