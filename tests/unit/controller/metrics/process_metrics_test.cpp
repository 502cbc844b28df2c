#include "controller/metrics/process_metrics.h"

#include <gtest/gtest.h>

#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::controller::telemetry {
namespace {

// A real line of /proc/self/stat, with a command name holding spaces and a parenthesis.
constexpr char kStat[] =
    "4242 (postwarden (x) c) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 150 0 0 20 0 12 0 "
    "98765 794492928 5543 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesProcSelfStat) {
  Result<ProcSelfStat> s = parseProcSelfStat(kStat, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);  // (250 + 150) / 100
  EXPECT_DOUBLE_EQ(s->threads, 12);
  EXPECT_DOUBLE_EQ(s->start_ticks, 98765);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 794492928);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 5543.0 * 4096);
}

TEST(ProcessMetricsTest, RefusesTruncatedStat) {
  EXPECT_FALSE(parseProcSelfStat("4242 (x) S 1 2 3", 100, 4096).ok());
  EXPECT_FALSE(parseProcSelfStat("", 100, 4096).ok());
  EXPECT_FALSE(parseProcSelfStat(kStat, 0, 4096).ok());
}

TEST(ProcessMetricsTest, ParsesBootTimeAndMaxOpenFiles) {
  EXPECT_EQ(parseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), 1700000000.0);
  EXPECT_EQ(parseBootTime("cpu 1\n"), std::nullopt);
  EXPECT_EQ(parseMaxOpenFiles("Limit                     Soft Limit           Hard Limit           "
                              "Units     \nMax open files            1024                 "
                              "524288               files     \n"),
            1024.0);
  EXPECT_EQ(parseMaxOpenFiles("Max open files            unlimited            unlimited    "
                              "        files     \n"),
            std::nullopt);
}

TEST(ProcessMetricsTest, CollectorsReadThroughTheFileSystem) {
  fakes::InMemoryFileSystem fs;
  fs.addFile("/proc/self/stat", kStat);
  fs.addFile("/proc/stat", "btime 1700000000\n");
  fs.addFile("/proc/self/fd/0", "");
  fs.addFile("/proc/self/fd/1", "");
  fs.addFile("/proc/self/fd/2", "");
  fs.addFile("/data/controller.db", std::string(8192, 'x'));
  metrics::Registry registry;
  addProcessCollector(registry, fs, {.ticks_per_second = 100, .page_size = 4096});
  addStoreSizeCollector(registry, fs, {{"db", "/data/controller.db"}, {"wal", "/data/x-wal"}});
  std::string text = registry.renderText();
  EXPECT_NE(text.find("process_cpu_seconds_total 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("process_open_fds 3\n"), std::string::npos);
  EXPECT_NE(text.find("process_start_time_seconds 1700000987.65\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_max_fds gauge\n# HELP"), std::string::npos)
      << "no limits file: the family without samples";
  EXPECT_NE(text.find("postwarden_store_size_bytes{file=\"db\"} 8192\n"), std::string::npos);
  EXPECT_NE(text.find("postwarden_store_size_bytes{file=\"wal\"} 0\n"), std::string::npos);
}

}  // namespace
}  // namespace postwarden::controller::telemetry
