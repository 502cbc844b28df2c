// In-process metrics for Prometheus: counters, gauges and histograms in labelled families, and
// collectors that compute families at scrape time (from the store, from /proc). A family has
// fixed label names and at most `max_series` label combinations: past that every new
// combination lands in one overflow series whose label values are all "_overflow", so a bug or
// a hostile peer cannot grow the exposition without bound. Names are checked when a family is
// registered (a bad one is a bug: PW_CHECK). The composition root owns the Registry and hands
// the families to the code that counts; nothing here is global. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/metrics/exposition.h"

namespace postwarden::metrics {

inline constexpr char kOverflowLabelValue[] = "_overflow";

class Counter {
 public:
  void inc(double amount = 1);  // amount < 0 is ignored: counters only go up
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bucket, the last one +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Bucket bounds start, start*factor, ... (`count` of them).
std::vector<double> exponentialBuckets(double start, double factor, int count);

template <typename Metric>
class Family {
 public:
  using Factory = std::function<std::unique_ptr<Metric>()>;
  Family(std::vector<std::string> label_names, size_t max_series, Factory factory)
      : label_names_(std::move(label_names)),
        max_series_(max_series),
        factory_(std::move(factory)) {}

  // The series with these label values (as many as label names; a wrong count is a bug).
  // The reference stays valid as long as the family.
  Metric& with(const std::vector<std::string>& values);

  const std::vector<std::string>& labelNames() const { return label_names_; }
  // Every series, sorted by label values.
  std::vector<std::pair<std::vector<std::string>, const Metric*>> series() const;

 private:
  const std::vector<std::string> label_names_;
  const size_t max_series_;
  const Factory factory_;
  mutable std::mutex mutex_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> series_;
};

class Registry {
 public:
  // Each returns a family owned by the registry and valid as long as it. The name must be
  // new in this registry.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           std::vector<std::string> label_names = {}, size_t max_series = 256);
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       std::vector<std::string> label_names = {}, size_t max_series = 256);
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               std::vector<double> bounds,
                               std::vector<std::string> label_names = {}, size_t max_series = 64);

  // Called on every collect(), after the registered families, on the scraping thread; it
  // appends its own families (names not registered here). It must not call the registry.
  using Collector = std::function<void(std::vector<FamilySnapshot>&)>;
  void addCollector(Collector collector);

  std::vector<FamilySnapshot> collect() const;
  std::string renderText() const { return metrics::renderText(collect()); }

 private:
  struct Entry {
    std::string name;
    std::string help;
    MetricType type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& add(const std::string& name, const std::string& help, MetricType type,
             const std::vector<std::string>& label_names);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<Collector> collectors_;
};

}  // namespace postwarden::metrics
