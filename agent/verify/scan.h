// A vulnerability-scanner view of one ProbeResult: a fixed list of findings with PASS / FAIL
// / WARN / INFO verdicts and stable ids, phrased the way external scanners (Nessus, OpenVAS)
// report SMTP issues, so an operator can match a scanner's report with postwarden's.
// Pure: no I/O, the time is passed in; deterministic and thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/verify/smtp_prober.h"

namespace postwarden::agent::verify {

struct ScanFinding {
  std::string id;  // stable, e.g. "smtp-cleartext-auth"
  enum class Verdict { kPass, kFail, kWarn, kInfo } verdict = Verdict::kInfo;
  std::string title;   // one line
  std::string detail;  // what was seen and why it matters
};

// "PASS", "FAIL", "WARN", "INFO".
std::string_view verdictName(ScanFinding::Verdict verdict);

// Certificates expiring in less than this are a warning.
inline constexpr std::chrono::hours kCertificateExpiryWarning{24 * 30};

// Findings, in this order (ids in brackets); later ones are left out when the data they
// need is missing (no connection, no TLS):
//  [smtp-service]         connected and greeted with 220 (FAIL otherwise; nothing follows)
//  [smtp-probe-complete]  FAIL when the conversation stopped early
//  [smtp-cleartext-auth]  AUTH before STARTTLS: FAIL for PLAIN/LOGIN (Nessus plugin 54582,
//                         "SMTP Service Cleartext Login Permitted"), WARN for other mechanisms
//  [smtp-cleartext-auth-attempt]  the raw AUTH PLAIN before TLS: PASS refused / FAIL not
//                         refused / INFO not tried
//  [smtp-starttls-offered]        PASS / FAIL
//  [smtp-starttls-handshake]      PASS / FAIL (when offered)
//  [smtp-vrfy]            when VRFY was tried: PASS for 502, FAIL otherwise (Nessus 10249)
//  [smtp-banner]          PASS, or WARN when the greeting names Postfix, Debian or Ubuntu
//  [smtp-open-relay]      when tested: PASS when RCPT TO an outside domain is refused (5xx,
//                         454), FAIL when accepted from an outside client (XCLIENT, or a
//                         non-loopback probe; Nessus 10262), INFO when accepted from loopback
//  [smtp-tls-version]     PASS for TLS 1.2 and 1.3, FAIL for older (RFC 8996)
//  [smtp-tls-1.0], [smtp-tls-1.1]  when tried: FAIL when a handshake offering only that
//                         version succeeds (Nessus 104743, 157288), PASS when refused
//  [smtp-tls-anonymous-cipher]     when tried: FAIL when an aNULL-only handshake succeeds
//                         (Nessus 31705), PASS when refused
//  [smtp-certificate-name]        PASS / FAIL when a name was expected, INFO with the names
//  [smtp-tls-dh-group]     when tried: FAIL when a DHE-only handshake used a DH group of
//                         1024 bits or less (Nessus 83875, Logjam), PASS otherwise
//  [smtp-certificate-name]        PASS / FAIL when a name was expected, INFO with the names
//  [smtp-certificate-expiry]      FAIL expired (Nessus 15901) or not yet valid, WARN < 30
//                                 days (Nessus 42981), PASS
//  [smtp-certificate-chain]       when checked: PASS trusted, FAIL self-signed (Nessus 57582),
//                                 incomplete or untrusted (Nessus 51192)
// Asks `target` for what the scanner findings need beyond one conversation: VRFY, the
// relay test (MAIL FROM / RCPT TO, never DATA), the certificate chain, and handshakes offering only
// TLS 1.0, only TLS 1.1, only anonymous suites, only DHE suites.
void requestScanChecks(ProbeTarget& target);

std::vector<ScanFinding> scanFindings(const ProbeResult& result,
                                      std::chrono::system_clock::time_point now);

}  // namespace postwarden::agent::verify
