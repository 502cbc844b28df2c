#include "bench/fleetsim/process_sampler.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace postwarden::fleetsim {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string procFile(int pid, const char* name) {
  return readAll("/proc/" + std::to_string(pid) + "/" + name);
}

// Every process's (pid, ppid) from /proc/*/stat.
std::vector<std::pair<int, int>> allProcesses() {
  std::vector<std::pair<int, int>> out;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) return out;
  while (dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (auto stat = parseProcStat(procFile(static_cast<int>(pid), "stat"))) {
      out.emplace_back(stat->pid, stat->ppid);
    }
  }
  ::closedir(dir);
  return out;
}

}  // namespace

Result<SampleSpec> parseSampleSpec(std::string_view text, bool tree) {
  const char* flag = tree ? "--sample-tree" : "--sample";
  size_t eq = text.find('=');
  std::string name(text.substr(0, eq == std::string_view::npos ? 0 : eq));
  std::string pid_text(eq == std::string_view::npos ? "" : text.substr(eq + 1));
  char* end = nullptr;
  long pid = std::strtol(pid_text.c_str(), &end, 10);
  if (name.empty() || pid_text.empty() || *end != '\0' || pid <= 0) {
    return InvalidArgumentError(std::string(flag) + " needs NAME=PID (e.g. replica-a=1234), not '" +
                                std::string(text) + "'");
  }
  return SampleSpec{.name = name, .pid = static_cast<int>(pid), .tree = tree};
}

std::optional<ProcStat> parseProcStat(std::string_view text) {
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
  size_t open = text.find(" (");
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  stat.pid = std::atoi(std::string(text.substr(0, open)).c_str());
  std::istringstream fields{std::string(text.substr(close + 1))};
  std::string field;
  // Counted as in proc(5): 3 state, 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime.
  int i = 3;
  bool complete = false;
  while (fields >> field) {
    if (i == 4) stat.ppid = std::atoi(field.c_str());
    if (i >= 14 && i <= 17) stat.cpu_ticks += std::atoll(field.c_str());
    if (i == 17) {
      complete = true;
      break;
    }
    ++i;
  }
  if (!complete || stat.pid <= 0) return std::nullopt;
  return stat;
}

std::optional<long long> parseKibField(std::string_view text, std::string_view key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t eol = text.find('\n', at);
    std::string_view line = text.substr(at, eol == std::string_view::npos ? eol : eol - at);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ':') {
      return std::atoll(std::string(line.substr(key.size() + 1)).c_str());
    }
    if (eol == std::string_view::npos) break;
    at = eol + 1;
  }
  return std::nullopt;
}

std::vector<int> descendantsOf(int root, const std::vector<std::pair<int, int>>& pid_ppid) {
  std::multimap<int, int> children;
  bool root_seen = false;
  for (auto [pid, ppid] : pid_ppid) {
    children.emplace(ppid, pid);
    root_seen = root_seen || pid == root;
  }
  std::vector<int> out;
  if (!root_seen) return out;
  out.push_back(root);
  for (size_t i = 0; i < out.size(); ++i) {  // breadth first; `out` grows as we go
    auto [first, last] = children.equal_range(out[i]);
    for (auto it = first; it != last; ++it) out.push_back(it->second);
  }
  return out;
}

ProcessFigures figuresOf(const std::string& name, int pid,
                         const std::vector<ProcessReading>& readings, double from_s, double to_s,
                         long ticks_per_s) {
  ProcessFigures f{.name = name, .pid = pid};
  const ProcessReading* first = nullptr;
  const ProcessReading* last = nullptr;
  for (const ProcessReading& r : readings) {
    if (r.at_s < from_s || r.at_s > to_s) continue;
    if (!r.alive) {
      f.died = true;
      continue;
    }
    if (first == nullptr) first = &r;
    last = &r;
    f.rss_mib_peak = std::max(f.rss_mib_peak, r.rss_mib);
    f.pss_mib_peak = std::max(f.pss_mib_peak, r.pss_mib);
  }
  if (first == nullptr) return f;
  f.died = f.died && !readings.empty() && !readings.back().alive;
  f.processes = last->processes;
  f.window_s = last->at_s - first->at_s;
  if (f.window_s > 0 && ticks_per_s > 0) {
    f.cpu_percent = 100.0 * static_cast<double>(last->cpu_ticks - first->cpu_ticks) /
                    static_cast<double>(ticks_per_s) / f.window_s;
  }
  return f;
}

ProcessReading readProcesses(const std::vector<int>& pids, double at_s) {
  ProcessReading reading{.at_s = at_s};
  for (int pid : pids) {
    std::optional<ProcStat> stat = parseProcStat(procFile(pid, "stat"));
    if (!stat) continue;
    // A zombie (killed, not yet reaped) has no memory maps: counted as gone.
    std::optional<long long> rss = parseKibField(procFile(pid, "status"), "VmRSS");
    if (!rss) continue;
    reading.alive = true;
    reading.cpu_ticks += stat->cpu_ticks;
    reading.rss_mib += static_cast<double>(*rss) / 1024;
    reading.pss_mib +=
        static_cast<double>(parseKibField(procFile(pid, "smaps_rollup"), "Pss").value_or(0)) / 1024;
    ++reading.processes;
  }
  return reading;
}

ProcessSampler::ProcessSampler(std::vector<SampleSpec> specs)
    : specs_(std::move(specs)), readings_(specs_.size()), ticks_per_s_(::sysconf(_SC_CLK_TCK)) {}

void ProcessSampler::sample(double at_s) {
  std::vector<std::pair<int, int>> processes;
  bool listed = false;
  for (size_t i = 0; i < specs_.size(); ++i) {
    const SampleSpec& spec = specs_[i];
    std::vector<int> pids{spec.pid};
    if (spec.tree) {
      if (!listed) processes = allProcesses();
      listed = true;
      pids = descendantsOf(spec.pid, processes);
    }
    readings_[i].push_back(readProcesses(pids, at_s));
  }
}

std::vector<ProcessFigures> ProcessSampler::figures(double from_s, double to_s) const {
  std::vector<ProcessFigures> out;
  for (size_t i = 0; i < specs_.size(); ++i) {
    out.push_back(
        figuresOf(specs_[i].name, specs_[i].pid, readings_[i], from_s, to_s, ticks_per_s_));
  }
  return out;
}

}  // namespace postwarden::fleetsim
