// The daemon's decisions, apart from its I/O: given what triggered a check, what the check
// found on the host and what the loop remembers, what to do (report, repair, hold, probe) and
// when to look again. Pure functions over plain values and explicit times, so every rule is
// unit-tested with a fake clock (tests/unit/agent/daemon/decisions_test.cpp); the loop in
// agent_daemon.cpp only carries them out.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace postwarden::agent::daemon {

enum class Trigger {
  kStartup,        // the daemon started (the cached baseline is enforced at once)
  kFileChange,     // main.cf or master.cf changed
  kPeriodic,       // the periodic check (with splay)
  kRetry,          // a repair found the host locked by another transaction; trying again
  kAssignment,     // the controller assigned a (new) baseline
  kApplyCommand,   // `postwardenctl command apply`
  kVerifyCommand,  // `postwardenctl command verify`
};

// What one look at the host found, without judgement.
struct Finding {
  enum class Kind {
    kNoBaseline,       // nothing assigned yet
    kBaselineRefused,  // the assigned baseline does not load (grammar, names, guards)
    kPlanFailed,       // the files or the baseline cannot be planned on this host
    kCompliant,        // the files already say what the baseline says
    kOutOfLine,        // the files differ from the baseline: drift
  };
  Kind kind = Kind::kNoBaseline;
  // kOutOfLine: the change that would fix it (baseline version and the files it writes), so
  // that a change which failed once is recognised when it comes again.
  std::string change;
  // kOutOfLine: the change's own probe cannot pass (predictedProbeFailures): refuse it.
  bool verify_unreachable = false;
  // The assignment's repair windows are open now by the agent's clock (or it has none).
  bool repair_window_open = true;
};

// A change that did not stick (rolled back, needs a human), and how it ended.
struct FailedChange {
  std::string change;
  std::string outcome;
  std::string reason;
};

// What the loop keeps between checks.
struct Memory {
  bool enforce = true;                 // the assignment's mode: enforce or detect only
  std::optional<FailedChange> failed;  // not tried again on its own
};

enum class Action {
  kNothing,        // no baseline: nothing to judge
  kReportRefused,  // the baseline (or its plan, or its verify) is refused on this host
  kReportDrifted,  // detect only, or no repair window open: report the drift, change nothing
  kHold,           // the same change failed before: report it refused, not retried
  kRepair,         // take the host's lock and run the transaction
  kProbe,          // compliant files: probe the live service (service drift)
  kKeepProbe,      // compliant files after a file event: the last probe still stands
};

struct Decision {
  Action action = Action::kNothing;
  // Report the state even if it equals the last one: someone asked (startup, assignment,
  // command), so the answer must arrive.
  bool force_report = false;
  // A config drift event goes up first (only when the files are out of line).
  bool drift_event = false;
  bool drift_repairing = false;  // ... saying that a repair is under way
  // kReportDrifted in enforce mode: the repair waits for one of the assignment's windows.
  bool repair_waits = false;
};

Decision decide(const Finding& finding, const Memory& memory, Trigger trigger);

// After a repair of `attempt.change`: one that did not stick (`failed`: rolled back, or it
// needs a human) is remembered and not retried on its own, since a retry would reload
// Postfix at every check for nothing; any other result forgets the last failure.
Memory afterRepair(Memory memory, FailedChange attempt, bool failed);

// When the loop looks again on its own.
struct Schedule {
  std::chrono::steady_clock::time_point next_check;               // the periodic check
  std::optional<std::chrono::steady_clock::time_point> retry_at;  // a postponed repair
};

struct Timing {
  std::chrono::milliseconds check_interval{60000};
  std::chrono::milliseconds splay{6000};
  // A repair that found the host locked (a manual apply runs) tries again this much later.
  std::chrono::milliseconds retry_locked{2000};
};

// A repair postponed at `now` because the host was locked.
Schedule afterLockedRepair(Schedule schedule, std::chrono::steady_clock::time_point now,
                           const Timing& timing);

// What the loop's next own wake-up is for, and when.
struct Wake {
  Trigger trigger;
  std::chrono::steady_clock::time_point at;
};
Wake nextWake(const Schedule& schedule);
// The schedule once `wake` has been acted on at `now`: a periodic check is next due after the
// interval plus `splay_draw` (a random draw in [0, 1), so that hosts started together spread
// out) of the splay; a retry is done.
Schedule afterWake(Schedule schedule, const Wake& wake, std::chrono::steady_clock::time_point now,
                   const Timing& timing, double splay_draw);

}  // namespace postwarden::agent::daemon
