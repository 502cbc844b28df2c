// Test support: creates throwaway X.509 certificates and keys in memory: self-signed ones for a
// Postfix sandbox (the e2e suite) and CA-signed, expired or not-yet-valid ones. Pure apart from
// OpenSSL's random generator: no files, no clock (times are passed in). Not for production
// PKI (no CA policy, no revocation, no key protection), so no production library builds it;
// it keeps the tls namespace of the tests that use it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::agent::tls {

enum class KeyType { kEcP256, kRsa2048, kEd25519 };  // the key of the generated certificate

struct CertificateRequest {
  std::string common_name;             // subject CN; omitted when empty
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries; none when empty
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  KeyType key_type = KeyType::kEcP256;
  bool is_ca = false;  // adds basicConstraints CA:TRUE so it can sign others
};

struct GeneratedCertificate {
  std::string certificate_pem;  // "-----BEGIN CERTIFICATE-----..."
  std::string private_key_pem;  // unencrypted PKCS#8 "-----BEGIN PRIVATE KEY-----..."
};

// Generates a new key pair and a certificate for it, signed by `issuer` when given (its subject
// becomes the issuer name) and self-signed otherwise; with SHA-256, or plain Ed25519 when the
// signing key is an Ed25519 key.
// Errors: InvalidArgument when `issuer` does not parse; Internal when OpenSSL fails.
Result<GeneratedCertificate> generateCertificate(const CertificateRequest& request,
                                                 const GeneratedCertificate* issuer = nullptr);

}  // namespace postwarden::agent::tls
