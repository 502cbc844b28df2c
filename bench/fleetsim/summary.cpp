#include "bench/fleetsim/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace postwarden::fleetsim {
namespace {

double percentile(const std::vector<double>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::string fixed(double value, int digits = 1) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

std::string seconds(std::chrono::milliseconds d) { return fixed(d.count() / 1000.0, 3); }

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string json(const Distribution& d) {
  return "{\"count\":" + std::to_string(d.count) + ",\"p50\":" + fixed(d.p50, 2) +
         ",\"p90\":" + fixed(d.p90, 2) + ",\"p99\":" + fixed(d.p99, 2) +
         ",\"max\":" + fixed(d.max, 2) + "}";
}

std::string json(const RateStats& r) {
  return "{\"bucket_s\":" + fixed(r.bucket_s, 3) + ",\"count\":" + std::to_string(r.count) +
         ",\"span_s\":" + fixed(r.span_s, 3) + ",\"peak_per_s\":" + fixed(r.peak_per_s, 1) +
         ",\"mean_per_s\":" + fixed(r.mean_per_s, 1) +
         ",\"peak_to_mean\":" + fixed(r.peakToMean(), 2) + "}";
}

std::string json(const std::vector<int>& counts) {
  std::string out = "[";
  for (size_t i = 0; i < counts.size(); ++i) out += (i ? "," : "") + std::to_string(counts[i]);
  return out + "]";
}

std::string json(const std::vector<ProcessFigures>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    const ProcessFigures& f = list[i];
    out += std::string(i ? "," : "") + "{\"name\":" + quoted(f.name) +
           ",\"pid\":" + std::to_string(f.pid) + ",\"window_s\":" + fixed(f.window_s, 1) +
           ",\"cpu_percent\":" + fixed(f.cpu_percent, 1) +
           ",\"rss_mib_peak\":" + fixed(f.rss_mib_peak, 1) +
           ",\"pss_mib_peak\":" + fixed(f.pss_mib_peak, 1) +
           ",\"processes\":" + std::to_string(f.processes) +
           ",\"died\":" + (f.died ? "true" : "false") + "}";
  }
  return out + "]";
}

std::string text(const std::vector<ProcessFigures>& list, const char* label) {
  std::string out;
  for (const ProcessFigures& f : list) {
    out += std::string("  ") + label + " " + f.name + " (pid " + std::to_string(f.pid) + "): CPU " +
           fixed(f.cpu_percent) + " % of one core over " + fixed(f.window_s) + " s, RSS peak " +
           fixed(f.rss_mib_peak) + " MiB, PSS peak " + fixed(f.pss_mib_peak) + " MiB, " +
           std::to_string(f.processes) + " process(es)" + (f.died ? ", died" : "") + "\n";
  }
  return out;
}

std::string text(const Distribution& d) {
  if (d.count == 0) return "no samples";
  return "p50 " + fixed(d.p50) + " ms, p90 " + fixed(d.p90) + " ms, p99 " + fixed(d.p99) +
         " ms, max " + fixed(d.max) + " ms (" + std::to_string(d.count) + " samples)";
}

}  // namespace

Distribution distributionOf(std::vector<double> samples_ms) {
  Distribution d;
  d.count = samples_ms.size();
  if (samples_ms.empty()) return d;
  std::sort(samples_ms.begin(), samples_ms.end());
  d.p50 = percentile(samples_ms, 0.50);
  d.p90 = percentile(samples_ms, 0.90);
  d.p99 = percentile(samples_ms, 0.99);
  d.max = samples_ms.back();
  return d;
}

RateStats rateOf(std::vector<double> at_s, double bucket_s) {
  RateStats r;
  r.bucket_s = bucket_s;
  r.count = at_s.size();
  if (at_s.empty() || !(bucket_s > 0)) return r;
  std::sort(at_s.begin(), at_s.end());
  const double first = at_s.front();
  r.span_s = at_s.back() - first;
  std::vector<size_t> buckets(static_cast<size_t>(r.span_s / bucket_s) + 1, 0);
  for (double t : at_s) {
    size_t i = std::min(buckets.size() - 1, static_cast<size_t>((t - first) / bucket_s));
    ++buckets[i];
  }
  r.peak_per_s = static_cast<double>(*std::max_element(buckets.begin(), buckets.end())) / bucket_s;
  r.mean_per_s = static_cast<double>(r.count) / std::max(r.span_s, bucket_s);
  return r;
}

std::vector<int> histogramOf(const std::vector<double>& at_s, double bucket_s) {
  std::vector<int> counts;
  if (!(bucket_s > 0)) return counts;
  for (double t : at_s) {
    size_t i = static_cast<size_t>(std::max(0.0, t) / bucket_s);
    if (counts.size() <= i) counts.resize(i + 1, 0);
    ++counts[i];
  }
  return counts;
}

std::string renderText(const Summary& s) {
  const Options& o = s.options;
  std::ostringstream out;
  std::string targets;
  for (const std::string& c : o.controllers) targets += (targets.empty() ? "" : ",") + c;
  out << "fleetsim summary: " << o.agents << " agents over " << o.channels << " channels to "
      << targets << ", heartbeat " << seconds(o.heartbeat) << " s, drift every "
      << seconds(o.drift_every) << " s (mean)\n";
  out << "  ramp-up (all connected):  "
      << (s.ramp_up_seconds ? fixed(*s.ramp_up_seconds, 2) + " s" : std::string("NOT REACHED"))
      << " at " << fixed(o.ramp_per_second, 0) << "/s\n";
  out << "  connect (stream->ack):    " << text(s.connect_ms) << "\n";
  out << "  connected at end / max:   " << s.connected_at_end << " / " << s.max_connected << "\n";
  out << "  hold window:              " << fixed(s.hold_seconds) << " s\n";
  out << "  heartbeats sent:          " << s.heartbeats_sent << " ("
      << fixed(s.heartbeats_per_second) << "/s during the hold)\n";
  out << "  durable reports:          " << s.reports_sent << " sent, " << s.reports_acked
      << " acked, " << s.reports_redelivered << " redelivered, " << s.reports_unacked
      << " unacked at end (" << fixed(s.reports_per_second) << "/s during the hold)\n";
  out << "  durable latency (->ack):  " << text(s.durable_ms) << "\n";
  out << "    sent during the hold:   " << text(s.durable_hold_ms) << "\n";
  if (s.connected_per_controller.size() > 1) {
    out << "  attached per controller:  ";
    for (size_t i = 0; i < s.connected_per_controller.size(); ++i) {
      out << (i ? ", " : "") << o.controllers[i] << " " << s.connected_per_controller[i];
    }
    out << " (when the hold ended)\n";
  }
  out << text(s.processes_hold, "hold:") << text(s.processes_after, "after the hold:");
  out << "  connect attempts:         " << s.connect_attempts << " (" << s.connect_failures
      << " failed before the hello's ack)\n";
  out << "  streams ended unexpectedly after connecting: " << s.streams_dropped << "\n";
  if (s.errors.empty()) {
    out << "  errors:                   none\n";
  } else {
    for (const auto& [code, count] : s.errors) {
      out << "  error " << code << ": " << count << " streams\n";
      auto text_it = s.error_text.find(code);
      if (text_it == s.error_text.end()) continue;
      for (const auto& [message, times] : text_it->second) {
        out << "    " << times << "x " << message << "\n";
      }
    }
  }
  for (size_t i = 0; i < s.reconnects.size(); ++i) {
    const ReconnectEpisode& e = s.reconnects[i];
    out << "  reconnect #" << i + 1 << ": all " << o.agents << " back in " << fixed(e.seconds, 2)
        << " s after the first disconnect (" << e.disconnected << " streams dropped, " << e.attempts
        << " attempts, " << e.refused << " shed by the controller); first back after "
        << fixed(e.first_back_s, 2) << " s\n";
    out << "    successful stream starts per 100 ms bucket: peak "
        << fixed(e.rate_100ms.peak_per_s, 0) << "/s, mean " << fixed(e.rate_100ms.mean_per_s, 0)
        << "/s over " << fixed(e.rate_100ms.span_s, 2) << " s: peak/mean "
        << fixed(e.rate_100ms.peakToMean(), 2)
        << " (1 s buckets: " << fixed(e.rate_1s.peakToMean(), 2)
        << "; by hello acked, 100 ms: " << fixed(e.acked_100ms.peakToMean(), 2) << ")\n";
  }
  return out.str();
}

std::string renderJson(const Summary& s) {
  const Options& o = s.options;
  std::ostringstream out;
  out << "{\"agents\":" << o.agents << ",\"channels\":" << o.channels
      << ",\"heartbeat_s\":" << seconds(o.heartbeat)
      << ",\"drift_every_s\":" << seconds(o.drift_every)
      << ",\"ramp_per_s\":" << fixed(o.ramp_per_second, 0)
      << ",\"ramp_up_s\":" << (s.ramp_up_seconds ? fixed(*s.ramp_up_seconds, 3) : "null")
      << ",\"connect_ms\":" << json(s.connect_ms) << ",\"connected_at_end\":" << s.connected_at_end
      << ",\"max_connected\":" << s.max_connected << ",\"hold_s\":" << fixed(s.hold_seconds, 3)
      << ",\"heartbeats_sent\":" << s.heartbeats_sent
      << ",\"heartbeats_per_s\":" << fixed(s.heartbeats_per_second, 1)
      << ",\"reports_sent\":" << s.reports_sent << ",\"reports_acked\":" << s.reports_acked
      << ",\"reports_redelivered\":" << s.reports_redelivered
      << ",\"reports_unacked\":" << s.reports_unacked
      << ",\"reports_per_s\":" << fixed(s.reports_per_second, 1)
      << ",\"durable_ms\":" << json(s.durable_ms)
      << ",\"durable_hold_ms\":" << json(s.durable_hold_ms)
      << ",\"connected_per_controller\":" << json(s.connected_per_controller)
      << ",\"processes_hold\":" << json(s.processes_hold)
      << ",\"processes_after\":" << json(s.processes_after)
      << ",\"connect_attempts\":" << s.connect_attempts
      << ",\"connect_failures\":" << s.connect_failures
      << ",\"streams_dropped\":" << s.streams_dropped << ",\"errors\":{";
  bool first = true;
  for (const auto& [code, count] : s.errors) {
    out << (first ? "" : ",") << quoted(code) << ":" << count;
    first = false;
  }
  out << "},\"error_text\":{";
  first = true;
  for (const auto& [code, messages] : s.error_text) {
    out << (first ? "" : ",") << quoted(code) << ":{";
    bool first_message = true;
    for (const auto& [message, times] : messages) {
      out << (first_message ? "" : ",") << quoted(message) << ":" << times;
      first_message = false;
    }
    out << "}";
    first = false;
  }
  out << "},\"reconnects\":[";
  for (size_t i = 0; i < s.reconnects.size(); ++i) {
    const ReconnectEpisode& e = s.reconnects[i];
    out << (i ? "," : "") << "{\"seconds\":" << fixed(e.seconds, 3)
        << ",\"disconnected\":" << e.disconnected << ",\"attempts\":" << e.attempts
        << ",\"refused\":" << e.refused << ",\"first_back_s\":" << fixed(e.first_back_s, 3)
        << ",\"rate_100ms\":" << json(e.rate_100ms) << ",\"rate_1s\":" << json(e.rate_1s)
        << ",\"acked_100ms\":" << json(e.acked_100ms)
        << ",\"started_per_100ms\":" << json(e.started_per_100ms)
        << ",\"back_per_100ms\":" << json(e.back_per_100ms)
        << ",\"attempts_per_100ms\":" << json(e.attempts_per_100ms)
        << ",\"shed_per_100ms\":" << json(e.shed_per_100ms) << "}";
  }
  out << "],\"timeline\":[";
  for (size_t i = 0; i < s.timeline.size(); ++i) {
    out << (i ? "," : "") << "[" << fixed(s.timeline[i].first, 0) << "," << s.timeline[i].second
        << "]";
  }
  out << "]}\n";
  return out.str();
}

}  // namespace postwarden::fleetsim
