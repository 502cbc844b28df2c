#include "controller/credentials/authority.h"

#include <unistd.h>

namespace postwarden::controller::credentials {
namespace {

using Clock = std::chrono::system_clock;
// Certificates start a little in the past: clocks of agents and controller differ. Never by
// more than a tenth of the lifetime, which agents use to time their renewal.
constexpr std::chrono::seconds kBackdate{300};

std::chrono::seconds backdateFor(std::chrono::seconds lifetime) {
  return std::min(kBackdate, lifetime / 10);
}

}  // namespace

Status initDataDir(os::FileSystem& fs, const DataDirPaths& paths, const InitOptions& options) {
  if (fs.stat(paths.ca_key()).ok()) {
    return AlreadyExistsError(paths.dir + " already holds a controller CA; it is never replaced");
  }
  PW_RETURN_IF_ERROR(fs.createDirectories(paths.dir, 0700));
  const Clock::time_point now = Clock::now();
  PW_ASSIGN_OR_RETURN(
      pki::KeyAndCertificate ca,
      pki::createAuthority("Postwarden controller CA", now - kBackdate, now + options.ca_lifetime));
  std::vector<std::string> dns{"localhost"};
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') dns.emplace_back(host);
  std::vector<std::string> ips{"127.0.0.1", "::1"};
  for (const std::string& name : options.names) {
    bool is_ip = name.find_first_not_of("0123456789.") == std::string::npos ||
                 name.find(':') != std::string::npos;
    (is_ip ? ips : dns).push_back(name);
  }
  PW_ASSIGN_OR_RETURN(pki::KeyAndCertificate server,
                      pki::issueWithNewKey(ca, {.common_name = dns.back(),
                                                .organizational_unit = "controller",
                                                .dns_names = dns,
                                                .ip_addresses = ips,
                                                .usage = pki::Usage::kServer,
                                                .not_before = now - kBackdate,
                                                .not_after = now + options.server_lifetime}));
  // Each file atomically, the CA key last: it marks an initialized directory, so an
  // interrupted init can simply run again.
  PW_RETURN_IF_ERROR(fs.writeAtomic(paths.server_key(), server.private_key_pem, {.mode = 0600}));
  PW_RETURN_IF_ERROR(fs.writeAtomic(paths.server_cert(), server.certificate_pem, {.mode = 0644}));
  PW_RETURN_IF_ERROR(fs.writeAtomic(paths.ca_cert(), ca.certificate_pem, {.mode = 0644}));
  PW_RETURN_IF_ERROR(fs.writeAtomic(paths.ca_key(), ca.private_key_pem, {.mode = 0600}));
  return OkStatus();
}

Result<Authority> Authority::load(os::FileSystem& fs, const DataDirPaths& paths) {
  Result<std::string> cert = fs.readFile(paths.ca_cert());
  if (!cert.ok()) {
    return FailedPreconditionError("no controller CA in " + paths.dir +
                                   " (run `postwarden-controller init --data-dir " + paths.dir +
                                   "` first)");
  }
  PW_ASSIGN_OR_RETURN(std::string key, fs.readFile(paths.ca_key()));
  PW_RETURN_IF_ERROR(pki::checkKeyMatches(*cert, key).withContext(paths.ca_key()));
  return Authority(pki::KeyAndCertificate{.certificate_pem = *cert, .private_key_pem = key});
}

Result<std::string> Authority::issueAgent(const std::string& agent_id, const std::string& csr_pem,
                                          std::chrono::seconds lifetime) const {
  // Enrollment and renewal alike: a request for more than the agent's identity is refused,
  // although the certificate would carry none of it.
  PW_ASSIGN_OR_RETURN(pki::CsrInfo csr, pki::parseCsr(csr_pem));
  PW_RETURN_IF_ERROR(pki::checkIdentityOnly(csr));
  const Clock::time_point now = Clock::now();
  return pki::issueFromCsr(ca_, csr_pem,
                           {.common_name = agent_id,
                            .organizational_unit = std::string(kAgentUnit),
                            .usage = pki::Usage::kClient,
                            .not_before = now - backdateFor(lifetime),
                            .not_after = now + lifetime});
}

Result<pki::KeyAndCertificate> Authority::issueClient(const std::string& name,
                                                      const std::string& unit,
                                                      std::chrono::seconds lifetime) const {
  const Clock::time_point now = Clock::now();
  return pki::issueWithNewKey(ca_, {.common_name = name,
                                    .organizational_unit = unit,
                                    .usage = pki::Usage::kClient,
                                    .not_before = now - backdateFor(lifetime),
                                    .not_after = now + lifetime});
}

}  // namespace postwarden::controller::credentials
