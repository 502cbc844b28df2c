// OpenSSL plumbing shared by the pki sources: PEM reading and writing, time and name
// conversion, and the key-type policy, over the handles of common/openssl_handles.h. Internal
// to common/pki.
#pragma once

#include <string>
#include <string_view>

#include "common/openssl_handles.h"
#include "common/pki/pki.h"
#include "common/status.h"

namespace postwarden::pki::internal {

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
