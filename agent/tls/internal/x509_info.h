// Conversion of a parsed OpenSSL X509 into the module's CertificateInfo value. Internal to
// postwarden::tls: shared by certificate_check.cpp (PEM input) and tls_client.cpp (peer
// certificate of a handshake).
#pragma once

#include <openssl/x509.h>

#include "agent/tls/certificate_check.h"
#include "common/status.h"

namespace postwarden::agent::tls::internal {

// Describes `certificate` (borrowed, not null). Errors: InvalidArgument when a validity time
// cannot be decoded.
Result<CertificateInfo> describeCertificate(X509* certificate);

}  // namespace postwarden::agent::tls::internal
