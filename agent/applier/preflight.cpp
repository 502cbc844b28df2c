#include "agent/applier/preflight.h"

#include <string_view>
#include <vector>

#include "agent/tls/server_key_chains.h"

namespace postwarden::agent::applier {
namespace {

using std::chrono::system_clock;

// One legacy per-algorithm pair (postconf(5) smtpd_tls_cert_file and friends).
struct LegacyPair {
  std::string_view cert_parameter;
  std::string_view key_parameter;
  const std::string& cert_file;
  const std::string& key_file;
};

Status checkChainFiles(const planner::TlsMaterial& m, const std::string& context,
                       os::FileSystem& fs, system_clock::time_point now) {
  std::vector<tls::PemFile> files;
  for (const std::string& path : m.chain_files) {
    Result<std::string> contents = fs.readFile(path);
    if (!contents.ok()) {
      // Postfix: "error opening chain file", and TLS is off.
      return FailedPreconditionError(context + ": cannot read smtpd_tls_chain_files file '" + path +
                                     "': " + contents.status().message());
    }
    files.push_back({path, std::move(contents).value()});
  }
  Result<std::vector<tls::ServerKeyChain>> chains = tls::checkChainFiles(files, now);
  if (!chains.ok()) {
    return FailedPreconditionError(context +
                                   ": smtpd_tls_chain_files: " + chains.status().message());
  }
  return OkStatus();
}

Status checkPair(const LegacyPair& pair, const std::string& context, os::FileSystem& fs,
                 system_clock::time_point now) {
  if (pair.key_file.empty()) {
    return FailedPreconditionError(context + " but " + std::string(pair.key_parameter) +
                                   " is not set (" + std::string(pair.cert_parameter) + " is '" +
                                   pair.cert_file + "')");
  }
  Result<std::string> cert = fs.readFile(pair.cert_file);
  if (!cert.ok()) {
    return FailedPreconditionError(context + ": cannot read certificate (" +
                                   std::string(pair.cert_parameter) +
                                   "): " + cert.status().message());
  }
  const std::string where =
      context + ": certificate '" + pair.cert_file + "' and key '" + pair.key_file + "': ";
  if (pair.key_file == pair.cert_file) {
    // One file for both: Postfix reads it in one pass, the key before or after the certificates.
    Result<tls::ServerKeyChain> chain = tls::checkCombinedFile({pair.cert_file, *cert}, now);
    if (!chain.ok()) return FailedPreconditionError(where + chain.status().message());
    return OkStatus();
  }
  Result<std::string> key = fs.readFile(pair.key_file);
  if (!key.ok()) {
    return FailedPreconditionError(context + ": cannot read key (" +
                                   std::string(pair.key_parameter) +
                                   "): " + key.status().message());
  }
  Result<tls::ServerKeyChain> chain =
      tls::checkCertificateAndKeyFiles({pair.cert_file, *cert}, {pair.key_file, *key}, now);
  if (!chain.ok()) return FailedPreconditionError(where + chain.status().message());
  return OkStatus();
}

}  // namespace

Status checkTlsMaterial(const planner::Plan& plan, os::FileSystem& fs,
                        system_clock::time_point now) {
  for (const planner::TlsMaterial& m : plan.tls_material) {
    const std::string context = "service '" + m.service + "' needs TLS";
    // postconf(5): a non-empty smtpd_tls_chain_files replaces every per-algorithm setting.
    if (!m.chain_files.empty()) {
      PW_RETURN_IF_ERROR(checkChainFiles(m, context, fs, now));
      continue;
    }
    const LegacyPair pairs[] = {
        {"smtpd_tls_cert_file", "smtpd_tls_key_file", m.cert_file, m.key_file},
        {"smtpd_tls_dcert_file", "smtpd_tls_dkey_file", m.dcert_file, m.dkey_file},
        {"smtpd_tls_eccert_file", "smtpd_tls_eckey_file", m.eccert_file, m.eckey_file},
    };
    bool any = false;
    for (const LegacyPair& pair : pairs) {
      if (pair.cert_file.empty()) continue;  // Postfix skips an algorithm without a certificate
      any = true;
      PW_RETURN_IF_ERROR(checkPair(pair, context, fs, now));
    }
    if (!any) {
      // smtpd logs "No server certs available. TLS won't be enabled" and offers no STARTTLS.
      return FailedPreconditionError(
          context +
          " but no server certificate is configured (smtpd_tls_chain_files, "
          "smtpd_tls_cert_file and smtpd_tls_eccert_file are all empty): Postfix would not "
          "offer STARTTLS");
    }
  }
  return OkStatus();
}

}  // namespace postwarden::agent::applier
