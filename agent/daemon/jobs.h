// Rollout jobs on the agent's side (docs/rollouts.md, "What the agent does"): whether a job
// may start now by the agent's OWN wall clock, what the agent keeps of the last job in its
// state directory (so the same job id twice is one job, and a restarted daemon continues a
// soak), and when a soaking job's next health report is due. Pure functions over plain values
// and explicit times, unit-tested with fixed instants in several time zones
// (tests/unit/agent/daemon/jobs_test.cpp); the daemon only carries them out.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/health/before_period.h"
#include "agent/policy/baseline.h"
#include "common/status.h"

namespace postwarden::agent::daemon {

// What a RolloutJob says about when it may start (the proto's fields, without the proto).
struct JobTerms {
  bool rollback = false;
  std::vector<std::string> windows;  // "DAYS HH:MM-HH:MM ZONE"
  bool anytime = false;
};

struct JobVerdict {
  bool start = false;
  std::string why;  // when !start: the report's detail, one line
};

// May the job start at `now` (the agent's own wall clock)?
// - with windows: only while one of them is open (a rollback too); a window the agent cannot
//   read never opens;
// - without windows: a rollback any time; a change only when `anytime` and it needs no
//   Postfix restart (`needs_restart`: the plan's apply mode is kRestart).
// The refusal names the windows and the instant, e.g. "outside its maintenance windows
// Sat 02:00-04:00 Europe/Berlin by its own clock at 2026-12-05T01:40:00Z".
JobVerdict mayStartJob(const JobTerms& terms, bool needs_restart,
                       std::chrono::system_clock::time_point now);

// Milliseconds since the epoch, as reports and the job record keep times.
int64_t toUnixMs(std::chrono::system_clock::time_point t);

// "2026-12-05T01:40:00Z".
std::string formatUtc(std::chrono::system_clock::time_point t);

// A main.cf parameter as it was before a rollout's change: a rollback to the previous baseline
// version puts back what the rolled-back version set and the previous one does not govern
// (the previous version alone would leave it as the change made it).
// Likewise a master.cf "-o" override of one service (`service` "NAME/TYPE", the literal
// entry the change edited).
struct PriorValue {
  std::string name;
  std::optional<std::string> value;  // nullopt: not set (in main.cf, or on the service)
  std::string service;               // empty: main.cf; else the master.cf entry "NAME/TYPE"
  friend bool operator==(const PriorValue&, const PriorValue&) = default;
};

// What a rollback adds to `previous` (the baseline version it returns to): each prior value
// that `governed` says `previous` does not itself set or remove, as a main.cf setting or
// removal, or as a "-o" override or removal on its literal master.cf entry (`if_exists`, so
// a service the change created is not created again). Returns "name = value, ..." for the
// log ("" when nothing was added). Pure.
std::string addPriorValues(const std::vector<PriorValue>& prior,
                           const std::function<bool(const PriorValue&)>& governed,
                           policy::Baseline& previous);

// What the agent keeps of its last job (one file in the state directory, written atomically).
struct JobRecord {
  std::string job_id;
  std::string rollout_id;
  // Change jobs: the main.cf values, before the change, of every parameter the job's baseline
  // sets or removes. A rollback job of the same rollout carries them on.
  std::vector<PriorValue> prior;
  std::string report;  // the job's serialized StateReport (its outcome), sent again on repeat
  // The soak: health reports from soak_start_ms until soak_end_ms (0, 0: none).
  int64_t soak_start_ms = 0;
  int64_t soak_end_ms = 0;
  int64_t last_health_ms = 0;  // the last health report sent (0: none yet)
  bool soak_done = false;      // the final health report was sent
  // What the figures count from, read at the change.
  bool deferred_known = false;
  int64_t deferred_at_change = 0;
  std::string log_path;
  bool log_known = false;  // the mail log could be read at the change
  uint64_t log_offset = 0;
  uint64_t log_inode = 0;
  // The traffic of the period just before the change, as long as the soak (read at the change).
  health::BeforePeriod before;
  friend bool operator==(const JobRecord&, const JobRecord&) = default;
};

std::string encodeJobRecord(const JobRecord& record);
// DataLoss for a record that is not one (truncated, foreign).
Result<JobRecord> decodeJobRecord(std::string_view bytes);

enum class SoakStep {
  kNothing,  // no soak, or the next report is not due yet
  kReport,   // a health report is due (one check interval after the last)
  kFinal,    // the soak is over: the last health report, then the soak is done
};
SoakStep soakStep(const JobRecord& record, std::chrono::system_clock::time_point now,
                  std::chrono::milliseconds interval);
// When soakStep next has something to do; time_point::max() when never.
std::chrono::system_clock::time_point nextSoakStep(const JobRecord& record,
                                                   std::chrono::milliseconds interval);

}  // namespace postwarden::agent::daemon
