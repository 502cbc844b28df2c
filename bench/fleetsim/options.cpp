#include "bench/fleetsim/options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <map>

#include "common/duration.h"

namespace postwarden::fleetsim {

const char kUsage[] =
    R"(usage: fleetsim --controller HOST:PORT --ca FILE --cert FILE --key FILE [OPTIONS]

Drives a real postwarden-controller (started with --allow-simulator) with N simulated agents,
each on its own AgentService.Connect stream, multiplexed over a few TLS connections. Each agent
says hello, heartbeats, and now and then sends a durable drift event whose latency to the
controller's Ack (sent after the SQLite commit) is measured. See docs/fleetsim.md.

options:
  --controller HOST:PORT[,HOST:PORT...]
                          the controller's mutual-TLS listener; several (comma-separated or
                          the option repeated) are replicas: agent i starts at the (i mod n)th
                          and, as an agent with `controllers: [A, B]`, moves to the next one
                          whenever its stream ends (not when shed with a retry hint)
  --ca FILE --cert FILE --key FILE
                          from `postwarden-controller simulator-cert --out DIR`
  --server-name NAME      name expected in the controller certificate (default localhost)
  --agents N              simulated agents (default 1000), named sim-<id-offset + i>
  --id-offset N           first agent number (default 0)
  --channels N            TLS connections the streams are spread over (default 8)
  --heartbeat DURATION    heartbeat interval per agent (default 30s; first one at a random
                          offset within the interval)
  --drift-every DURATION  mean interval between drift events per agent, Poisson (default 60s;
                          0 disables them)
  --ramp N/s              new connections per second during ramp-up (default 2000/s)
  --duration DURATION     how long to hold the fleet once every agent is connected (default 60s)
  --settle DURATION       start the hold this long after all agents are connected (default 0),
                          so the ramp-up's backlog is not counted as steady state
  --connect-timeout DURATION
                          give up waiting for all agents after this long (default 300s); the
                          hold then starts anyway
  --reconnects N          exit as soon as N full reconnections (all agents back after a
                          disconnect) completed, or when --duration ends (default 0: run the
                          whole --duration)
  --backoff-base DURATION --backoff-cap DURATION
                          reconnect backoff (agent/daemon/backoff: full jitter over the
                          base first, then the upper half of the doubling window; a
                          controller's retry-after-ms hint is honoured) (default 1s, 30s)
  --legacy-backoff        the agents' backoff before admission control, for before/after
                          runs: full jitter uniform(0, min(cap, base * 2^n)) on every
                          attempt, retry hints ignored
  --ready-file FILE       write "ready" to FILE once every agent is connected
  --sample NAME=PID       sample that process's CPU and memory from /proc every second
                          (repeatable: one per controller replica)
  --sample-tree NAME=PID  the same for PID and all its descendants, summed (a PostgreSQL
                          server: its postmaster's pid)
  --progress DURATION     progress line on stderr (default 5s; 0: none)
  --json                  print the summary as one JSON object on stdout

rollouts (docs/fleetsim.md, "Rollouts"):
  --rollout               push two baselines, assign the first to every agent, and once all
                          agents run it create a rollout to the second through the operator
                          API; the agents answer its jobs; fleetsim exits when it has ended
  --operator-cert FILE --operator-key FILE
                          an admin operator (`postwarden-controller operator add --role admin`)
  --controller-pid PID    sample the controller's CPU and RSS from /proc/PID
  --job-apply DURATION    mean simulated apply time of a job, uniform +-50 % (default 2s)
  --job-failure-rate F    share of change jobs that fail, 0..1 (default 0): reported as
                          rolled back by the agent
  --job-failure-skip N    the first N change jobs received never fail (default 0)
  --check-interval DURATION
                          health reports while a job soaks, as the agent's check_interval
                          (default 10s)
  --waves YAML            the spec's waves (default "[{canary: 10}, {percent: 10},
                          {percent: 100}]")
  --max-failures N|P%     the spec's max_failures (default 1%)
  --max-in-flight N|P%    the spec's max_in_flight (default: not set, no limit per wave)
  --soak DURATION         the spec's soak (default 20s)
  --rollout-timeout DURATION
                          give up waiting for the rollout to end (default 15m)
durations: 250ms, 30s, 15m, 2h. exit status: 0 done, 1 bad usage or setup error.
)";

Result<std::chrono::milliseconds> parseDuration(const std::string& text) {
  Result<std::chrono::milliseconds> d = postwarden::parseDuration(text);
  if (!d.ok()) {
    return InvalidArgumentError("bad duration '" + text + "' (e.g. 250ms, 30s, 15m, 2h)");
  }
  return *d;
}

namespace {

Result<long> parseInteger(const std::string& flag, const std::string& text, long min) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value < min) {
    return InvalidArgumentError(flag + " needs an integer >= " + std::to_string(min) + ", not '" +
                                text + "'");
  }
  return value;
}

Result<double> parseRate(const std::string& text) {
  std::string number = text.ends_with("/s") ? text.substr(0, text.size() - 2) : text;
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !(value > 0)) {
    return InvalidArgumentError("--ramp needs a rate like 2000/s, not '" + text + "'");
  }
  return value;
}

}  // namespace

Result<Options> parseOptions(const std::vector<std::string>& args) {
  Options o;
  using Setter = std::function<Status(const std::string&)>;
  auto text = [](std::string& field) -> Setter {
    return [&field](const std::string& v) {
      field = v;
      return OkStatus();
    };
  };
  auto duration = [](std::chrono::milliseconds& field) -> Setter {
    return [&field](const std::string& v) {
      PW_ASSIGN_OR_RETURN(field, parseDuration(v));
      return OkStatus();
    };
  };
  auto integer = [](const char* flag, auto& field, long min) -> Setter {
    return [&field, flag, min](const std::string& v) {
      PW_ASSIGN_OR_RETURN(long n, parseInteger(flag, v, min));
      field = static_cast<std::remove_reference_t<decltype(field)>>(n);
      return OkStatus();
    };
  };
  const std::map<std::string, Setter> setters{
      {"--controller",
       [&o](const std::string& v) {
         size_t start = 0;
         while (start <= v.size()) {
           size_t comma = std::min(v.find(',', start), v.size());
           std::string address = v.substr(start, comma - start);
           if (address.empty()) {
             return InvalidArgumentError("--controller needs HOST:PORT[,HOST:PORT...], not '" + v +
                                         "'");
           }
           o.controllers.push_back(address);
           start = comma + 1;
         }
         o.controller = o.controllers.front();
         return OkStatus();
       }},
      {"--sample",
       [&o](const std::string& v) {
         PW_ASSIGN_OR_RETURN(SampleSpec spec, parseSampleSpec(v, false));
         o.samples.push_back(spec);
         return OkStatus();
       }},
      {"--sample-tree",
       [&o](const std::string& v) {
         PW_ASSIGN_OR_RETURN(SampleSpec spec, parseSampleSpec(v, true));
         o.samples.push_back(spec);
         return OkStatus();
       }},
      {"--ca", text(o.ca_file)},
      {"--cert", text(o.cert_file)},
      {"--key", text(o.key_file)},
      {"--server-name", text(o.server_name)},
      {"--ready-file", text(o.ready_file)},
      {"--agents", integer("--agents", o.agents, 1)},
      {"--channels", integer("--channels", o.channels, 1)},
      {"--id-offset", integer("--id-offset", o.id_offset, 0)},
      {"--reconnects", integer("--reconnects", o.reconnects, 0)},
      {"--heartbeat", duration(o.heartbeat)},
      {"--drift-every", duration(o.drift_every)},
      {"--duration", duration(o.duration)},
      {"--settle", duration(o.settle)},
      {"--connect-timeout", duration(o.connect_timeout)},
      {"--backoff-base", duration(o.backoff_base)},
      {"--backoff-cap", duration(o.backoff_cap)},
      {"--progress", duration(o.progress)},
      {"--operator-cert", text(o.operator_cert)},
      {"--operator-key", text(o.operator_key)},
      {"--controller-pid", integer("--controller-pid", o.controller_pid, 1)},
      {"--job-apply", duration(o.job_apply)},
      {"--job-failure-skip", integer("--job-failure-skip", o.job_failure_skip, 0)},
      {"--check-interval", duration(o.check_interval)},
      {"--waves", text(o.rollout_waves)},
      {"--max-failures", text(o.max_failures)},
      {"--max-in-flight", text(o.max_in_flight)},
      {"--soak", duration(o.soak)},
      {"--rollout-timeout", duration(o.rollout_timeout)},
      {"--job-failure-rate",
       [&o](const std::string& v) {
         char* end = nullptr;
         o.job_failure_rate = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0' || o.job_failure_rate < 0 || o.job_failure_rate > 1) {
           return InvalidArgumentError("--job-failure-rate needs a share 0..1, not '" + v + "'");
         }
         return OkStatus();
       }},
      {"--ramp",
       [&o](const std::string& v) {
         PW_ASSIGN_OR_RETURN(o.ramp_per_second, parseRate(v));
         return OkStatus();
       }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return FailedPreconditionError("");
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--rollout") {
      o.rollout = true;
      continue;
    }
    if (a == "--legacy-backoff") {
      o.legacy_backoff = true;
      continue;
    }
    auto it = setters.find(a);
    if (it == setters.end()) return InvalidArgumentError("unknown argument '" + a + "'");
    if (i + 1 >= args.size()) return InvalidArgumentError(a + " needs a value");
    PW_RETURN_IF_ERROR(it->second(args[++i]));
  }
  for (auto [flag, value] : {std::pair{"--controller", &o.controller},
                             {"--ca", &o.ca_file},
                             {"--cert", &o.cert_file},
                             {"--key", &o.key_file}}) {
    if (value->empty()) return InvalidArgumentError(std::string(flag) + " is required");
  }
  if (o.rollout && (o.operator_cert.empty() || o.operator_key.empty())) {
    return InvalidArgumentError("--rollout needs --operator-cert and --operator-key (an admin)");
  }
  if (o.check_interval.count() <= 0) return InvalidArgumentError("--check-interval must be > 0");
  if (o.heartbeat.count() <= 0) return InvalidArgumentError("--heartbeat must be > 0");
  if (o.backoff_base.count() <= 0 || o.backoff_cap < o.backoff_base) {
    return InvalidArgumentError("need 0 < --backoff-base <= --backoff-cap");
  }
  if (o.channels > o.agents) o.channels = o.agents;
  return o;
}

}  // namespace postwarden::fleetsim
