// The controller's certificate authority and data directory:
//   DIR/ca.crt, DIR/ca.key          the controller CA (key 0600, never leaves DIR)
//   DIR/server.crt, DIR/server.key  the controller's TLS server certificate
//   DIR/controller.db               the SQLite store
// `init` creates them once; the CA then signs agent, operator and simulator certificates.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/os/file_system.h"
#include "common/pki/pki.h"
#include "common/status.h"

namespace postwarden::controller::credentials {

// The OU the controller CA writes for each kind of peer (rpc/identity.h reads them back).
inline constexpr std::string_view kAgentUnit = "agent";
inline constexpr std::string_view kSimulatorUnit = "simulator";
inline constexpr std::string_view kOperatorUnitPrefix = "operator:";

struct DataDirPaths {
  std::string dir;
  std::string ca_cert() const { return dir + "/ca.crt"; }
  std::string ca_key() const { return dir + "/ca.key"; }
  std::string server_cert() const { return dir + "/server.crt"; }
  std::string server_key() const { return dir + "/server.key"; }
  std::string database() const { return dir + "/controller.db"; }
};

struct InitOptions {
  // Names the server certificate carries besides localhost, 127.0.0.1 and ::1 (the names
  // agents and operators use to reach the controller).
  std::vector<std::string> names;
  std::chrono::hours ca_lifetime{24 * 365 * 10};
  std::chrono::hours server_lifetime{24 * 397};
};

// Creates the CA and server certificate in `dir` (created 0700). AlreadyExists when DIR
// already holds a CA: an existing CA is never replaced (every agent pins it).
Status initDataDir(os::FileSystem& fs, const DataDirPaths& paths, const InitOptions& options);

class Authority {
 public:
  static Result<Authority> load(os::FileSystem& fs, const DataDirPaths& paths);

  // A client certificate for an agent: CN = id, OU = agent, for the CSR's key. InvalidArgument
  // for a CSR that asks for more than an identity (pki::checkIdentityOnly).
  Result<std::string> issueAgent(const std::string& agent_id, const std::string& csr_pem,
                                 std::chrono::seconds lifetime) const;
  // A key and client certificate for an operator (OU operator:<role>) or the fleet simulator.
  Result<pki::KeyAndCertificate> issueClient(const std::string& name, const std::string& unit,
                                             std::chrono::seconds lifetime) const;
  const std::string& caPem() const { return ca_.certificate_pem; }

 private:
  explicit Authority(pki::KeyAndCertificate ca) : ca_(std::move(ca)) {}
  pki::KeyAndCertificate ca_;
};

}  // namespace postwarden::controller::credentials
