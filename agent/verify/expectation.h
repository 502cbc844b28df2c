// Judges a ProbeResult against the baseline's ProbeExpectation: the "is the listener what
// the policy says" half of verify. Pure: no I/O, deterministic, thread-safe. Every failure is
// a plain sentence an operator can act on ("AUTH PLAIN offered before TLS").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/policy/baseline.h"
#include "agent/verify/smtp_prober.h"

namespace postwarden::agent::verify {

struct Verdict {
  bool passed = false;
  std::vector<std::string> failures;  // empty exactly when passed
};

// Rules, in order:
//  - the probe must have connected and been greeted with 220, else nothing else is judged;
//  - a probe that stopped early (ProbeResult::failure) fails;
//  - StartTls::kRequired: STARTTLS must be offered and the handshake must succeed; with
//    kOptional, STARTTLS may be absent, but if offered it must work (a broken STARTTLS
//    breaks every client that tries it);
//  - forbid_auth_before_tls: none of the listed mechanisms ("*" = any) may be offered before
//    TLS; when it lists "*" or PLAIN, the raw AUTH PLAIN attempt must have been refused;
//  - require_auth_after_tls: each listed mechanism ("*" = at least one) must be offered after
//    STARTTLS;
//  - certificate_name: the peer certificate must be valid for it (tls::matchesName);
//  - a login or test message the probe attempted must have succeeded.
//  - vrfy_refused: "VRFY root" must have been answered 502;
//  - banner_must_not_contain: the greeting names none of the words (case-insensitive);
//  - tls_refused: each listed handshake must have reached the TLS handshake and failed (a
//    listener without STARTTLS has no TLS to refuse: passes); tls_accepted: each must have
//    succeeded with that very version.
//  - certificate_valid_days: the certificate is valid at `now` and still N days later;
//  - certificate_chain trusted: the chain the server sent leads to a trusted root;
//  - dh_min_bits: the DHE-only handshake failed, or used a DH group of at least that size.
Verdict evaluate(const ProbeResult& result, const policy::ProbeExpectation& expectation,
                 std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// Asks `target` for what `expectation` needs beyond the one conversation: the VRFY command
// and the extra handshakes of tls_refused and tls_accepted.
void requestChecksFor(const policy::ProbeExpectation& expectation, ProbeTarget& target);

}  // namespace postwarden::agent::verify
