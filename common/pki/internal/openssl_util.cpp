#include "common/pki/internal/openssl_util.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <climits>
#include <cstring>

namespace postwarden::pki::internal {
namespace {

// Runs `write(bio)` into a fresh memory BIO and returns what it wrote.
template <typename Write>
Result<std::string> writePem(std::string_view what, Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return opensslFailure(what);
  return memoryBioContents(bio.get());
}

}  // namespace

Status opensslFailure(std::string_view what) {
  return InternalError(std::string(what) + ": " + takeOpensslErrors());
}

Status invalidInput(std::string_view what) {
  return InvalidArgumentError(std::string(what) + ": " + takeOpensslErrors());
}

Result<EvpPkeyPtr> readPrivateKey(std::string_view pem, std::string_view what) {
  BioPtr bio = readOnlyMemoryBio(pem);
  // An empty passphrase callback result: an encrypted key fails instead of prompting on a tty.
  EvpPkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""))
                     : nullptr);
  if (!key) return invalidInput(std::string(what) + " is not a PEM private key");
  return key;
}

Result<X509Ptr> readCertificate(std::string_view pem, std::string_view what) {
  BioPtr bio = readOnlyMemoryBio(pem);
  X509Ptr certificate(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!certificate) return invalidInput(std::string(what) + " is not a PEM certificate");
  return certificate;
}

Result<X509ReqPtr> readCsr(std::string_view pem) {
  BioPtr bio = readOnlyMemoryBio(pem);
  X509ReqPtr csr(bio ? PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!csr) return invalidInput("CSR is not a PEM certificate request");
  return csr;
}

Result<std::string> privateKeyToPem(EVP_PKEY* key) {
  return writePem("writing the private key", [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

Result<std::string> certificateToPem(X509* certificate) {
  return writePem("writing the certificate",
                  [certificate](BIO* bio) { return PEM_write_bio_X509(bio, certificate); });
}

Result<std::string> csrToPem(X509_REQ* csr) {
  return writePem("writing the CSR", [csr](BIO* bio) { return PEM_write_bio_X509_REQ(bio, csr); });
}

Result<EvpPkeyPtr> generateEcP256Key() {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return opensslFailure("generating an EC P-256 key");
  return key;
}

Status checkKeyAllowed(EVP_PKEY* key, std::string_view what) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char group[64] = {};
      if (EVP_PKEY_get_group_name(key, group, sizeof(group), nullptr) != 1) {
        return invalidInput(std::string(what) + " has an EC key without a named curve");
      }
      // OpenSSL reports P-256 by its X9.62 name.
      if (std::strcmp(group, SN_X9_62_prime256v1) != 0) {
        return InvalidArgumentError(std::string(what) + " has an EC key on curve '" + group +
                                    "', not P-256");
      }
      return OkStatus();
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048) {
        return InvalidArgumentError(std::string(what) + " has an RSA key shorter than 2048 bits");
      }
      return OkStatus();
    default:
      return InvalidArgumentError(std::string(what) +
                                  " has a key that is neither EC P-256 nor RSA");
  }
}

time_t toTimeT(TimePoint time) {
  return static_cast<time_t>(
      std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count());
}

Result<TimePoint> fromAsn1Time(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return invalidInput("certificate has a malformed validity time");
  }
  // ASN1_TIME_to_tm yields UTC fields; build the instant without the local time zone.
  const std::chrono::year_month_day date{std::chrono::year{tm.tm_year + 1900},
                                         std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                         std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  return TimePoint(std::chrono::sys_days(date)) + std::chrono::hours(tm.tm_hour) +
         std::chrono::minutes(tm.tm_min) + std::chrono::seconds(tm.tm_sec);
}

Result<std::string> nameEntry(const X509_NAME* name, int nid) {
  const int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return std::string();
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return invalidInput("name entry is not a valid string");
  std::string value(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  // A NUL would let "admin\0.evil" read as "admin" to C code further down the line.
  if (value.find('\0') != std::string::npos) {
    return InvalidArgumentError("name entry contains a NUL byte");
  }
  return value;
}

}  // namespace postwarden::pki::internal
