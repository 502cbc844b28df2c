// The certificate and key layouts Postfix's TLS server accepts, checked the way smtpd loads
// them (Postfix 3.7 tls_certkey.c): smtpd_tls_chain_files (a sequence of groups, each a private
// key followed by its certificate chain, leaf first, across the listed files), a combined
// certificate+key file (key anywhere, one key), and separate certificate and key files.
// Pure: the caller reads the files; no disk, network or clock (time is passed in). No
// exceptions, no global state; safe to call from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "agent/tls/certificate_check.h"
#include "common/status.h"

namespace postwarden::agent::tls {

// One file as the caller read it: its path (for messages) and its bytes.
struct PemFile {
  std::string path;
  std::string contents;
};

// One private key and the chain smtpd would serve with it.
struct ServerKeyChain {
  std::string key_type;  // the OpenSSL slot: "RSA", "RSA-PSS", "ECDSA", "DSA", "Ed25519", "Ed448"
  std::string key_file;  // the file that holds the key
  int key_object = 0;    // 1-based PEM object number of the key in key_file (0: not known)
  CertificateInfo leaf;  // the certificate served for this key
  size_t issuer_count = 0;  // certificates after the leaf, sent as its issuer chain
};

// smtpd_tls_chain_files (postconf(5)): `files` in the listed order, read as one sequence of
// PEM objects. Each group is a private key followed by its certificate, leaf first, then any
// issuer certificates; the next key starts the next group. A group may span files (the usual
// "key.pem, cert.pem" form). Each key must match the first certificate after it, each key type
// (RSA, ECDSA, Ed25519, ...) may appear once, and each leaf must be valid at `now`. PEM blocks
// of other types (EC PARAMETERS, ...) are ignored, as Postfix 3.7 does.
// Returns the groups in order. Errors: FailedPrecondition naming the file, the PEM object and
// what is wrong, and saying that Postfix would disable TLS (quoting the line smtpd would log,
// e.g. "key not first" for a certificate before any key).
Result<std::vector<ServerKeyChain>> checkChainFiles(const std::vector<PemFile>& files,
                                                    std::chrono::system_clock::time_point now);

// A legacy pair whose certificate and key file are the same file (smtpd_tls_cert_file equal to
// smtpd_tls_key_file, the default): Postfix reads it in "mixed" mode, where the one private key
// may come before or after the certificates, the first certificate is the leaf and a second key
// is ignored. The key must match the leaf, and the leaf must be valid at `now`.
// Errors: FailedPrecondition as for checkChainFiles.
Result<ServerKeyChain> checkCombinedFile(const PemFile& file,
                                         std::chrono::system_clock::time_point now);

// A legacy pair in two different files: the first certificate of `certificate` (other PEM
// blocks skipped, later certificates are its issuer chain) and the first private key of `key`
// must match, and the certificate must be valid at `now` (see checkKeyPair).
// Errors: FailedPrecondition naming the problem.
Result<ServerKeyChain> checkCertificateAndKeyFiles(const PemFile& certificate, const PemFile& key,
                                                   std::chrono::system_clock::time_point now);

}  // namespace postwarden::agent::tls
