// Whether the certificate chain a TLS server sent leads to a trusted root: what scanners report
// as "SSL Certificate Cannot Be Trusted" (Nessus 51192, which covers a missing intermediate as
// well as an unknown root) and "SSL Self-Signed Certificate" (Nessus 57582). The chain is
// built from the certificates the server sent (never fetched from elsewhere: a missing
// intermediate is the server's fault, and clients without AIA fetching fail on it) and the
// trust store. Validity times are not judged here (expiry is a finding of its own), so an
// expired but otherwise complete chain still counts as complete.
// Pure over its inputs apart from reading the trust store named by OpenSSL's default paths.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace postwarden::agent::tls {

struct ChainCheck {
  enum class Problem {
    kNone,           // the chain leads from the leaf to a trusted root
    kSelfSigned,     // the leaf is its own issuer and not trusted (Nessus 57582)
    kIncomplete,     // a certificate's issuer was neither sent nor trusted (missing intermediate)
    kUntrustedRoot,  // the chain is complete up to a root that is not trusted (Nessus 51192)
    kOther,          // anything else OpenSSL refused (a bad signature, a non-CA issuer, ...)
  };
  Problem problem = Problem::kOther;
  int served = 0;      // certificates the server sent, leaf included
  std::string detail;  // OpenSSL's reason and where in the chain it stopped; empty when trusted

  bool trusted() const { return problem == Problem::kNone; }
};

// "trusted", "self-signed", "incomplete", "untrusted root", "not verifiable".
std::string_view chainProblemName(ChainCheck::Problem problem);

// Verifies `leaf` with `served` (the certificates the peer sent, leaf first or not; may be
// null) against `trusted`. Borrowed pointers, not null except `served`.
ChainCheck checkChain(X509* leaf, STACK_OF(X509) * served, X509_STORE* trusted);

// The same against OpenSSL's default trust store (/etc/ssl/certs on Debian; SSL_CERT_FILE and
// SSL_CERT_DIR override it, which is how tests trust a throwaway CA).
ChainCheck checkChainAgainstSystemStore(X509* leaf, STACK_OF(X509) * served);

// For tests and callers holding PEM text: `served_pem` is the chain the server would send, leaf
// first; `trusted_pem` the trusted roots. Errors: InvalidArgument when `served_pem` holds no
// certificate.
Result<ChainCheck> checkChainPem(std::string_view served_pem, std::string_view trusted_pem);

}  // namespace postwarden::agent::tls
