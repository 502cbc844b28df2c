// fleetsim's /proc parsing and process figures (pure).
#include "bench/fleetsim/process_sampler.h"

#include <gtest/gtest.h>

namespace postwarden::fleetsim {
namespace {

// A real line's shape; comm with a space and a ')' (split at the last one).
constexpr char kStat[] =
    "4242 (postgres: wal) w) S 4200 4200 4200 0 -1 4194560 100 0 0 0 150 30 7 3 20 0 1 0 "
    "123456 1000000 500 18446744073709551615 0 0 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ParseProcStatTest, TakesPidParentAndAllFourCpuTimes) {
  std::optional<ProcStat> stat = parseProcStat(kStat);
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, 4242);
  EXPECT_EQ(stat->ppid, 4200);
  EXPECT_EQ(stat->cpu_ticks, 150 + 30 + 7 + 3);
}

TEST(ParseProcStatTest, TruncatedOrGarbageIsNothing) {
  EXPECT_FALSE(parseProcStat("").has_value());
  EXPECT_FALSE(parseProcStat("4242 (x) S 1 2 3").has_value());
  EXPECT_FALSE(parseProcStat("no parentheses here").has_value());
}

TEST(ParseKibFieldTest, FindsTheKeyNotAPrefixOfIt) {
  const char status[] = "Name:\tpostgres\nVmRSSx:\t1 kB\nVmRSS:\t  20480 kB\nPss:\t512 kB\n";
  EXPECT_EQ(parseKibField(status, "VmRSS"), 20480);
  EXPECT_EQ(parseKibField(status, "Pss"), 512);
  EXPECT_FALSE(parseKibField(status, "VmHWM").has_value());
  EXPECT_FALSE(parseKibField("", "VmRSS").has_value());
}

TEST(DescendantsOfTest, FollowsTheWholeTreeAndNothingElse) {
  std::vector<std::pair<int, int>> procs = {{1, 0},     {100, 1}, {101, 100}, {102, 100},
                                            {103, 102}, {200, 1}, {201, 200}};
  std::vector<int> tree = descendantsOf(100, procs);
  std::sort(tree.begin(), tree.end());
  EXPECT_EQ(tree, (std::vector<int>{100, 101, 102, 103}));
  EXPECT_TRUE(descendantsOf(999, procs).empty());  // gone
}

TEST(FiguresOfTest, CpuIsTicksOverTheWindowAndPeaksAreKept) {
  std::vector<ProcessReading> r = {
      {.at_s = 1, .alive = true, .cpu_ticks = 0, .rss_mib = 10, .processes = 1},
      {.at_s = 2, .alive = true, .cpu_ticks = 100, .rss_mib = 50, .processes = 3},
      {.at_s = 4, .alive = true, .cpu_ticks = 250, .rss_mib = 40, .pss_mib = 30, .processes = 2},
      {.at_s = 6, .alive = true, .cpu_ticks = 1000, .rss_mib = 90, .processes = 2}};
  // Window [2, 4]: 150 ticks at 100/s over 2 s = 75 % of one core; the 6 s reading is outside.
  ProcessFigures f = figuresOf("pg", 7, r, 2, 4, 100);
  EXPECT_EQ(f.name, "pg");
  EXPECT_EQ(f.pid, 7);
  EXPECT_DOUBLE_EQ(f.window_s, 2);
  EXPECT_DOUBLE_EQ(f.cpu_percent, 75);
  EXPECT_DOUBLE_EQ(f.rss_mib_peak, 50);
  EXPECT_DOUBLE_EQ(f.pss_mib_peak, 30);
  EXPECT_EQ(f.processes, 2);
  EXPECT_FALSE(f.died);
}

TEST(FiguresOfTest, AProcessKilledMidWindowCountsUntilItsLastReading) {
  std::vector<ProcessReading> r = {{.at_s = 0, .alive = true, .cpu_ticks = 0, .processes = 1},
                                   {.at_s = 1, .alive = true, .cpu_ticks = 50, .processes = 1},
                                   {.at_s = 2, .alive = false},
                                   {.at_s = 3, .alive = false}};
  ProcessFigures f = figuresOf("replica-b", 9, r, 0, 3, 100);
  EXPECT_TRUE(f.died);
  EXPECT_DOUBLE_EQ(f.window_s, 1);
  EXPECT_DOUBLE_EQ(f.cpu_percent, 50);
  EXPECT_EQ(figuresOf("x", 1, r, 2, 3, 100).cpu_percent, 0);  // never alive in the window
}

TEST(ParseSampleSpecTest, NameEqualsPid) {
  Result<SampleSpec> spec = parseSampleSpec("replica-a=1234", false);
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "replica-a");
  EXPECT_EQ(spec->pid, 1234);
  EXPECT_FALSE(spec->tree);
  EXPECT_TRUE(parseSampleSpec("pg=1", true)->tree);
  for (const char* bad : {"1234", "=1234", "a=", "a=12x", "a=-3", "a=0"}) {
    Result<SampleSpec> r = parseSampleSpec(bad, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--sample-tree needs NAME=PID"), std::string::npos);
  }
}

}  // namespace
}  // namespace postwarden::fleetsim
