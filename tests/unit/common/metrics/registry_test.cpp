#include "common/metrics/registry.h"

#include <gtest/gtest.h>

#include <thread>

namespace postwarden::metrics {
namespace {

TEST(RegistryTest, CountersOnlyGoUp) {
  Registry registry;
  Counter& c = registry.counter("c_total", "help").with({});
  c.inc();
  c.inc(2.5);
  c.inc(-10);
  EXPECT_DOUBLE_EQ(c.value(), 3.5);
}

TEST(RegistryTest, RendersLabelledSeriesSorted) {
  Registry registry;
  Family<Counter>& calls = registry.counter("calls_total", "Calls.", {"method", "code"});
  calls.with({"/b", "OK"}).inc();
  calls.with({"/a", "UNAVAILABLE"}).inc(2);
  calls.with({"/b", "OK"}).inc();
  registry.gauge("up", "Up.").with({}).set(1);
  EXPECT_EQ(registry.renderText(),
            "# HELP calls_total Calls.\n# TYPE calls_total counter\n"
            "calls_total{method=\"/a\",code=\"UNAVAILABLE\"} 2\n"
            "calls_total{method=\"/b\",code=\"OK\"} 2\n"
            "# HELP up Up.\n# TYPE up gauge\nup 1\n");
}

TEST(RegistryTest, SeriesPastTheLimitShareOneOverflowSeries) {
  Registry registry;
  Family<Counter>& f = registry.counter("f_total", "h", {"peer"}, 2);
  f.with({"a"}).inc();
  f.with({"b"}).inc();
  f.with({"c"}).inc();
  f.with({"d"}).inc();
  f.with({"a"}).inc();  // existing series keep counting
  auto series = f.series();
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].first, std::vector<std::string>{"_overflow"});
  EXPECT_DOUBLE_EQ(series[0].second->value(), 2);
  EXPECT_EQ(series[1].first, std::vector<std::string>{"a"});
  EXPECT_DOUBLE_EQ(series[1].second->value(), 2);
}

TEST(RegistryTest, HistogramBucketsAreCumulativeWithInf) {
  Registry registry;
  Family<Histogram>& h = registry.histogram("lat_seconds", "Latency.", {0.1, 1}, {"op"});
  h.with({"w"}).observe(0.05);
  h.with({"w"}).observe(0.1);  // le is inclusive
  h.with({"w"}).observe(0.5);
  h.with({"w"}).observe(7);
  EXPECT_EQ(registry.renderText(),
            "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{op=\"w\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{op=\"w\",le=\"1\"} 3\n"
            "lat_seconds_bucket{op=\"w\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{op=\"w\"} 7.65\n"
            "lat_seconds_count{op=\"w\"} 4\n");
}

TEST(RegistryTest, ExponentialBuckets) {
  EXPECT_EQ(exponentialBuckets(0.001, 2, 4), (std::vector<double>{0.001, 0.002, 0.004, 0.008}));
}

TEST(RegistryTest, CollectorsAppendAfterFamilies) {
  Registry registry;
  registry.gauge("a", "A.").with({}).set(2);
  registry.addCollector([](std::vector<FamilySnapshot>& out) {
    out.push_back({.name = "b", .help = "B.", .samples = {{.value = 5}}});
  });
  std::vector<FamilySnapshot> families = registry.collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[1].name, "b");
  EXPECT_EQ(families[1].samples[0].value, 5);
}

TEST(RegistryTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  Family<Counter>& f = registry.counter("n_total", "h", {"t"});
  Histogram& h = registry.histogram("h_seconds", "h", {1}).with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        f.with({std::to_string(t % 2)}).inc();
        h.observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_DOUBLE_EQ(f.with({"0"}).value() + f.with({"1"}).value(), 40000);
  EXPECT_EQ(h.snapshot().count, 40000u);
}

TEST(RegistryDeathTest, BadNamesAreBugs) {
  Registry registry;
  EXPECT_DEATH(registry.counter("bad-name", "h"), "check failed");
  EXPECT_DEATH(registry.gauge("g", "h", {"le"}), "check failed");
  registry.gauge("dup", "h");
  EXPECT_DEATH(registry.gauge("dup", "h"), "check failed");
}

}  // namespace
}  // namespace postwarden::metrics
