#include "controller/rollout/health_gates.h"

#include <algorithm>

namespace postwarden::controller::rollout {
namespace {

class Exceeded {
 public:
  void add(const std::string& what) { text_ += (text_.empty() ? "" : ", ") + what; }
  void max(const char* name, int64_t value, int64_t max) {
    if (value > max)
      add(std::string(name) + " " + std::to_string(value) + " > " + std::to_string(max));
  }
  // `value` below `percent`% of `before`, when `before` is large enough to mean something.
  void ratio(const char* name, int64_t value, int64_t before, int percent, int64_t min_before) {
    if (percent == 0 || before < min_before || before <= 0) return;
    if (value * 100 >= before * percent) return;
    add(std::string(name) + " " + std::to_string(value) + " < " + std::to_string(percent) +
        "% of " + std::to_string(before) + " in the same period before the change");
  }
  std::string text() && { return std::move(text_); }

 private:
  std::string text_;
};

}  // namespace

std::string exceededGates(const HealthGate& gate, const GateFigures& f) {
  Exceeded out;
  out.max("deferred growth", f.deferred_growth, gate.max_deferred_growth);
  out.max("fatal lines", f.fatal_lines, gate.max_fatal_lines);
  out.max("TLS failures", f.tls_failures, gate.max_tls_failures);
  if (!f.before_known) return std::move(out).text();
  const int64_t sasl_max =
      std::max(gate.sasl_failure_floor,
               f.sasl_failures_before * (100 + gate.max_sasl_failure_increase) / 100);
  if (f.sasl_failures > sasl_max) {
    out.add("SASL failures " + std::to_string(f.sasl_failures) + " > " + std::to_string(sasl_max) +
            " (" + std::to_string(f.sasl_failures_before) +
            " in the same period before the change +" +
            std::to_string(gate.max_sasl_failure_increase) + "%, at least " +
            std::to_string(gate.sasl_failure_floor) + ")");
  }
  out.ratio("inbound connections", f.connections, f.connections_before, gate.min_connection_ratio,
            gate.min_events_before);
  out.ratio("deliveries", f.deliveries, f.deliveries_before, gate.min_delivery_ratio,
            gate.min_events_before);
  return std::move(out).text();
}

}  // namespace postwarden::controller::rollout
