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

// Which Postfix versions something applies to: `postfix_version: ">= 3.7.10"` (this or
// later), "< 3.8" (older than), or both, ">= 3.7.10, < 3.8". Compared numerically, part by
// part (3.10 is later than 3.9); missing parts count as 0.
struct VersionRequirement {
  std::vector<int> minimum;  // {3, 7, 10}; empty: no lower bound
  std::vector<int> below;    // {3, 8}; empty: no upper bound
  std::string text;          // as written, for messages: ">= 3.7.10, < 3.8"
  SourceLocation where;
};

// One Postfix parameter with the value the baseline wants. A parameter may be written as a
// list of alternatives, each with its own postfix_version: the loader then yields one Setting
// per alternative, in file order, all with the same name, and the first whose requirement the
// installed Postfix meets is the one that applies (applicability.h).
struct Setting {
  std::string name;
  std::string value;
  SourceLocation where;
  std::optional<VersionRequirement> postfix_version;  // unset: any version
  bool alternative = false;                           // written in the alternatives form
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
  // `if_exists: yes`: the entry applies only where master.cf has the service; elsewhere the
  // plan says it does not apply (a host without a submission port has nothing to harden
  // there). Never together with `command`.
  bool only_if_exists = false;
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
  // When set, the server certificate must be valid for this name: a DNS name, or "$name" for
  // the value of that Postfix parameter on the probed listener ("$myhostname", resolved from
  // main.cf and the service's -o overrides before the probe).
  std::optional<std::string> certificate_name;
  // `certificate_valid_days: N`: the certificate must be valid now and for at least N more
  // days (Nessus 15901 expired; 0 = valid now).
  std::optional<int> certificate_valid_days;
  // `certificate_chain: trusted`: the chain the server sends must lead to a root in the
  // system trust store (Nessus 51192 untrusted or incomplete chain, 57582 self-signed).
  bool certificate_chain_trusted = false;
  // `dh_min_bits: N`: a handshake offering only DHE suites either fails or uses a DH group
  // of at least N bits (Logjam, Nessus 83875: 1024 bits and less).
  std::optional<int> dh_min_bits;
  // `vrfy: refused`: "VRFY root" must be answered 502 (disable_vrfy_command = yes). Postfix's
  // default 252 is itself flagged by OpenVAS, so only 502 passes.
  bool vrfy_refused = false;
  // The greeting must contain none of these words (case-insensitive), e.g. [Postfix, Debian].
  std::vector<std::string> banner_must_not_contain;
  // Handshakes offering only that (verify::kTlsAttemptNames: "TLSv1", "TLSv1.1", "TLSv1.2",
  // "TLSv1.3", "aNULL") must fail / must succeed with that version.
  std::vector<std::string> tls_refused;
  std::vector<std::string> tls_accepted;
  SourceLocation where;
};

struct Baseline {
  std::string name;
  std::string version;
  std::string description;
  // `postfix_version: ">= 3.6"`: the baseline applies only to hosts running that Postfix or
  // later; elsewhere the plan says it does not apply, and why.
  std::optional<VersionRequirement> postfix_version;
  std::vector<Setting> main_cf_set;
  std::vector<Removal> main_cf_remove;
  std::vector<ServiceOverride> master_cf;
  std::vector<ProbeExpectation> verify;
  std::string source_file;  // path the baseline was loaded from
};

}  // namespace postwarden::agent::policy
