#include "controller/core/targeting.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace postwarden::controller::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

store::AssignmentRecord assignment(int64_t id, const std::string& name, const std::string& version,
                                   store::Labels selector) {
  return {.id = id,
          .baseline_name = name,
          .baseline_version = version,
          .selector = std::move(selector)};
}

store::BaselineRecord baseline(const std::string& name, const std::string& version) {
  return {.name = name, .version = version};
}

TEST(AssignmentForTest, TheNewestMatchingAssignmentWins) {
  const std::vector<store::AssignmentRecord> all{
      assignment(1, "base", "v1", {}),
      assignment(2, "base", "v2", {{"env", "prod"}}),
      assignment(3, "edge", "v1", {{"role", "edge"}}),
  };
  const store::AssignmentRecord* prod = assignmentFor(all, {{"env", "prod"}, {"role", "mx"}});
  ASSERT_NE(prod, nullptr);
  EXPECT_EQ(prod->id, 2);
  const store::AssignmentRecord* edge = assignmentFor(all, {{"env", "prod"}, {"role", "edge"}});
  ASSERT_NE(edge, nullptr);
  EXPECT_EQ(edge->id, 3);
  const store::AssignmentRecord* other = assignmentFor(all, {{"env", "dev"}});
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->id, 1);
}

TEST(AssignmentForTest, NothingAppliesWithoutAMatch) {
  EXPECT_EQ(assignmentFor({}, {{"env", "prod"}}), nullptr);
  EXPECT_EQ(assignmentFor({assignment(1, "b", "v", {{"env", "dev"}})}, {{"env", "prod"}}), nullptr);
}

// Moved from report_mapping_test.cpp with the functions.

TEST(TargetingTest, SelectorMatches) {
  store::Labels labels{{"role", "mx"}, {"site", "fra"}};
  EXPECT_TRUE(selectorMatches({}, labels));
  EXPECT_TRUE(selectorMatches({}, {}));
  EXPECT_TRUE(selectorMatches({{"role", "mx"}}, labels));
  EXPECT_TRUE(selectorMatches({{"role", "mx"}, {"site", "fra"}}, labels));
  EXPECT_FALSE(selectorMatches({{"role", "submission"}}, labels));
  EXPECT_FALSE(selectorMatches({{"role", "mx"}, {"site", "ams"}}, labels));
  EXPECT_FALSE(selectorMatches({{"tier", "edge"}}, labels));
  EXPECT_FALSE(selectorMatches({{"role", "mx"}}, {}));
  // A key present with an empty value is not the same as a missing key.
  EXPECT_FALSE(selectorMatches({{"role", ""}}, labels));
  EXPECT_TRUE(selectorMatches({{"role", ""}}, {{"role", ""}}));
}

store::AssignmentRecord hardening(int64_t id, std::string version, store::Labels selector) {
  return {.id = id,
          .baseline_name = "hardening",
          .baseline_version = std::move(version),
          .selector = std::move(selector)};
}

TEST(TargetingTest, AssignmentForPicksTheNewestMatching) {
  std::vector<store::AssignmentRecord> all = {
      hardening(1, "v-all", {}),
      hardening(2, "v-mx", {{"role", "mx"}}),
      hardening(3, "v-sub", {{"role", "submission"}}),
      hardening(4, "v-mx-fra", {{"role", "mx"}, {"site", "fra"}}),
  };
  const store::AssignmentRecord* a = assignmentFor(all, {{"role", "mx"}, {"site", "fra"}});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, 4);
  EXPECT_EQ(a, &all[3]);

  a = assignmentFor(all, {{"role", "mx"}, {"site", "ams"}});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->baseline_version, "v-mx");

  a = assignmentFor(all, {{"role", "submission"}});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, 3);

  a = assignmentFor(all, {{"role", "relay"}});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, 1);

  // A newer, broader assignment wins over an older, narrower one.
  all.push_back(hardening(5, "v-all-2", {}));
  a = assignmentFor(all, {{"role", "mx"}, {"site", "fra"}});
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, 5);
}

TEST(TargetingTest, AssignmentForWithoutMatchIsNull) {
  EXPECT_EQ(assignmentFor({}, {{"role", "mx"}}), nullptr);
  std::vector<store::AssignmentRecord> all = {hardening(1, "v", {{"role", "mx"}})};
  EXPECT_EQ(assignmentFor(all, {{"role", "submission"}}), nullptr);
  EXPECT_EQ(assignmentFor(all, {}), nullptr);
}

TEST(CountSelectedTest, CountsMatchingAgentsThatAreNotRevoked) {
  std::vector<store::AgentRecord> agents(3);
  agents[0].labels = {{"env", "prod"}};
  agents[1].labels = {{"env", "prod"}};
  agents[1].revoked = true;
  agents[2].labels = {{"env", "dev"}};
  EXPECT_EQ(countSelected({{"env", "prod"}}, agents), 1);
  EXPECT_EQ(countSelected({}, agents), 2);
  EXPECT_EQ(countSelected({{"env", "test"}}, agents), 0);
}

TEST(EffectiveLabelsTest, TheTokensLabelsWinOverTheAgentsOwn) {
  EXPECT_EQ(effectiveLabels({{"env", "prod"}}, {{"env", "dev"}, {"rack", "r1"}}),
            (store::Labels{{"env", "prod"}, {"rack", "r1"}}));
  EXPECT_EQ(effectiveLabels({}, {{"rack", "r1"}}), (store::Labels{{"rack", "r1"}}));
  EXPECT_EQ(effectiveLabels({{"env", "prod"}}, {}), (store::Labels{{"env", "prod"}}));
  EXPECT_EQ(effectiveLabels({}, {}), store::Labels{});
}

TEST(AssignmentsDroppedWithTest, AnUnassignedBaselineTakesNothingWithIt) {
  auto dropped = assignmentsDroppedWith(baseline("b", "v1"), {assignment(1, "b", "v2", {})});
  ASSERT_TRUE(dropped.ok()) << dropped.status().toString();
  EXPECT_THAT(*dropped, IsEmpty());
}

TEST(AssignmentsDroppedWithTest, ALiveAssignmentRefusesTheDeletion) {
  auto dropped = assignmentsDroppedWith(
      baseline("b", "v1"),
      {assignment(1, "b", "v1", {{"env", "prod"}}), assignment(2, "b", "v2", {{"env", "dev"}})});
  EXPECT_EQ(dropped.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(dropped.status().message().find("assignment 1"), std::string::npos);
}

TEST(AssignmentsDroppedWithTest, ShadowedAssignmentsGoWithTheBaseline) {
  // 1 (env=prod) is shadowed by 3 (everything); 2 names another baseline.
  auto dropped =
      assignmentsDroppedWith(baseline("b", "v1"), {assignment(1, "b", "v1", {{"env", "prod"}}),
                                                   assignment(2, "c", "v1", {{"env", "prod"}}),
                                                   assignment(3, "b", "v2", {})});
  ASSERT_TRUE(dropped.ok()) << dropped.status().toString();
  EXPECT_THAT(*dropped, ElementsAre(1));
}

TEST(AssignmentsDroppedWithTest, ANarrowerNewerSelectorDoesNotShadow) {
  // 2 selects only env=prod,role=mx: agents with env=prod alone still get 1.
  auto dropped = assignmentsDroppedWith(
      baseline("b", "v1"), {assignment(1, "b", "v1", {{"env", "prod"}}),
                            assignment(2, "b", "v2", {{"env", "prod"}, {"role", "mx"}})});
  EXPECT_EQ(dropped.status().code(), StatusCode::kFailedPrecondition);
}

TEST(AssignmentsDroppedWithTest, AnOlderAssignmentNeverShadowsANewerOne) {
  auto dropped = assignmentsDroppedWith(
      baseline("b", "v1"), {assignment(1, "c", "v1", {}), assignment(2, "b", "v1", {{"a", "b"}})});
  EXPECT_EQ(dropped.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace postwarden::controller::core
