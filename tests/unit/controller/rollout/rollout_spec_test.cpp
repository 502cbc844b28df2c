#include "controller/rollout/rollout_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

namespace postwarden::controller::rollout {
namespace {

using ::testing::HasSubstr;

constexpr char kFull[] = R"(
name: tls-hardening
baseline: mx-baseline@sha256:3f2a
selector: role=mx,site=fra1
soak: 15m
waves:
  - canary: [mx1]
    soak: 30m
  - canary: 2
  - percent: 50
  - labels: {rack: r2}
windows:
  - "Sat,Sun 02:00-04:00 Europe/Berlin"
  - {days: [Tue], start: "22:00", end: "02:00", time_zone: UTC, selector: "rack=r2"}
max_failures: "10%"
on_window_end: rollback
rollback: in_window
approvals: 2
health:
  max_fatal_lines: 0
  max_tls_failures: 5
  missed_reports: 4
  report_interval: 2m
  max_sasl_failure_increase: 300%
  sasl_failure_floor: 25
  min_connection_ratio: 40%
  min_delivery_ratio: 0%
  min_events_before: 100
max_in_flight: 25%
)";

Result<RolloutSpec> parse(std::string_view yaml) { return parseRolloutSpec(yaml, "r.yaml"); }

TEST(RolloutSpecTest, ParsesEveryField) {
  Result<RolloutSpec> spec = parse(kFull);
  ASSERT_TRUE(spec.ok()) << spec.status().toString();
  EXPECT_EQ(spec->name, "tls-hardening");
  EXPECT_EQ(spec->baseline, (BaselineRef{"mx-baseline", "sha256:3f2a"}));
  EXPECT_EQ(toString(spec->selector), "role=mx,site=fra1");
  ASSERT_EQ(spec->waves.size(), 4u);
  EXPECT_EQ(spec->waves[0].kind, WaveSpec::Kind::kCanaryHosts);
  EXPECT_EQ(spec->waves[0].hosts, std::vector<std::string>{"mx1"});
  EXPECT_EQ(spec->waves[0].soak, absl::Minutes(30));
  EXPECT_EQ(spec->waves[1].kind, WaveSpec::Kind::kCanaryCount);
  EXPECT_EQ(spec->waves[1].count, 2);
  EXPECT_EQ(spec->waves[1].soak, absl::Minutes(15));  // the top-level soak
  EXPECT_EQ(spec->waves[2].percent, 50);
  EXPECT_EQ(toString(spec->waves[3].labels), "rack=r2");
  ASSERT_EQ(spec->windows.size(), 2u);
  EXPECT_EQ(toString(spec->windows[1]), "Tue 22:00-02:00 UTC [rack=r2]");
  EXPECT_FALSE(spec->anytime);
  EXPECT_EQ(spec->max_failures, (FailureBudget{.is_percent = true, .value = 10}));
  EXPECT_EQ(spec->on_window_end, OnWindowEnd::kRollback);
  EXPECT_EQ(spec->rollback, RollbackTiming::kInWindow);
  EXPECT_EQ(spec->approvals, 2);
  EXPECT_EQ(spec->health.max_tls_failures, 5);
  EXPECT_EQ(spec->health.missed_reports, 4);
  EXPECT_EQ(spec->health.report_interval, absl::Minutes(2));
  EXPECT_EQ(spec->health.max_deferred_growth, 100);  // default
  EXPECT_EQ(spec->health.max_sasl_failure_increase, 300);
  EXPECT_EQ(spec->health.sasl_failure_floor, 25);
  EXPECT_EQ(spec->health.min_connection_ratio, 40);
  EXPECT_EQ(spec->health.min_delivery_ratio, 0);
  EXPECT_EQ(spec->health.min_events_before, 100);
  EXPECT_EQ(spec->max_in_flight, (InFlightLimit{.is_percent = true, .value = 25}));
}

TEST(RolloutSpecTest, Defaults) {
  Result<RolloutSpec> spec =
      parse("name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\nanytime: true\n");
  ASSERT_TRUE(spec.ok()) << spec.status().toString();
  EXPECT_TRUE(spec->selector.empty());
  EXPECT_EQ(spec->waves[0].soak, absl::Minutes(10));
  EXPECT_TRUE(spec->anytime);
  EXPECT_EQ(spec->max_failures.allowed(100), 0);
  EXPECT_EQ(spec->on_window_end, OnWindowEnd::kPause);
  EXPECT_EQ(spec->rollback, RollbackTiming::kImmediately);
  EXPECT_EQ(spec->approvals, 0);
  EXPECT_EQ(spec->health.missed_reports, 3);
  EXPECT_EQ(spec->health.max_sasl_failure_increase, 100);
  EXPECT_EQ(spec->health.sasl_failure_floor, 10);
  EXPECT_EQ(spec->health.min_connection_ratio, 50);
  EXPECT_EQ(spec->health.min_delivery_ratio, 50);
  EXPECT_EQ(spec->health.min_events_before, 20);
  EXPECT_EQ(spec->max_in_flight.value, 0);  // no limit
  EXPECT_EQ(spec->max_in_flight.allowed(1000), std::numeric_limits<int>::max());
}

struct BadCase {
  const char* yaml;
  const char* message;
};

TEST(RolloutSpecTest, ErrorsSayWhereAndWhat) {
  const std::string head = "name: r\nbaseline: b@v1\nanytime: true\n";
  const BadCase cases[] = {
      {"wavs: []\n", "r.yaml:4:1: unknown key 'wavs' in the rollout spec (did you mean 'waves'?)"},
      {"waves: [{percent: 10, canary: 1}]\n", "more than one of canary, percent, labels"},
      {"waves: [{soak: 5m}]\n", "wave 1 needs one of canary, percent, labels"},
      {"waves: [{canary: [a]}, {canary: [a]}]\n", "canary host 'a' is named twice"},
      {"waves: [{percent: 0}]\n", "r.yaml:4:19: percent must be from 1 to 100"},
      {"waves: [{percent: 100, sook: 1m}]\n",
       "unknown key 'sook' in wave 1 (did you mean 'soak'?)"},
      {"waves: []\n", "'waves' must be a non-empty list"},
      {"waves: [{percent: 100}]\non_window_end: pase\n", "(did you mean 'pause'?)"},
      {"waves: [{percent: 100}]\nsoak: 10x\n", "r.yaml:5:7: soak: expected a duration"},
      {"waves: [{percent: 100}]\nmax_failures: lots\n", "max_failures: expected a number"},
      {"waves: [{percent: 100}]\nhealth: {missed_reports: 0}\n", "at least 1"},
      {"waves: [{percent: 100}]\nwaves: []\n", "r.yaml:5:1: duplicate key 'waves'"},
      {"waves: [{labels: {}}]\n", "labels must be a non-empty map"},
      {"waves: [{percent: 100}]\nhealth: {min_delivery_ratio: 150%}\n",
       "r.yaml:5:30: min_delivery_ratio: expected a percentage from 0% to 100%"},
      {"waves: [{percent: 100}]\nhealth: {min_connection_ratio: 0.5}\n",
       "min_connection_ratio: expected a percentage from 0% to 100% (e.g. \"50%\"), not '0.5'"},
      {"waves: [{percent: 100}]\nhealth: {max_sasl_failure_increase: -5%}\n",
       "max_sasl_failure_increase: expected a percentage from 0% to 10000%"},
      {"waves: [{percent: 100}]\nhealth: {sasl_failure_floor: -1}\n", "sasl_failure_floor"},
      {"waves: [{percent: 100}]\nhealth: {min_events_before: many}\n", "min_events_before"},
      {"waves: [{percent: 100}]\nhealth: {min_delivery_ratios: 50%}\n",
       "unknown key 'min_delivery_ratios' in health (did you mean 'min_delivery_ratio'?)"},
      {"waves: [{percent: 100}]\nmax_in_flight: 0\n",
       "r.yaml:5:16: max_in_flight: expected a number of hosts of at least 1"},
      {"waves: [{percent: 100}]\nmax_in_flight: 101%\n", "max_in_flight: expected"},
      {"waves: [{percent: 100}]\nmax_in_fligth: 2\n", "(did you mean 'max_in_flight'?)"},
  };
  for (const BadCase& c : cases) {
    Result<RolloutSpec> spec = parse(head + c.yaml);
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(spec.status().message(), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(RolloutSpecTest, WindowsAreRequiredUnlessAnytime) {
  Result<RolloutSpec> spec = parse("name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\n");
  EXPECT_THAT(spec.status().message(), HasSubstr("no maintenance windows"));
  EXPECT_THAT(spec.status().message(), HasSubstr("anytime: true"));
  spec = parse("name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\nwindows: none\n");
  EXPECT_THAT(spec.status().message(), HasSubstr("'windows' must be a list"));
}

TEST(RolloutSpecTest, UnknownTimeZoneIsRefusedWithItsPosition) {
  Result<RolloutSpec> spec = parse(
      "name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\n"
      "windows:\n  - {days: [Sat], start: \"02:00\", end: \"04:00\", time_zone: Mars/Olympus}\n");
  EXPECT_THAT(spec.status().message(), HasSubstr("r.yaml:5:5: window: unknown time zone"));
  spec = parse(
      "name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\n"
      "windows: [\"Sat 02:00-04:00 Europe/Berlim\"]\n");
  EXPECT_THAT(spec.status().message(), HasSubstr("unknown time zone 'Europe/Berlim'"));
  spec = parse(
      "name: r\nbaseline: b@v1\nwaves: [{percent: 100}]\n"
      "windows: [{days: Sat, start: \"02:00\", end: \"04:00\"}]\n");
  EXPECT_THAT(spec.status().message(), HasSubstr("the window has no 'time_zone'"));
}

TEST(RolloutSpecTest, MissingFieldsAndBadYaml) {
  EXPECT_THAT(parse("name: r\nwaves: [{percent: 100}]\nanytime: true\n").status().message(),
              HasSubstr("has no 'baseline'"));
  EXPECT_THAT(parse("- a\n").status().message(),
              HasSubstr("r.yaml:1:1: the rollout spec must be a map"));
  EXPECT_THAT(parse("name: [\n").status().message(), HasSubstr("r.yaml:"));
  EXPECT_THAT(parse("a: 1\n---\nb: 2\n").status().message(), HasSubstr("second document"));
}

}  // namespace
}  // namespace postwarden::controller::rollout
