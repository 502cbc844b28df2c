#include "agent/tls/server_key_chains.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <memory>
#include <utility>

#include "agent/tls/internal/x509_info.h"
#include "common/openssl_handles.h"

namespace postwarden::agent::tls {
namespace {

using std::chrono::system_clock;

// OPENSSL_free is a macro, so it cannot be an OpensslFree<> template argument.
struct OpensslBufferFree {
  void operator()(void* buffer) const { OPENSSL_free(buffer); }
};
using OpensslString = std::unique_ptr<char, OpensslBufferFree>;
using OpensslBytes = std::unique_ptr<unsigned char, OpensslBufferFree>;

struct PemObject {
  std::string name;    // "CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY", ...
  std::string header;  // "Proc-Type: 4,ENCRYPTED ..." for legacy encrypted keys
  std::string der;
};

enum class ReadOutcome { kObject, kEnd, kMalformed };

// Reads the next PEM block the way Postfix does (PEM_read_bio): text between blocks is
// skipped; the end of the data is a clean end, anything else that stops the reader is an error.
ReadOutcome readPemObject(BIO* bio, PemObject& object) {
  char* name = nullptr;
  char* header = nullptr;
  unsigned char* data = nullptr;
  long length = 0;
  ERR_clear_error();
  if (PEM_read_bio(bio, &name, &header, &data, &length) != 1) {
    const bool clean_end = ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE;
    ERR_clear_error();
    return clean_end ? ReadOutcome::kEnd : ReadOutcome::kMalformed;
  }
  OpensslString owned_name(name);
  OpensslString owned_header(header);
  OpensslBytes owned_data(data);
  object.name = name != nullptr ? name : "";
  object.header = header != nullptr ? header : "";
  object.der.assign(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  return ReadOutcome::kObject;
}

// The key types Postfix's chain loader decodes (tls_certkey.c load_pem_object): PKCS#8 of any
// algorithm, or the traditional RSA, EC and DSA forms. NID_undef for anything else.
bool isPrivateKeyBlock(std::string_view name, int& type) {
  type = NID_undef;
  if (name == PEM_STRING_PKCS8INF) return true;
  if (name == PEM_STRING_RSA) type = EVP_PKEY_RSA;
  if (name == PEM_STRING_ECPRIVATEKEY) type = EVP_PKEY_EC;
  if (name == PEM_STRING_DSA) type = EVP_PKEY_DSA;
  return type != NID_undef;
}

bool isCertificateBlock(std::string_view name) {
  return name == PEM_STRING_X509 || name == PEM_STRING_X509_OLD;
}

// The certificate slot OpenSSL files a key under (ssl_cert_lookup_by_pkey): one chain per slot.
std::string keyType(const EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      return "RSA";
    case EVP_PKEY_RSA_PSS:
      return "RSA-PSS";
    case EVP_PKEY_EC:
      return "ECDSA";
    case EVP_PKEY_DSA:
      return "DSA";
    case EVP_PKEY_ED25519:
      return "Ed25519";
    case EVP_PKEY_ED448:
      return "Ed448";
    default:
      break;
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return name != nullptr ? name : "unknown";
}

// The whole DER must be one object: Postfix rejects "excess data" after it.
X509Ptr decodeCertificate(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr certificate(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (certificate && p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    certificate.reset();
  }
  ERR_clear_error();
  return certificate;
}

EvpPkeyPtr decodePrivateKey(int type, const std::string& der) {
  const auto* start = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = start;
  EvpPkeyPtr key;
  if (type != NID_undef) {
    key.reset(d2i_PrivateKey(type, nullptr, &p, static_cast<long>(der.size())));
  } else if (PKCS8_PRIV_KEY_INFO* info =
                 d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()))) {
    key.reset(EVP_PKCS82PKEY(info));
    PKCS8_PRIV_KEY_INFO_free(info);
  }
  if (key && p != start + der.size()) key.reset();
  ERR_clear_error();
  return key;
}

std::string at(int object, const std::string& file) {
  return "PEM object " + std::to_string(object) + " in '" + file + "'";
}

// A layout smtpd cannot load: it logs `log_line` and runs without TLS (no STARTTLS offered).
Status disablesTls(const std::string& problem, const std::string& log_line) {
  return FailedPreconditionError(problem + ": Postfix would log \"" + log_line +
                                 "\" and disable TLS");
}

Status checkValidity(const CertificateInfo& leaf, const std::string& key_where,
                     system_clock::time_point now) {
  if (now < leaf.not_before) {
    return FailedPreconditionError("certificate for '" + leaf.subject + "' (the key at " +
                                   key_where + ") is not yet valid: valid from " +
                                   formatUtc(leaf.not_before));
  }
  if (now > leaf.not_after) {
    return FailedPreconditionError("certificate for '" + leaf.subject + "' (the key at " +
                                   key_where + ") expired on " + formatUtc(leaf.not_after));
  }
  return OkStatus();
}

// Postfix's PEM loader (tls_certkey.c load_pem_bio and friends) as a state machine over PEM
// objects. In chain mode (smtpd_tls_chain_files) every key must come before its certificates;
// in mixed mode (one combined legacy file) the single key may be anywhere.
class ChainWalker {
 public:
  ChainWalker(bool mixed, system_clock::time_point now) : mixed_(mixed), now_(now) {}

  Status feed(const PemFile& file) {
    file_ = file.path;
    BioPtr bio = readOnlyMemoryBio(file.contents);
    if (!bio) return FailedPreconditionError("'" + file.path + "' is too large");
    object_ = 0;
    PemObject object;
    for (;;) {
      ReadOutcome outcome = readPemObject(bio.get(), object);
      if (outcome == ReadOutcome::kEnd) return OkStatus();
      ++object_;
      if (outcome == ReadOutcome::kMalformed) {
        return disablesTls(
            "'" + file_ + "' holds malformed PEM data at PEM object " + std::to_string(object_),
            "error loading private keys and certificates from: " + file_);
      }
      int key_type = NID_undef;
      if (isCertificateBlock(object.name)) {
        PW_RETURN_IF_ERROR(onCertificate(object));
      } else if (isPrivateKeyBlock(object.name, key_type)) {
        PW_RETURN_IF_ERROR(onKey(object, key_type));
      } else if (object.name == PEM_STRING_PKCS8 && encrypted_key_.empty()) {
        // "ENCRYPTED PRIVATE KEY": Postfix skips the block like any unknown type; remember it
        // to explain the error that follows.
        encrypted_key_ = at(object_, file_);
      }
    }
  }

  Result<std::vector<ServerKeyChain>> finish(const std::string& origin) {
    switch (state_) {
      case State::kInit:
        return disablesTls("no private key or certificate found in " + origin + passphraseHint(),
                           "No PEM data in " + origin);
      case State::kKey:
        return disablesTls(
            "the private key at " + at(key_object_, key_file_) + " has no certificate after it",
            "No certs for key at index " + std::to_string(key_object_) + " in " + key_file_);
      case State::kCert:
        if (mixed_) {
          return disablesTls(
              "'" + origin + "' holds certificates but no private key" + passphraseHint(),
              "No private key found in " + origin);
        }
        [[fallthrough]];
      case State::kBoth:
        PW_RETURN_IF_ERROR(completeGroup("key at index " + std::to_string(key_object_) + " in " +
                                         key_file_ + " does not match next certificate"));
        break;
    }
    return std::move(chains_);
  }

 private:
  enum class State {
    kInit,  // nothing yet
    kKey,   // the last object was a key
    kCert,  // a certificate was seen (after a key, or first in mixed mode)
    kBoth,  // mixed mode: key and leaf both seen, in either order
  };

  std::string passphraseHint() const {
    if (encrypted_key_.empty()) return "";
    return " (the private key at " + encrypted_key_ +
           " is protected by a passphrase, which Postfix cannot use)";
  }

  Status onCertificate(const PemObject& object) {
    if (!mixed_ && state_ == State::kInit) {
      return disablesTls("the certificate at " + at(object_, file_) +
                             " comes before any private key, but smtpd_tls_chain_files must "
                             "list each private key before its certificate chain (for "
                             "example 'key.pem, cert.pem', or one file with the key first)" +
                             passphraseHint(),
                         "error loading chain from " + file_ + ": key not first");
    }
    X509Ptr certificate = decodeCertificate(object.der);
    if (!certificate) {
      return disablesTls(at(object_, file_) + " is not a valid certificate",
                         "error loading certificate (PEM object number " + std::to_string(object_) +
                             ") from " + file_);
    }
    switch (state_) {
      case State::kKey:
        leaf_ = std::move(certificate);
        state_ = mixed_ ? State::kBoth : State::kCert;
        break;
      case State::kInit:
        leaf_ = std::move(certificate);
        state_ = State::kCert;
        break;
      case State::kCert:
      case State::kBoth:
        ++issuer_count_;
        break;
    }
    return OkStatus();
  }

  Status onKey(const PemObject& object, int type) {
    if (state_ == State::kKey || state_ == State::kBoth) {
      // Mixed mode uses the first key and ignores the rest; in chain mode two keys in a row
      // leave the first without a certificate.
      if (mixed_) return OkStatus();
      return disablesTls("the private key at " + at(key_object_, key_file_) +
                             " is followed by another private key (" + at(object_, file_) +
                             ") instead of its certificate",
                         "error loading certificate chain: key at index " +
                             std::to_string(key_object_) + " in " + key_file_ +
                             " not followed by a certificate");
    }
    if (state_ == State::kCert && !mixed_) {
      PW_RETURN_IF_ERROR(completeGroup("error loading certificate chain: key at index " +
                                       std::to_string(key_object_) + " in " + key_file_ +
                                       " does not match the certificate"));
    }
    EvpPkeyPtr key = decodePrivateKey(type, object.der);
    if (!key) {
      const bool encrypted = object.header.find("ENCRYPTED") != std::string::npos;
      return disablesTls(
          at(object_, file_) + (encrypted ? " is a private key protected by a "
                                            "passphrase; Postfix needs an unencrypted key"
                                          : " is not a valid private key"),
          "error loading private key (PEM object number " + std::to_string(object_) + ") from " +
              file_);
    }
    key_ = std::move(key);
    key_file_ = file_;
    key_object_ = object_;
    // In mixed mode the key may follow the leaf; in chain mode it always opens a new group.
    state_ = (mixed_ && state_ == State::kCert) ? State::kBoth : State::kKey;
    return OkStatus();
  }

  // Postfix's use_chain(): the key must match the leaf, and OpenSSL refuses to replace a chain
  // already loaded for the same key type (SSL_CTX_use_cert_and_key without override).
  Status completeGroup(const std::string& mismatch_log_line) {
    const std::string key_where = at(key_object_, key_file_);
    auto info = internal::describeCertificate(leaf_.get());
    if (!info.ok()) return FailedPreconditionError(info.status().message());
    const EVP_PKEY* public_key = X509_get0_pubkey(leaf_.get());
    const int same = public_key == nullptr ? -1 : EVP_PKEY_eq(public_key, key_.get());
    ERR_clear_error();
    if (same != 1) {
      return disablesTls("the private key at " + key_where +
                             " does not match the certificate after it ('" + info->subject + "')",
                         mismatch_log_line);
    }
    ServerKeyChain chain;
    chain.key_type = keyType(key_.get());
    for (const ServerKeyChain& earlier : chains_) {
      if (earlier.key_type == chain.key_type) {
        return disablesTls("the private key at " + key_where + " is a second " + chain.key_type +
                               " key (the first is at " + at(earlier.key_object, earlier.key_file) +
                               "); OpenSSL holds one certificate chain per key type",
                           mismatch_log_line);
      }
    }
    PW_RETURN_IF_ERROR(checkValidity(*info, key_where, now_));
    chain.key_file = key_file_;
    chain.key_object = key_object_;
    chain.leaf = std::move(info).value();
    chain.issuer_count = issuer_count_;
    chains_.push_back(std::move(chain));
    key_.reset();
    leaf_.reset();
    issuer_count_ = 0;
    return OkStatus();
  }

  const bool mixed_;
  const system_clock::time_point now_;
  State state_ = State::kInit;
  std::string file_;  // the file being read
  int object_ = 0;    // PEM object number within file_
  EvpPkeyPtr key_;
  std::string key_file_;
  int key_object_ = 0;
  X509Ptr leaf_;
  size_t issuer_count_ = 0;
  std::vector<ServerKeyChain> chains_;
  std::string encrypted_key_;  // where a skipped passphrase-protected key was, if any
};

}  // namespace

Result<std::vector<ServerKeyChain>> checkChainFiles(const std::vector<PemFile>& files,
                                                    system_clock::time_point now) {
  if (files.empty()) return FailedPreconditionError("smtpd_tls_chain_files lists no file");
  ChainWalker walker(/*mixed=*/false, now);
  std::string origin;  // Postfix names the parameter value in its messages
  for (const PemFile& file : files) {
    origin += (origin.empty() ? "" : ", ") + file.path;
    PW_RETURN_IF_ERROR(walker.feed(file));
  }
  return walker.finish(origin);
}

Result<ServerKeyChain> checkCombinedFile(const PemFile& file, system_clock::time_point now) {
  ChainWalker walker(/*mixed=*/true, now);
  PW_RETURN_IF_ERROR(walker.feed(file));
  PW_ASSIGN_OR_RETURN(std::vector<ServerKeyChain> chains, walker.finish(file.path));
  return std::move(chains.front());  // mixed mode loads exactly one key
}

Result<ServerKeyChain> checkCertificateAndKeyFiles(const PemFile& certificate, const PemFile& key,
                                                   system_clock::time_point now) {
  PW_RETURN_IF_ERROR(checkKeyPair(certificate.contents, key.contents, now));
  // SSL_CTX_use_certificate_chain_file: the first certificate is the leaf, every later one
  // goes to its chain.
  BioPtr bio = readOnlyMemoryBio(certificate.contents);
  if (!bio) return FailedPreconditionError("'" + certificate.path + "' is too large");
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!leaf) return FailedPreconditionError("no certificate in '" + certificate.path + "'");
  ServerKeyChain chain;
  while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))) ++chain.issuer_count;
  ERR_clear_error();
  PW_ASSIGN_OR_RETURN(chain.leaf, internal::describeCertificate(leaf.get()));
  chain.key_type = keyType(X509_get0_pubkey(leaf.get()));
  chain.key_file = key.path;
  return chain;
}

}  // namespace postwarden::agent::tls
