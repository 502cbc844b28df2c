// PostgresStore as Coordination (coordination.h) on the shared test server: the advisory-lock
// lease (one holder; freed when the holder's session dies; a holder whose session was killed
// knows it), and the change feed (a committed assignment is heard by a listener, a rolled-back
// change is not, a rollout job's stored report is). Skipped, saying why, where no PostgreSQL server
// can be started.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/coordination.h"
#include "controller/store/postgres_store.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

constexpr int64_t kKey = 4242;

class PostgresCoordinationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    conninfo_ = freshPostgresConninfo(&why);
    if (conninfo_.empty()) GTEST_SKIP() << "skipped: " << why;
    auto opened = PostgresStore::open(conninfo_);
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(opened).value();
  }

  // Waits (at most 5 s) until the listener heard `payload`.
  bool heard(const std::string& payload) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const std::string& p : payloads_) {
        if (p == payload) return true;
      }
      return false;
    });
  }

  std::function<void(const std::string&)> recorder() {
    return [this](const std::string& payload) {
      std::lock_guard lock(mu_);
      payloads_.push_back(payload);
      cv_.notify_all();
    };
  }

  std::string conninfo_;
  std::unique_ptr<PostgresStore> store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> payloads_;
};

TEST_F(PostgresCoordinationTest, OneHolderAtATimeAndReleaseHandsItOver) {
  std::unique_ptr<Lease> a = store_->lease(kKey);
  std::unique_ptr<Lease> b = store_->lease(kKey);
  ASSERT_TRUE(a->tryAcquire().value());
  EXPECT_FALSE(b->tryAcquire().value());
  EXPECT_TRUE(a->stillHeld().value());
  EXPECT_FALSE(b->stillHeld().value());
  EXPECT_TRUE(a->tryAcquire().value());  // re-entrant for its holder
  a->release();
  bool taken = false;  // the server may take a moment to end a's session
  for (int i = 0; i < 100 && !taken; ++i) {
    taken = b->tryAcquire().value();
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(taken);
  EXPECT_FALSE(a->tryAcquire().value());
  // Another key is another lease.
  EXPECT_TRUE(store_->lease(kKey + 1)->tryAcquire().value());
}

TEST_F(PostgresCoordinationTest, AHolderWhoseSessionDiesLosesItAndTheOtherTakesIt) {
  std::unique_ptr<Lease> a = store_->lease(kKey);
  std::unique_ptr<Lease> b = store_->lease(kKey);
  ASSERT_TRUE(a->tryAcquire().value());
  // The server ends a's session, as when its replica is killed or cut off.
  EXPECT_EQ(postgresQuery(conninfo_,
                          "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
                          "locktype = 'advisory' AND objid = 4242 AND granted"),
            1);
  Result<bool> held = a->stillHeld();
  EXPECT_FALSE(held.ok() && *held);
  EXPECT_TRUE(b->tryAcquire().value());
}

TEST_F(PostgresCoordinationTest, ListenersHearCommittedChangesOnly) {
  std::unique_ptr<ChangeListener> listener = store_->listen(recorder());
  ASSERT_TRUE(heard(""));  // connected
  ASSERT_TRUE(store_->putBaseline({.name = "b", .version = "v1", .content = "c"}).ok());
  ASSERT_TRUE(heard(kChangeTargeting));
  {
    std::lock_guard lock(mu_);
    payloads_.clear();
  }
  // Refused (no such baseline): rolled back, nothing announced.
  EXPECT_FALSE(store_->addAssignment({.baseline_name = "b", .baseline_version = "v9"}).ok());
  ASSERT_TRUE(store_->announce("command a1 AAAA").ok());
  ASSERT_TRUE(heard("command a1 AAAA"));
  std::lock_guard lock(mu_);
  EXPECT_EQ(payloads_, std::vector<std::string>{"command a1 AAAA"});
}

TEST_F(PostgresCoordinationTest, AStoredReportOfARolloutJobIsAnnouncedOthersAreNot) {
  ASSERT_TRUE(store_->registerSimulatedAgent("a1", 1).ok());
  std::unique_ptr<ChangeListener> listener = store_->listen(recorder());
  ASSERT_TRUE(heard(""));  // connected
  auto state = [](uint64_t seq, const std::string& job_state) {
    ReportWrite write{.agent_id = "a1", .seq = seq, .kind = "state", .received_at = 2};
    write.state = ReportWrite::State{.serialized = "s", .job_state = job_state};
    return write;
  };
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{state(1, "")}).ok());
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{state(2, "job")}).ok());
  ASSERT_TRUE(heard(kChangeJobReport));
  // A redelivery stores nothing and announces nothing.
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{state(2, "job")}).ok());
  ASSERT_TRUE(store_->announce("mark").ok());
  ASSERT_TRUE(heard("mark"));
  std::lock_guard lock(mu_);
  EXPECT_EQ(payloads_, (std::vector<std::string>{"", kChangeJobReport, "mark"}));
}

}  // namespace
}  // namespace postwarden::controller::store
