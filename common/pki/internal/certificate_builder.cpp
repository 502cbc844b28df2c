#include "common/pki/internal/certificate_builder.h"

#include <openssl/err.h>

namespace postwarden::pki::internal {
namespace {

Status setTime(ASN1_TIME* field, TimePoint time) {
  if (ASN1_TIME_set(field, toTimeT(time)) == nullptr) {
    return opensslFailure("setting a validity time");
  }
  return OkStatus();
}

Status addNameEntry(X509_NAME* name, int nid, const std::string& value) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    // Typically a value longer than the X.520 upper bound (64 characters for CN and OU).
    return invalidInput(std::string("subject ") + OBJ_nid2sn(nid) + " '" + value + "' is refused");
  }
  return OkStatus();
}

// RFC 5280 4.1.2.2: positive, at most 20 octets; CAs should use at least 64 random bits. 128
// random bits make collisions irrelevant without keeping any issuance state.
Status setRandomSerial(X509* certificate) {
  BignumPtr serial(BN_new());
  if (!serial) return opensslFailure("allocating the serial number");
  do {
    if (BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
      return opensslFailure("generating the serial number");
    }
  } while (BN_is_zero(serial.get()));  // zero is not positive
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)) == nullptr) {
    return opensslFailure("setting the serial number");
  }
  return OkStatus();
}

Status pushName(GENERAL_NAMES* names, int type, ASN1_STRING* value) {
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!name) {
    ASN1_STRING_free(value);
    return opensslFailure("allocating a subjectAltName entry");
  }
  GENERAL_NAME_set0_value(name.get(), type, value);  // takes ownership of value
  if (sk_GENERAL_NAME_push(names, name.get()) == 0) {
    return opensslFailure("building subjectAltName");
  }
  name.release();  // now owned by the stack
  return OkStatus();
}

}  // namespace

Result<X509Ptr> newCertificate(const SubjectFields& subject, EVP_PKEY* public_key,
                               TimePoint not_before, TimePoint not_after,
                               const X509_NAME* issuer_name) {
  X509Ptr certificate(X509_new());
  if (!certificate) return opensslFailure("allocating a certificate");
  X509* x = certificate.get();
  // Extensions need v3; gRPC's OpenSSL refuses CA certificates that are not v3 with CA:TRUE.
  if (X509_set_version(x, X509_VERSION_3) != 1) return opensslFailure("setting the version");
  PW_RETURN_IF_ERROR(setRandomSerial(x));
  PW_RETURN_IF_ERROR(setTime(X509_getm_notBefore(x), not_before));
  PW_RETURN_IF_ERROR(setTime(X509_getm_notAfter(x), not_after));

  X509_NAME* name = X509_get_subject_name(x);
  PW_RETURN_IF_ERROR(addNameEntry(name, NID_organizationName, kOrganization));
  if (!subject.organizational_unit.empty()) {
    PW_RETURN_IF_ERROR(addNameEntry(name, NID_organizationalUnitName, subject.organizational_unit));
  }
  if (!subject.common_name.empty()) {
    PW_RETURN_IF_ERROR(addNameEntry(name, NID_commonName, subject.common_name));
  }
  if (X509_set_issuer_name(x, issuer_name != nullptr ? issuer_name : name) != 1) {
    return opensslFailure("setting the issuer name");
  }
  if (X509_set_pubkey(x, public_key) != 1) return opensslFailure("setting the public key");
  return certificate;
}

Status addExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) {
    return opensslFailure(std::string("building extension ") + OBJ_nid2sn(nid));
  }
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) return opensslFailure(std::string("adding extension ") + OBJ_nid2sn(nid));
  return OkStatus();
}

Status addSubjectAltName(X509* certificate, const std::vector<std::string>& dns_names,
                         const std::vector<std::string>& ip_addresses) {
  if (dns_names.empty() && ip_addresses.empty()) return OkStatus();
  // Built as GENERAL_NAMEs rather than a config string so that no name can inject entries.
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return opensslFailure("allocating subjectAltName");
  for (const std::string& dns_name : dns_names) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr ||
        ASN1_STRING_set(value, dns_name.data(), static_cast<int>(dns_name.size())) != 1) {
      ASN1_IA5STRING_free(value);
      return opensslFailure("building a dNSName");
    }
    PW_RETURN_IF_ERROR(pushName(names.get(), GEN_DNS, value));
  }
  for (const std::string& ip_address : ip_addresses) {
    ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip_address.c_str());
    if (value == nullptr || ip_address.find('\0') != std::string::npos) {
      ASN1_OCTET_STRING_free(value);
      ERR_clear_error();
      return InvalidArgumentError("'" + ip_address + "' is not an IPv4 or IPv6 address");
    }
    PW_RETURN_IF_ERROR(pushName(names.get(), GEN_IPADD, value));
  }
  if (X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return opensslFailure("adding subjectAltName");
  }
  return OkStatus();
}

Status signCertificate(X509* certificate, EVP_PKEY* key) {
  if (X509_sign(certificate, key, EVP_sha256()) <= 0) {
    return opensslFailure("signing the certificate");
  }
  return OkStatus();
}

}  // namespace postwarden::pki::internal
