#include "common/metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace postwarden::metrics {
namespace {

TEST(ExpositionTest, EscapesLabelValues) {
  EXPECT_EQ(escapeLabelValue("plain"), "plain");
  EXPECT_EQ(escapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(escapeLabelValue("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escapeLabelValue("two\nlines"), "two\\nlines");
  EXPECT_EQ(escapeLabelValue("\\\"\n"), "\\\\\\\"\\n");
  EXPECT_EQ(escapeLabelValue("tab\tand ünïcode"), "tab\tand ünïcode");
}

TEST(ExpositionTest, EscapesHelpButNotQuotes) {
  EXPECT_EQ(escapeHelp("a \"quoted\" \\ word\nnext"), "a \"quoted\" \\\\ word\\nnext");
}

TEST(ExpositionTest, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(42), "42");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(0.25), "0.25");
  EXPECT_EQ(formatValue(0.0005), "0.0005");
  EXPECT_EQ(formatValue(1e-9), "1e-09");
  EXPECT_EQ(formatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatValue(1e300), "1e+300");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(formatValue(1700000000123.0), "1700000000123");
}

TEST(ExpositionTest, ChecksNames) {
  EXPECT_TRUE(isValidMetricName("postwarden_reports_total"));
  EXPECT_TRUE(isValidMetricName("job:rate5m"));
  EXPECT_FALSE(isValidMetricName("1abc"));
  EXPECT_FALSE(isValidMetricName("a-b"));
  EXPECT_FALSE(isValidMetricName(""));
  EXPECT_TRUE(isValidLabelName("grpc_method"));
  EXPECT_FALSE(isValidLabelName("a:b"));
  EXPECT_FALSE(isValidLabelName("__name__"));
  EXPECT_FALSE(isValidLabelName("le"));
  EXPECT_FALSE(isValidLabelName("0x"));
}

TEST(ExpositionTest, RendersFamiliesWithHelpTypeAndLabels) {
  std::vector<FamilySnapshot> families{
      {.name = "x_total",
       .help = "Things.\nCounted.",
       .type = MetricType::kCounter,
       .samples = {{.labels = {{"reason", "a\"b"}, {"code", "OK"}}, .value = 3},
                   {.labels = {}, .value = 0.5}}},
      {.name = "empty", .help = "", .type = MetricType::kGauge},
      {.name = "lat_seconds",
       .help = "h",
       .type = MetricType::kHistogram,
       .samples = {{.suffix = "_bucket", .labels = {{"le", "+Inf"}}, .value = 1},
                   {.suffix = "_sum", .value = 0.1},
                   {.suffix = "_count", .value = 1}}},
  };
  EXPECT_EQ(renderText(families),
            "# HELP x_total Things.\\nCounted.\n"
            "# TYPE x_total counter\n"
            "x_total{reason=\"a\\\"b\",code=\"OK\"} 3\n"
            "x_total 0.5\n"
            "# HELP empty \n"
            "# TYPE empty gauge\n"
            "# HELP lat_seconds h\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"+Inf\"} 1\n"
            "lat_seconds_sum 0.1\n"
            "lat_seconds_count 1\n");
}

}  // namespace
}  // namespace postwarden::metrics
