// Certificate signing requests: made by the agent, checked by the CA before it signs.
#include "common/pki/internal/csr.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/pki/internal/openssl_util.h"
#include "common/pki/pki.h"

namespace postwarden::pki {
namespace internal {
namespace {

struct ExtensionStackFree {
  void operator()(STACK_OF(X509_EXTENSION) * stack) const {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  }
};

std::string asn1Text(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

std::string generalName(const GENERAL_NAME* name) {
  switch (name->type) {
    case GEN_DNS:
      return "DNS:" + asn1Text(name->d.dNSName);
    case GEN_EMAIL:
      return "email:" + asn1Text(name->d.rfc822Name);
    case GEN_URI:
      return "URI:" + asn1Text(name->d.uniformResourceIdentifier);
    case GEN_IPADD:
      return "IP:" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + " bytes";
    default:
      return "other";
  }
}

// Fills in what the request's extensionRequest attribute asks for.
void readRequestedExtensions(X509_REQ* csr, CsrInfo& info) {
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtensionStackFree> extensions(
      X509_REQ_get_extensions(csr));
  ERR_clear_error();  // no attribute at all is not an error
  if (!extensions) return;
  for (int i = 0; i < sk_X509_EXTENSION_num(extensions.get()); ++i) {
    X509_EXTENSION* extension = sk_X509_EXTENSION_value(extensions.get(), i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(extension));
    if (nid != NID_basic_constraints && nid != NID_key_usage && nid != NID_subject_alt_name) {
      continue;  // the CA writes its own extensions; nothing else here can matter
    }
    void* decoded = X509V3_EXT_d2i(extension);
    if (decoded == nullptr) {
      info.malformed_extensions = true;
      ERR_clear_error();
      continue;
    }
    if (nid == NID_basic_constraints) {
      auto* constraints = static_cast<BASIC_CONSTRAINTS*>(decoded);
      if (constraints->ca) info.requests_ca = true;
      BASIC_CONSTRAINTS_free(constraints);
    } else if (nid == NID_key_usage) {
      auto* usage = static_cast<ASN1_BIT_STRING*>(decoded);
      // KeyUsage bits (RFC 5280 4.2.1.3): keyCertSign 5, cRLSign 6.
      if (ASN1_BIT_STRING_get_bit(usage, 5) || ASN1_BIT_STRING_get_bit(usage, 6)) {
        info.requests_ca = true;
      }
      ASN1_BIT_STRING_free(usage);
    } else {
      auto* names = static_cast<GENERAL_NAMES*>(decoded);
      for (int k = 0; k < sk_GENERAL_NAME_num(names); ++k) {
        info.subject_alt_names.push_back(generalName(sk_GENERAL_NAME_value(names, k)));
      }
      GENERAL_NAMES_free(names);
    }
  }
}

}  // namespace

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
  CsrInfo info{.common_name = std::move(common_name)};
  readRequestedExtensions(csr.get(), info);
  return VerifiedCsr{.csr = std::move(csr), .info = std::move(info)};
}

}  // namespace internal

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

namespace {

// Names from a request are the requester's bytes: shown with anything but printable ASCII
// escaped, so they cannot forge log lines or drive a terminal.
std::string shown(const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text.substr(0, 256)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out.push_back(c);
    } else {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

}  // namespace

Status checkIdentityOnly(const CsrInfo& csr) {
  auto hostile = [](const std::string& what) {
    return InvalidArgumentError("hostile certificate request: " + what);
  };
  if (csr.requests_ca) return hostile("asks for a CA certificate");
  if (csr.common_name.find('*') != std::string::npos) {
    return hostile("asks for a wildcard name '" + shown(csr.common_name) + "'");
  }
  if (csr.malformed_extensions) return hostile("carries extensions that do not decode");
  for (const std::string& name : csr.subject_alt_names) {
    if (name.find('*') != std::string::npos) {
      return hostile("asks for a wildcard name '" + shown(name) + "'");
    }
    if (name != "DNS:" + csr.common_name) {
      return hostile("asks for the extra name '" + shown(name) + "'");
    }
  }
  return OkStatus();
}

}  // namespace postwarden::pki
