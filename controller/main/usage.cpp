#include "controller/main/usage.h"

#include <algorithm>
#include <map>

namespace postwarden::controller::cli {
namespace {

constexpr char kFooter[] = R"(
Options of every command: -v, --verbose (debug logs), -h, --help (this command's help),
--log-format text|json. text (default): "postwarden-controller: [warning] controller.fleet:
message" on stderr; started by systemd, "<4>controller.fleet: message" (syslog priorities for
journalctl -p; the journal adds the time). json: one object per line, {"time","level",
"program","logger","message"}, for log shippers (packaging/README.md).
Durations: 30s, 15m, 24h, 90d.
Exit status:
  0  ok (serve: stopped by SIGINT/SIGTERM)
  1  error: a file, the store or a listener failed
  2  usage error: no command, an unknown command or option, a missing or bad value (the
     error and the usage on stderr)
)";

constexpr char kInit[] = R"(usage: postwarden-controller init --data-dir DIR [--name NAME]...

Create DIR (0700) with a new controller CA (ca.crt, ca.key), the controller's server
certificate (server.crt, server.key; valid for localhost, 127.0.0.1, ::1, this host's name
and every --name) and the database (controller.db). Never replaces an existing CA.

  --data-dir DIR   the controller's state directory (required)
  --name NAME      one more name the server certificate is valid for (repeatable)
)";

constexpr char kServe[] =
    R"(usage: postwarden-controller serve --data-dir DIR [--store sqlite:PATH|postgres:CONNINFO]
        [--listen HOST:PORT] [--enroll-listen HOST:PORT] [--port-file FILE]
        [--agent-cert-ttl DURATION] [--max-connects-per-second N] [--allow-simulator]
        [--metrics-listen HOST:PORT] [-v]

Serve agents and operators until SIGINT/SIGTERM.

  --data-dir DIR            the directory `init` made (CA, server certificate, database)
  --listen HOST:PORT        agents and operators, mutual TLS: a client certificate is
                            required and verified against the controller CA (default
                            127.0.0.1:7443; port 0 picks a free port)
  --enroll-listen HOST:PORT enrollment with a bootstrap token, TLS (default: the same host,
                            port + 1)
  --port-file FILE          receives "PORT ENROLL_PORT" (then " METRICS_PORT" with
                            --metrics-listen) once listening
  --agent-cert-ttl DURATION lifetime of agent certificates (default 24h; agents renew them)
  --max-connects-per-second N
                            new agent streams admitted per second (default 1000; 0: no
                            limit); the excess is refused with RESOURCE_EXHAUSTED and a retry
                            hint the agents honour, so a restart does not let the whole fleet
                            in at once
  --store SPEC              the database (default: DIR/controller.db); its schema is migrated
                            at start. CONNINFO is libpq's ("host=db1 dbname=postwarden
                            user=pw" or a postgresql:// URI); keep the password in ~/.pgpass
                            or PGPASSFILE, not on the command line
  --metrics-listen H:P      Prometheus metrics at http://H:P/metrics (plain HTTP, no
                            authentication: loopback or a management network; off by default;
                            docs/metrics.md)
  --allow-simulator         accept the certificate of bench/fleetsim (never in production)
)";

constexpr char kMigrate[] =
    R"(usage: postwarden-controller migrate --store sqlite:PATH|postgres:CONNINFO | --data-dir DIR

Apply the store's missing schema migrations and print the version it is at. Refuses a schema
newer than this controller.

  --store SPEC     the database to migrate
  --data-dir DIR   or the data directory's SQLite file (DIR/controller.db)
)";

constexpr char kExport[] =
    R"(usage: postwarden-controller export --store SPEC | --data-dir DIR [--out FILE]

Write every row of a store (agents, token hashes, baselines, assignments, reports, drift,
history, rollouts, audit) to FILE (default: standard output; a file is created 0600), for
import into PostgreSQL. Stop the controller first. Rows per table go to standard error.
docs/fleet.md "Scaling out".
)";

constexpr char kImport[] =
    R"(usage: postwarden-controller import --store postgres:CONNINFO [--in FILE]

Read an export from FILE (default: standard input) into an empty PostgreSQL database
(migrate creates its schema). Refuses a database that holds agents, tokens, baselines or
audit rows, and a truncated export; a failed import leaves a partial database: recreate it
before trying again.
)";

constexpr char kOperator[] =
    R"(usage: postwarden-controller operator add NAME --role viewer|operator|approver|admin
        --data-dir DIR --out DIR [--controller HOST:PORT] [--ttl DURATION]

Issue an operator certificate and write DIR/NAME.crt, DIR/NAME.key, DIR/ca.crt and
DIR/postwardenctl.yaml for postwardenctl.

  --role ROLE             viewer reads; operator also pushes baselines and sends commands;
                          approver also assigns baselines and approves re-enrollment; admin
                          also manages tokens and revokes agents
  --data-dir DIR          the controller's data directory (its CA signs the certificate)
  --out DIR               where the files go
  --controller HOST:PORT  the address written into postwardenctl.yaml
  --ttl DURATION          the certificate's lifetime (default 90d)
)";

constexpr char kSimulatorCert[] =
    R"(usage: postwarden-controller simulator-cert --data-dir DIR --out DIR [--ttl DURATION]

Issue the fleet simulator's certificate (DIR/simulator.crt, .key, ca.crt), for bench/fleetsim
against a controller started with --allow-simulator. Never on a production controller.
)";

bool isHelp(const std::string& arg) { return arg == "--help" || arg == "-h"; }

}  // namespace

std::string programUsage() {
  return std::string(R"(usage: postwarden-controller COMMAND [OPTIONS]

The Postwarden controller: knows every agent, its compliance and its drift, and hands out
baselines. State lives in SQLite in the data directory (or in PostgreSQL: --store); every
connection is TLS.

commands:
  init --data-dir DIR [--name NAME]...        create the CA, server certificate and database
  serve --data-dir DIR [--listen HOST:PORT]   serve agents and operators (mutual TLS) and
                                              enrollment until SIGINT/SIGTERM
  migrate --store SPEC | --data-dir DIR       bring a store's schema up to date
  export --store SPEC | --data-dir DIR        every row of a store, to a file or stdout
  import --store postgres:CONNINFO            an export into an empty PostgreSQL
  operator add NAME --role ROLE --data-dir DIR --out DIR
                                              an operator certificate for postwardenctl
  simulator-cert --data-dir DIR --out DIR     the fleet simulator's certificate (bench only)

'postwarden-controller COMMAND --help' (or 'help COMMAND') shows a command's options.
--version prints the version and git revision.
)") + kFooter;
}

std::optional<std::string> commandUsage(const std::string& command) {
  static const std::map<std::string, const char*> kTexts = {
      {"init", kInit},
      {"serve", kServe},
      {"migrate", kMigrate},
      {"export", kExport},
      {"import", kImport},
      {"operator", kOperator},
      {"simulator-cert", kSimulatorCert},
  };
  auto it = kTexts.find(command);
  if (it == kTexts.end()) return std::nullopt;
  return std::string(it->second) + kFooter;
}

std::optional<UsageReply> usageFor(const std::vector<std::string>& args) {
  if (args.empty()) return UsageReply{programUsage(), true, kExitUsage};
  const bool asked = args[0] == "help" || isHelp(args[0]);
  if (!asked && std::none_of(args.begin(), args.end(), isHelp)) return std::nullopt;
  // "help serve", "--help serve", "serve --help", "serve --data-dir X -h".
  const std::string& command = asked ? (args.size() > 1 ? args[1] : "") : args[0];
  // "-v --help": an option, not a command.
  if (command.empty() || command.starts_with("-")) return UsageReply{programUsage(), false, 0};
  if (std::optional<std::string> text = commandUsage(command)) return UsageReply{*text, false, 0};
  // Help for a command there is not: a usage error like running it.
  return UsageReply{"postwarden-controller: error: no command '" + command + "'\n" + usageLine(""),
                    true, kExitUsage};
}

std::string usageLine(const std::string& command) {
  std::optional<std::string> text = commandUsage(command);
  std::string usage = text.value_or(programUsage());
  // The synopsis: the lines up to the first empty one.
  usage = usage.substr(0, usage.find("\n\n") + 1);
  const std::string help = text ? command + " --help" : "--help";
  return usage + "Run 'postwarden-controller " + help + "' for more.\n";
}

}  // namespace postwarden::controller::cli
