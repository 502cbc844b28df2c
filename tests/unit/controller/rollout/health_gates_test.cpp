#include "controller/rollout/health_gates.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::controller::rollout {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A quiet, healthy host whose period before the change is known.
GateFigures quiet() {
  return GateFigures{.connections = 100,
                     .deliveries = 80,
                     .connections_before = 100,
                     .deliveries_before = 80,
                     .before_known = true};
}

TEST(HealthGatesTest, TheDefaultsPassAHostAsBusyAsBefore) {
  EXPECT_THAT(exceededGates(HealthGate{}, quiet()), IsEmpty());
}

TEST(HealthGatesTest, AbsoluteGatesNameFigureValueAndThreshold) {
  GateFigures f = quiet();
  f.deferred_growth = 101;
  f.fatal_lines = 1;
  EXPECT_EQ(exceededGates(HealthGate{}, f), "deferred growth 101 > 100, fatal lines 1 > 0");
}

TEST(HealthGatesTest, ADeliveryDropBelowTheRatioFails) {
  GateFigures f = quiet();
  f.deliveries = 39;  // 50% of 80 is 40
  EXPECT_EQ(exceededGates(HealthGate{}, f),
            "deliveries 39 < 50% of 80 in the same period before the change");
  f.deliveries = 40;
  EXPECT_THAT(exceededGates(HealthGate{}, f), IsEmpty());
}

TEST(HealthGatesTest, AConnectionDropFailsUnlessTheRatioIsZero) {
  GateFigures f = quiet();
  f.connections = 10;
  EXPECT_THAT(exceededGates(HealthGate{}, f), HasSubstr("inbound connections 10 < 50% of 100"));
  EXPECT_THAT(exceededGates(HealthGate{.min_connection_ratio = 0}, f), IsEmpty());
}

TEST(HealthGatesTest, RatiosNeedEnoughEventsBefore) {
  GateFigures f = quiet();
  f.deliveries_before = 19;  // below min_events_before (20): says nothing about a drop
  f.deliveries = 0;
  EXPECT_THAT(exceededGates(HealthGate{}, f), IsEmpty());
  f.deliveries_before = 20;
  EXPECT_THAT(exceededGates(HealthGate{}, f), HasSubstr("deliveries 0 < 50% of 20"));
}

TEST(HealthGatesTest, TrafficGatesNeedAKnownPeriodBefore) {
  GateFigures f = quiet();
  f.deliveries = 0;
  f.sasl_failures = 500;
  f.before_known = false;
  EXPECT_THAT(exceededGates(HealthGate{}, f), IsEmpty());
}

TEST(HealthGatesTest, SaslFailuresAboveTheFloorAndTheIncreaseFail) {
  GateFigures f = quiet();
  f.sasl_failures = 10;  // the floor: one failed login on a quiet host fails nothing
  EXPECT_THAT(exceededGates(HealthGate{}, f), IsEmpty());
  f.sasl_failures = 11;
  EXPECT_EQ(exceededGates(HealthGate{}, f),
            "SASL failures 11 > 10 (0 in the same period before the change +100%, at least 10)");
  f.sasl_failures_before = 30;  // may double to 60
  f.sasl_failures = 60;
  EXPECT_THAT(exceededGates(HealthGate{}, f), IsEmpty());
  f.sasl_failures = 61;
  EXPECT_THAT(exceededGates(HealthGate{}, f),
              HasSubstr("SASL failures 61 > 60 (30 in the same period"));
}

}  // namespace
}  // namespace postwarden::controller::rollout
