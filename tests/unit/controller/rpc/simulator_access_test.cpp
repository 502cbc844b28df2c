#include "controller/rpc/simulator_access.h"

#include <gtest/gtest.h>

#include <string>

namespace postwarden::controller::rpc {
namespace {

TEST(SimulatorAccessTest, SimulatedIdsAreSimDashLettersDigitsAndDashes) {
  EXPECT_TRUE(validSimulatedId("sim-0001"));
  EXPECT_TRUE(validSimulatedId("sim-a-B-9"));
  EXPECT_TRUE(validSimulatedId("sim-" + std::string(60, 'x')));
  EXPECT_FALSE(validSimulatedId("sim-" + std::string(61, 'x')));
  EXPECT_FALSE(validSimulatedId(""));
  EXPECT_FALSE(validSimulatedId("mx1"));
  EXPECT_FALSE(validSimulatedId("sim_1"));
  EXPECT_FALSE(validSimulatedId("sim-1.example.net"));
  EXPECT_FALSE(validSimulatedId("sim-1\n"));
}

TEST(SimulatorAccessTest, TheSimulatorIsRefusedByDefault) {
  EXPECT_FALSE(SimulatorOptions{}.accept);
}

}  // namespace
}  // namespace postwarden::controller::rpc
