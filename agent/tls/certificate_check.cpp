#include "agent/tls/certificate_check.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <ctime>
#include <limits>

#include "agent/tls/internal/x509_info.h"
#include "common/openssl_handles.h"

namespace postwarden::agent::tls {
namespace {

using std::chrono::system_clock;

Result<system_clock::time_point> toTimePoint(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    return InvalidArgumentError("undecodable validity time: " + takeOpensslErrors());
  }
  const std::time_t seconds = timegm(&tm);
  // libstdc++'s system_clock counts nanoseconds and ends in 2262; certificates that mean "no
  // expiry" say 9999-12-31 (RFC 5280 4.1.2.5), so clamp instead of overflowing.
  using Seconds = std::chrono::seconds;
  const auto max_seconds =
      std::chrono::duration_cast<Seconds>(system_clock::time_point::max().time_since_epoch());
  const auto min_seconds =
      std::chrono::duration_cast<Seconds>(system_clock::time_point::min().time_since_epoch());
  if (seconds >= max_seconds.count()) return system_clock::time_point::max();
  if (seconds <= min_seconds.count()) return system_clock::time_point::min();
  return system_clock::time_point(Seconds(seconds));
}

std::string nameToString(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || name == nullptr) return {};
  // RFC 2253 with UTF-8 kept as is (not escaped to \XX), so names read naturally.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return memoryBioContents(bio.get());
}

std::string asn1ToUtf8(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0 || utf8 == nullptr) return {};
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

std::string lastCommonName(const X509_NAME* name) {
  // RFC 6125 6.4.4: when several CNs are present, the most specific (last) one counts.
  std::string common_name;
  for (int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1); index >= 0;
       index = X509_NAME_get_index_by_NID(name, NID_commonName, index)) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, index);
    common_name = asn1ToUtf8(X509_NAME_ENTRY_get_data(entry));
  }
  return common_name;
}

std::vector<std::string> dnsNames(X509* certificate) {
  std::vector<std::string> names;
  GeneralNamesPtr general_names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!general_names) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(general_names.get()); ++i) {
    const GENERAL_NAME* general_name = sk_GENERAL_NAME_value(general_names.get(), i);
    if (general_name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* ia5 = general_name->d.dNSName;
    std::string name(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ia5)),
                     static_cast<size_t>(ASN1_STRING_length(ia5)));
    // An embedded NUL ("mail.example.com\0.evil.net") is the classic name-confusion attack;
    // such an entry matches nothing, so leave it out.
    if (name.find('\0') != std::string::npos) continue;
    names.push_back(std::move(name));
  }
  return names;
}

char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string normalizeName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), asciiLower);
  return lower;
}

bool matchesPattern(std::string_view pattern_in, std::string_view host) {
  const std::string pattern = normalizeName(pattern_in);
  if (pattern.empty() || host.empty()) return false;
  if (pattern.rfind("*.", 0) != 0) {
    return pattern.find('*') == std::string::npos && pattern == host;
  }
  // "*.example.com": the wildcard stands for exactly one non-empty label, and the rest must
  // hold at least two labels so that "*.com" never matches anything.
  const std::string_view suffix = std::string_view(pattern).substr(1);  // ".example.com"
  if (suffix.find('*') != std::string_view::npos) return false;
  if (std::count(suffix.begin(), suffix.end(), '.') < 2) return false;
  const size_t first_dot = host.find('.');
  if (first_dot == 0 || first_dot == std::string_view::npos) return false;
  return host.substr(first_dot) == suffix;
}

Result<X509Ptr> readCertificate(std::string_view pem) {
  BioPtr bio = readOnlyMemoryBio(pem);
  if (!bio) return InvalidArgumentError("certificate PEM is too large");
  ERR_clear_error();
  X509Ptr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) {
    return InvalidArgumentError("no PEM certificate found: " + takeOpensslErrors());
  }
  ERR_clear_error();
  return certificate;
}

// PEM password callback that refuses to supply one: OpenSSL's default would prompt on the
// terminal, which must never happen in an agent. Postfix itself cannot use encrypted keys.
int noPassphrase(char* /*buffer*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

bool contains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}

}  // namespace

namespace internal {

Result<CertificateInfo> describeCertificate(X509* certificate) {
  CertificateInfo info;
  info.subject = nameToString(X509_get_subject_name(certificate));
  info.subject_common_name = lastCommonName(X509_get_subject_name(certificate));
  info.issuer = nameToString(X509_get_issuer_name(certificate));
  info.dns_names = dnsNames(certificate);
  PW_ASSIGN_OR_RETURN(info.not_before, toTimePoint(X509_get0_notBefore(certificate)));
  PW_ASSIGN_OR_RETURN(info.not_after, toTimePoint(X509_get0_notAfter(certificate)));
  info.self_signed = X509_self_signed(certificate, /*verify_signature=*/1) == 1;
  ERR_clear_error();  // X509_self_signed may leave entries for a non-matching signature
  return info;
}

}  // namespace internal

Result<CertificateInfo> parseCertificate(std::string_view pem) {
  PW_ASSIGN_OR_RETURN(X509Ptr certificate, readCertificate(pem));
  return internal::describeCertificate(certificate.get());
}

Status checkKeyPair(std::string_view cert_pem, std::string_view key_pem,
                    std::chrono::system_clock::time_point now) {
  // Certificate first: the most common mistakes are a swapped pair or a non-PEM (DER) file.
  auto certificate = readCertificate(cert_pem);
  if (!certificate.ok()) {
    if (!contains(cert_pem, "-----BEGIN ")) {
      return FailedPreconditionError(
          "certificate is not PEM data (expected '-----BEGIN CERTIFICATE-----')");
    }
    if (contains(cert_pem, "PRIVATE KEY-----")) {
      return FailedPreconditionError(
          "certificate file holds a private key but no certificate (are the certificate and "
          "key swapped?)");
    }
    return FailedPreconditionError("certificate is not a certificate: " +
                                   certificate.status().message());
  }

  BioPtr key_bio = readOnlyMemoryBio(key_pem);
  if (!key_bio) return FailedPreconditionError("private key PEM is too large");
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, &noPassphrase, nullptr));
  if (!key) {
    const std::string detail = takeOpensslErrors();
    if (contains(key_pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
        contains(key_pem, "Proc-Type: 4,ENCRYPTED")) {
      return FailedPreconditionError(
          "private key is protected by a passphrase; Postfix needs an unencrypted key");
    }
    if (!contains(key_pem, "-----BEGIN ")) {
      return FailedPreconditionError(
          "private key is not PEM data (expected '-----BEGIN PRIVATE KEY-----')");
    }
    if (contains(key_pem, "-----BEGIN CERTIFICATE-----")) {
      return FailedPreconditionError(
          "key is not a private key: the key file holds a certificate and no private key");
    }
    if (contains(key_pem, "PUBLIC KEY-----")) {
      return FailedPreconditionError(
          "key is not a private key: the key file holds only a public key");
    }
    return FailedPreconditionError("key is not a private key: " + detail);
  }

  // EVP_PKEY_eq compares the public halves: 1 = same key, 0 = different, < 0 = different
  // key types or not comparable. All but 1 mean Postfix would fail the handshake setup.
  const EVP_PKEY* certificate_key = X509_get0_pubkey(certificate->get());
  const int same = certificate_key == nullptr ? -1 : EVP_PKEY_eq(certificate_key, key.get());
  ERR_clear_error();
  auto info = internal::describeCertificate(certificate->get());
  if (!info.ok()) return FailedPreconditionError(info.status().message());
  if (same != 1) {
    return FailedPreconditionError("private key does not match the certificate for '" +
                                   info->subject + "'");
  }
  if (now < info->not_before) {
    return FailedPreconditionError("certificate for '" + info->subject +
                                   "' is not yet valid: valid from " + formatUtc(info->not_before));
  }
  if (now > info->not_after) {
    return FailedPreconditionError("certificate for '" + info->subject + "' expired on " +
                                   formatUtc(info->not_after));
  }
  return OkStatus();
}

bool matchesName(const CertificateInfo& certificate, std::string_view name) {
  const std::string host = normalizeName(name);
  if (host.empty() || host.find('*') != std::string::npos) return false;
  if (!certificate.dns_names.empty()) {
    return std::any_of(certificate.dns_names.begin(), certificate.dns_names.end(),
                       [&](const std::string& pattern) { return matchesPattern(pattern, host); });
  }
  // RFC 6125 6.4.4: the CN is a fallback for certificates without any DNS-ID.
  return matchesPattern(certificate.subject_common_name, host);
}

std::string formatUtc(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return "(unrepresentable time)";
  char buffer[64];
  if (std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) return {};
  return buffer;
}

}  // namespace postwarden::agent::tls
