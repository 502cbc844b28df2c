// The scalar values of a rollout spec, parsed from text: label selectors ("role=mx,site=fra1",
// AND of key=value terms), durations ("30s", "10m", "2h"), the baseline reference
// ("NAME@DIGEST") and the failure budget ("1" or "10%"). Pure functions over strings; errors
// are InvalidArgument with a message that says what was expected and what was found.
#pragma once

#include <absl/time/time.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace postwarden::controller::rollout {

// A host's labels, as the agent reports them.
using Labels = std::map<std::string, std::string, std::less<>>;

// key=value terms, all of which must hold (AND). An empty selector matches every host.
struct LabelSelector {
  std::vector<std::pair<std::string, std::string>> terms;  // sorted by key, keys unique

  bool empty() const { return terms.empty(); }
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

// "role=mx,site=fra1" (spaces around terms allowed). A key given twice is refused, as are
// empty keys or values and characters outside [A-Za-z0-9._-].
Result<LabelSelector> parseSelector(std::string_view text);
// Whether every term of `selector` is among `labels`.
bool matches(const LabelSelector& selector, const Labels& labels);
// "role=mx,site=fra1", or "*" for the empty selector.
std::string toString(const LabelSelector& selector);

// A duration as common/duration.h reads it ("30s", "10m", "2h", "1d", "90" seconds), as an
// absl::Duration. Zero is allowed here; callers that need a positive duration say so.
Result<absl::Duration> parseDuration(std::string_view text);

// The target of a rollout: a baseline name and a version (a content digest or a label; kept
// as text and compared exactly).
struct BaselineRef {
  std::string name;
  std::string version;
  friend bool operator==(const BaselineRef&, const BaselineRef&) = default;
};
Result<BaselineRef> parseBaselineRef(std::string_view text);

// How many hosts may fail before the rollout halts: a count, or a percentage of the hosts the
// rollout changes (rounded down, so "10%" of 5 hosts allows none).
struct FailureBudget {
  bool is_percent = false;
  int value = 0;
  // The number of failures allowed among `host_count` hosts; one more halts the rollout.
  int allowed(int host_count) const { return is_percent ? host_count * value / 100 : value; }
  friend bool operator==(const FailureBudget&, const FailureBudget&) = default;
};
Result<FailureBudget> parseFailureBudget(std::string_view text);

// How many hosts of one wave may be in flight (dispatched or soaking) at once: a count, or a
// percentage of the wave's hosts (rounded up, at least 1). Bounds how far a wave overshoots the
// failure budget: hosts already in flight when it is exceeded still finish.
struct InFlightLimit {
  bool is_percent = false;
  int value = 0;  // 0: no limit (the whole wave at once)
  // The limit for a wave of `wave_hosts` hosts; INT_MAX when there is none.
  int allowed(int wave_hosts) const;
  friend bool operator==(const InFlightLimit&, const InFlightLimit&) = default;
};
// "2" or "25%"; zero is refused (omit the key for no limit).
Result<InFlightLimit> parseInFlightLimit(std::string_view text);

// "50%": a whole percentage from 0 to `max`.
Result<int> parsePercent(std::string_view text, int max);

// Decimal digits to a number no larger than `max`; InvalidArgument otherwise.
Result<int> parseCount(std::string_view text, int max);

}  // namespace postwarden::controller::rollout
