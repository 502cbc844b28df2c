#include "tests/unit/controller/store/store_test_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <mutex>
#include <utility>

#include "common/check.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/fakes/postgres_server.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::controller::store {

TokenRecord makeToken(const std::string& id, int uses) {
  return TokenRecord{.id = id,
                     .secret_sha256 = kSecret,
                     .labels = {{"env", "prod"}, {"site", "fra"}},
                     .created_at = kNow - 1000,
                     .expires_at = kNow + 3'600'000,
                     .uses_left = uses};
}

EnrollmentRequest enrollment(const std::string& token_id, const std::string& agent_id, UnixMs now) {
  return EnrollmentRequest{.token_id = token_id,
                           .secret_sha256 = kSecret,
                           .agent_id = agent_id,
                           .hostname = agent_id + ".example.net",
                           .now = now};
}

ReportWrite report(const std::string& agent_id, uint64_t seq, UnixMs at) {
  return ReportWrite{.agent_id = agent_id,
                     .seq = seq,
                     .kind = "state",
                     .body = std::string("body\0", 5) + std::to_string(seq),
                     .received_at = at};
}

DriftRow drift(const std::string& parameter, const std::string& actual) {
  return DriftRow{.file = "main.cf",
                  .parameter = parameter,
                  .expected = "yes",
                  .actual = actual,
                  .detected_at = kNow};
}

BaselineRecord baseline(const std::string& name, const std::string& version, UnixMs at) {
  return BaselineRecord{.name = name,
                        .version = version,
                        .label = "v-" + version,
                        .content = "content of " + version,
                        .pushed_at = at};
}

namespace {

// ---- SQLite --------------------------------------------------------------------------------

class SqliteBackend final : public StoreBackend {
 public:
  Result<std::unique_ptr<Store>> open() override {
    PW_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::open(path_));
    return std::unique_ptr<Store>(std::move(store));
  }

  int64_t count(const std::string& sql) override {
    sqlite3* db = nullptr;
    PW_CHECK(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
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

 private:
  os::TempDir dir_;
  std::string path_ = dir_.file("controller.db");
};

// ---- PostgreSQL ----------------------------------------------------------------------------

// The one server of this test binary: started on first use, stopped when the tests end.
class SharedPostgres : public ::testing::Environment {
 public:
  static SharedPostgres& instance() {
    static SharedPostgres* env = [] {
      auto* e = new SharedPostgres;
      ::testing::AddGlobalTestEnvironment(e);  // gtest owns it and calls TearDown
      return e;
    }();
    return *env;
  }

  // The running server, or nullptr with `why` set.
  fakes::PostgresServer* server(std::string* why) {
    std::lock_guard lock(mu_);
    if (!tried_) {
      tried_ = true;
      reason_ = fakes::PostgresServer::unavailableReason();
      if (reason_.empty()) {
        auto started = fakes::PostgresServer::start();
        if (started.ok()) {
          server_ = std::move(started).value();
        } else {
          reason_ = "could not start PostgreSQL: " + started.status().toString();
        }
      }
    }
    if (server_ == nullptr && why != nullptr) *why = reason_;
    return server_.get();
  }

  int nextSchema() {
    std::lock_guard lock(mu_);
    return ++schemas_;
  }

  void TearDown() override {
    std::lock_guard lock(mu_);
    server_.reset();  // stops the server, removes its directory
  }

 private:
  std::mutex mu_;
  bool tried_ = false;
  std::string reason_;
  std::unique_ptr<fakes::PostgresServer> server_;
  int schemas_ = 0;
};

// Registered before main runs, so that TearDown is called even when no test used it.
[[maybe_unused]] const SharedPostgres& kRegistered = SharedPostgres::instance();

class PostgresBackend final : public StoreBackend {
 public:
  explicit PostgresBackend(std::string conninfo) : conninfo_(std::move(conninfo)) {}

  Result<std::unique_ptr<Store>> open() override {
    PW_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::open(conninfo_));
    return std::unique_ptr<Store>(std::move(store));
  }

  int64_t count(const std::string& sql) override { return postgresQuery(conninfo_, sql); }

 private:
  std::string conninfo_;
};

}  // namespace

std::unique_ptr<StoreBackend> makeSqliteBackend() { return std::make_unique<SqliteBackend>(); }

std::string freshPostgresConninfo(std::string* why) {
  fakes::PostgresServer* server = SharedPostgres::instance().server(why);
  if (server == nullptr) return "";
  // The schema name is a counter, not a value from outside: DDL takes no parameters.
  const std::string schema = "t" + std::to_string(SharedPostgres::instance().nextSchema());
  postgresQuery(server->conninfo(), "CREATE SCHEMA " + schema);
  return server->conninfo() + " options=-csearch_path=" + schema;
}

std::unique_ptr<StoreBackend> makePostgresBackend(std::string* why) {
  std::string conninfo = freshPostgresConninfo(why);
  if (conninfo.empty()) return nullptr;
  return std::make_unique<PostgresBackend>(conninfo);
}

int64_t postgresQuery(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  PW_CHECK(conn != nullptr);
  if (PQstatus(conn) != CONNECTION_OK) {
    ADD_FAILURE() << "connecting to PostgreSQL: " << PQerrorMessage(conn);
    PQfinish(conn);
    return -1;
  }
  PGresult* result = PQexec(conn, sql.c_str());
  int64_t value = 0;
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_TUPLES_OK) {
    if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0)) {
      value = std::stoll(PQgetvalue(result, 0, 0));
    }
  } else if (status != PGRES_COMMAND_OK) {
    ADD_FAILURE() << "'" << sql << "': " << PQresultErrorMessage(result);
    value = -1;
  }
  PQclear(result);
  PQfinish(conn);
  return value;
}

Backend sqliteBackend() {
  return Backend{"sqlite", [](std::string*) { return makeSqliteBackend(); }};
}

Backend postgresBackend() {
  return Backend{"postgres", [](std::string* why) { return makePostgresBackend(why); }};
}

}  // namespace postwarden::controller::store
