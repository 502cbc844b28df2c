#include "common/metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace postwarden::metrics {
namespace {

bool nameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

bool validName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!nameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

std::string_view typeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool isValidMetricName(std::string_view name) { return validName(name, true); }

bool isValidLabelName(std::string_view name) {
  return validName(name, false) && !name.starts_with("__") && name != "le";
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[64];
  // Like Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus's own clients use for
  // `le`: plain decimals from 1e-4 up to 1e21, the exponent form outside.
  const double magnitude = std::fabs(value);
  const std::chars_format format = magnitude >= 1e-4 && magnitude < 1e21
                                       ? std::chars_format::fixed
                                       : std::chars_format::scientific;
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buffer, end);
}

std::string renderText(const std::vector<FamilySnapshot>& families) {
  std::string out;
  for (const FamilySnapshot& family : families) {
    out += "# HELP " + family.name + " " + escapeHelp(family.help) + "\n";
    out += "# TYPE " + family.name + " " + std::string(typeName(family.type)) + "\n";
    for (const Sample& sample : family.samples) {
      out += family.name;
      out += sample.suffix;
      if (!sample.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < sample.labels.size(); ++i) {
          if (i > 0) out += ',';
          out += sample.labels[i].first + "=\"" + escapeLabelValue(sample.labels[i].second) + "\"";
        }
        out += '}';
      }
      out += ' ';
      out += formatValue(sample.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace postwarden::metrics
