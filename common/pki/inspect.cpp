// Reading certificates back: what they say, and whether a CA vouches for them.
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki {
namespace {

Result<std::string> serialHex(const X509* certificate) {
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
  if (!serial) return internal::invalidInput("certificate serial number is malformed");
  char* hex = BN_bn2hex(serial.get());
  if (hex == nullptr) return internal::opensslFailure("formatting the serial number");
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

// The first certificate of the CA bundle is required; further ones (a CA rollover) are
// optional and reading stops at the first that does not parse.
Result<X509StorePtr> trustStore(const std::string& ca_pem) {
  X509StorePtr store(X509_STORE_new());
  if (!store) return internal::opensslFailure("allocating a trust store");
  PW_ASSIGN_OR_RETURN(X509Ptr first, internal::readCertificate(ca_pem, "CA certificate"));
  if (X509_STORE_add_cert(store.get(), first.get()) != 1) {
    return internal::opensslFailure("adding the CA certificate");
  }
  BioPtr bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  if (!bio) return internal::opensslFailure("reading the CA bundle");
  X509Ptr skipped_first(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  while (X509Ptr next{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store.get(), next.get()) != 1) {
      return internal::opensslFailure("adding a CA certificate");
    }
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return store;
}

std::string subjectCommonName(X509* certificate) {
  Result<std::string> name =
      internal::nameEntry(X509_get_subject_name(certificate), NID_commonName);
  return name.ok() ? "'" + *name + "'" : "(unreadable)";
}

// Names the failure in the terms callers act on; depth 0 is the certificate, above it the CA.
Status verificationFailure(X509_STORE_CTX* context, X509* certificate) {
  const int error = X509_STORE_CTX_get_error(context);
  const std::string subject =
      X509_STORE_CTX_get_error_depth(context) == 0 ? "certificate" : "CA certificate";
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return PermissionDeniedError(subject + " has expired");
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return PermissionDeniedError(subject + " is not yet valid");
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return PermissionDeniedError("certificate " + subjectCommonName(certificate) +
                                   " was issued by another CA");
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
      return PermissionDeniedError(subject + " has a bad signature");
    default:
      return PermissionDeniedError(subject +
                                   " not accepted: " + X509_verify_cert_error_string(error));
  }
}

}  // namespace

Result<CertificateInfo> inspectCertificate(const std::string& certificate_pem) {
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(X509Ptr certificate,
                      internal::readCertificate(certificate_pem, "certificate"));
  X509* x = certificate.get();
  CertificateInfo info;
  PW_ASSIGN_OR_RETURN(info.common_name,
                      internal::nameEntry(X509_get_subject_name(x), NID_commonName));
  PW_ASSIGN_OR_RETURN(info.organizational_unit,
                      internal::nameEntry(X509_get_subject_name(x), NID_organizationalUnitName));
  PW_ASSIGN_OR_RETURN(info.issuer_common_name,
                      internal::nameEntry(X509_get_issuer_name(x), NID_commonName));
  PW_ASSIGN_OR_RETURN(info.serial_hex, serialHex(x));
  PW_ASSIGN_OR_RETURN(info.not_before, internal::fromAsn1Time(X509_get0_notBefore(x)));
  PW_ASSIGN_OR_RETURN(info.not_after, internal::fromAsn1Time(X509_get0_notAfter(x)));
  return info;
}

Status verifyIssuedBy(const std::string& certificate_pem, const std::string& ca_pem,
                      TimePoint now) {
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(X509Ptr certificate,
                      internal::readCertificate(certificate_pem, "certificate"));
  PW_ASSIGN_OR_RETURN(X509StorePtr store, trustStore(ca_pem));
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!context ||
      X509_STORE_CTX_init(context.get(), store.get(), certificate.get(), nullptr) != 1) {
    return internal::opensslFailure("preparing certificate verification");
  }
  // No X509_V_FLAG_PARTIAL_CHAIN: the chain must end at a self-signed CA in `ca_pem`, so a
  // leaf that merely appears in the bundle is not trusted by being there.
  X509_STORE_CTX_set_time(context.get(), 0, internal::toTimeT(now));
  const int verified = X509_verify_cert(context.get());
  if (verified == 1) {
    ERR_clear_error();
    return OkStatus();
  }
  if (verified < 0) return internal::opensslFailure("verifying the certificate");
  Status failure = verificationFailure(context.get(), certificate.get());
  ERR_clear_error();
  return failure;
}

}  // namespace postwarden::pki
