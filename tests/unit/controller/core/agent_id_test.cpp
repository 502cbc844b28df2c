#include "controller/core/agent_id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace postwarden::controller::core {
namespace {

// Moved from identity_test.cpp with the functions.

TEST(AgentIdTest, ValidAgentIdAccepts) {
  EXPECT_TRUE(validAgentId("mx1"));
  EXPECT_TRUE(validAgentId("a"));
  EXPECT_TRUE(validAgentId("0"));
  EXPECT_TRUE(validAgentId("mx1.example.org"));
  EXPECT_TRUE(validAgentId("mail-01.fra.example.org"));
  EXPECT_TRUE(validAgentId("9lives"));
  EXPECT_TRUE(validAgentId(std::string(253, 'a')));
  EXPECT_TRUE(validAgentId("a" + std::string(252, '-')));
}

TEST(AgentIdTest, ValidAgentIdRejects) {
  EXPECT_FALSE(validAgentId(""));
  EXPECT_FALSE(validAgentId("MX1"));
  EXPECT_FALSE(validAgentId("mx1.Example.org"));
  EXPECT_FALSE(validAgentId(".mx1"));
  EXPECT_FALSE(validAgentId("-mx1"));
  EXPECT_FALSE(validAgentId("mx_1"));
  EXPECT_FALSE(validAgentId("mx 1"));
  EXPECT_FALSE(validAgentId("mx1/../etc"));
  EXPECT_FALSE(validAgentId("mx1\n"));
  EXPECT_FALSE(validAgentId(std::string("mx\0x", 4)));
  EXPECT_FALSE(validAgentId("m\xc3\xa4il"));
  EXPECT_FALSE(validAgentId(std::string(254, 'a')));
}

TEST(AgentIdTest, RealAgentsCannotEnrollWithTheSimulatorsNames) {
  EXPECT_TRUE(checkEnrollableAgentId("mx1.example.net").ok());
  EXPECT_TRUE(checkEnrollableAgentId("simmer.example.net").ok());
  Status sim = checkEnrollableAgentId("sim-0001");
  EXPECT_EQ(sim.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(sim.message(), ::testing::HasSubstr("reserved for the fleet simulator"));
  EXPECT_EQ(checkEnrollableAgentId("MX1").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace postwarden::controller::core
