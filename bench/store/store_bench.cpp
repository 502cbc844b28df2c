// store_bench: how many durable reports per second Store::recordReports commits, SQLite against
// PostgreSQL, on this machine. One writer thread, as the controller's report writer: batches of
// --batch drift reports (one drift row and one history row each, like an agent's drift event)
// over --agents agents, --batches times after --warmup batches. Prints reports/s and the
// per-batch commit latency (p50, p99).
//
//   store_bench --backend sqlite   [--agents N] [--batch N] [--batches N]
//   store_bench --backend postgres [--conninfo CONNINFO] [...]
//
// Without --conninfo, PostgreSQL runs as a throwaway server in a temp directory (fsync on, so
// a commit waits for the disk as SQLite's synchronous=FULL does), removed at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/fakes/postgres_server.h"

namespace {

using namespace postwarden;
using namespace postwarden::controller::store;

struct Options {
  std::string backend;
  std::string conninfo;
  int agents = 1000;
  int batch = 64;
  int batches = 200;
  int warmup = 20;
};

int usage() {
  std::cerr << "usage: store_bench --backend sqlite|postgres [--conninfo CONNINFO] [--agents N] "
               "[--batch N] [--batches N] [--warmup N]\n";
  return 2;
}

Status enrollAll(Store& store, int agents) {
  PW_RETURN_IF_ERROR(store.createToken(TokenRecord{.id = "bench",
                                                   .secret_sha256 = std::string(64, 'a'),
                                                   .created_at = 0,
                                                   .expires_at = INT64_MAX,
                                                   .uses_left = agents + 1}));
  for (int i = 0; i < agents; ++i) {
    EnrollmentRequest request{.token_id = "bench",
                              .secret_sha256 = std::string(64, 'a'),
                              .agent_id = "agent-" + std::to_string(i),
                              .hostname = "mx" + std::to_string(i),
                              .now = 1};
    Result<AgentRecord> enrolled =
        store.enrollAgent(request, [](const EnrollmentRequest&, const std::optional<TokenRecord>&,
                                      const std::optional<AgentRecord>&) { return OkStatus(); });
    PW_RETURN_IF_ERROR(enrolled.status());
  }
  return OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    std::string v = argv[++i];
    if (a == "--backend") {
      o.backend = v;
    } else if (a == "--conninfo") {
      o.conninfo = v;
    } else if (a == "--agents") {
      o.agents = std::atoi(v.c_str());
    } else if (a == "--batch") {
      o.batch = std::atoi(v.c_str());
    } else if (a == "--batches") {
      o.batches = std::atoi(v.c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atoi(v.c_str());
    } else {
      return usage();
    }
  }
  if ((o.backend != "sqlite" && o.backend != "postgres") || o.agents < 1 || o.batch < 1 ||
      o.batches < 1) {
    return usage();
  }

  std::unique_ptr<fakes::PostgresServer> server;
  std::string sqlite_dir;
  std::unique_ptr<Store> store;
  if (o.backend == "postgres") {
    if (o.conninfo.empty()) {
      auto started = fakes::PostgresServer::start({.fsync = true});
      if (!started.ok()) {
        std::cerr << "store_bench: " << started.status().toString() << "\n";
        return 1;
      }
      server = std::move(started).value();
      o.conninfo = server->conninfo();
    }
    auto opened = PostgresStore::open(o.conninfo);
    if (!opened.ok()) {
      std::cerr << "store_bench: " << opened.status().toString() << "\n";
      return 1;
    }
    store = std::move(opened).value();
  } else {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) return 1;
    sqlite_dir = buffer.data();
    auto opened = SqliteStore::open(sqlite_dir + "/controller.db");
    if (!opened.ok()) {
      std::cerr << "store_bench: " << opened.status().toString() << "\n";
      return 1;
    }
    store = std::move(opened).value();
  }
  int rc = 0;
  if (Status enrolled = enrollAll(*store, o.agents); !enrolled.ok()) {
    std::cerr << "store_bench: enrolling: " << enrolled.toString() << "\n";
    rc = 1;
  }

  std::vector<uint64_t> seq(static_cast<size_t>(o.agents), 0);
  int next_agent = 0;
  std::vector<double> latencies_ms;
  auto run_batch = [&]() -> Status {
    std::vector<ReportWrite> writes;
    writes.reserve(static_cast<size_t>(o.batch));
    for (int i = 0; i < o.batch; ++i) {
      int agent = next_agent;
      next_agent = (next_agent + 1) % o.agents;
      const std::string id = "agent-" + std::to_string(agent);
      ReportWrite w{.agent_id = id,
                    .epoch = 1,
                    .seq = ++seq[static_cast<size_t>(agent)],
                    .kind = "drift",
                    .body = std::string(200, 'x'),
                    .received_at = 1000 + static_cast<int64_t>(seq[static_cast<size_t>(agent)])};
      w.drift.push_back(DriftRow{.file = "main.cf",
                                 .parameter = "smtpd_tls_security_level",
                                 .expected = "may",
                                 .actual = "none",
                                 .detected_at = w.received_at});
      w.history = HistoryRow{.kind = "drift", .summary = "smtpd_tls_security_level drifted"};
      writes.push_back(std::move(w));
    }
    auto start = std::chrono::steady_clock::now();
    Result<std::vector<bool>> stored = store->recordReports(writes);
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    if (!stored.ok()) return stored.status();
    for (bool s : *stored) {
      if (!s) return InternalError("a new report was taken for a redelivery");
    }
    return OkStatus();
  };
  for (int i = 0; rc == 0 && i < o.warmup; ++i) {
    if (Status s = run_batch(); !s.ok()) {
      std::cerr << "store_bench: " << s.toString() << "\n";
      rc = 1;
    }
  }
  latencies_ms.clear();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; rc == 0 && i < o.batches; ++i) {
    if (Status s = run_batch(); !s.ok()) {
      std::cerr << "store_bench: " << s.toString() << "\n";
      rc = 1;
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (rc == 0) {
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double p) {
      size_t k = static_cast<size_t>(p * static_cast<double>(latencies_ms.size() - 1));
      return latencies_ms[k];
    };
    std::printf(
        "%s: %d agents, batches of %d, %d batches: %.0f reports/s; batch commit p50 %.2f ms, "
        "p99 %.2f ms\n",
        o.backend.c_str(), o.agents, o.batch, o.batches,
        static_cast<double>(o.batch) * o.batches / seconds, pct(0.5), pct(0.99));
  }
  store.reset();
  server.reset();
  if (!sqlite_dir.empty()) std::filesystem::remove_all(sqlite_dir);
  return rc;
}
