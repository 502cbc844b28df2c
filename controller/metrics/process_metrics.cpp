#include "controller/metrics/process_metrics.h"

#include <charconv>
#include <sstream>

namespace postwarden::controller::telemetry {

using metrics::FamilySnapshot;
using metrics::MetricType;

namespace {

std::optional<double> number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

FamilySnapshot one(std::string name, std::string help, MetricType type,
                   std::optional<double> value) {
  FamilySnapshot f{.name = std::move(name), .help = std::move(help), .type = type};
  if (value) f.samples.push_back({.value = *value});
  return f;
}

}  // namespace

Result<ProcSelfStat> parseProcSelfStat(std::string_view text, long ticks_per_second,
                                       long page_size) {
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) {
    return InvalidArgumentError("unexpected /proc stat format");
  }
  std::vector<std::string_view> fields;  // fields[0] is field 3 (state)
  std::string_view rest = text.substr(close + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) ++i;
    size_t start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\n') ++i;
    if (i > start) fields.push_back(rest.substr(start, i - start));
  }
  // Fields (man 5 proc), 1-based: utime 14, stime 15, num_threads 20, starttime 22, vsize 23,
  // rss 24 (pages).
  auto field = [&](size_t n) -> std::optional<double> {
    if (n - 3 >= fields.size()) return std::nullopt;
    return number(fields[n - 3]);
  };
  auto utime = field(14), stime = field(15), threads = field(20), start = field(22),
       vsize = field(23), rss = field(24);
  if (!utime || !stime || !threads || !start || !vsize || !rss) {
    return InvalidArgumentError("unexpected /proc stat format");
  }
  return ProcSelfStat{.cpu_seconds = (*utime + *stime) / static_cast<double>(ticks_per_second),
                      .resident_bytes = *rss * static_cast<double>(page_size),
                      .virtual_bytes = *vsize,
                      .threads = *threads,
                      .start_ticks = *start};
}

std::optional<double> parseBootTime(std::string_view proc_stat) {
  std::istringstream in{std::string(proc_stat)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("btime ")) return number(line.substr(6));
  }
  return std::nullopt;
}

std::optional<double> parseMaxOpenFiles(std::string_view limits) {
  std::istringstream in{std::string(limits)};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream fields(line.substr(std::string_view("Max open files").size()));
    std::string soft;
    fields >> soft;
    return number(soft);  // "unlimited" -> nullopt
  }
  return std::nullopt;
}

void addProcessCollector(metrics::Registry& registry, os::FileSystem& fs, ProcessSources sources) {
  registry.addCollector([&fs, sources](std::vector<FamilySnapshot>& out) {
    std::optional<ProcSelfStat> stat;
    if (Result<std::string> text = fs.readFile("/proc/self/stat"); text.ok()) {
      Result<ProcSelfStat> parsed =
          parseProcSelfStat(*text, sources.ticks_per_second, sources.page_size);
      if (parsed.ok()) stat = *parsed;
    }
    std::optional<double> boot;
    if (Result<std::string> text = fs.readFile("/proc/stat"); text.ok())
      boot = parseBootTime(*text);
    std::optional<double> fds;
    if (Result<std::vector<std::string>> entries = fs.listDirectory("/proc/self/fd");
        entries.ok()) {
      fds = static_cast<double>(entries->size());
    }
    std::optional<double> max_fds;
    if (Result<std::string> text = fs.readFile("/proc/self/limits"); text.ok()) {
      max_fds = parseMaxOpenFiles(*text);
    }
    auto from = [&](double ProcSelfStat::*member) -> std::optional<double> {
      if (!stat) return std::nullopt;
      return (*stat).*member;
    };
    std::optional<double> start;
    if (stat && boot) start = *boot + stat->start_ticks / sources.ticks_per_second;
    out.push_back(one("process_cpu_seconds_total",
                      "Total user and system CPU time spent in seconds.", MetricType::kCounter,
                      from(&ProcSelfStat::cpu_seconds)));
    out.push_back(one("process_resident_memory_bytes", "Resident memory size in bytes.",
                      MetricType::kGauge, from(&ProcSelfStat::resident_bytes)));
    out.push_back(one("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                      MetricType::kGauge, from(&ProcSelfStat::virtual_bytes)));
    out.push_back(one("process_threads", "Threads of the process.", MetricType::kGauge,
                      from(&ProcSelfStat::threads)));
    out.push_back(
        one("process_open_fds", "Number of open file descriptors.", MetricType::kGauge, fds));
    out.push_back(one("process_max_fds", "Maximum number of open file descriptors.",
                      MetricType::kGauge, max_fds));
    out.push_back(one("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.", MetricType::kGauge,
                      start));
  });
}

void addStoreSizeCollector(metrics::Registry& registry, os::FileSystem& fs,
                           std::vector<std::pair<std::string, std::string>> files) {
  registry.addCollector([&fs, files = std::move(files)](std::vector<FamilySnapshot>& out) {
    FamilySnapshot f{.name = "postwarden_store_size_bytes",
                     .help = "Size of the store's files on disk (SQLite database and its WAL).",
                     .type = MetricType::kGauge};
    for (const auto& [label, path] : files) {
      Result<os::FileInfo> info = fs.stat(path);
      f.samples.push_back({.labels = {{"file", label}},
                           .value = info.ok() ? static_cast<double>(info->size) : 0.0});
    }
    out.push_back(std::move(f));
  });
}

}  // namespace postwarden::controller::telemetry
