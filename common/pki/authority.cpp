// The CA side of the PKI: creating the authority and issuing leaf certificates.
#include <openssl/err.h>

#include <algorithm>

#include "common/pki/internal/certificate_builder.h"
#include "common/pki/internal/csr.h"
#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki {
namespace {

struct Authority {
  X509Ptr certificate;
  EvpPkeyPtr key;
};

Status checkValidity(TimePoint not_before, TimePoint not_after) {
  // Compared as the whole seconds the certificate will carry.
  if (internal::toTimeT(not_after) <= internal::toTimeT(not_before)) {
    return InvalidArgumentError("not_after must be later than not_before");
  }
  return OkStatus();
}

// Letters, digits, '-', '.', '_' and a '*' for wildcards: enough for our hosts, and nothing
// that could confuse a name matcher (spaces, NULs, non-ASCII).
bool isPlausibleDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '*';
  });
}

Status checkRequest(const IssueRequest& request) {
  if (request.common_name.empty()) return InvalidArgumentError("common name is empty");
  for (const std::string& dns_name : request.dns_names) {
    if (!isPlausibleDnsName(dns_name)) {
      return InvalidArgumentError("'" + dns_name + "' is not a valid DNS name");
    }
  }
  return checkValidity(request.not_before, request.not_after);
}

Result<Authority> loadAuthority(const KeyAndCertificate& ca) {
  PW_ASSIGN_OR_RETURN(X509Ptr certificate,
                      internal::readCertificate(ca.certificate_pem, "CA certificate"));
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::readPrivateKey(ca.private_key_pem, "CA key"));
  PW_RETURN_IF_ERROR(internal::checkKeyAllowed(key.get(), "CA"));
  if (EVP_PKEY_eq(X509_get0_pubkey(certificate.get()), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgumentError("CA key does not belong to the CA certificate");
  }
  // Anything we sign with a non-CA certificate would fail every peer's verification anyway.
  const uint32_t flags = X509_get_extension_flags(certificate.get());
  if ((flags & EXFLAG_INVALID) != 0 || (flags & EXFLAG_CA) == 0) {
    return InvalidArgumentError("CA certificate does not have basicConstraints CA:TRUE");
  }
  if ((X509_get_key_usage(certificate.get()) & KU_KEY_CERT_SIGN) == 0) {
    return InvalidArgumentError("CA certificate keyUsage does not allow keyCertSign");
  }
  // The leaf's authorityKeyIdentifier is copied from it.
  if (X509_get0_subject_key_id(certificate.get()) == nullptr) {
    return InvalidArgumentError("CA certificate has no subjectKeyIdentifier");
  }
  return Authority{.certificate = std::move(certificate), .key = std::move(key)};
}

Result<std::string> issueForKey(const Authority& ca, EVP_PKEY* public_key,
                                const IssueRequest& request) {
  X509* issuer = ca.certificate.get();
  PW_ASSIGN_OR_RETURN(
      X509Ptr certificate,
      internal::newCertificate(
          {.common_name = request.common_name, .organizational_unit = request.organizational_unit},
          public_key, request.not_before, request.not_after, X509_get_subject_name(issuer)));
  X509* x = certificate.get();
  PW_RETURN_IF_ERROR(internal::addExtension(x, issuer, NID_basic_constraints, "critical,CA:FALSE"));
  // RFC 5480 forbids keyEncipherment for EC keys; RSA keys may still do RSA key exchange.
  const bool is_rsa = EVP_PKEY_get_base_id(public_key) == EVP_PKEY_RSA;
  PW_RETURN_IF_ERROR(internal::addExtension(
      x, issuer, NID_key_usage,
      is_rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature"));
  PW_RETURN_IF_ERROR(internal::addExtension(
      x, issuer, NID_ext_key_usage, request.usage == Usage::kServer ? "serverAuth" : "clientAuth"));
  PW_RETURN_IF_ERROR(internal::addSubjectAltName(x, request.dns_names, request.ip_addresses));
  PW_RETURN_IF_ERROR(internal::addExtension(x, issuer, NID_subject_key_identifier, "hash"));
  PW_RETURN_IF_ERROR(
      internal::addExtension(x, issuer, NID_authority_key_identifier, "keyid:always"));
  PW_RETURN_IF_ERROR(internal::signCertificate(x, ca.key.get()));
  return internal::certificateToPem(x);
}

}  // namespace

Result<KeyAndCertificate> createAuthority(const std::string& name, TimePoint not_before,
                                          TimePoint not_after) {
  ERR_clear_error();
  if (name.empty()) return InvalidArgumentError("CA name is empty");
  PW_RETURN_IF_ERROR(checkValidity(not_before, not_after));
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::generateEcP256Key());
  PW_ASSIGN_OR_RETURN(X509Ptr certificate,
                      internal::newCertificate({.common_name = name}, key.get(), not_before,
                                               not_after, /*issuer_name=*/nullptr));
  X509* x = certificate.get();
  // pathlen:0: this CA signs leaves only, so a leaked leaf key can never mint certificates.
  PW_RETURN_IF_ERROR(
      internal::addExtension(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  PW_RETURN_IF_ERROR(internal::addExtension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign"));
  PW_RETURN_IF_ERROR(internal::addExtension(x, x, NID_subject_key_identifier, "hash"));
  PW_RETURN_IF_ERROR(internal::signCertificate(x, key.get()));

  KeyAndCertificate authority;
  PW_ASSIGN_OR_RETURN(authority.certificate_pem, internal::certificateToPem(x));
  PW_ASSIGN_OR_RETURN(authority.private_key_pem, internal::privateKeyToPem(key.get()));
  return authority;
}

Result<std::string> issueFromCsr(const KeyAndCertificate& ca, const std::string& csr_pem,
                                 const IssueRequest& request) {
  ERR_clear_error();
  PW_RETURN_IF_ERROR(checkRequest(request));
  PW_ASSIGN_OR_RETURN(Authority authority, loadAuthority(ca));
  PW_ASSIGN_OR_RETURN(internal::VerifiedCsr verified, internal::readVerifiedCsr(csr_pem));
  // Only the CSR's public key is used; its subject and any requested extensions are ignored.
  return issueForKey(authority, X509_REQ_get0_pubkey(verified.csr.get()), request);
}

Result<KeyAndCertificate> issueWithNewKey(const KeyAndCertificate& ca,
                                          const IssueRequest& request) {
  ERR_clear_error();
  PW_RETURN_IF_ERROR(checkRequest(request));
  PW_ASSIGN_OR_RETURN(Authority authority, loadAuthority(ca));
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::generateEcP256Key());
  KeyAndCertificate issued;
  PW_ASSIGN_OR_RETURN(issued.certificate_pem, issueForKey(authority, key.get(), request));
  PW_ASSIGN_OR_RETURN(issued.private_key_pem, internal::privateKeyToPem(key.get()));
  return issued;
}

}  // namespace postwarden::pki
