// CPU and memory of the processes a fleetsim run loads: controller replicas by pid, and a
// PostgreSQL server as its postmaster plus every descendant (its backends come and go). The
// /proc parsing and the figures over a window are pure; ProcessSampler reads /proc.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace postwarden::fleetsim {

// What to sample: `--sample NAME=PID` (that process) or `--sample-tree NAME=PID` (that process
// and its descendants, summed).
struct SampleSpec {
  std::string name;
  int pid = 0;
  bool tree = false;
};
Result<SampleSpec> parseSampleSpec(std::string_view text, bool tree);

// Fields of /proc/PID/stat; CPU in clock ticks. The children's times (cutime, cstime) count
// too, so a tree's total keeps what its exited backends used (their parent reaped them).
struct ProcStat {
  int pid = 0;
  int ppid = 0;
  long long cpu_ticks = 0;  // utime + stime + cutime + cstime
};
std::optional<ProcStat> parseProcStat(std::string_view text);
// "Key:   123 kB" lines of /proc/PID/status or smaps_rollup: the value in KiB.
std::optional<long long> parseKibField(std::string_view text, std::string_view key);
// `root` and every process whose parent chain reaches it, from (pid, ppid) pairs.
std::vector<int> descendantsOf(int root, const std::vector<std::pair<int, int>>& pid_ppid);

// One reading of one spec: empty when the process is gone.
struct ProcessReading {
  double at_s = 0;  // seconds since the run started
  bool alive = false;
  long long cpu_ticks = 0;
  double rss_mib = 0;  // VmRSS summed (a tree counts shared memory once per process)
  double pss_mib = 0;  // Pss summed: shared pages split between their users
  int processes = 0;
};

// One reading of these processes, summed, from /proc; `alive` when any of them was there.
ProcessReading readProcesses(const std::vector<int>& pids, double at_s);

// CPU and memory of one spec over [from_s, to_s].
struct ProcessFigures {
  std::string name;
  int pid = 0;
  double window_s = 0;     // between the first and the last reading used
  double cpu_percent = 0;  // of one core
  double rss_mib_peak = 0;
  double pss_mib_peak = 0;
  int processes = 0;  // at the last reading used
  bool died = false;  // it was gone by `to_s`
};
// Readings in time order; the CPU is the tick difference between the first live reading at or
// after `from_s` and the last live one at or before `to_s`. Pure.
ProcessFigures figuresOf(const std::string& name, int pid,
                         const std::vector<ProcessReading>& readings, double from_s, double to_s,
                         long ticks_per_s);

class ProcessSampler {
 public:
  explicit ProcessSampler(std::vector<SampleSpec> specs);
  bool empty() const { return specs_.empty(); }
  // Reads every spec once; `at_s` stamps the readings.
  void sample(double at_s);
  // One ProcessFigures per spec, in the order given.
  std::vector<ProcessFigures> figures(double from_s, double to_s) const;

 private:
  std::vector<SampleSpec> specs_;
  std::vector<std::vector<ProcessReading>> readings_;  // per spec
  long ticks_per_s_;
};

}  // namespace postwarden::fleetsim
