// OpenSSL plumbing shared by the pki sources: RAII handles, error-queue text, PEM reading and
// writing, time and name conversion, and the key-type policy. Internal to common/pki.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/pki/pki.h"
#include "common/status.h"

namespace postwarden::pki::internal {

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
using X509Ptr = std::unique_ptr<X509, OpensslFree<&X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpensslFree<&X509_REQ_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpensslFree<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpensslFree<&X509_STORE_CTX_free>>;

// Pops this thread's OpenSSL error queue as ERR_error_string texts joined by "; ", or
// "no OpenSSL error detail" when it was empty.
std::string takeOpensslErrors();

// Internal("<what>: <OpenSSL errors>").
Status opensslFailure(std::string_view what);

// InvalidArgument("<what>: <OpenSSL errors>").
Status invalidInput(std::string_view what);

// PEM parsing; InvalidArgument naming `what` on failure. Only the first object is read.
Result<EvpPkeyPtr> readPrivateKey(std::string_view pem, std::string_view what);
Result<X509Ptr> readCertificate(std::string_view pem, std::string_view what);
Result<X509ReqPtr> readCsr(std::string_view pem);

// PEM writing; Internal on failure. Keys are written as unencrypted PKCS#8.
Result<std::string> privateKeyToPem(EVP_PKEY* key);
Result<std::string> certificateToPem(X509* certificate);
Result<std::string> csrToPem(X509_REQ* csr);

// EC P-256 key; Internal on failure.
Result<EvpPkeyPtr> generateEcP256Key();

// OK for EC P-256 and RSA >= 2048 keys, the ones we sign with SHA-256 and gRPC peers accept;
// InvalidArgument naming `what` otherwise.
Status checkKeyAllowed(EVP_PKEY* key, std::string_view what);

// Whole seconds since the epoch, as OpenSSL wants them.
time_t toTimeT(TimePoint time);

// The ASN1_TIME as a TimePoint; InvalidArgument when it is malformed.
Result<TimePoint> fromAsn1Time(const ASN1_TIME* time);

// The UTF-8 value of the first `nid` entry (e.g. NID_commonName) of `name`, or empty when there
// is none. InvalidArgument when it cannot be converted or holds a NUL byte.
Result<std::string> nameEntry(const X509_NAME* name, int nid);

}  // namespace postwarden::pki::internal
