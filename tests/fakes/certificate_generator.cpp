#include "tests/fakes/certificate_generator.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/openssl_handles.h"

namespace postwarden::agent::tls {
namespace {

Status opensslFailure(std::string_view what) {
  return InternalError(std::string(what) + ": " + takeOpensslErrors());
}

Result<EvpPkeyPtr> generateKey(KeyType type) {
  EvpPkeyPtr key;
  switch (type) {
    case KeyType::kRsa2048:
      key.reset(EVP_RSA_gen(2048));
      break;
    case KeyType::kEcP256:
      key.reset(EVP_EC_gen("P-256"));
      break;
    case KeyType::kEd25519:
      key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
      break;
  }
  if (!key) return opensslFailure("generating a key");
  return key;
}

Status setTime(ASN1_TIME* field, std::chrono::system_clock::time_point time) {
  if (ASN1_TIME_set(field, std::chrono::system_clock::to_time_t(time)) == nullptr) {
    return opensslFailure("setting a validity time");
  }
  return OkStatus();
}

Status addExtension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) return opensslFailure("building an extension");
  const int added = X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) return opensslFailure("adding an extension");
  return OkStatus();
}

Status addDnsNames(X509* certificate, const std::vector<std::string>& dns_names) {
  if (dns_names.empty()) return OkStatus();
  GeneralNamesPtr names(GENERAL_NAMES_new());
  if (!names) return opensslFailure("allocating subjectAltName");
  for (const std::string& dns_name : dns_names) {
    GENERAL_NAME* name = GENERAL_NAME_new();
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (name == nullptr || ia5 == nullptr ||
        ASN1_STRING_set(ia5, dns_name.data(), static_cast<int>(dns_name.size())) != 1) {
      GENERAL_NAME_free(name);
      ASN1_IA5STRING_free(ia5);
      return opensslFailure("building a dNSName");
    }
    GENERAL_NAME_set0_value(name, GEN_DNS, ia5);
    if (sk_GENERAL_NAME_push(names.get(), name) == 0) {
      GENERAL_NAME_free(name);
      return opensslFailure("building subjectAltName");
    }
  }
  if (X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) !=
      1) {
    return opensslFailure("adding subjectAltName");
  }
  return OkStatus();
}

Result<std::string> certificateToPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    return opensslFailure("writing the certificate");
  }
  return memoryBioContents(bio.get());
}

Result<std::string> keyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return opensslFailure("writing the private key");
  }
  return memoryBioContents(bio.get());
}

}  // namespace

Result<GeneratedCertificate> generateCertificate(const CertificateRequest& request,
                                                 const GeneratedCertificate* issuer) {
  X509Ptr issuer_certificate;
  EvpPkeyPtr issuer_key;
  if (issuer != nullptr) {
    BioPtr certificate_bio = readOnlyMemoryBio(issuer->certificate_pem);
    BioPtr key_bio = readOnlyMemoryBio(issuer->private_key_pem);
    if (certificate_bio) {
      issuer_certificate.reset(PEM_read_bio_X509(certificate_bio.get(), nullptr, nullptr, nullptr));
    }
    if (key_bio) {
      issuer_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    }
    if (!issuer_certificate || !issuer_key) {
      return InvalidArgumentError("issuer does not parse: " + takeOpensslErrors());
    }
  }

  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, generateKey(request.key_type));
  X509Ptr certificate(X509_new());
  if (!certificate) return opensslFailure("allocating a certificate");
  X509* x = certificate.get();
  if (X509_set_version(x, X509_VERSION_3) != 1) return opensslFailure("setting the version");

  // A random positive 63-bit serial: unique enough for throwaway certificates.
  BignumPtr serial(BN_new());
  if (!serial || BN_rand(serial.get(), 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(x)) == nullptr) {
    return opensslFailure("setting the serial number");
  }
  PW_RETURN_IF_ERROR(setTime(X509_getm_notBefore(x), request.not_before));
  PW_RETURN_IF_ERROR(setTime(X509_getm_notAfter(x), request.not_after));

  X509_NAME* subject = X509_get_subject_name(x);
  if (!request.common_name.empty() &&
      X509_NAME_add_entry_by_txt(
          subject, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0) != 1) {
    return opensslFailure("setting the subject");
  }
  X509_NAME* issuer_name =
      issuer_certificate ? X509_get_subject_name(issuer_certificate.get()) : subject;
  if (X509_set_issuer_name(x, issuer_name) != 1) return opensslFailure("setting the issuer");
  if (X509_set_pubkey(x, key.get()) != 1) return opensslFailure("setting the public key");

  PW_RETURN_IF_ERROR(
      addExtension(x, NID_basic_constraints, request.is_ca ? "critical,CA:TRUE" : "CA:FALSE"));
  PW_RETURN_IF_ERROR(addDnsNames(x, request.dns_names));

  EVP_PKEY* signing_key = issuer_key ? issuer_key.get() : key.get();
  // Ed25519 signs the whole message itself and takes no separate digest (RFC 8410).
  const EVP_MD* digest =
      EVP_PKEY_get_base_id(signing_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(x, signing_key, digest) <= 0) return opensslFailure("signing");

  GeneratedCertificate generated;
  PW_ASSIGN_OR_RETURN(generated.certificate_pem, certificateToPem(x));
  PW_ASSIGN_OR_RETURN(generated.private_key_pem, keyToPem(key.get()));
  return generated;
}

}  // namespace postwarden::agent::tls
