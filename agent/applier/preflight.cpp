#include "agent/applier/preflight.h"

#include "agent/tls/certificate_check.h"

namespace postwarden::agent::applier {

Status checkTlsMaterial(const planner::Plan& plan, os::FileSystem& fs,
                        std::chrono::system_clock::time_point now) {
  for (const planner::TlsMaterial& m : plan.tls_material) {
    const std::string context = "service '" + m.service + "' needs TLS";
    if (m.cert_file.empty()) {
      return FailedPreconditionError(context + " but smtpd_tls_cert_file is not set");
    }
    if (m.key_file.empty()) {
      return FailedPreconditionError(context + " but smtpd_tls_key_file is not set");
    }
    Result<std::string> cert = fs.readFile(m.cert_file);
    if (!cert.ok()) {
      return FailedPreconditionError(context +
                                     ": cannot read certificate: " + cert.status().message());
    }
    Result<std::string> key = fs.readFile(m.key_file);
    if (!key.ok()) {
      return FailedPreconditionError(context + ": cannot read key: " + key.status().message());
    }
    Status pair = tls::checkKeyPair(*cert, *key, now);
    if (!pair.ok()) {
      return FailedPreconditionError(context + ": certificate '" + m.cert_file + "' and key '" +
                                     m.key_file + "': " + pair.message());
    }
  }
  return OkStatus();
}

}  // namespace postwarden::agent::applier
