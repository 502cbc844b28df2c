#include "common/metrics/registry.h"

#include <algorithm>
#include <cmath>

#include "common/check.h"

namespace postwarden::metrics {

void Counter::inc(double amount) {
  if (!(amount > 0)) return;  // also NaN
  value_.fetch_add(amount, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  for (size_t i = 1; i < bounds_.size(); ++i) PW_CHECK(bounds_[i - 1] < bounds_[i]);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard lock(mutex_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  PW_CHECK(start > 0 && factor > 1 && count > 0);
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

template <typename Metric>
Metric& Family<Metric>::with(const std::vector<std::string>& values) {
  PW_CHECK(values.size() == label_names_.size());
  std::lock_guard lock(mutex_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  std::vector<std::string> key = values;
  if (series_.size() >= max_series_) {
    key.assign(values.size(), kOverflowLabelValue);
    it = series_.find(key);
    if (it != series_.end()) return *it->second;
  }
  return *series_.emplace(std::move(key), factory_()).first->second;
}

template <typename Metric>
std::vector<std::pair<std::vector<std::string>, const Metric*>> Family<Metric>::series() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::vector<std::string>, const Metric*>> out;
  for (const auto& [values, metric] : series_) out.emplace_back(values, metric.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry::Entry& Registry::add(const std::string& name, const std::string& help, MetricType type,
                               const std::vector<std::string>& label_names) {
  PW_CHECK(isValidMetricName(name));
  for (const std::string& label : label_names) PW_CHECK(isValidLabelName(label));
  std::lock_guard lock(mutex_);
  for (const auto& e : entries_) PW_CHECK(e->name != name);
  entries_.push_back(std::make_unique<Entry>(Entry{.name = name, .help = help, .type = type}));
  return *entries_.back();
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   std::vector<std::string> label_names, size_t max_series) {
  Entry& e = add(name, help, MetricType::kCounter, label_names);
  e.counters = std::make_unique<Family<Counter>>(std::move(label_names), max_series,
                                                 [] { return std::make_unique<Counter>(); });
  return *e.counters;
}

Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               std::vector<std::string> label_names, size_t max_series) {
  Entry& e = add(name, help, MetricType::kGauge, label_names);
  e.gauges = std::make_unique<Family<Gauge>>(std::move(label_names), max_series,
                                             [] { return std::make_unique<Gauge>(); });
  return *e.gauges;
}

Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       std::vector<double> bounds,
                                       std::vector<std::string> label_names, size_t max_series) {
  Entry& e = add(name, help, MetricType::kHistogram, label_names);
  e.histograms = std::make_unique<Family<Histogram>>(
      std::move(label_names), max_series,
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
  return *e.histograms;
}

void Registry::addCollector(Collector collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

namespace {

LabelPairs pairs(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  LabelPairs out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace_back(names[i], values[i]);
  return out;
}

template <typename Metric>
void scalarSamples(const Family<Metric>& family, FamilySnapshot& out) {
  for (const auto& [values, metric] : family.series()) {
    out.samples.push_back({.labels = pairs(family.labelNames(), values), .value = metric->value()});
  }
}

void histogramSamples(const Family<Histogram>& family, FamilySnapshot& out) {
  for (const auto& [values, metric] : family.series()) {
    Histogram::Snapshot s = metric->snapshot();
    LabelPairs labels = pairs(family.labelNames(), values);
    for (size_t i = 0; i < s.cumulative.size(); ++i) {
      LabelPairs with_le = labels;
      with_le.emplace_back("le", i < s.bounds.size() ? formatValue(s.bounds[i]) : "+Inf");
      out.samples.push_back({.suffix = "_bucket",
                             .labels = std::move(with_le),
                             .value = static_cast<double>(s.cumulative[i])});
    }
    out.samples.push_back({.suffix = "_sum", .labels = labels, .value = s.sum});
    out.samples.push_back(
        {.suffix = "_count", .labels = labels, .value = static_cast<double>(s.count)});
  }
}

}  // namespace

std::vector<FamilySnapshot> Registry::collect() const {
  std::vector<FamilySnapshot> out;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_) {
      FamilySnapshot family{.name = e->name, .help = e->help, .type = e->type};
      if (e->counters) scalarSamples(*e->counters, family);
      if (e->gauges) scalarSamples(*e->gauges, family);
      if (e->histograms) histogramSamples(*e->histograms, family);
      out.push_back(std::move(family));
    }
    collectors = collectors_;
  }
  for (const Collector& collector : collectors) collector(out);
  return out;
}

}  // namespace postwarden::metrics
