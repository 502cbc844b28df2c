#include "agent/tls/peer_chain.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "agent/tls/internal/x509_info.h"
#include "common/openssl_handles.h"

namespace postwarden::agent::tls {
namespace {

using Problem = ChainCheck::Problem;

struct X509StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackFree>;

std::string subjectOf(X509* certificate) {
  if (certificate == nullptr) return "?";
  auto info = internal::describeCertificate(certificate);
  return info.ok() ? info->subject : "?";
}

Problem classify(int error, int depth, X509* at) {
  switch (error) {
    case X509_V_OK:
      return Problem::kNone;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return Problem::kSelfSigned;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return Problem::kUntrustedRoot;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      // Stopping at the leaf means the leaf's issuer is missing: an intermediate the server
      // should have sent. Stopping further up at a CA certificate means the chain reached as
      // far as it could and its top is not anchored in the trust store.
      return depth == 0 || at == nullptr || X509_check_ca(at) == 0 ? Problem::kIncomplete
                                                                   : Problem::kUntrustedRoot;
    default:
      return Problem::kOther;
  }
}

Result<X509StackPtr> readAll(std::string_view pem) {
  X509StackPtr stack(sk_X509_new_null());
  BioPtr bio = readOnlyMemoryBio(pem);
  if (!stack || !bio) return InternalError("allocating a certificate list");
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(stack.get(), certificate);
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line"
  return stack;
}

}  // namespace

std::string_view chainProblemName(ChainCheck::Problem problem) {
  switch (problem) {
    case Problem::kNone:
      return "trusted";
    case Problem::kSelfSigned:
      return "self-signed";
    case Problem::kIncomplete:
      return "incomplete";
    case Problem::kUntrustedRoot:
      return "untrusted root";
    case Problem::kOther:
      return "not verifiable";
  }
  return "not verifiable";
}

ChainCheck checkChain(X509* leaf, STACK_OF(X509) * served, X509_STORE* trusted) {
  ChainCheck check;
  check.served = served == nullptr ? 1 : sk_X509_num(served);
  X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), trusted, leaf, served) != 1) {
    check.detail = "could not set up the verification: " + takeOpensslErrors();
    return check;
  }
  // Times are judged by the expiry check; here only the structure and the anchor count.
  X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_NO_CHECK_TIME);
  const bool verified = X509_verify_cert(context.get()) == 1;
  const int error = verified ? X509_V_OK : X509_STORE_CTX_get_error(context.get());
  const int depth = X509_STORE_CTX_get_error_depth(context.get());
  X509* at = X509_STORE_CTX_get_current_cert(context.get());
  check.problem = classify(error, depth, at);
  if (check.problem != Problem::kNone) {
    check.detail = std::string(X509_verify_cert_error_string(error)) + " at depth " +
                   std::to_string(depth) + " ('" + subjectOf(at) + "')";
  }
  ERR_clear_error();
  return check;
}

ChainCheck checkChainAgainstSystemStore(X509* leaf, STACK_OF(X509) * served) {
  X509StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_set_default_paths(store.get()) != 1) {
    ChainCheck check;
    check.detail = "could not load the system trust store: " + takeOpensslErrors();
    return check;
  }
  return checkChain(leaf, served, store.get());
}

Result<ChainCheck> checkChainPem(std::string_view served_pem, std::string_view trusted_pem) {
  PW_ASSIGN_OR_RETURN(X509StackPtr served, readAll(served_pem));
  if (sk_X509_num(served.get()) == 0) {
    return InvalidArgumentError("no certificate in the served chain");
  }
  PW_ASSIGN_OR_RETURN(X509StackPtr roots, readAll(trusted_pem));
  X509StorePtr store(X509_STORE_new());
  if (!store) return InternalError("allocating a trust store");
  for (int i = 0; i < sk_X509_num(roots.get()); ++i) {
    X509_STORE_add_cert(store.get(), sk_X509_value(roots.get(), i));
  }
  return checkChain(sk_X509_value(served.get(), 0), served.get(), store.get());
}

}  // namespace postwarden::agent::tls
