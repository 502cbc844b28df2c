// Replicas (controller/core/replica_sync.h): two Fleets over one store stand in for two
// controller replicas; what one changes reaches the agents of the other when the other hears
// of it (onReplicaChange, as its store listener calls it). A real SqliteStore; the PostgreSQL
// listener itself is tested in tests/unit/controller/store/postgres_coordination_test.cpp, and
// the whole path across two controller processes in tests/e2e/replicas_e2e_test.cpp.
#include "controller/core/replica_sync.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"
#include "tests/unit/controller/core/fake_agent_session.h"

namespace postwarden::controller::core {
namespace {

constexpr char kVersion[] = "0123456789ab";

class ReplicaSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::SqliteStore::open(dir_.file("controller.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(*opened);
    ASSERT_TRUE(
        store_->putBaseline({.name = "b", .version = kVersion, .content = "name: b\n"}).ok());
    ASSERT_TRUE(store_->registerSimulatedAgent("mx1", 1).ok());
    a_ = std::make_unique<Fleet>(*store_);
    b_ = std::make_unique<Fleet>(*store_);
    ASSERT_TRUE(a_->start().ok());
    ASSERT_TRUE(b_->start().ok());
    v1::Hello hello;
    hello.mutable_labels()->insert({"role", "mx"});
    ASSERT_TRUE(b_->attach("mx1", &mx1_, hello).ok());  // connected to replica b only
  }

  void TearDown() override {
    if (a_) a_->stop();
    if (b_) b_->stop();
  }

  os::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Fleet> a_, b_;
  FakeAgentSession mx1_;
};

TEST_F(ReplicaSyncTest, AnAssignmentOnOneReplicaReachesAnAgentOfTheOtherOnce) {
  ASSERT_TRUE(
      a_->assign({.baseline_name = "b", .baseline_version = kVersion, .selector = {{"role", "mx"}}})
          .ok());
  EXPECT_TRUE(mx1_.assignments().empty()) << "b has not heard of it yet";
  onReplicaChange(store::kChangeTargeting, *b_, nullptr, nullptr);
  ASSERT_EQ(mx1_.assignments().size(), 1u);
  EXPECT_EQ(mx1_.assignments()[0].baseline_digest(), kVersion);
  onReplicaChange("", *b_, nullptr, nullptr);  // heard again (a reconnection): nothing new
  EXPECT_EQ(mx1_.assignments().size(), 1u);
}

TEST_F(ReplicaSyncTest, ARevocationOnOneReplicaClosesTheStreamOnTheOther) {
  ASSERT_TRUE(a_->revoke("mx1").ok());
  onReplicaChange(store::kChangeTargeting, *b_, nullptr, nullptr);
  ASSERT_TRUE(mx1_.closedWith().has_value());
  EXPECT_EQ(mx1_.closedWith()->code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(b_->isRevoked("mx1"));
}

TEST_F(ReplicaSyncTest, APinStoredByTheLeaderReachesAnAgentOfTheOther) {
  store::SqliteStore& rollouts = *store_;
  ASSERT_TRUE(rollouts.createRollout({.id = "r-1", .record = "x"}, {}).ok());
  const store::PinRow pin{.agent_id = "mx1",
                          .baseline_name = "b",
                          .baseline_version = kVersion,
                          .rollout_id = "r-1",
                          .job = ""};
  ASSERT_TRUE(rollouts.saveRollout({.id = "r-1", .record = "y"}, {{pin}}, {}).ok());
  onReplicaChange(store::kChangeRollout, *b_, &rollouts, nullptr);
  ASSERT_EQ(mx1_.assignments().size(), 1u);
  EXPECT_EQ(mx1_.assignments()[0].baseline_digest(), kVersion);
}

TEST_F(ReplicaSyncTest, ACommandForAnAgentElsewhereIsRelayedAndDeliveredThere) {
  std::string relayed;
  Fleet c(*store_, {.relay_command = [&](const std::string& id, const v1::Command& command) {
    relayed = commandAnnouncement(id, command);
    return OkStatus();
  }});
  ASSERT_TRUE(c.start().ok());
  v1::Command command;
  command.set_kind(v1::Command::KIND_VERIFY_NOW);
  ASSERT_TRUE(c.command("mx1", command).ok());
  EXPECT_EQ(a_->command("mx1", command).code(), StatusCode::kUnavailable) << "no relay: refused";
  onReplicaChange(relayed, *b_, nullptr, nullptr);
  ASSERT_EQ(mx1_.commands().size(), 1u);
  EXPECT_EQ(mx1_.commands()[0].kind(), v1::Command::KIND_VERIFY_NOW);
  std::string id;
  v1::Command parsed;
  EXPECT_FALSE(parseCommandAnnouncement("command mx1 !!!", &id, &parsed));
  EXPECT_FALSE(parseCommandAnnouncement(store::kChangeTargeting, &id, &parsed));
  c.stop();
}

}  // namespace
}  // namespace postwarden::controller::core
