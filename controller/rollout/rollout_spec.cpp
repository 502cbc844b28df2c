#include "controller/rollout/rollout_spec.h"

#include <algorithm>
#include <optional>
#include <set>
#include <variant>

#include "common/yaml/single_document.h"
#include "common/yaml/strict_map.h"
#include "controller/rollout/internal/yaml_reader.h"

namespace postwarden::controller::rollout {
namespace {

using internal::YamlReader;

constexpr std::string_view kTopKeys[] = {
    "name",         "baseline",      "selector", "waves",     "soak",   "windows",      "anytime",
    "max_failures", "on_window_end", "rollback", "approvals", "health", "max_in_flight"};
constexpr std::string_view kWaveKeys[] = {"canary", "percent", "labels", "soak"};
constexpr std::string_view kWindowKeys[] = {"days", "start", "end", "time_zone", "selector"};
constexpr std::string_view kHealthKeys[] = {"max_deferred_growth", "max_fatal_lines",
                                            "max_tls_failures",    "missed_reports",
                                            "report_interval",     "max_sasl_failure_increase",
                                            "sasl_failure_floor",  "min_connection_ratio",
                                            "min_delivery_ratio",  "min_events_before"};
constexpr std::string_view kOnWindowEnd[] = {"pause", "rollback"};
constexpr std::string_view kRollback[] = {"immediately", "in_window"};
constexpr std::string_view kBooleans[] = {"true", "false"};

class SpecParser {
 public:
  explicit SpecParser(std::string file) : reader_(std::move(file)) {}
  Result<RolloutSpec> parse(const YAML::Node& root);

 private:
  Status topKey(const std::string& key, const YAML::Mark& key_at, const YAML::Node& value);
  Status waves(const YAML::Node& value, const YAML::Mark& where);
  Result<WaveSpec> wave(const YAML::Node& node);
  Status canary(const YAML::Node& value, const YAML::Mark& where, WaveSpec& out) const;
  Status labelGroup(const YAML::Node& value, const YAML::Mark& where, WaveSpec& out) const;
  Status windows(const YAML::Node& value, const YAML::Mark& where);
  Result<ScopedWindow> window(const YAML::Node& node) const;
  Status health(const YAML::Node& value, const YAML::Mark& where);
  Status healthPercent(const std::string& key, const YAML::Node& value, const YAML::Mark& at);

  YamlReader reader_;
  RolloutSpec spec_;
  std::set<std::string> seen_;
  std::vector<std::optional<absl::Duration>> wave_soaks_;
};

Result<RolloutSpec> SpecParser::parse(const YAML::Node& root) {
  PW_RETURN_IF_ERROR(reader_.forEachKey(
      root, root.Mark(), "the rollout spec", kTopKeys,
      [this](const std::string& key, const YAML::Mark& key_at, const YAML::Node& value) {
        seen_.insert(key);
        return topKey(key, key_at, value);
      }));
  for (std::string_view required : {"name", "baseline", "waves"}) {
    if (!seen_.contains(std::string(required))) {
      return reader_.errorAt(root.Mark(),
                             "the rollout spec has no '" + std::string(required) + "'");
    }
  }
  if (spec_.windows.empty() && !spec_.anytime) {
    return reader_.errorAt(root.Mark(),
                           "the rollout spec has no maintenance windows: list them under "
                           "'windows', or write 'anytime: true' to allow changes at any time");
  }
  for (size_t i = 0; i < spec_.waves.size(); ++i) {
    spec_.waves[i].soak = wave_soaks_[i].value_or(spec_.soak);
  }
  return std::move(spec_);
}

Status SpecParser::topKey(const std::string& key, const YAML::Mark& key_at,
                          const YAML::Node& value) {
  const YAML::Mark where = key_at;
  if (key == "waves") return waves(value, where);
  if (key == "windows") return windows(value, where);
  if (key == "health") return health(value, where);
  PW_ASSIGN_OR_RETURN(std::string text, reader_.text(value, where, "'" + key + "'"));
  if (key == "name") {
    spec_.name = text;
  } else if (key == "baseline") {
    Result<BaselineRef> ref = parseBaselineRef(text);
    if (!ref.ok()) return reader_.wrap(value, "baseline", ref.status());
    spec_.baseline = *ref;
  } else if (key == "selector") {
    Result<LabelSelector> selector = parseSelector(text);
    if (!selector.ok()) return reader_.wrap(value, "selector", selector.status());
    spec_.selector = *selector;
  } else if (key == "soak") {
    PW_ASSIGN_OR_RETURN(spec_.soak, reader_.duration(value, where, "soak"));
  } else if (key == "anytime") {
    PW_ASSIGN_OR_RETURN(std::string b, reader_.choice(value, where, "anytime", kBooleans));
    spec_.anytime = b == "true";
  } else if (key == "max_failures") {
    Result<FailureBudget> budget = parseFailureBudget(text);
    if (!budget.ok()) return reader_.wrap(value, "max_failures", budget.status());
    spec_.max_failures = *budget;
  } else if (key == "max_in_flight") {
    Result<InFlightLimit> limit = parseInFlightLimit(text);
    if (!limit.ok()) return reader_.wrap(value, "max_in_flight", limit.status());
    spec_.max_in_flight = *limit;
  } else if (key == "on_window_end") {
    PW_ASSIGN_OR_RETURN(std::string v, reader_.choice(value, where, "on_window_end", kOnWindowEnd));
    spec_.on_window_end = v == "pause" ? OnWindowEnd::kPause : OnWindowEnd::kRollback;
  } else if (key == "rollback") {
    PW_ASSIGN_OR_RETURN(std::string v, reader_.choice(value, where, "rollback", kRollback));
    spec_.rollback = v == "immediately" ? RollbackTiming::kImmediately : RollbackTiming::kInWindow;
  } else if (key == "approvals") {
    PW_ASSIGN_OR_RETURN(int64_t n, reader_.number(value, where, "approvals", 10));
    spec_.approvals = static_cast<int>(n);
  }
  return OkStatus();
}

Status SpecParser::waves(const YAML::Node& value, const YAML::Mark& where) {
  if (!value.IsSequence() || value.size() == 0) {
    return reader_.errorAt(value.IsNull() ? where : value.Mark(),
                           "'waves' must be a non-empty list of waves (canary, percent or labels), "
                           "not " +
                               yaml::describe(value));
  }
  std::set<std::string> named;
  for (const YAML::Node& item : value) {
    PW_ASSIGN_OR_RETURN(WaveSpec w, wave(item));
    for (const std::string& host : w.hosts) {
      if (!named.insert(host).second) {
        return reader_.errorAt(item.Mark(), "canary host '" + host + "' is named twice");
      }
    }
    spec_.waves.push_back(std::move(w));
  }
  return OkStatus();
}

Result<WaveSpec> SpecParser::wave(const YAML::Node& node) {
  WaveSpec out;
  std::optional<absl::Duration> soak;
  int kinds = 0;
  const std::string context = "wave " + std::to_string(spec_.waves.size() + 1);
  PW_RETURN_IF_ERROR(reader_.forEachKey(
      node, node.Mark(), context, kWaveKeys,
      [&](const std::string& key, const YAML::Mark& key_at, const YAML::Node& value) -> Status {
        const YAML::Mark where = key_at;
        if (key == "soak") {
          PW_ASSIGN_OR_RETURN(soak, reader_.duration(value, where, "soak"));
          return OkStatus();
        }
        if (++kinds > 1) {
          return reader_.errorAt(where, context + " has more than one of canary, percent, labels");
        }
        if (key == "canary") return canary(value, where, out);
        if (key == "labels") return labelGroup(value, where, out);
        out.kind = WaveSpec::Kind::kPercent;
        PW_ASSIGN_OR_RETURN(int64_t p, reader_.number(value, where, "percent", 100));
        if (p == 0) return reader_.errorAt(value.Mark(), "percent must be from 1 to 100, not 0");
        out.percent = static_cast<int>(p);
        return OkStatus();
      }));
  if (kinds == 0) {
    return reader_.errorAt(node.Mark(), context + " needs one of canary, percent, labels");
  }
  wave_soaks_.push_back(soak);
  return out;
}

Status SpecParser::canary(const YAML::Node& value, const YAML::Mark& where, WaveSpec& out) const {
  if (value.IsSequence()) {
    out.kind = WaveSpec::Kind::kCanaryHosts;
    PW_ASSIGN_OR_RETURN(out.hosts, reader_.textList(value, where, "canary"));
    if (out.hosts.empty()) return reader_.errorAt(value.Mark(), "canary names no host");
    return OkStatus();
  }
  out.kind = WaveSpec::Kind::kCanaryCount;
  PW_ASSIGN_OR_RETURN(int64_t n, reader_.number(value, where, "canary", 100000));
  if (n == 0) return reader_.errorAt(value.Mark(), "canary must be at least 1 host");
  out.count = static_cast<int>(n);
  return OkStatus();
}

Status SpecParser::labelGroup(const YAML::Node& value, const YAML::Mark& where,
                              WaveSpec& out) const {
  out.kind = WaveSpec::Kind::kLabels;
  if (!value.IsMap() || value.size() == 0) {
    return reader_.errorAt(
        value.IsNull() ? where : value.Mark(),
        "labels must be a non-empty map such as {site: fra1}, not " + yaml::describe(value));
  }
  std::string terms;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node label = it->second;
    PW_ASSIGN_OR_RETURN(std::string k, reader_.text(key, key.Mark(), "a label name"));
    PW_ASSIGN_OR_RETURN(std::string v, reader_.text(label, key.Mark(), "label '" + k + "'"));
    terms += (terms.empty() ? "" : ",") + k + "=" + v;
  }
  Result<LabelSelector> selector = parseSelector(terms);
  if (!selector.ok()) return reader_.wrap(value, "labels", selector.status());
  out.labels = *selector;
  return OkStatus();
}

Status SpecParser::windows(const YAML::Node& value, const YAML::Mark& where) {
  if (!value.IsSequence()) {
    return reader_.errorAt(value.IsNull() ? where : value.Mark(),
                           "'windows' must be a list of maintenance windows, not " +
                               yaml::describe(value) +
                               " (write 'anytime: true' to allow changes at any time)");
  }
  for (const YAML::Node& item : value) {
    PW_ASSIGN_OR_RETURN(ScopedWindow w, window(item));
    spec_.windows.push_back(std::move(w));
  }
  return OkStatus();
}

Result<ScopedWindow> SpecParser::window(const YAML::Node& node) const {
  if (node.IsScalar()) {
    Result<schedule::Window> w = schedule::parseWindow(node.Scalar());
    if (!w.ok()) return reader_.wrap(node, "window", w.status());
    return ScopedWindow{.window = *std::move(w), .selector = {}};
  }
  std::vector<std::string> days;
  std::string fields[4];  // start, end, time_zone, selector
  PW_RETURN_IF_ERROR(reader_.forEachKey(
      node, node.Mark(), "a window", kWindowKeys,
      [&](const std::string& key, const YAML::Mark& key_at, const YAML::Node& value) -> Status {
        if (key == "days") {
          if (!value.IsScalar()) {
            PW_ASSIGN_OR_RETURN(days, reader_.textList(value, key_at, "days"));
            return OkStatus();
          }
          PW_ASSIGN_OR_RETURN(std::string day, reader_.text(value, key_at, "days"));
          days = {day};
          return OkStatus();
        }
        const size_t i = key == "start" ? 0 : key == "end" ? 1 : key == "time_zone" ? 2 : 3;
        PW_ASSIGN_OR_RETURN(fields[i], reader_.text(value, key_at, "'" + key + "'"));
        return OkStatus();
      }));
  for (std::string_view required : {"days", "start", "end", "time_zone"}) {
    if (!node[std::string(required)]) {
      return reader_.errorAt(node.Mark(), "the window has no '" + std::string(required) + "'");
    }
  }
  Result<schedule::Window> w = schedule::makeWindow(days, fields[0], fields[1], fields[2]);
  if (!w.ok()) return reader_.wrap(node, "window", w.status());
  Result<LabelSelector> selector = parseSelector(fields[3]);
  if (!selector.ok()) {
    return reader_.wrap(node, "window", selector.status().withContext("window selector"));
  }
  return ScopedWindow{.window = *std::move(w), .selector = *std::move(selector)};
}

Status SpecParser::health(const YAML::Node& value, const YAML::Mark& where) {
  HealthGate& h = spec_.health;
  return reader_.forEachKey(
      value, where, "health", kHealthKeys,
      [&](const std::string& key, const YAML::Mark& key_at, const YAML::Node& v) -> Status {
        const YAML::Mark at = key_at;
        if (key == "report_interval") {
          PW_ASSIGN_OR_RETURN(h.report_interval, reader_.duration(v, at, key));
          if (h.report_interval == absl::ZeroDuration()) {
            return reader_.errorAt(v.Mark(), "report_interval must be longer than 0");
          }
          return OkStatus();
        }
        if (key == "max_sasl_failure_increase" || key == "min_connection_ratio" ||
            key == "min_delivery_ratio") {
          return healthPercent(key, v, at);
        }
        PW_ASSIGN_OR_RETURN(int64_t n, reader_.number(v, at, key, 1000000));
        if (key == "missed_reports" && n == 0) {
          return reader_.errorAt(v.Mark(), "missed_reports must be at least 1");
        }
        if (key == "max_deferred_growth") h.max_deferred_growth = n;
        if (key == "max_fatal_lines") h.max_fatal_lines = n;
        if (key == "max_tls_failures") h.max_tls_failures = n;
        if (key == "missed_reports") h.missed_reports = static_cast<int>(n);
        if (key == "sasl_failure_floor") h.sasl_failure_floor = n;
        if (key == "min_events_before") h.min_events_before = n;
        return OkStatus();
      });
}

// The gates given as a percentage: ratios of the period before up to 100%, the SASL increase
// up to 10000% (a hundredfold).
Status SpecParser::healthPercent(const std::string& key, const YAML::Node& value,
                                 const YAML::Mark& at) {
  HealthGate& h = spec_.health;
  const bool ratio = key != "max_sasl_failure_increase";
  PW_ASSIGN_OR_RETURN(std::string text, reader_.text(value, at, key));
  Result<int> percent = parsePercent(text, ratio ? 100 : 10000);
  if (!percent.ok()) return reader_.wrap(value, key, percent.status());
  if (key == "max_sasl_failure_increase") h.max_sasl_failure_increase = *percent;
  if (key == "min_connection_ratio") h.min_connection_ratio = *percent;
  if (key == "min_delivery_ratio") h.min_delivery_ratio = *percent;
  return OkStatus();
}

}  // namespace

Result<RolloutSpec> parseRolloutSpec(std::string_view yaml, std::string_view file) {
  std::variant<YAML::Node, yaml::DocumentError> loaded =
      yaml::loadSingleDocument(std::string(yaml));
  if (auto* error = std::get_if<yaml::DocumentError>(&loaded)) {
    return YamlReader(std::string(file)).errorAt(error->mark, error->message);
  }
  try {
    return SpecParser(std::string(file)).parse(std::get<YAML::Node>(loaded));
  } catch (const YAML::Exception& e) {
    return YamlReader(std::string(file)).errorAt(e.mark, e.msg);
  }
}

std::string toString(const ScopedWindow& window) {
  std::string out = schedule::toString(window.window);
  if (!window.selector.empty()) out += " [" + toString(window.selector) + "]";
  return out;
}

std::string_view toString(OnWindowEnd value) {
  return value == OnWindowEnd::kPause ? "pause" : "rollback";
}

std::string_view toString(RollbackTiming value) {
  return value == RollbackTiming::kImmediately ? "immediately" : "in_window";
}

}  // namespace postwarden::controller::rollout
