#include "agent/params/spelling.h"

#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace postwarden::agent::params {
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

}  // namespace
}  // namespace postwarden::agent::params
