// Certificate signing requests: made by the agent, checked by the CA before it signs.
#include "common/pki/internal/csr.h"

#include <openssl/err.h>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki {
namespace internal {

Result<VerifiedCsr> readVerifiedCsr(std::string_view csr_pem) {
  PW_ASSIGN_OR_RETURN(X509ReqPtr csr, readCsr(csr_pem));
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
  if (key == nullptr) return invalidInput("CSR has no usable public key");
  // The signature proves the requester holds the private key; without it anyone could get a
  // certificate for someone else's public key.
  if (X509_REQ_verify(csr.get(), key) != 1) return invalidInput("CSR signature does not verify");
  PW_RETURN_IF_ERROR(checkKeyAllowed(key, "CSR"));
  const X509_NAME* subject = X509_REQ_get_subject_name(csr.get());
  if (subject == nullptr) return InvalidArgumentError("CSR has no subject");
  PW_ASSIGN_OR_RETURN(std::string common_name, nameEntry(subject, NID_commonName));
  if (common_name.empty()) return InvalidArgumentError("CSR subject has no common name");
  return VerifiedCsr{.csr = std::move(csr), .info = CsrInfo{.common_name = std::move(common_name)}};
}

}  // namespace internal

using internal::EvpPkeyPtr;
using internal::X509ReqPtr;

Result<std::string> createCsr(const std::string& private_key_pem, const std::string& common_name) {
  ERR_clear_error();
  if (common_name.empty()) return InvalidArgumentError("CSR common name is empty");
  PW_ASSIGN_OR_RETURN(EvpPkeyPtr key, internal::readPrivateKey(private_key_pem, "key"));
  PW_RETURN_IF_ERROR(internal::checkKeyAllowed(key.get(), "key"));

  X509ReqPtr csr(X509_REQ_new());
  if (!csr) return internal::opensslFailure("allocating a CSR");
  if (X509_REQ_set_version(csr.get(), X509_REQ_VERSION_1) != 1) {
    return internal::opensslFailure("setting the CSR version");
  }
  if (X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(csr.get()), NID_commonName,
                                 MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return internal::invalidInput("setting the CSR common name");
  }
  if (X509_REQ_set_pubkey(csr.get(), key.get()) != 1) {
    return internal::opensslFailure("setting the CSR public key");
  }
  if (X509_REQ_sign(csr.get(), key.get(), EVP_sha256()) <= 0) {
    return internal::opensslFailure("signing the CSR");
  }
  return internal::csrToPem(csr.get());
}

Result<CsrInfo> parseCsr(const std::string& csr_pem) {
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(internal::VerifiedCsr verified, internal::readVerifiedCsr(csr_pem));
  return std::move(verified.info);
}

}  // namespace postwarden::pki
