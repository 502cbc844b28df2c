// ReconnectPacer: how long the agent's link waits before its next connection attempt, over
// all the controller addresses it knows (replicas). A failed address is left for the next one
// promptly, after a small jitter only (so a fleet does not reach the next replica in one
// instant); the exponential Backoff grows once per round, when every address in turn has
// failed, so one dead or store-less replica costs a fraction of a second, not a backoff
// window. What counts as an address failing: the stream ended UNAVAILABLE (a connect failure,
// or the replica's own refusal, such as its database being down). Any other failure waits the
// backoff as before, and a controller's retry hint (admission control) keeps its meaning: the
// wait it names, the round untouched. An UNAVAILABLE end with a hint (a replica whose store is
// down) is an address failing like any other, but when it ends the round the hint is the wait
// instead of the next backoff step. With one address every failure is a full round, so the
// waits are exactly Backoff's. Pure and deterministic for a seed; not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "agent/link/backoff.h"

namespace postwarden::agent::link {

// How a stream to one address ended, as far as pacing is concerned.
struct SessionOutcome {
  bool lived = false;        // it lasted long enough to count as a success
  bool unavailable = false;  // ended UNAVAILABLE: the address failed (connect, or its refusal)
  std::optional<std::chrono::milliseconds> retry_after;  // the controller's hint, if any
};

enum class ReconnectReason {
  kHint,         // the controller named the wait
  kNextAddress,  // another address is still untried in this round
  kBackoff,      // a round failed, or the stream was lost after a success
};

struct ReconnectWait {
  std::chrono::milliseconds delay{0};
  ReconnectReason reason = ReconnectReason::kBackoff;
};

class ReconnectPacer {
 public:
  // `addresses`: how many the link rotates over (at least 1 is assumed).
  ReconnectPacer(size_t addresses, std::chrono::milliseconds base, std::chrono::milliseconds cap,
                 uint64_t seed);

  // The wait before connecting again after a stream ended as `outcome`.
  ReconnectWait afterSession(const SessionOutcome& outcome);

  // Addresses that failed in the current round (tests, logs).
  size_t failedInRound() const { return failed_in_round_; }
  int backoffAttempts() const { return backoff_.attempts(); }

 private:
  Backoff backoff_;
  size_t addresses_;
  size_t failed_in_round_ = 0;
};

}  // namespace postwarden::agent::link
