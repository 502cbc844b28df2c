// Judges a ProbeResult against the baseline's ProbeExpectation: the "is the listener what
// the policy says" half of verify. Pure: no I/O, deterministic, thread-safe. Every failure is
// a plain sentence an operator can act on ("AUTH PLAIN offered before TLS").
#pragma once

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
Verdict evaluate(const ProbeResult& result, const policy::ProbeExpectation& expectation);

}  // namespace postwarden::agent::verify
