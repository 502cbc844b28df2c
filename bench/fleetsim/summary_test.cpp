// fleetsim's reconnect figures: how evenly a burst of stream starts was spread (pure).
#include "bench/fleetsim/summary.h"

#include <gtest/gtest.h>

#include <vector>

namespace postwarden::fleetsim {
namespace {

TEST(RateOfTest, AnEvenSpreadHasPeakEqualToMean) {
  std::vector<double> at;
  for (int i = 0; i < 1000; ++i) at.push_back(5.0 + i * 0.002);  // 500/s for 2 s
  RateStats r = rateOf(at, 0.1);
  EXPECT_EQ(r.count, 1000u);
  EXPECT_NEAR(r.span_s, 1.998, 1e-9);
  EXPECT_NEAR(r.mean_per_s, 1000 / 1.998, 1e-6);
  EXPECT_NEAR(r.peak_per_s, 500, 10.1);  // 50 per bucket, give or take a rounding edge
  EXPECT_NEAR(r.peakToMean(), 1.0, 0.03);
}

TEST(RateOfTest, ABurstShowsAsItsBucketOverTheMean) {
  std::vector<double> at;
  for (int i = 0; i < 500; ++i) at.push_back(1.0 + i * 0.004);  // 250/s for 2 s
  for (int i = 0; i < 300; ++i) at.push_back(2.05);             // 300 at one instant
  RateStats r = rateOf(at, 0.1);
  EXPECT_EQ(r.count, 800u);
  // The fullest 100 ms holds the 300 plus the steady 25: 3,250/s over a mean of 800 / 2 s.
  EXPECT_NEAR(r.peak_per_s, 3250, 10.1);
  EXPECT_NEAR(r.peakToMean(), 3250 / (800 / 1.996), 0.05);
  // In 1 s buckets the same burst almost disappears.
  EXPECT_LT(rateOf(at, 1.0).peakToMean(), 1.5);
}

TEST(RateOfTest, OrderDoesNotMatterAndEmptyIsZero) {
  RateStats a = rateOf({0.3, 0.1, 0.2, 0.25}, 0.1);
  RateStats b = rateOf({0.1, 0.2, 0.25, 0.3}, 0.1);
  EXPECT_EQ(a.peak_per_s, b.peak_per_s);
  EXPECT_EQ(a.mean_per_s, b.mean_per_s);
  RateStats empty = rateOf({}, 0.1);
  EXPECT_EQ(empty.count, 0u);
  EXPECT_EQ(empty.peakToMean(), 0);
}

TEST(RateOfTest, EverythingInOneInstantIsOneBucketsWorth) {
  RateStats r = rateOf(std::vector<double>(50, 3.0), 0.1);
  EXPECT_EQ(r.span_s, 0);
  EXPECT_EQ(r.peak_per_s, 500);
  EXPECT_EQ(r.mean_per_s, 500);
  EXPECT_EQ(r.peakToMean(), 1);
}

TEST(HistogramOfTest, CountsPerBucketFromZero) {
  EXPECT_EQ(histogramOf({0.05, 0.15, 0.16, 0.45}, 0.1), (std::vector<int>{1, 2, 0, 0, 1}));
  EXPECT_TRUE(histogramOf({}, 0.1).empty());
}

}  // namespace
}  // namespace postwarden::fleetsim
