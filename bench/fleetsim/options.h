// fleetsim's command line: what to simulate and against which controller. Parsing is pure.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "bench/fleetsim/process_sampler.h"
#include "common/status.h"

namespace postwarden::fleetsim {

struct Options {
  std::string controller;  // HOST:PORT of the (first) controller's mTLS listener
  // Every controller (replicas), in order: `--controller A,B` or repeated. Agent i starts at
  // controllers[i % n] and moves on as the agent's `controllers:` list does.
  std::vector<std::string> controllers;
  std::vector<SampleSpec> samples;  // --sample / --sample-tree: CPU and memory from /proc
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name = "localhost";  // name checked in the controller's certificate
  int agents = 1000;
  int channels = 8;
  std::chrono::milliseconds heartbeat{30000};
  std::chrono::milliseconds drift_every{60000};  // mean; 0: no drift events
  std::chrono::milliseconds duration{60000};     // held after all agents are connected
  std::chrono::milliseconds settle{0};           // between all connected and the hold
  std::chrono::milliseconds connect_timeout{300000};
  double ramp_per_second = 2000;
  long id_offset = 0;
  int reconnects = 0;  // > 0: exit once this many full reconnections completed
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{30000};
  bool legacy_backoff = false;  // the pre-hint backoff (full jitter each attempt, no hints)
  std::chrono::milliseconds progress{5000};  // progress line on stderr; 0: none
  std::string ready_file;                    // written once all agents are connected
  bool json = false;

  // --rollout: the agents answer rollout jobs as an agent daemon does, and fleetsim creates a
  // rollout through the operator API once all are connected, then measures it (rollout.h).
  bool rollout = false;
  std::string operator_cert;  // an admin operator's certificate (`operator add --role admin`)
  std::string operator_key;
  int controller_pid = 0;                           // > 0: its CPU and RSS are sampled from /proc
  std::chrono::milliseconds job_apply{2000};        // mean simulated apply time, uniform +-50 %
  double job_failure_rate = 0;                      // share of change jobs that fail (rolled back)
  int job_failure_skip = 0;                         // the first N change jobs received never fail
  std::chrono::milliseconds check_interval{10000};  // health reports while a job soaks
  std::string rollout_waves = "[{canary: 10}, {percent: 10}, {percent: 100}]";
  std::string max_failures = "1%";
  std::string max_in_flight;  // the spec's max_in_flight; empty: not set (no limit)
  std::chrono::milliseconds soak{20000};
  std::chrono::milliseconds rollout_timeout{900000};
};

extern const char kUsage[];

// "--help" yields a FailedPrecondition status whose message is empty.
Result<Options> parseOptions(const std::vector<std::string>& args);

// common/duration.h's parseDuration: "250ms", "30s", "15m", "2h", "1d"; a bare number is
// seconds. Whole numbers only (fractions such as "1.5s" were taken before; write "1500ms").
Result<std::chrono::milliseconds> parseDuration(const std::string& text);

}  // namespace postwarden::fleetsim
