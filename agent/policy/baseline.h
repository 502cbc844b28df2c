// The baseline model: the desired Postfix state (main.cf settings, master.cf service
// overrides) and what the live server must show when probed. Plain values, no behaviour;
// loaded from YAML by baseline_loader.h. Every element remembers where it was written.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace postwarden::agent::policy {

// Where something was written in a policy file (1-based line and column).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// One Postfix parameter with the value the baseline wants.
struct Setting {
  std::string name;
  std::string value;
  SourceLocation where;
};

// A parameter the baseline wants absent.
struct Removal {
  std::string name;
  SourceLocation where;
};

// Desired state of one master.cf service, identified by service name and type. The name is
// either a role (smtp = port 25, submission = 587, submissions = 465) or a literal master.cf
// service name; see postfix::ServiceKey for how roles are resolved.
struct ServiceOverride {
  std::string service;                  // "smtp", "submission", "127.0.0.1:2525", ...
  std::string type = "inet";            // master.cf type column
  std::optional<std::string> command;   // when set, the service is created if missing,
                                        // running this command ("smtpd")
  std::vector<Setting> options;         // -o name=value overrides to set
  std::vector<Removal> remove_options;  // -o overrides to remove
  SourceLocation where;
};

enum class StartTls { kRequired, kOptional };

// What the live server must show on one listener when probed over loopback.
struct ProbeExpectation {
  std::string service = "smtp";  // master.cf service or role to probe
  StartTls starttls = StartTls::kRequired;
  // AUTH mechanisms that must NOT be offered before TLS; "*" means no AUTH at all.
  std::vector<std::string> forbid_auth_before_tls;
  // AUTH mechanisms that must be offered after STARTTLS.
  std::vector<std::string> require_auth_after_tls;
  // `require_auth_after_tls_where: sasl_enabled`: require them only on listeners whose
  // service has SASL AUTH switched on (smtpd_sasl_auth_enable = yes, effectively). A host
  // that offers no AUTH on a port cannot leak a password there, so it is not a failure.
  bool require_auth_only_where_sasl_enabled = false;
  // When set, the server certificate must be valid for this name.
  std::optional<std::string> certificate_name;
  SourceLocation where;
};

struct Baseline {
  std::string name;
  std::string version;
  std::string description;
  std::vector<Setting> main_cf_set;
  std::vector<Removal> main_cf_remove;
  std::vector<ServiceOverride> master_cf;
  std::vector<ProbeExpectation> verify;
  std::string source_file;  // path the baseline was loaded from
};

}  // namespace postwarden::agent::policy
