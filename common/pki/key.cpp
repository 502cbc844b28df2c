// Private keys: generating them, and checking that one belongs to a certificate.
#include <openssl/err.h>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki {

Result<std::string> generatePrivateKey() {
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::generateEcP256Key());
  return internal::privateKeyToPem(key.get());
}

Status checkKeyMatches(const std::string& certificate_pem, const std::string& private_key_pem) {
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(X509Ptr certificate,
                      internal::readCertificate(certificate_pem, "certificate"));
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::readPrivateKey(private_key_pem, "key"));
  const EVP_PKEY* public_key = X509_get0_pubkey(certificate.get());
  // EVP_PKEY_eq compares the public halves: 1 equal, 0 different, negative for other types.
  const int equal = public_key == nullptr ? -1 : EVP_PKEY_eq(public_key, key.get());
  ERR_clear_error();
  if (equal != 1) return InvalidArgumentError("private key does not belong to the certificate");
  return OkStatus();
}

}  // namespace postwarden::pki
