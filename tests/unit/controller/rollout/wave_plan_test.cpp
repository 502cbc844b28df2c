#include "controller/rollout/wave_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::controller::rollout {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

RolloutSpec spec(std::string_view waves, std::string_view extra = "anytime: true\n") {
  Result<RolloutSpec> s =
      parseRolloutSpec("name: r\nbaseline: mx@v2\nselector: role=mx\nwaves: " + std::string(waves) +
                           "\n" + std::string(extra),
                       "r.yaml");
  EXPECT_TRUE(s.ok()) << s.status().toString();
  return s.ok() ? *s : RolloutSpec{};
}

// mx01..mx10 (mx01-mx05 in fra1, the rest in ams1), mx04 already on v2, and a relay.
std::vector<FleetHost> fleet() {
  std::vector<FleetHost> hosts;
  for (int i = 10; i >= 1; --i) {  // unsorted on purpose
    const std::string id = (i < 10 ? "mx0" : "mx") + std::to_string(i);
    hosts.push_back(
        {id, {{"role", "mx"}, {"site", i <= 5 ? "fra1" : "ams1"}}, i == 4 ? "v2" : "v1"});
  }
  hosts.push_back({"relay1", {{"role", "relay"}}, "v1"});
  return hosts;
}

TEST(WavePlanTest, AssignsEachHostOnceInIdOrder) {
  Result<WavePlan> plan = planWaves(
      spec("[{canary: [mx07]}, {canary: 2}, {labels: {site: fra1}}, {percent: 100}]"), fleet());
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_THAT(plan->already_done, ElementsAre("mx04"));
  ASSERT_EQ(plan->waves.size(), 4u);
  EXPECT_THAT(plan->waves[0].hosts, ElementsAre("mx07"));
  EXPECT_TRUE(plan->waves[0].canary);
  EXPECT_EQ(plan->waves[0].description, "canary [mx07]");
  EXPECT_THAT(plan->waves[1].hosts, ElementsAre("mx01", "mx02"));
  EXPECT_THAT(plan->waves[2].hosts, ElementsAre("mx03", "mx05"));
  EXPECT_FALSE(plan->waves[2].canary);
  EXPECT_THAT(plan->waves[3].hosts, ElementsAre("mx06", "mx08", "mx09", "mx10"));
  EXPECT_EQ(plan->waves[3].soak, absl::Minutes(10));
}

TEST(WavePlanTest, PercentIsOfTheHostsThatNeedTheChangeRoundedUp) {
  // 9 hosts need the change: 25% is 3 (2.25 rounded up), twice, then the remaining 3.
  Result<WavePlan> plan =
      planWaves(spec("[{percent: 25}, {percent: 25}, {percent: 100}]"), fleet());
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_THAT(plan->waves[0].hosts, ElementsAre("mx01", "mx02", "mx03"));
  EXPECT_THAT(plan->waves[1].hosts, ElementsAre("mx05", "mx06", "mx07"));
  EXPECT_THAT(plan->waves[2].hosts, ElementsAre("mx08", "mx09", "mx10"));
}

TEST(WavePlanTest, NamedCanaryAlreadyOnTargetLeavesAnEmptyWave) {
  Result<WavePlan> plan = planWaves(spec("[{canary: [mx04]}, {percent: 100}]"), fleet());
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  EXPECT_THAT(plan->waves[0].hosts, IsEmpty());
  EXPECT_EQ(plan->waves[1].hosts.size(), 9u);
}

TEST(WavePlanTest, Errors) {
  EXPECT_THAT(planWaves(spec("[{canary: [relay1]}, {percent: 100}]"), fleet()).status().message(),
              HasSubstr("canary host 'relay1' is not selected by 'role=mx'"));
  EXPECT_THAT(planWaves(spec("[{canary: [mx99]}, {percent: 100}]"), fleet()).status().message(),
              HasSubstr("'mx99' is not selected"));
  EXPECT_THAT(planWaves(spec("[{canary: 1}, {percent: 50}]"), fleet()).status().message(),
              HasSubstr("3 selected host(s) are in no wave: mx08, mx09, mx10"));
  std::vector<FleetHost> twice = fleet();
  twice.push_back(twice.front());
  EXPECT_THAT(planWaves(spec("[{percent: 100}]"), twice).status().message(),
              HasSubstr("host 'mx10' is listed twice"));
}

TEST(WavePlanTest, HostsWithoutAWindowAreRefusedUnlessAnytime) {
  const RolloutSpec s = spec("[{percent: 100}]",
                             "windows: [{days: [Sat], start: \"02:00\", end: \"04:00\", "
                             "time_zone: UTC, selector: site=fra1}]\n");
  Result<WavePlan> plan = planWaves(s, fleet());
  EXPECT_EQ(plan.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      plan.status().message(),
      HasSubstr("5 selected host(s) have no maintenance window: mx06, mx07, mx08, mx09, mx10"));
  EXPECT_THAT(windowsFor(s, {{"site", "fra1"}}), ElementsAre(0u));
  EXPECT_THAT(windowsFor(s, {{"site", "ams1"}}), IsEmpty());
}

}  // namespace
}  // namespace postwarden::controller::rollout
