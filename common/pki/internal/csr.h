// Parsing a CSR and checking it before anything trusts its public key. Internal to common/pki.
#pragma once

#include <string_view>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"
#include "common/status.h"

namespace postwarden::pki::internal {

struct VerifiedCsr {
  X509ReqPtr csr;
  CsrInfo info;
};

// Parses `csr_pem`, verifies its self-signature and applies the key-type policy.
// Errors: InvalidArgument, as parseCsr.
Result<VerifiedCsr> readVerifiedCsr(std::string_view csr_pem);

}  // namespace postwarden::pki::internal
