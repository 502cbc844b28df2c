// What only PostgresStore has: its versioned migrations, the statement timeout, retrying a
// serialization failure, and refusing what PostgreSQL's text cannot hold. Against the shared
// test server (store_test_support.h), each test in a fresh schema; skipped, saying why, where
// no PostgreSQL server can be started.
#include "controller/store/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "controller/core/enrollment_policy.h"
#include "controller/core/targeting.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::HasSubstr;

// A libpq connection of the test's own, for what the store must not see coming.
class RawConnection {
 public:
  explicit RawConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~RawConnection() { PQfinish(conn_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Runs constant SQL; true on success.
  bool exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    bool good = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    if (!good) ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result);
    PQclear(result);
    return good;
  }

 private:
  PGconn* conn_;
};

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    conninfo_ = freshPostgresConninfo(&why);
    if (conninfo_.empty()) GTEST_SKIP() << "skipped: " << why;
  }

  int64_t query(const std::string& sql) { return postgresQuery(conninfo_, sql); }

  // Blocks until a backend of this database waits for a lock (at most 10 s).
  bool waitForALockWaiter() {
    for (int i = 0; i < 500; ++i) {
      if (query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'") > 0) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  std::string conninfo_;
};

TEST_F(PostgresStoreTest, RecordsItsSchemaVersionAndMigratesOnlyOnce) {
  EXPECT_EQ(PostgresStore::storedSchemaVersion(conninfo_).value(), 0);
  // Several controllers starting at once: one migrates, the others find it done.
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto store = PostgresStore::open(conninfo_);
      if (store.ok()) {
        ++opened;
      } else {
        ADD_FAILURE() << store.status().toString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(query("SELECT count(*) FROM postwarden_schema_migrations"),
            PostgresStore::kSchemaVersion);
  EXPECT_EQ(query("SELECT max(version) FROM postwarden_schema_migrations"),
            PostgresStore::kSchemaVersion);
  EXPECT_EQ(PostgresStore::storedSchemaVersion(conninfo_).value(), PostgresStore::kSchemaVersion);
  EXPECT_EQ(query("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
                  "tablename IN ('tokens','agents','reports','drift','history','baselines',"
                  "'assignments')"),
            7);
}

TEST_F(PostgresStoreTest, RefusesANewerSchema) {
  ASSERT_TRUE(PostgresStore::open(conninfo_).ok());
  query("INSERT INTO postwarden_schema_migrations (version) VALUES (99)");
  auto opened = PostgresStore::open(conninfo_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("database schema 99 is newer"));
}

TEST_F(PostgresStoreTest, RefusesSomeoneElsesTablesAndLeavesThemAlone) {
  query("CREATE TABLE agents (name text)");
  query("INSERT INTO agents VALUES ('theirs')");
  auto opened = PostgresStore::open(conninfo_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(query("SELECT count(*) FROM agents WHERE name = 'theirs'"), 1);
  EXPECT_EQ(query("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"), 1);
}

TEST_F(PostgresStoreTest, AServerThatCannotBeReachedIsUnavailable) {
  auto opened = PostgresStore::open("host=/nonexistent/postwarden port=5432 dbname=x");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kUnavailable) << opened.status().toString();
}

TEST_F(PostgresStoreTest, RefusesANulInTextAndWritesNothing) {
  auto store = PostgresStore::open(conninfo_).value();
  TokenRecord token = makeToken(std::string("t\0x", 3));
  EXPECT_EQ(store->createToken(token).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(query("SELECT count(*) FROM tokens"), 0);
  ASSERT_TRUE(store->createToken(makeToken("t")).ok());
  ASSERT_TRUE(store->enrollAgent(enrollment("t", "a1"), core::checkEnrollment).ok());
  Status hello = store->recordHello("a1", std::string("h\0st", 4), "1", "3.7", {}, kNow + 1,
                                    core::effectiveLabels);
  EXPECT_EQ(hello.code(), StatusCode::kInvalidArgument) << hello.toString();
  EXPECT_EQ(store->getAgent("a1")->hostname, "a1.example.net");
  // In a label (JSON-escaped) and in a report body (bytea) a NUL is kept.
  ASSERT_TRUE(store
                  ->recordHello("a1", "a1", "1", "3.7", {{"k", std::string("v\0w", 3)}}, kNow + 2,
                                core::effectiveLabels)
                  .ok());
  EXPECT_EQ(store->getAgent("a1")->labels.at("k"), std::string("v\0w", 3));
}

TEST_F(PostgresStoreTest, AStatementBlockedPastTheTimeoutFailsWithDeadlineExceeded) {
  auto store = PostgresStore::open(conninfo_, {.statement_timeout_ms = 300}).value();
  ASSERT_TRUE(store->createToken(makeToken("t")).ok());
  RawConnection other(conninfo_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(other.exec("BEGIN"));
  ASSERT_TRUE(other.exec("LOCK TABLE tokens IN ACCESS EXCLUSIVE MODE"));
  Result<std::vector<TokenRecord>> listed = store->listTokens();
  EXPECT_EQ(listed.status().code(), StatusCode::kDeadlineExceeded) << listed.status().toString();
  ASSERT_TRUE(other.exec("ROLLBACK"));
  listed = store->listTokens();
  ASSERT_TRUE(listed.ok()) << listed.status().toString();
  EXPECT_EQ(listed->size(), 1u);
}

// A concurrent transaction commits a change to the token row the enrollment is about to
// update: under SERIALIZABLE that is a serialization failure (40001). The store retries the
// whole transaction (the check runs again on what it reads then) unless told not to.
TEST_F(PostgresStoreTest, ASerializationFailureIsRetriedAsAWholeTransaction) {
  for (int attempts : {1, 10}) {
    SCOPED_TRACE("max_attempts " + std::to_string(attempts));
    auto store = PostgresStore::open(conninfo_, {.max_attempts = attempts}).value();
    const std::string token_id = "t" + std::to_string(attempts);
    ASSERT_TRUE(store->createToken(makeToken(token_id, 5)).ok());
    RawConnection other(conninfo_);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other.exec("BEGIN"));
    ASSERT_TRUE(other.exec("UPDATE tokens SET uses_left = uses_left - 2 WHERE id = '" + token_id +
                           "'"));  // a constant of this test
    std::atomic<int> checks{0};
    Result<AgentRecord> enrolled = InternalError("not run");
    std::thread enrolling([&] {
      enrolled = store->enrollAgent(
          enrollment(token_id, "a" + token_id),
          [&](const EnrollmentRequest& request, const std::optional<TokenRecord>& token,
              const std::optional<AgentRecord>& existing) {
            ++checks;
            return core::checkEnrollment(request, token, existing);
          });
    });
    ASSERT_TRUE(waitForALockWaiter());  // the enrollment waits for the token row
    ASSERT_TRUE(other.exec("COMMIT"));
    enrolling.join();
    if (attempts == 1) {
      EXPECT_EQ(enrolled.status().code(), StatusCode::kAborted) << enrolled.status().toString();
      EXPECT_EQ(checks.load(), 1);
      EXPECT_EQ(store->getAgent("a" + token_id).status().code(), StatusCode::kNotFound);
      EXPECT_EQ(query("SELECT uses_left FROM tokens WHERE id = 't1'"), 3);
    } else {
      ASSERT_TRUE(enrolled.ok()) << enrolled.status().toString();
      EXPECT_EQ(checks.load(), 2);  // ran again on what the retry read
      EXPECT_EQ(query("SELECT uses_left FROM tokens WHERE id = 't10'"), 2);  // 5 - 2 - 1
    }
  }
}

// The server ends every connection of the store (a restart, a failover, an administrator):
// the call that meets a dead connection fails with Unavailable, and the next ones connect anew.
TEST_F(PostgresStoreTest, CutConnectionsAreUnavailableOnceAndThenReplaced) {
  auto store = PostgresStore::open(conninfo_, {.pool_size = 2}).value();
  ASSERT_TRUE(store->createToken(makeToken("t")).ok());
  ASSERT_TRUE(store->enrollAgent(enrollment("t", "a1"), core::checkEnrollment).ok());
  EXPECT_GE(query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                  "AND application_name = 'postwarden-controller'"),
            1);
  EXPECT_GE(query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                  "datname = current_database() AND application_name = 'postwarden-controller'"),
            1);
  int unavailable = 0;
  for (int i = 0; i < 2; ++i) {  // as many as the pool may hold
    Result<AgentRecord> agent = store->getAgent("a1");
    if (!agent.ok()) {
      EXPECT_EQ(agent.status().code(), StatusCode::kUnavailable) << agent.status().toString();
      ++unavailable;
    }
  }
  EXPECT_GE(unavailable, 1);
  ASSERT_TRUE(store->getAgent("a1").ok());
  auto stored = store->recordReports(std::vector<ReportWrite>{report("a1", 1)});
  ASSERT_TRUE(stored.ok()) << stored.status().toString();
  EXPECT_EQ(query("SELECT count(*) FROM reports"), 1);
}

}  // namespace
}  // namespace postwarden::controller::store
