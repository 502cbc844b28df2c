// What a fleetsim run measured, and its text and JSON renderings (pure).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/fleetsim/options.h"
#include "bench/fleetsim/process_sampler.h"

namespace postwarden::fleetsim {

// Percentiles of a set of samples, in milliseconds.
struct Distribution {
  size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Distribution distributionOf(std::vector<double> samples_ms);

// How evenly a burst of events (successful stream starts) was spread: counts in fixed buckets
// from the first event to the last. `mean_per_s` is the count over that span (events / (last -
// first), or one bucket's worth when they all fell in one), `peak_per_s` the fullest bucket
// scaled to a second; their ratio is 1 for a perfectly even spread.
struct RateStats {
  double bucket_s = 0;
  size_t count = 0;
  double span_s = 0;  // first to last event
  double peak_per_s = 0;
  double mean_per_s = 0;
  double peakToMean() const { return mean_per_s > 0 ? peak_per_s / mean_per_s : 0; }
};
// `at_s`: event times in seconds from any origin, in any order. Pure.
RateStats rateOf(std::vector<double> at_s, double bucket_s);

struct ReconnectEpisode {
  double seconds = 0;       // first disconnect until every agent was connected again
  int disconnected = 0;     // streams that ended during the episode
  int64_t attempts = 0;     // connection attempts during the episode (including failed ones)
  int64_t refused = 0;      // attempts the controller shed (RESOURCE_EXHAUSTED) during the episode
  double first_back_s = 0;  // first disconnect until the first agent was connected again
  // Successful stream starts: when the controller accepted each stream that then got its
  // hello acked (its initial metadata arrived; what admission paces), 100 ms and 1 s buckets.
  RateStats rate_100ms;
  RateStats rate_1s;
  RateStats acked_100ms;  // the same by the time the hello's ack arrived (admission + store)
  // Per 100 ms from the first disconnect: successful stream starts, hellos acked, attempts
  // started, and attempts the controller shed (JSON only; for plots and diagnosis).
  std::vector<int> started_per_100ms;
  std::vector<int> back_per_100ms;
  std::vector<int> attempts_per_100ms;
  std::vector<int> shed_per_100ms;
};
// Counts of `at_s` (seconds from the origin) per `bucket_s`, from 0 to the largest. Pure.
std::vector<int> histogramOf(const std::vector<double>& at_s, double bucket_s);

struct Summary {
  Options options;
  std::optional<double> ramp_up_seconds;  // first connect until all agents connected
  Distribution connect_ms;                // per agent: stream start until the hello's Ack
  int connected_at_end = 0;
  int max_connected = 0;
  // The steady window the rates below are measured over: from all connected until the end,
  // or until the first stream of a connected fleet ended (a replica killed), if earlier.
  double hold_seconds = 0;
  uint64_t heartbeats_sent = 0;
  double heartbeats_per_second = 0;  // during the hold
  uint64_t reports_sent = 0;         // durable drift events (first sends)
  uint64_t reports_acked = 0;
  uint64_t reports_redelivered = 0;  // resent on a new stream after a disconnect
  uint64_t reports_unacked = 0;      // still waiting for their Ack at the end
  double reports_per_second = 0;     // during the hold
  Distribution durable_ms;           // send until Ack, reports acked on the stream they went on
  Distribution durable_hold_ms;      // the same, only reports sent during the hold (steady state)
  // Agents attached per controller (Options::controllers' order) when the hold ended.
  std::vector<int> connected_per_controller;
  // --sample / --sample-tree: over the hold, and from its end (the first disconnect) until the
  // run ended (the failover); the second is empty when nothing disconnected.
  std::vector<ProcessFigures> processes_hold;
  std::vector<ProcessFigures> processes_after;
  uint64_t connect_attempts = 0;
  uint64_t connect_failures = 0;           // streams that ended before their hello was acked
  uint64_t streams_dropped = 0;            // streams that ended after their hello was acked
  std::map<std::string, uint64_t> errors;  // gRPC status code name -> streams
  // gRPC status code name -> up to 5 distinct messages, each with its count.
  std::map<std::string, std::map<std::string, uint64_t>> error_text;
  std::vector<ReconnectEpisode> reconnects;
  std::vector<std::pair<double, int>> timeline;  // (seconds since start, connected), every 1 s
};

std::string renderText(const Summary& summary);
std::string renderJson(const Summary& summary);

}  // namespace postwarden::fleetsim
