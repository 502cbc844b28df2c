#include "controller/core/admission.h"

#include <algorithm>
#include <cmath>

namespace postwarden::controller::core {
namespace {

using Seconds = std::chrono::duration<double>;

double burstFor(const AdmissionOptions& options) {
  if (options.per_second <= 0) return 0;
  if (options.burst > 0) return std::max(1.0, options.burst);
  return std::max(1.0, options.per_second / 50);
}

}  // namespace

ConnectAdmission::ConnectAdmission(AdmissionOptions options, const os::Clock& clock)
    : per_second_(std::max(0.0, options.per_second)),
      burst_(burstFor(options)),
      max_retry_after_(std::max(options.max_retry_after, std::chrono::milliseconds(1))),
      clock_(clock),
      tokens_(burst_),
      refilled_at_(clock.steadyNow()),
      last_slot_(refilled_at_) {}

AdmissionDecision ConnectAdmission::admit() {
  if (per_second_ <= 0) return {};
  const auto now = clock_.steadyNow();
  std::lock_guard lock(mutex_);
  if (now > refilled_at_) {
    tokens_ = std::min(burst_, tokens_ + Seconds(now - refilled_at_).count() * per_second_);
    refilled_at_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {};
  }
  // Refused. The next token is due in (1 - tokens_) / per_second_; callers refused before
  // this one were promised the slots up to last_slot_, so this one gets the slot after those.
  // Coming back at their slots, the refused find a token each, unless newcomers took it, in
  // which case they are refused again and queue at the end: the queue drains at the
  // admitted rate, never in one wave.
  const auto interval =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(Seconds(1.0 / per_second_));
  const auto next_token = now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                    Seconds((1 - tokens_) / per_second_));
  const auto limit = now + max_retry_after_;
  const auto slot = std::min(std::max(last_slot_ + interval, next_token), limit);
  last_slot_ = slot;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(slot - now);
  return {.admitted = false, .retry_after = std::max(wait, std::chrono::milliseconds(1))};
}

}  // namespace postwarden::controller::core
