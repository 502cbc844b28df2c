// Helpers shared by the pki tests: fixed times, a CA, and OpenSSL parsing for assertions.
#pragma once

#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <chrono>
#include <string>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki::testing {

using std::chrono::hours;

// Whole seconds, since certificates carry no more.
inline TimePoint nowSeconds() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

inline KeyAndCertificate makeCa(const std::string& name, TimePoint now) {
  Result<KeyAndCertificate> ca = createAuthority(name, now - hours(1), now + hours(24 * 365));
  EXPECT_TRUE(ca.ok()) << ca.status().toString();
  return ca.ok() ? *ca : KeyAndCertificate{};
}

inline IssueRequest agentRequest(TimePoint now) {
  return IssueRequest{.common_name = "mx1.example.net",
                      .organizational_unit = "agent",
                      .not_before = now - hours(1),
                      .not_after = now + hours(24 * 30)};
}

inline X509Ptr parseCertificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

inline X509ReqPtr parseRequest(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509ReqPtr(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
}

inline std::string requestToPem(X509_REQ* csr) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), csr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

inline std::string keyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// A CSR built directly with OpenSSL, for keys createCsr refuses to use.
inline std::string rawCsr(EVP_PKEY* key, const EVP_MD* digest = EVP_sha256()) {
  X509ReqPtr csr(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("odd-key"), -1, -1, 0);
  X509_REQ_set_pubkey(csr.get(), key);
  EXPECT_GT(X509_REQ_sign(csr.get(), key, digest), 0);
  return requestToPem(csr.get());
}

}  // namespace postwarden::pki::testing
