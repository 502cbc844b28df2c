// Over 400 lines: the composition root of every command; the usage texts are in
// usage.cpp, systemd in systemd_hooks.cpp, export/import in transfer.cpp.
// postwarden-controller: the composition root of the central server.
//   init --data-dir DIR [--name NAME ...]     create the CA, server certificate and database
//   serve --data-dir DIR [--listen ADDR] ...  run the gRPC servers until SIGINT/SIGTERM
//   migrate --store SPEC | --data-dir DIR     bring a store's schema up to date
//   operator add NAME --role ROLE --data-dir DIR --out DIR   an operator certificate
//   simulator-cert --data-dir DIR --out DIR   the fleet simulator's certificate (bench only)
#include <absl/synchronization/mutex.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/logging.h"
#include "common/os/env.h"
#include "common/os/posix_file_system.h"
#include "common/version.h"
#include "controller/core/agent_id.h"
#include "controller/credentials/authority.h"
#include "controller/main/systemd_hooks.h"
#include "controller/main/transfer.h"
#include "controller/main/usage.h"
#include "controller/metrics/metrics_http_server.h"
#include "controller/metrics/process_metrics.h"
#include "controller/rpc/controller_server.h"
#include "controller/rpc/identity.h"
#include "controller/store/postgres_store.h"
#include "controller/store/sqlite_store.h"

namespace {

using namespace postwarden;
using namespace postwarden::controller::credentials;
using namespace postwarden::controller::rpc;
using postwarden::controller::core::validAgentId;
using postwarden::controller::store::PostgresStore;
using postwarden::controller::store::SqliteStore;
namespace telemetry = postwarden::controller::telemetry;

// --store: "sqlite:PATH", "postgres:CONNINFO" (libpq's key=value string or a postgresql://
// URI), or empty for the data directory's SQLite file.
struct StoreSpec {
  enum class Kind { kSqlite, kPostgres } kind = Kind::kSqlite;
  std::string target;  // the path, or the conninfo (may hold a password: never printed)
};

Result<StoreSpec> parseStoreSpec(const std::string& spec, const DataDirPaths* paths) {
  if (spec.empty()) {
    if (paths == nullptr) return InvalidArgumentError("--store or --data-dir is required");
    return StoreSpec{StoreSpec::Kind::kSqlite, paths->database()};
  }
  if (spec.starts_with("sqlite:") && spec.size() > 7) {
    return StoreSpec{StoreSpec::Kind::kSqlite, spec.substr(7)};
  }
  if (spec.starts_with("postgres:") && spec.size() > 9) {
    return StoreSpec{StoreSpec::Kind::kPostgres, spec.substr(9)};
  }
  return InvalidArgumentError("--store takes sqlite:PATH or postgres:CONNINFO");
}

// The one place the store's backend is chosen; opening applies its schema migrations.
Result<std::unique_ptr<controller::store::Store>> openStore(const StoreSpec& spec) {
  if (spec.kind == StoreSpec::Kind::kPostgres) {
    PW_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::open(spec.target));
    return std::unique_ptr<controller::store::Store>(std::move(store));
  }
  PW_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::open(spec.target));
  return std::unique_ptr<controller::store::Store>(std::move(store));
}

// What ControllerServer runs on: the CA of the data directory and the store --store names
// (default: the data directory's SQLite file). The CA first: a directory without one gets no
// database file either.
struct Backing {
  std::optional<Authority> authority;
  std::unique_ptr<controller::store::Store> store;
};

Result<Backing> openBacking(os::FileSystem& fs, const DataDirPaths& paths,
                            const std::string& store_spec = "") {
  Backing backing;
  PW_ASSIGN_OR_RETURN(StoreSpec spec, parseStoreSpec(store_spec, &paths));
  PW_ASSIGN_OR_RETURN(Authority authority, Authority::load(fs, paths));
  backing.authority.emplace(std::move(authority));
  PW_ASSIGN_OR_RETURN(backing.store, openStore(spec));
  return backing;
}

// Starts the controller on the data directory's CA and store; `backing` must outlive it.
Result<std::unique_ptr<ControllerServer>> startServer(const os::Env& env, const DataDirPaths& paths,
                                                      Backing& backing,
                                                      const ServerOptions& options) {
  return ControllerServer::start(env, paths, std::move(*backing.authority), *backing.store,
                                 options);
}

int fail(const std::string& message) {
  std::cerr << "postwarden-controller: error: " << message << "\n";
  return 1;
}

// A bad command line: the error, then the command's synopsis; exit 2.
int usageError(const std::string& command, const std::string& message) {
  fail(message);
  std::cerr << controller::cli::usageLine(command);
  return controller::cli::kExitUsage;
}

// --flag VALUE options, repeated ones collected in order; positional arguments apart.
struct Parsed {
  std::multimap<std::string, std::string> options;
  std::vector<std::string> positional;
  bool verbose = false;
  bool allow_simulator = false;
  std::optional<std::string> get(const std::string& key) const {
    auto it = options.find(key);
    if (it == options.end()) return std::nullopt;
    return it->second;
  }
};

Result<Parsed> parse(const std::vector<std::string>& args, const std::vector<std::string>& known) {
  Parsed parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-v" || a == "--verbose") {
      parsed.verbose = true;
    } else if (a == "--allow-simulator") {
      parsed.allow_simulator = true;
    } else if (a.starts_with("--")) {
      if (std::find(known.begin(), known.end(), a) == known.end()) {
        return InvalidArgumentError("unknown option " + a + " (see --help)");
      }
      if (i + 1 >= args.size()) return InvalidArgumentError(a + " needs a value");
      parsed.options.emplace(a, args[++i]);
    } else {
      parsed.positional.push_back(a);
    }
  }
  return parsed;
}

// common/duration.h's syntax, in whole seconds above 0.
Result<std::chrono::seconds> parseDuration(const std::string& text) {
  Result<std::chrono::milliseconds> d = postwarden::parseDuration(text);
  if (!d.ok() || d->count() <= 0 || d->count() % 1000 != 0) {
    return InvalidArgumentError("bad duration '" + text + "' (e.g. 30s, 15m, 24h, 90d)");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Result<std::string> required(const Parsed& p, const std::string& key) {
  std::optional<std::string> value = p.get(key);
  if (!value || value->empty()) return InvalidArgumentError(key + " is required (see --help)");
  return *value;
}

int runInit(const Parsed& p) {
  Result<std::string> dir = required(p, "--data-dir");
  if (!dir.ok()) return usageError("init", dir.status().message());
  InitOptions options;
  for (auto [it, end] = p.options.equal_range("--name"); it != end; ++it) {
    options.names.push_back(it->second);
  }
  os::SystemEnv system;
  const os::Env env = system.env();
  os::FileSystem& fs = env.fs;
  DataDirPaths paths{*dir};
  Status status = initDataDir(fs, paths, options);
  if (!status.ok()) return fail(status.message());
  // Creating the database now proves the directory is usable before anyone relies on it.
  Result<Backing> backing = openBacking(fs, paths);
  if (!backing.ok()) return fail(backing.status().message());
  Result<std::unique_ptr<ControllerServer>> probe =
      startServer(env, paths, *backing, {.listen = "127.0.0.1:0", .enroll_listen = "127.0.0.1:0"});
  if (!probe.ok()) return fail(probe.status().message());
  (*probe)->shutdown(std::chrono::milliseconds(100));
  std::cout << "initialized " << *dir << ": controller CA (ca.crt), server certificate "
            << "(server.crt), database (controller.db)\n"
            << "next: postwarden-controller serve --data-dir " << *dir << "\n";
  return 0;
}

// SIGINT and SIGTERM, blocked in every thread and taken by sigwait() in serve.
sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int runServe(const Parsed& p) {
  Result<std::string> dir = required(p, "--data-dir");
  if (!dir.ok()) return usageError("serve", dir.status().message());
  ServerOptions options;
  options.listen = p.get("--listen").value_or(options.listen);
  options.enroll_listen = p.get("--enroll-listen").value_or("");
  options.simulator.accept = p.allow_simulator;
  if (auto ttl = p.get("--agent-cert-ttl")) {
    Result<std::chrono::seconds> d = parseDuration(*ttl);
    if (!d.ok()) return usageError("serve", "--agent-cert-ttl: " + d.status().message());
    options.agent_certificate_lifetime = *d;
  }
  if (auto rate = p.get("--max-connects-per-second")) {
    size_t end = 0;
    long long n = -1;
    try {
      n = std::stoll(*rate, &end);
    } catch (...) {
    }
    if (n < 0 || end != rate->size()) {
      return usageError("serve",
                        "--max-connects-per-second needs an integer >= 0, not '" + *rate + "'");
    }
    options.max_connects_per_second = static_cast<double>(n);
  }
  os::SystemEnv system;
  const os::Env env = system.env();
  os::FileSystem& fs = env.fs;
  const DataDirPaths paths{*dir};
  // Declared before the server, which counts into it; scraped only while metrics_http runs.
  metrics::Registry registry;
  std::optional<std::string> metrics_listen = p.get("--metrics-listen");
  if (metrics_listen) {
    Result<std::pair<std::string, int>> address = telemetry::splitHostPort(*metrics_listen);
    if (!address.ok())
      return usageError("serve", "--metrics-listen: " + address.status().message());
    options.metrics = &registry;
    registry.gauge("postwarden_build_info", "The controller's version (value 1).", {"version"})
        .with({kVersion})
        .set(1);
    telemetry::addProcessCollector(
        registry, fs,
        {.ticks_per_second = sysconf(_SC_CLK_TCK), .page_size = sysconf(_SC_PAGESIZE)});
    telemetry::addStoreSizeCollector(
        registry, fs, {{"db", paths.database()}, {"wal", paths.database() + "-wal"}});
  }
  // Declared before the server: the server borrows its store, which must outlive it.
  Result<Backing> backing = openBacking(fs, paths, p.get("--store").value_or(""));
  if (!backing.ok()) return fail(backing.status().message());
  Authority self_check_ca = *backing->authority;  // the server takes the original
  Result<std::unique_ptr<ControllerServer>> server = startServer(env, paths, *backing, options);
  if (!server.ok()) return fail(server.status().message());
  // After the server (its fleet is scraped) and stopped before it.
  std::unique_ptr<telemetry::MetricsHttpServer> metrics_http;
  if (metrics_listen) {
    Result<std::unique_ptr<telemetry::MetricsHttpServer>> started =
        telemetry::MetricsHttpServer::start(*metrics_listen,
                                            [&registry] { return registry.renderText(); });
    if (!started.ok()) return fail("--metrics-listen: " + started.status().message());
    metrics_http = std::move(started).value();
    std::cout << "postwarden-controller: metrics on http://" << *metrics_listen << " port "
              << metrics_http->port() << " /metrics" << std::endl;
  }
  if (auto port_file = p.get("--port-file")) {
    std::string ports =
        std::to_string((*server)->port()) + " " + std::to_string((*server)->enrollPort());
    if (metrics_http) ports += " " + std::to_string(metrics_http->port());
    Status written = fs.writeAtomic(*port_file, ports + "\n");
    if (!written.ok()) return fail(written.message());
  }
  std::cout << "postwarden-controller: serving agents and operators on port " << (*server)->port()
            << " (mutual TLS), enrollment on port " << (*server)->enrollPort() << " (TLS)"
            << (options.simulator.accept ? "; simulator certificates accepted" : "") << std::endl;
  controller::SelfCheck self_check(self_check_ca,
                                   controller::selfCheckTarget(options.listen, (*server)->port()));
  controller::serveUntilStopped(stopSignals(), &self_check);  // systemd: READY, WATCHDOG, STOPPING
  std::cout << "postwarden-controller: shutting down" << std::endl;
  if (metrics_http) metrics_http->stop();
  // Agents reconnect with jittered backoff; holding their streams only delays that.
  (*server)->shutdown(std::chrono::milliseconds(200));
  return 0;
}

int runMigrate(const Parsed& p) {
  std::optional<DataDirPaths> paths;
  if (auto dir = p.get("--data-dir")) paths.emplace(DataDirPaths{*dir});
  Result<StoreSpec> spec = parseStoreSpec(p.get("--store").value_or(""), paths ? &*paths : nullptr);
  if (!spec.ok()) return usageError("migrate", spec.status().message());
  int before = -1;
  if (spec->kind == StoreSpec::Kind::kPostgres) {
    Result<int> stored = PostgresStore::storedSchemaVersion(spec->target);
    if (!stored.ok()) return fail(stored.status().message());
    before = *stored;
  }
  Result<std::unique_ptr<controller::store::Store>> store = openStore(*spec);
  if (!store.ok()) return fail(store.status().message());
  if (spec->kind == StoreSpec::Kind::kPostgres) {
    std::cout << "postgres store: schema version " << PostgresStore::kSchemaVersion
              << (before == PostgresStore::kSchemaVersion ? " (already current)"
                                                          : " (was " + std::to_string(before) + ")")
              << "\n";
  } else {
    std::cout << "sqlite store " << spec->target << ": schema version "
              << SqliteStore::kSchemaVersion << "\n";
  }
  return 0;
}

// export | import (transfer.h): the store as --store / --data-dir name it, the file as
// --out / --in ("-" by default: standard output / input).
int runTransfer(const std::string& command, const Parsed& p) {
  std::optional<DataDirPaths> paths;
  if (auto dir = p.get("--data-dir")) paths.emplace(DataDirPaths{*dir});
  Result<StoreSpec> spec = parseStoreSpec(p.get("--store").value_or(""), paths ? &*paths : nullptr);
  if (!spec.ok()) return usageError(command, spec.status().message());
  if (command == "import" && spec->kind != StoreSpec::Kind::kPostgres) {
    return usageError("import", "import goes into PostgreSQL: --store postgres:CONNINFO");
  }
  Result<std::unique_ptr<controller::store::Store>> store = openStore(*spec);
  if (!store.ok()) return fail(store.status().message());
  Status done = command == "export"
                    ? controller::main::exportTo(**store, p.get("--out").value_or("-"))
                    : controller::main::importFrom(**store, p.get("--in").value_or("-"));
  return done.ok() ? 0 : fail(done.message());
}

Status writeClientFiles(os::PosixFileSystem& fs, const std::string& out, const std::string& name,
                        const pki::KeyAndCertificate& issued, const std::string& ca_pem) {
  PW_RETURN_IF_ERROR(fs.createDirectories(out, 0700));
  PW_RETURN_IF_ERROR(
      fs.writeAtomic(out + "/" + name + ".key", issued.private_key_pem, {.mode = 0600}));
  PW_RETURN_IF_ERROR(
      fs.writeAtomic(out + "/" + name + ".crt", issued.certificate_pem, {.mode = 0644}));
  return fs.writeAtomic(out + "/ca.crt", ca_pem, {.mode = 0644});
}

int runOperatorAdd(const Parsed& p) {
  if (p.positional.size() != 1)
    return usageError("operator", "operator add needs exactly one NAME");
  const std::string& name = p.positional[0];
  if (!validAgentId(name))
    return usageError("operator", "operator name must be lowercase [a-z0-9.-]");
  Result<std::string> dir = required(p, "--data-dir");
  Result<std::string> out = required(p, "--out");
  Result<std::string> role_text = required(p, "--role");
  for (const Status& s : {dir.status(), out.status(), role_text.status()}) {
    if (!s.ok()) return usageError("operator", s.message());
  }
  Result<Role> role = parseRole(*role_text);
  if (!role.ok()) return usageError("operator", role.status().message());
  Result<std::chrono::seconds> ttl = parseDuration(p.get("--ttl").value_or("90d"));
  if (!ttl.ok()) return usageError("operator", "--ttl: " + ttl.status().message());
  os::PosixFileSystem fs;
  Result<Authority> ca = Authority::load(fs, DataDirPaths{*dir});
  if (!ca.ok()) return fail(ca.status().message());
  Result<pki::KeyAndCertificate> issued =
      ca->issueClient(name, std::string(kOperatorUnitPrefix) + std::string(roleName(*role)), *ttl);
  if (!issued.ok()) return fail(issued.status().message());
  Status status = writeClientFiles(fs, *out, name, *issued, ca->caPem());
  std::string config =
      "# postwardenctl configuration for operator " + name + " (" + std::string(roleName(*role)) +
      ")\ncontroller: " + p.get("--controller").value_or("localhost:7443") +
      "\nca_file: ca.crt\ncert_file: " + name + ".crt\nkey_file: " + name + ".key\n";
  if (status.ok()) status = fs.writeAtomic(*out + "/postwardenctl.yaml", config, {.mode = 0644});
  if (!status.ok()) return fail(status.message());
  std::cout << "operator " << name << " (" << roleName(*role) << "): " << *out << "/" << name
            << ".crt, " << name << ".key, ca.crt, postwardenctl.yaml\n"
            << "use: POSTWARDENCTL_CONFIG=" << *out << "/postwardenctl.yaml postwardenctl agents\n";
  return 0;
}

int runSimulatorCert(const Parsed& p) {
  Result<std::string> dir = required(p, "--data-dir");
  Result<std::string> out = required(p, "--out");
  if (!dir.ok()) return usageError("simulator-cert", dir.status().message());
  if (!out.ok()) return usageError("simulator-cert", out.status().message());
  Result<std::chrono::seconds> ttl = parseDuration(p.get("--ttl").value_or("7d"));
  if (!ttl.ok()) return usageError("simulator-cert", "--ttl: " + ttl.status().message());
  os::PosixFileSystem fs;
  Result<Authority> ca = Authority::load(fs, DataDirPaths{*dir});
  if (!ca.ok()) return fail(ca.status().message());
  Result<pki::KeyAndCertificate> issued =
      ca->issueClient("fleetsim", std::string(kSimulatorUnit), *ttl);
  if (!issued.ok()) return fail(issued.status().message());
  Status status = writeClientFiles(fs, *out, "simulator", *issued, ca->caPem());
  if (!status.ok()) return fail(status.message());
  std::cout << "simulator certificate: " << *out << "/simulator.crt (accepted only by "
            << "`serve --allow-simulator`)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  // Debian 12 builds Abseil and gRPC with their debug checks, so every absl::Mutex that gRPC
  // takes also updates a lock graph for deadlock detection (2.5 % of a loaded 50,000-agent
  // controller's CPU, docs/performance.md). A debugging aid, not a safety check: off.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Blocked before any thread starts, so gRPC's threads inherit the mask.
  sigset_t stop_signals = stopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::vector<std::string> args(argv + 1, argv + argc);
  Result<std::optional<LogFormat>> log_format = takeLogFormatOption(args);
  if (!log_format.ok()) return usageError("", log_format.status().message());
  if (!args.empty() && args[0] == "--version") {
    std::cout << versionLine("postwarden-controller") << "\n";
    return 0;
  }
  if (std::optional<controller::cli::UsageReply> usage = controller::cli::usageFor(args)) {
    (usage->to_stderr ? std::cerr : std::cout) << usage->text;
    return usage->exit_code;
  }
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "operator") {
    if (rest.empty() || rest[0] != "add") {
      return usageError("operator", rest.empty() ? "operator needs a subcommand: add"
                                                 : "unknown operator subcommand '" + rest[0] +
                                                       "' (there is: add)");
    }
    rest.erase(rest.begin());
    command = "operator add";
  }
  static const std::map<std::string, std::vector<std::string>> kOptions{
      {"init", {"--data-dir", "--name"}},
      {"serve",
       {"--data-dir", "--listen", "--enroll-listen", "--port-file", "--agent-cert-ttl",
        "--max-connects-per-second", "--store", "--metrics-listen"}},
      {"migrate", {"--data-dir", "--store"}},
      {"export", {"--data-dir", "--store", "--out"}},
      {"import", {"--store", "--in"}},
      {"operator add", {"--data-dir", "--out", "--role", "--controller", "--ttl"}},
      {"simulator-cert", {"--data-dir", "--out", "--ttl"}},
  };
  auto known = kOptions.find(command);
  if (known == kOptions.end()) return usageError("", "unknown command '" + command + "'");
  Result<Parsed> parsed = parse(rest, known->second);
  if (!parsed.ok()) {
    return usageError(command == "operator add" ? "operator" : command, parsed.status().message());
  }
  setupLogging("postwarden-controller",
               parsed->verbose ? spdlog::level::debug : spdlog::level::info, *log_format);
  if (command == "init") return runInit(*parsed);
  if (command == "serve") return runServe(*parsed);
  if (command == "migrate") return runMigrate(*parsed);
  if (command == "export" || command == "import") return runTransfer(command, *parsed);
  if (command == "operator add") return runOperatorAdd(*parsed);
  return runSimulatorCert(*parsed);
}
