#include "controller/rollout/spec_values.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace postwarden::controller::rollout {
namespace {

using ::testing::HasSubstr;

TEST(SpecValuesTest, SelectorParsesSortsAndMatches) {
  Result<LabelSelector> s = parseSelector(" site=fra1 , role=mx");
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(toString(*s), "role=mx,site=fra1");
  EXPECT_TRUE(matches(*s, {{"role", "mx"}, {"site", "fra1"}, {"extra", "x"}}));
  EXPECT_FALSE(matches(*s, {{"role", "mx"}}));
  EXPECT_FALSE(matches(*s, {{"role", "mx"}, {"site", "ams1"}}));
  EXPECT_TRUE(parseSelector("")->empty());
  EXPECT_TRUE(matches(LabelSelector{}, {}));
}

TEST(SpecValuesTest, SelectorErrors) {
  EXPECT_THAT(parseSelector("role").status().message(), HasSubstr("must be key=value"));
  EXPECT_THAT(parseSelector("role=mx,role=relay").status().message(), HasSubstr("twice"));
  EXPECT_THAT(parseSelector("role=").status().message(), HasSubstr("1 to 63 characters"));
  EXPECT_THAT(parseSelector("role=mx,").status().message(), HasSubstr("must be key=value"));
}

TEST(SpecValuesTest, Durations) {
  EXPECT_EQ(*parseDuration("30s"), absl::Seconds(30));
  EXPECT_EQ(*parseDuration("10m"), absl::Minutes(10));
  EXPECT_EQ(*parseDuration("2h"), absl::Hours(2));
  EXPECT_EQ(*parseDuration("90"), absl::Seconds(90));
  EXPECT_EQ(*parseDuration("1d"), absl::Hours(24));
  for (const char* bad : {"", "m", "10x", "-5m", "1.5h", "10 m", "1h30m"}) {
    EXPECT_THAT(parseDuration(bad).status().message(), HasSubstr("expected a duration")) << bad;
  }
}

TEST(SpecValuesTest, BaselineRef) {
  Result<BaselineRef> ref = parseBaselineRef("mx-baseline@sha256:3f2a");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->name, "mx-baseline");
  EXPECT_EQ(ref->version, "sha256:3f2a");
  EXPECT_THAT(parseBaselineRef("mx-baseline").status().message(), HasSubstr("NAME@DIGEST"));
  EXPECT_THAT(parseBaselineRef("a@b@c").status().message(), HasSubstr("NAME@DIGEST"));
  EXPECT_THAT(parseBaselineRef("@v1").status().message(), HasSubstr("baseline name"));
  EXPECT_THAT(parseBaselineRef("mx@v 1").status().message(), HasSubstr("baseline digest"));
}

TEST(SpecValuesTest, FailureBudget) {
  EXPECT_EQ(parseFailureBudget("1")->allowed(10), 1);
  EXPECT_EQ(parseFailureBudget("10%")->allowed(10), 1);
  EXPECT_EQ(parseFailureBudget("10%")->allowed(5), 0);
  EXPECT_EQ(parseFailureBudget("0")->allowed(50), 0);
  EXPECT_THAT(parseFailureBudget("101%").status().message(), HasSubstr("percentage"));
  EXPECT_THAT(parseFailureBudget("one").status().message(), HasSubstr("number of hosts"));
}

TEST(SpecValuesTest, InFlightLimit) {
  EXPECT_EQ(parseInFlightLimit("2")->allowed(500), 2);
  EXPECT_EQ(parseInFlightLimit("10%")->allowed(500), 50);
  EXPECT_EQ(parseInFlightLimit("10%")->allowed(11), 2);                      // rounded up
  EXPECT_EQ(parseInFlightLimit("1%")->allowed(3), 1);                        // at least one
  EXPECT_EQ(InFlightLimit{}.allowed(500), std::numeric_limits<int>::max());  // no limit
  EXPECT_THAT(parseInFlightLimit("0").status().message(), HasSubstr("omit it for no limit"));
  EXPECT_THAT(parseInFlightLimit("0%").status().message(), HasSubstr("at least 1"));
  EXPECT_FALSE(parseInFlightLimit("-1").ok());
}

TEST(SpecValuesTest, Percent) {
  EXPECT_EQ(*parsePercent("50%", 100), 50);
  EXPECT_EQ(*parsePercent("0%", 100), 0);
  EXPECT_EQ(*parsePercent("300%", 10000), 300);
  for (const char* bad : {"50", "0.5", "%", "101%", "-5%", "5 %", ""}) {
    EXPECT_FALSE(parsePercent(bad, 100).ok()) << bad;
  }
}

}  // namespace
}  // namespace postwarden::controller::rollout
