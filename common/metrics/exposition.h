// The Prometheus text exposition format (version 0.0.4), as pure functions over values: a
// metric family is a name, a help text, a type and its samples; renderText() writes them with
// # HELP and # TYPE lines, label values and help texts escaped, values as Prometheus parses
// them (+Inf, -Inf, NaN, integers without an exponent). Used by the controller's /metrics and
// by the agent's node_exporter textfile. No I/O, no clock; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postwarden::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string suffix;  // "" or, for histograms, "_bucket", "_sum", "_count"
  LabelPairs labels;
  double value = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool isValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved), and not "le" (histograms' own).
bool isValidLabelName(std::string_view name);

// Backslash, double quote and newline escaped (\\, \", \n); anything else as it is.
std::string escapeLabelValue(std::string_view value);
// Backslash and newline escaped.
std::string escapeHelp(std::string_view help);
// "+Inf", "-Inf", "NaN", integral values below 2^53 without a fraction ("42"), else the
// shortest text that reads back as the same double.
std::string formatValue(double value);

// The families in the order given; each one's samples in the order given. A family without
// samples still gets its HELP and TYPE lines.
std::string renderText(const std::vector<FamilySnapshot>& families);

}  // namespace postwarden::metrics
