// Building blocks for the certificates the CA signs: a v3 skeleton with a random serial, and
// the extensions. Internal to common/pki; callers validate their input first.
#pragma once

#include <string>
#include <vector>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"
#include "common/status.h"

namespace postwarden::pki::internal {

struct SubjectFields {
  std::string common_name;
  std::string organizational_unit;  // omitted when empty
};

// A v3 certificate for `public_key` with a random positive 128-bit serial, the validity period,
// subject O=Postwarden[, OU][, CN] and the issuer name given (the subject itself when null).
// Unsigned and without extensions. Errors: InvalidArgument for names OpenSSL refuses; Internal
// when OpenSSL fails.
Result<X509Ptr> newCertificate(const SubjectFields& subject, EVP_PKEY* public_key,
                               TimePoint not_before, TimePoint not_after,
                               const X509_NAME* issuer_name);

// Adds the extension `nid` written in openssl x509v3_config(5) syntax; `issuer` supplies the
// authority key identifier. Errors: Internal.
Status addExtension(X509* certificate, X509* issuer, int nid, const char* value);

// Adds a non-critical subjectAltName; nothing when both lists are empty.
// Errors: InvalidArgument for an address a2i_IPADDRESS rejects; Internal when OpenSSL fails.
Status addSubjectAltName(X509* certificate, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses);

// Signs with SHA-256 (ECDSA or RSA PKCS#1 v1.5, as the key dictates). Errors: Internal.
Status signCertificate(X509* certificate, EVP_PKEY* key);

}  // namespace postwarden::pki::internal
