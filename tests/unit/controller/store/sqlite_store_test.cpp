// What only SqliteStore has: its file (permissions, WAL, refusing what is not its database),
// its schema upgrades and its crash durability. The behaviour both backends share is
// store_contract_test.cpp.
#include "controller/store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/check.h"
#include "controller/core/enrollment_policy.h"
#include "controller/core/targeting.h"
#include "tests/unit/common/os/temp_dir.h"
#include "tests/unit/controller/store/store_test_support.h"

namespace postwarden::controller::store {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using os::TempDir;  // tests/unit/common/os/temp_dir.h

std::string readRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void writeRaw(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Runs one SQL statement on its own connection and returns the first column of the first row
// as an integer (0 when there is no row).
int64_t rawQuery(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  PW_CHECK(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  PW_CHECK(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  int64_t value = 0;
  int rc = sqlite3_step(stmt);
  PW_CHECK(rc == SQLITE_ROW || rc == SQLITE_DONE);
  if (rc == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  PW_CHECK(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                           nullptr) == SQLITE_OK);
  PW_CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    store_.reset();
    auto opened = SqliteStore::open(path_);
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

  int64_t count(const std::string& sql) { return rawQuery(path_, sql); }

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

  TempDir dir_;
  std::string path_ = dir_.file("controller.db");
  std::unique_ptr<SqliteStore> store_;
};

// ---- opening -----------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CreatesPrivateFileWithWalAndSchemaVersion) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(count("PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(count("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
                  "('tokens','agents','reports','drift','history','baselines','assignments')"),
            7);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, RefusesNewerSchema) {
  store_.reset();
  rawExec(path_, "PRAGMA user_version = " + std::to_string(SqliteStore::kSchemaVersion + 1));
  auto opened = SqliteStore::open(path_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(),
              HasSubstr("database schema " + std::to_string(SqliteStore::kSchemaVersion + 1) +
                        " is newer than this controller"));
}

TEST_F(SqliteStoreTest, RefusesGarbageFileAndLeavesItUnchanged) {
  std::string path = dir_.file("garbage.db");
  std::string garbage = "this is not a database\n";
  for (int i = 0; i < 200; ++i) garbage += static_cast<char>((i * 37) & 0xff);
  writeRaw(path, garbage);
  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr("not a SQLite database"));
  EXPECT_EQ(readRaw(path), garbage);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST_F(SqliteStoreTest, RefusesCorruptFileWithSqliteMagicAndLeavesItUnchanged) {
  std::string path = dir_.file("corrupt.db");
  std::string bytes("SQLite format 3\0", 16);
  for (int i = 0; i < 4080; ++i) bytes += static_cast<char>((i * 131 + 7) & 0xff);
  writeRaw(path, bytes);
  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kDataLoss) << opened.status().toString();
  EXPECT_EQ(readRaw(path), bytes);
}

TEST_F(SqliteStoreTest, RefusesSomeoneElsesDatabase) {
  std::string path = dir_.file("other.db");
  rawExec(path, "CREATE TABLE mail (id INTEGER PRIMARY KEY)");
  auto opened = SqliteStore::open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(rawQuery(path, "SELECT count(*) FROM sqlite_schema"), 1);
}

TEST_F(SqliteStoreTest, MissingDirectoryIsNotFound) {
  auto opened = SqliteStore::open(dir_.file("no/such/dir.db"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, CommittedReportSurvivesAProcessThatNeverCloses) {
  enroll("a1");
  ASSERT_TRUE(store_->recordReports(std::vector<ReportWrite>{report("a1", 1)}).ok());
  store_.reset();  // the child must not share this process's connection

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = SqliteStore::open(path_);
    if (!child.ok()) ::_exit(2);
    auto stored = (*child)->recordReports(std::vector<ReportWrite>{report("a1", 2, kNow + 9)});
    ::_exit(stored.ok() && stored->size() == 1 && (*stored)[0] ? 0 : 3);  // no close, no flush
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  reopen();
  auto agent = store_->getAgent("a1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 2u);
  EXPECT_EQ(agent->last_seen, kNow + 9);
}

TEST_F(SqliteStoreTest, UpgradesASchemaOneDatabaseKeepingItsReports) {
  store_.reset();
  std::string path = dir_.file("v1.db");
  {
    auto v2 = SqliteStore::open(path);
    ASSERT_TRUE(v2.ok());
  }
  // Rebuild the version 1 layout by hand: no seq_epoch, reports keyed by (agent, seq).
  rawExec(path,
          "ALTER TABLE assignments DROP COLUMN repair_windows; "
          "DROP TABLE audit; DROP TABLE rollout_pins; DROP TABLE rollouts; "
          "ALTER TABLE agents DROP COLUMN last_job_state; "
          "DROP TABLE reports; ALTER TABLE agents DROP COLUMN seq_epoch; "
          "ALTER TABLE agents DROP COLUMN simulated; "
          "CREATE TABLE reports (agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE "
          "CASCADE, seq INTEGER NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL, received_at "
          "INTEGER NOT NULL, PRIMARY KEY (agent_id, seq)) STRICT; "
          "INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, labels, "
          "enrolled_at, last_seen, last_seq) VALUES ('a1', 'a1', 't', '{}', '{}', '{}', 1, 1, 9);"
          "INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, labels, "
          "enrolled_at, last_seen) VALUES ('sim-1', 'sim-1', '', '{}', '{}', '{}', 1, 1);"
          "INSERT INTO reports VALUES ('a1', 9, 'state', x'00', 1); PRAGMA user_version = 1;");
  auto opened = SqliteStore::open(path);
  ASSERT_TRUE(opened.ok()) << opened.status().toString();
  EXPECT_EQ(rawQuery(path, "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(rawQuery(path, "SELECT count(*) FROM reports WHERE epoch = 0 AND seq = 9"), 1);
  AgentRecord agent = (*opened)->getAgent("a1").value();
  EXPECT_EQ(agent.seq_epoch, 0u);
  EXPECT_EQ(agent.last_seq, 9u);
  // The simulator's agents (no token) stay the simulator's; a real one does not become one.
  EXPECT_TRUE((*opened)->registerSimulatedAgent("sim-1", 2).ok());
  EXPECT_EQ((*opened)->registerSimulatedAgent("a1", 2).code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace postwarden::controller::store
