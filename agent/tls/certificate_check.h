// Pure checks over PEM-encoded X.509 certificates and private keys, as Postfix uses them for
// smtpd_tls_cert_file / smtpd_tls_key_file / smtpd_tls_chain_files. The caller reads the
// files; nothing here touches the disk, the network or the clock (time is passed in).
// Guarantees: no exceptions, no global state; safe to call from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::agent::tls {

// What a certificate says about itself. Names are as written in the certificate (not
// lower-cased); matchesName() does the case-insensitive comparison.
struct CertificateInfo {
  std::string subject;                 // RFC 2253 one-line form, e.g. "CN=mail.example.com,O=Ex"
  std::string subject_common_name;     // last CN of the subject; empty when there is none
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries, in order
  std::string issuer;                  // RFC 2253 one-line form
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;  // clamped to time_point::max() if later
  bool self_signed = false;  // issuer == subject and the signature verifies with its own key

  friend bool operator==(const CertificateInfo&, const CertificateInfo&) = default;
};

// Parses the first CERTIFICATE block of `pem` (other PEM blocks, such as a private key in a
// combined smtpd_tls_chain_files file, are skipped).
// Errors: InvalidArgument when `pem` holds no parsable certificate.
Result<CertificateInfo> parseCertificate(std::string_view pem);

// Checks that `cert_pem` and `key_pem` form a pair Postfix can serve at time `now`: the first
// certificate parses, the first private key parses without a passphrase, the key belongs to
// the certificate, and now lies within [not_before, not_after].
// Errors: FailedPrecondition, with a message naming the problem (not PEM, not a certificate,
// not a private key, passphrase-protected key, key does not match, expired, not yet valid).
Status checkKeyPair(std::string_view cert_pem, std::string_view key_pem,
                    std::chrono::system_clock::time_point now);

// True when `name` is a DNS name the certificate is valid for, following RFC 6125: the
// subjectAltName dNSName entries are compared case-insensitively, ignoring one trailing dot;
// a wildcard is honoured only as the whole left-most label ("*.example.com" matches
// "mail.example.com", not "example.com" nor "a.mail.example.com") and only with at least two
// labels after it. The subject CN is consulted only when there are no dNSName entries.
bool matchesName(const CertificateInfo& certificate, std::string_view name);

// "2025-03-01 12:00:00 UTC"; for messages and reports.
std::string formatUtc(std::chrono::system_clock::time_point time);

}  // namespace postwarden::agent::tls
