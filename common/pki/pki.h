// A small in-memory PKI for Postwarden's mutual TLS: the controller's CA signs agent, operator
// and server certificates; agents generate their key and CSR locally, so private keys never
// leave the host that uses them. Certificates are X.509 v3 with the extensions gRPC's OpenSSL
// verification expects. Pure apart from OpenSSL's random generator: no files, no clock (times
// are passed in), no logging, no global state. Errors are Status values; nothing throws.
// Thread-safety: every function is safe to call concurrently. Each call clears the calling
// thread's OpenSSL error queue first and leaves it empty.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::pki {

using TimePoint = std::chrono::system_clock::time_point;

// Every subject this module issues carries O=Postwarden.
inline constexpr char kOrganization[] = "Postwarden";

// Generates an EC P-256 private key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
// Errors: Internal when OpenSSL fails.
Result<std::string> generatePrivateKey();

// Creates a PKCS#10 CSR (PEM) for `private_key_pem` with subject CN=common_name, signed with
// SHA-256. Errors: InvalidArgument when the key does not parse or is not EC P-256 / RSA >= 2048,
// or `common_name` is empty; Internal when OpenSSL fails.
Result<std::string> createCsr(const std::string& private_key_pem, const std::string& common_name);

// What a CSR asks for. The CA never copies any of it but the key into a certificate; a request
// for more than an identity is still worth refusing (and logging): nobody but an attacker
// asks for it.
struct CsrInfo {
  std::string common_name;
  bool requests_ca = false;  // basicConstraints CA:TRUE, or keyUsage keyCertSign / cRLSign
  // Requested subjectAltName entries: "DNS:name", "IP:address", "email:...", "URI:...",
  // "other" for any other kind.
  std::vector<std::string> subject_alt_names;
  bool malformed_extensions = false;  // requested extensions that do not decode
};

// Parses a CSR and verifies its self-signature (proof that the requester holds the key).
// Errors: InvalidArgument on garbage, a bad signature, no CN, or a key that is not EC P-256 /
// RSA >= 2048.
Result<CsrInfo> parseCsr(const std::string& csr_pem);

// OK when `csr` asks for nothing but its name: no CA, no wildcard (in the CN or a SAN), no
// subject alternative name other than DNS:<CN>, no undecodable extension. Otherwise
// InvalidArgument "hostile certificate request: <what it asks for>". Pure.
Status checkIdentityOnly(const CsrInfo& csr);

enum class Usage { kClient, kServer };

struct IssueRequest {
  std::string common_name;                // required
  std::string organizational_unit;        // e.g. "agent", "operator:admin"; omitted when empty
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries ("127.0.0.1", "::1")
  Usage usage = Usage::kClient;           // extendedKeyUsage clientAuth or serverAuth
  TimePoint not_before;                   // truncated to whole seconds
  TimePoint not_after;                    // must be after not_before
};

struct KeyAndCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // unencrypted PKCS#8
};

// Creates a self-signed CA with an EC P-256 key: subject CN=name, O=Postwarden;
// basicConstraints critical CA:TRUE pathlen:0 (it signs only leaf certificates), keyUsage
// critical keyCertSign+cRLSign, subjectKeyIdentifier.
// Errors: InvalidArgument for an empty name or not_after <= not_before; Internal when OpenSSL
// fails.
Result<KeyAndCertificate> createAuthority(const std::string& name, TimePoint not_before,
                                          TimePoint not_after);

// Issues a certificate signed by `ca` for the public key of `csr_pem`, after verifying the CSR's
// signature. The subject comes from `request` (O=Postwarden, OU, CN), never from the CSR, so a
// requester cannot choose its own identity. The certificate has a random positive 128-bit
// serial, a SHA-256 signature, basicConstraints CA:FALSE, keyUsage digitalSignature (plus
// keyEncipherment for RSA keys), extendedKeyUsage clientAuth or serverAuth, subjectAltName as
// requested, and subject and authority key identifiers.
// Errors: InvalidArgument for a bad CSR, a bad CA (does not parse, key does not match, not a
// CA) or a bad request (empty CN, invalid DNS name or IP address, empty validity);
// Internal when OpenSSL fails.
Result<std::string> issueFromCsr(const KeyAndCertificate& ca, const std::string& csr_pem,
                                 const IssueRequest& request);

// Generates a fresh EC P-256 key and issues a certificate for it, as issueFromCsr does. For
// server and operator certificates, whose keys are made where the CA is.
// Errors: as issueFromCsr.
Result<KeyAndCertificate> issueWithNewKey(const KeyAndCertificate& ca, const IssueRequest& request);

struct CertificateInfo {
  std::string common_name;          // empty when the subject has none
  std::string organizational_unit;  // empty when the subject has none
  std::string issuer_common_name;   // empty when the issuer has none
  std::string serial_hex;           // uppercase hex, no separators
  TimePoint not_before;
  TimePoint not_after;
};

// Describes the first certificate in `certificate_pem`. Does not verify anything.
// Errors: InvalidArgument when it does not parse.
Result<CertificateInfo> inspectCertificate(const std::string& certificate_pem);

// OK when the first certificate in `certificate_pem` chains to a self-signed CA certificate in
// `ca_pem` (one or more PEM certificates, e.g. old and new CA during a rollover) and every
// certificate in that chain is valid at `now`. Key usage and extended key usage are not checked.
// Errors: PermissionDenied when not, with the reason (expired, not yet valid, other issuer,
// bad signature); InvalidArgument when either PEM does not parse.
Status verifyIssuedBy(const std::string& certificate_pem, const std::string& ca_pem, TimePoint now);

// OK when `private_key_pem` is the private half of the certificate's public key.
// Errors: InvalidArgument when they do not match or either does not parse.
Status checkKeyMatches(const std::string& certificate_pem, const std::string& private_key_pem);

}  // namespace postwarden::pki
