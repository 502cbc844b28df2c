// The agent daemon's own metrics, written for node_exporter's textfile collector (the
// convention on Debian hosts running prometheus-node-exporter: *.prom files in
// /var/lib/prometheus/node-exporter). `metrics_textfile` in agent.yaml names the file; unset,
// nothing is counted or written. The file is replaced atomically (FileSystem::writeAtomic:
// temp file, rename), mode 0644, so node_exporter never reads half of it. What is written:
// the last check (time, duration), the compliance it found, the last change (time, outcome)
// and changes by outcome, drift events by source, the outbox's depth and drops, the last
// probe's duration, the assigned baseline, and the messages in Postfix's queues (files counted
// in queue_directory's maildrop, incoming, active, deferred, hold and corrupt, one level of
// hashed subdirectories followed). renderDaemonMetrics() is pure; DaemonMetrics is used by the
// daemon's loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/applier/transaction.h"
#include "common/os/clock.h"
#include "common/os/file_system.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::agent::daemon {

struct DaemonMetricsValues {
  std::optional<double> last_check_seconds;  // unix time of the last check's end
  double last_check_duration_seconds = 0;
  uint64_t checks = 0;
  v1::Compliance compliance = v1::COMPLIANCE_UNSPECIFIED;
  std::optional<double> last_change_seconds;  // unix time
  std::optional<applier::Outcome> last_change_outcome;
  std::map<applier::Outcome, uint64_t> changes;
  std::map<v1::DriftSource, uint64_t> drift_events;
  std::optional<double> last_probe_duration_seconds;
  uint64_t outbox_depth = 0;
  uint64_t outbox_dropped = 0;
  std::string baseline_name;  // empty: none assigned
  std::string baseline_version;
  bool enforce = true;
  std::map<std::string, uint64_t> queue_messages;  // by queue name; empty: not counted
};

// Postfix's queues counted (kPostfixQueues).
inline constexpr const char* kPostfixQueues[] = {"maildrop", "incoming", "active",
                                                 "deferred", "hold",     "corrupt"};

// The messages in each of `queue_directory`'s queues: a file is a message, a one-character
// entry is a hash subdirectory whose files count too (Postfix's hash_queue_names). A queue
// that cannot be listed is left out.
std::map<std::string, uint64_t> countQueueMessages(os::FileSystem& fs,
                                                   const std::string& queue_directory);

// The textfile: every family with HELP and TYPE; all compliance states, change outcomes and
// drift sources as series (0 when never seen), so alerts see them rise from 0.
std::string renderDaemonMetrics(const DaemonMetricsValues& values);

class DaemonMetrics {
 public:
  // `path` empty: off (every call does nothing). `fs` and `clock` must outlive this.
  DaemonMetrics(os::FileSystem& fs, const os::Clock& clock, std::string path);

  bool enabled() const { return !path_.empty(); }
  // Times a check from construction to destruction.
  class CheckTimer {
   public:
    explicit CheckTimer(DaemonMetrics& metrics);
    ~CheckTimer();
    CheckTimer(const CheckTimer&) = delete;
    CheckTimer& operator=(const CheckTimer&) = delete;

   private:
    DaemonMetrics& metrics_;
    std::chrono::steady_clock::time_point started_;
  };
  void changed(applier::Outcome outcome);
  void drifted(v1::DriftSource source);
  void probed(std::chrono::steady_clock::duration elapsed);
  // The live main.cf's queue_directory (absolute; default /var/spool/postfix), whose queues
  // write() counts. A value with $ expansions is not followed.
  void postfixConfig(const std::string& main_cf);

  // What the daemon knows only at write time.
  struct Now {
    v1::Compliance compliance = v1::COMPLIANCE_UNSPECIFIED;
    uint64_t outbox_depth = 0;
    uint64_t outbox_dropped = 0;
    std::string baseline_name;
    std::string baseline_version;
    bool enforce = true;
  };
  // Renders and replaces the file. A failure is logged once until a write succeeds again,
  // and never stops the daemon.
  void write(const Now& now);

  const DaemonMetricsValues& values() const { return values_; }

 private:
  double unixNow() const;
  os::FileSystem& fs_;
  const os::Clock& clock_;
  const std::string path_;
  std::string queue_directory_;
  DaemonMetricsValues values_;
  bool failing_ = false;
};

}  // namespace postwarden::agent::daemon
