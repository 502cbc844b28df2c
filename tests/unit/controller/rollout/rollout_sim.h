// A test harness for the rollout engine: a fake clock, a scripted FleetView, and the state the
// controller would persist between steps. Each step() applies the engine's next state, as the
// controller does, and returns the decisions.
#pragma once

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "controller/rollout/rollout_engine.h"

namespace postwarden::controller::rollout::testing {

using Kind = Decision::Kind;

// Friday 2026-12-04 12:00 UTC.
inline absl::Time kStart =
    absl::FromCivil(absl::CivilMinute(2026, 12, 4, 12, 0), absl::UTCTimeZone());

inline absl::Time utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

inline RolloutSpec parseSpec(const std::string& body) {
  Result<RolloutSpec> s =
      parseRolloutSpec("name: r\nbaseline: mx@v2\nselector: role=mx\n" + body, "r.yaml");
  EXPECT_TRUE(s.ok()) << s.status().toString();
  return s.ok() ? *s : RolloutSpec{};
}

// h01..hNN, role=mx, on v1; odd ones in site fra1, even ones in ams1.
inline std::vector<FleetHost> makeFleet(int n) {
  std::vector<FleetHost> hosts;
  for (int i = 1; i <= n; ++i) {
    const std::string id = (i < 10 ? "h0" : "h") + std::to_string(i);
    hosts.push_back({id, {{"role", "mx"}, {"site", i % 2 ? "fra1" : "ams1"}}, "v1"});
  }
  return hosts;
}

class Sim {
 public:
  Sim(const std::string& spec_body, int hosts, std::string creator = "alice") {
    const RolloutSpec spec = parseSpec(spec_body);
    const std::vector<FleetHost> fleet_hosts = makeFleet(hosts);
    Result<WavePlan> plan = planWaves(spec, fleet_hosts);
    EXPECT_TRUE(plan.ok()) << plan.status().toString();
    state = newRollout("r1", std::move(creator), "spec-digest-1", spec, *plan, fleet_hosts);
  }

  std::vector<Decision> step() {
    Decisions d = rollout::step(state, fleet, now);
    state = d.next;
    wake_at = d.wake_at;
    for (const Decision& a : d.actions) {
      if (a.kind == Kind::kDispatch || a.kind == Kind::kRollBack) jobs[a.host] = a.job_id;
    }
    log.insert(log.end(), d.actions.begin(), d.actions.end());
    return d.actions;
  }

  // The agent on `host` reports the result of its latest job.
  void result(const std::string& host, ChangeResult r, const std::string& version) {
    fleet.hosts[host] = HostReport{now, version, jobs[host], r, {}};
  }
  void heartbeat(const std::string& host) { fleet.hosts[host].last_report = now; }
  void heartbeatAll() {
    for (const HostProgress& h : state.hosts) heartbeat(h.id);
  }
  void gates(const std::string& host, GateFigures g) {
    fleet.hosts[host].gates = g;
    fleet.hosts[host].last_report = now;
  }
  // Moves the clock in steps of at most one minute, every host reporting, stepping each time.
  void run(absl::Duration d) {
    const absl::Time end = now + d;
    while (now < end) {
      now = std::min(end, now + absl::Minutes(1));
      heartbeatAll();
      step();
    }
  }

  const HostProgress& host(const std::string& id) const {
    for (const HostProgress& h : state.hosts) {
      if (h.id == id) return h;
    }
    ADD_FAILURE() << "no host " << id;
    return state.hosts.front();
  }

  RolloutState state;
  FleetView fleet;
  absl::Time now = kStart;
  absl::Time wake_at;
  std::map<std::string, std::string> jobs;
  std::vector<Decision> log;
};

// The hosts of the decisions of `kind`, in order.
inline std::vector<std::string> hostsOf(const std::vector<Decision>& actions, Kind kind) {
  std::vector<std::string> out;
  for (const Decision& a : actions) {
    if (a.kind == kind) out.push_back(a.host);
  }
  return out;
}

inline bool has(const std::vector<Decision>& actions, Kind kind) {
  for (const Decision& a : actions) {
    if (a.kind == kind) return true;
  }
  return false;
}

inline const Decision* find(const std::vector<Decision>& actions, Kind kind) {
  for (const Decision& a : actions) {
    if (a.kind == kind) return &a;
  }
  return nullptr;
}

}  // namespace postwarden::controller::rollout::testing
