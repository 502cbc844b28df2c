// What the store tests share: record builders, and a StoreBackend per implementation, so that
// one suite (store_contract_test.cpp) runs against SQLite and PostgreSQL alike.
// SQLite: a file in a fresh temp directory per test. PostgreSQL: one server per test binary
// (tests/fakes/postgres_server.h, started on first use and stopped by a gtest Environment at
// the end, also after failures), and a fresh schema per test on it (search_path), so the tests
// never see each other's rows.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::store {

inline constexpr UnixMs kNow = 1'700'000'000'000;
inline const std::string kSecret = std::string(64, 'a');

TokenRecord makeToken(const std::string& id, int uses = 10);
EnrollmentRequest enrollment(const std::string& token_id, const std::string& agent_id,
                             UnixMs now = kNow);
ReportWrite report(const std::string& agent_id, uint64_t seq, UnixMs at = kNow);
DriftRow drift(const std::string& parameter, const std::string& actual);
BaselineRecord baseline(const std::string& name, const std::string& version, UnixMs at);

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // Opens the backend's database (again: a reopen sees what was committed before).
  virtual Result<std::unique_ptr<Store>> open() = 0;
  // Runs `sql` on a connection of its own; the first column of the first row as an integer
  // (0 without a row or for NULL). The SQL must be valid on both backends.
  virtual int64_t count(const std::string& sql) = 0;
};

// A fresh SQLite file in a temp directory removed with the backend.
std::unique_ptr<StoreBackend> makeSqliteBackend();

// A fresh schema on the shared PostgreSQL server; nullptr with `why` set when no server can be
// started here (the caller skips).
std::unique_ptr<StoreBackend> makePostgresBackend(std::string* why);

// A backend as a test parameter: INSTANTIATE_TEST_SUITE_P(Sqlite, Suite,
// ::testing::Values(sqliteBackend()), backendName), and likewise Postgres (one ctest entry
// runs every Postgres/ suite in one process: tests/unit/controller/store/CMakeLists.txt).
struct Backend {
  std::string name;
  std::function<std::unique_ptr<StoreBackend>(std::string* why)> make;
};
inline void PrintTo(const Backend& backend, std::ostream* out) { *out << backend.name; }
Backend sqliteBackend();
Backend postgresBackend();
inline std::string backendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param.name;
}

// The shared server's conninfo for a fresh, empty schema of its own (for tests of
// PostgresStore itself); empty with `why` set when there is no server.
std::string freshPostgresConninfo(std::string* why);

// Runs `sql` (constant, no parameters) on the PostgreSQL database at `conninfo`; the first
// column of the first row as an integer (0 without a row). Aborts on failure.
int64_t postgresQuery(const std::string& conninfo, const std::string& sql);

}  // namespace postwarden::controller::store
