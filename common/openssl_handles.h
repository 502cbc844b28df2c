// RAII handles for OpenSSL objects and OpenSSL's error queue as text, for common/pki and
// agent/tls. Every handle is a std::unique_ptr with a stateless deleter, so ownership is
// explicit and nothing leaks on early returns. Handles are plain values; OpenSSL's error queue
// is per thread.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

namespace postwarden {

// Calls the OpenSSL free function `kFree` on a non-null pointer.
template <auto kFree>
struct OpensslFree {
  template <typename T>
  void operator()(T* object) const {
    kFree(object);
  }
};

using Asn1OctetStringPtr = std::unique_ptr<ASN1_OCTET_STRING, OpensslFree<&ASN1_OCTET_STRING_free>>;
using BioPtr = std::unique_ptr<BIO, OpensslFree<&BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslFree<&BN_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpensslFree<&EVP_PKEY_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpensslFree<&GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpensslFree<&GENERAL_NAMES_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, OpensslFree<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, OpensslFree<&SSL_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpensslFree<&X509_NAME_free>>;
using X509Ptr = std::unique_ptr<X509, OpensslFree<&X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpensslFree<&X509_REQ_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslFree<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslFree<&X509_STORE_CTX_free>>;

// A read-only memory BIO over `data`, which must outlive the BIO. Returns null if `data` is
// larger than OpenSSL can address (INT_MAX bytes) or allocation fails.
BioPtr readOnlyMemoryBio(std::string_view data);

// Everything a memory BIO written by OpenSSL holds, as a string.
std::string memoryBioContents(BIO* bio);

// Pops every entry of this thread's OpenSSL error queue as ERR_error_string texts ("error:
// 0480006C:PEM routines::no start line") joined by "; ". Returns `fallback` when the queue was
// empty. Always leaves the queue empty.
std::string takeOpensslErrors(std::string_view fallback = "unknown OpenSSL error");

}  // namespace postwarden
