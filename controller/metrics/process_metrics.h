// Scrape-time collectors for the controller's /metrics: the process (the client libraries'
// standard process_* names: CPU seconds, resident and virtual memory, open and maximum file
// descriptors, threads, start time) from /proc/self, and the store's size on disk. Parsing is
// pure (parseProcSelfStat, parseBootTime, parseMaxOpenFiles); the collectors read through
// os::FileSystem.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/registry.h"
#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::controller::telemetry {

struct ProcSelfStat {
  double cpu_seconds = 0;  // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double threads = 0;
  double start_ticks = 0;  // since boot, in clock ticks
};

// /proc/[pid]/stat (the command name may hold spaces and parentheses). InvalidArgument when
// it does not parse.
Result<ProcSelfStat> parseProcSelfStat(std::string_view text, long ticks_per_second,
                                       long page_size);
// /proc/stat's "btime SECONDS".
std::optional<double> parseBootTime(std::string_view proc_stat);
// /proc/[pid]/limits' soft "Max open files"; nullopt when unlimited or absent.
std::optional<double> parseMaxOpenFiles(std::string_view limits);

struct ProcessSources {
  long ticks_per_second = 100;  // sysconf(_SC_CLK_TCK)
  long page_size = 4096;        // sysconf(_SC_PAGESIZE)
};

// process_* families, read at each scrape from /proc/self through `fs` (which must outlive
// the registry's scrapes). A file that cannot be read leaves its families without samples.
void addProcessCollector(metrics::Registry& registry, os::FileSystem& fs, ProcessSources sources);

// postwarden_store_size_bytes{file}: the size of each of `files` ({"db", path}, {"wal", ...});
// a missing file counts 0.
void addStoreSizeCollector(metrics::Registry& registry, os::FileSystem& fs,
                           std::vector<std::pair<std::string, std::string>> files);

}  // namespace postwarden::controller::telemetry
