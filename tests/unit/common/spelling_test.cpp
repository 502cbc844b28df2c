#include "common/spelling.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace postwarden {
namespace {

TEST(SpellingTest, EditDistanceCountsSingleEdits) {
  EXPECT_EQ(editDistance("", ""), 0);
  EXPECT_EQ(editDistance("abc", ""), 3);
  EXPECT_EQ(editDistance("noplaintext", "noplaintxt"), 1);  // deletion
  EXPECT_EQ(editDistance("encrypt", "encrpyt"), 1);         // adjacent swap
  EXPECT_EQ(editDistance("dovecot", "dovecat"), 1);         // substitution
  EXPECT_EQ(editDistance("verify", "verfiy"), 1);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3);
}

TEST(SpellingTest, EditDistanceIgnoresAsciiCase) {
  EXPECT_EQ(editDistance("SMTPD_TLS", "smtpd_tls"), 0);
  EXPECT_EQ(editDistance("TLSv1.2", "tlsv1.3"), 1);
}

TEST(SpellingTest, ThresholdGrowsWithLength) {
  EXPECT_EQ(typoThreshold("may"), 1);
  EXPECT_EQ(typoThreshold("encrypt"), 2);
  EXPECT_EQ(typoThreshold("smtpd_sasl_security_options"), 3);
}

TEST(SpellingTest, ClosestMatchPicksNearestWithinThreshold) {
  constexpr std::array<std::string_view, 4> kKeys = {"name", "version", "description", "main.cf"};
  EXPECT_EQ(closestMatch("verison", kKeys), "version");
  EXPECT_EQ(closestMatch("descripton", kKeys), "description");
  EXPECT_EQ(closestMatch("main_cf", kKeys), "main.cf");
  EXPECT_EQ(closestMatch("zzz", kKeys), std::nullopt);
  EXPECT_EQ(closestMatch("", kKeys), std::nullopt);
  EXPECT_EQ(closestMatch("anything", std::span<const std::string_view>()), std::nullopt);
}

TEST(SpellingTest, ClosestMatchBreaksTiesByOrder) {
  constexpr std::array<std::string_view, 2> kChoices = {"low", "law"};
  EXPECT_EQ(closestMatch("lqw", kChoices), "low");
}

TEST(SpellingTest, DidYouMeanSaysTheClosestOrNothing) {
  constexpr std::array<std::string_view, 3> kCommands = {"agents", "agent", "drift"};
  EXPECT_EQ(didYouMean("agnets", kCommands), " (did you mean 'agents'?)");
  EXPECT_EQ(didYouMean("xyz", kCommands), "");
  const std::vector<std::string> options = {"--controller", "--selector"};
  EXPECT_EQ(didYouMean("--selectr", options), " (did you mean '--selector'?)");
  EXPECT_EQ(didYouMean("--Controler", options), " (did you mean '--controller'?)");
  EXPECT_EQ(didYouMean("--timeout", options), "");
  EXPECT_EQ(didYouMean("x", std::vector<std::string>()), "");
}

}  // namespace
}  // namespace postwarden
