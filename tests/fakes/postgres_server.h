// PostgresServer: a throwaway PostgreSQL server for tests and benchmarks. `initdb` makes a
// cluster in a fresh mkdtemp directory, and the `postgres` binary serves it on a unix socket in
// that directory only (no TCP port), with trust authentication for the user "postwarden".
// Started from argv vectors (no shell). PostgreSQL refuses to run as root: under root both
// run as the "postgres" system user (else "nobody"), the directory handed to it. The server is
// this process's child; it gets SIGKILL should this process die first (PR_SET_PDEATHSIG), and
// the destructor stops it (SIGINT: fast shutdown, then SIGKILL after 10 s) and removes the
// directory; stop()/resume() take it down and up again in between. Never touches a system cluster.
// Test-only.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace postwarden::fakes {

struct PostgresServerOptions {
  // fsync off makes the tests fast; benchmarks that measure commits keep it on.
  bool fsync = false;
};

class PostgresServer {
 public:
  // The directory of initdb and postgres: $POSTWARDEN_PG_BINDIR, else
  // /usr/lib/postgresql/15/bin.
  static std::string binDir();
  // Empty when a server can be started here, else why not (binaries absent, no user to run as).
  static std::string unavailableReason();

  // Starts one; waits until it accepts connections (up to 60 s). The error carries the tail of
  // the server's log.
  static Result<std::unique_ptr<PostgresServer>> start(const PostgresServerOptions& options = {});

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;
  ~PostgresServer();

  // Stops the server as `pg_ctl stop -m fast` does (clients cut off, clean shutdown); the
  // cluster stays. resume() starts it again on the same directory and socket and waits until
  // it accepts connections. For outage tests.
  Status stop();
  Status resume();
  bool running() const { return pid_ > 0; }

  // A libpq connection string for `dbname` ("postgres" always exists) as user "postwarden".
  std::string conninfo(const std::string& dbname = "postgres") const;
  const std::string& directory() const { return dir_; }
  pid_t pid() const { return pid_; }

 private:
  PostgresServer(std::string dir, pid_t pid) : dir_(std::move(dir)), pid_(pid) {}
  Status launch();  // starts postgres on dir_ and waits until it is ready

  std::string dir_;
  pid_t pid_ = -1;
  bool fsync_ = false;
};

}  // namespace postwarden::fakes
