// The spec of a maintenance-window rollout (issue #9), parsed strictly from YAML: which
// baseline version goes to which hosts, in which waves, inside which maintenance windows, with
// which failure budget, approvals and health gates. Unknown keys, duplicate keys and bad values
// are refused with "FILE:LINE:COL: message" (and a did-you-mean for misspelt keys). The format
// is described in docs/rollouts.md. Pure: the caller reads the file.
#pragma once

#include <absl/time/time.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/schedule/maintenance_window.h"
#include "common/status.h"
#include "controller/rollout/spec_values.h"

namespace postwarden::controller::rollout {

struct WaveSpec {
  enum class Kind {
    kCanaryCount,  // canary: N        the first N pending hosts (by id)
    kCanaryHosts,  // canary: [a, b]   these hosts
    kPercent,      // percent: P       P% of the hosts that need the change (rounded up)
    kLabels,       // labels: {k: v}   every remaining host with these labels
  };
  Kind kind = Kind::kCanaryCount;
  int count = 0;                   // kCanaryCount
  std::vector<std::string> hosts;  // kCanaryHosts
  int percent = 0;                 // kPercent, 1..100
  LabelSelector labels;            // kLabels
  absl::Duration soak;             // after a host's change succeeded, before it counts as done
  bool isCanary() const { return kind == Kind::kCanaryCount || kind == Kind::kCanaryHosts; }
};

// Thresholds a host must stay within while it soaks; any figure above its maximum fails it.
// The traffic gates compare the soak so far with an equally long period just before the change
// (the agent counts both, HealthFigures *_before) and only apply when the agent could count
// that period (before_known).
struct HealthGate {
  int64_t max_deferred_growth = 100;  // growth of the deferred queue since the change
  int64_t max_fatal_lines = 0;        // "fatal:" / "panic:" lines in the mail log
  int64_t max_tls_failures = 10;      // TLS handshake failures in the mail log
  // SASL failures may grow by this percentage over the period before (100: double)...
  int max_sasl_failure_increase = 100;
  // ...and are only judged above this many (one failed login on a quiet host fails nothing).
  int64_t sasl_failure_floor = 10;
  // Inbound connections and deliveries must stay at or above this percentage of the period
  // before (0: not gated)...
  int min_connection_ratio = 50;
  int min_delivery_ratio = 50;
  // ...when that period had at least this many of them (fewer say nothing about a drop).
  int64_t min_events_before = 20;
  int missed_reports = 3;  // this many report intervals of silence fail the host
  absl::Duration report_interval = absl::Minutes(1);  // the agents' check_interval
};

// A maintenance window and the hosts it is for (an empty selector: every host).
struct ScopedWindow {
  schedule::Window window;
  LabelSelector selector;
};
// The window's short form, plus " [selector]" when it has one.
std::string toString(const ScopedWindow& window);

enum class OnWindowEnd { kPause, kRollback };
enum class RollbackTiming { kImmediately, kInWindow };

struct RolloutSpec {
  std::string name;
  BaselineRef baseline;
  LabelSelector selector;  // the hosts this rollout is for
  std::vector<WaveSpec> waves;
  absl::Duration soak = absl::Minutes(10);  // the default soak of a wave
  std::vector<ScopedWindow> windows;
  bool anytime = false;  // hosts no window matches may change at any time (not restarts)
  FailureBudget max_failures{.is_percent = false, .value = 0};
  OnWindowEnd on_window_end = OnWindowEnd::kPause;
  RollbackTiming rollback = RollbackTiming::kImmediately;
  int approvals = 0;
  InFlightLimit max_in_flight;  // hosts of a wave changing or soaking at once
  HealthGate health;
};

// Parses a spec; `file` only names the source in messages.
Result<RolloutSpec> parseRolloutSpec(std::string_view yaml, std::string_view file);

std::string_view toString(OnWindowEnd value);
std::string_view toString(RollbackTiming value);

}  // namespace postwarden::controller::rollout
