#include "agent/link/reconnect_pacer.h"

#include <algorithm>

namespace postwarden::agent::link {

ReconnectPacer::ReconnectPacer(size_t addresses, std::chrono::milliseconds base,
                               std::chrono::milliseconds cap, uint64_t seed)
    : backoff_(base, cap, seed), addresses_(std::max<size_t>(addresses, 1)) {}

ReconnectWait ReconnectPacer::afterSession(const SessionOutcome& outcome) {
  // A stream that lived was a success: the next failure starts small again, and a fleet that
  // lost its controller at one instant spreads its return over the base window.
  if (outcome.lived) {
    backoff_.reset();
    failed_in_round_ = 0;
  }
  if (outcome.retry_after && !outcome.unavailable)  // shed (admission): this address, later
    return {backoff_.nextAfterHint(*outcome.retry_after), ReconnectReason::kHint};
  if (outcome.lived && !outcome.retry_after) return {backoff_.next(), ReconnectReason::kBackoff};
  if (outcome.unavailable && ++failed_in_round_ < addresses_) {
    return {backoff_.nextAddress(), ReconnectReason::kNextAddress};
  }
  failed_in_round_ = 0;
  // The round failed. A replica whose store is down names when to poll again: that wait, not
  // a growing backoff, so the agent is back within seconds of the store.
  if (outcome.retry_after)
    return {backoff_.nextAfterHint(*outcome.retry_after), ReconnectReason::kHint};
  return {backoff_.next(), ReconnectReason::kBackoff};
}

}  // namespace postwarden::agent::link
