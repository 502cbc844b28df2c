// FakeSmtpProber: a verify::SmtpProber that connects nowhere. It answers from a scripted
// sequence of ProbeResults, one per probe() call, and repeats the last one when the sequence
// is used up ("fails twice, then passes"). Every target probed is recorded. Not thread-safe.
#pragma once

#include <string>
#include <vector>

#include "agent/verify/smtp_prober.h"
#include "common/check.h"

namespace postwarden::fakes {

class FakeSmtpProber final : public agent::verify::SmtpProber {
 public:
  explicit FakeSmtpProber(std::vector<agent::verify::ProbeResult> script = {passing()})
      : script_(std::move(script)) {}

  // Replaces the script; the next probe() answers with its first result.
  void script(std::vector<agent::verify::ProbeResult> results) {
    script_ = std::move(results);
    next_ = 0;
  }

  agent::verify::ProbeResult probe(const agent::verify::ProbeTarget& target) override {
    PW_CHECK(!script_.empty());  // a test that probes must say what the server shows
    targets_.push_back(target.host + ":" + std::to_string(target.port));
    const agent::verify::ProbeResult& result = script_[next_];
    if (next_ + 1 < script_.size()) ++next_;
    return result;
  }

  int probes() const { return static_cast<int>(targets_.size()); }
  // "host:port" of every probe, in order.
  const std::vector<std::string>& targets() const { return targets_; }

  // A hardened listener: banner 220, STARTTLS offered and the handshake completes.
  static agent::verify::ProbeResult passing() {
    agent::verify::ProbeResult result;
    result.connected = true;
    result.banner_code = 220;
    result.before_tls.starttls = true;
    result.starttls_offered = true;
    result.tls_established = true;
    return result;
  }
  // Healthy (220, EHLO works) but without STARTTLS: fails an expectation that requires it,
  // passes the health check a rollback uses.
  static agent::verify::ProbeResult withoutStarttls() {
    agent::verify::ProbeResult result;
    result.connected = true;
    result.banner_code = 220;
    return result;
  }
  // Nothing listens: fails both the expectation and the health check.
  static agent::verify::ProbeResult refused() {
    agent::verify::ProbeResult result;
    result.failure = "connect: Connection refused";
    return result;
  }

 private:
  std::vector<agent::verify::ProbeResult> script_;
  size_t next_ = 0;
  std::vector<std::string> targets_;
};

}  // namespace postwarden::fakes
