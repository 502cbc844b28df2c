// A Plan: what it takes to bring one Postfix configuration to a baseline. Plain values,
// ordered deterministically (main.cf in baseline order, then master.cf), with the exact
// bytes main.cf and master.cf would have afterwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/params/parameter_catalog.h"
#include "agent/postfix/master_cf_document.h"

namespace postwarden::agent::planner {

enum class ChangeKind {
  kSetMain,              // main.cf: parameter = value
  kRemoveMain,           // main.cf: parameter removed
  kSetServiceOption,     // master.cf: -o parameter=value on a service
  kRemoveServiceOption,  // master.cf: -o parameter removed from a service
  kAddService,           // master.cf: a new service entry
};

struct Change {
  ChangeKind kind = ChangeKind::kSetMain;
  std::optional<postfix::ServiceKey> service;  // master.cf changes only
  std::string parameter;                       // for kAddService: the command
  std::optional<std::string> before;           // absent when not set now
  std::optional<std::string> after;            // absent when removed
  params::ApplyMode mode = params::ApplyMode::kReload;
  // kRemoveServiceOption of a "-o" that contradicts the baseline's main.cf value on a
  // listener the baseline governs: the master.cf line of that "-o" (1-based, as in
  // master_cf_before) and why it goes. 0 and "" otherwise.
  int master_cf_line = 0;
  std::string reason;
  // kSetMain of a parameter main.cf defines more than once: the 1-based first lines (as in
  // main_cf_before) of the earlier definitions the edit removes, ascending, so that one entry
  // remains (the last, the one Postfix uses). Such a change may keep the value (before ==
  // after): it only collapses the duplicates. Empty otherwise.
  std::vector<int> removed_main_cf_lines;

  bool inMasterCf() const { return service.has_value(); }
  // One line for people: "main.cf: smtpd_tls_auth_only: (unset) -> yes"; a governed
  // listener's override adds "(master.cf line N: reason)", a collapse of duplicate main.cf
  // entries "(defined 3 times: the last entry rewritten, the earlier ones at lines 4, 9
  // removed)", or "yes (unchanged; defined 2 times: the last entry kept, ...)".
  std::string describe() const;
};

// An smtpd service the baseline does not govern whose effective value a main.cf change
// still reaches (a content-filter re-injection port, a submission port, ...): never changed
// silently, always listed in the plan. Values are effective and expanded, as the daemon
// sees them ("" when empty).
struct AffectedService {
  postfix::ServiceKey service;
  std::string parameter;
  std::string before;
  std::string after;
  // "127.0.0.1:10025/inet: smtpd_tls_auth_only: no -> yes".
  std::string describe() const;
};

// The certificate and key files a TLS-requiring smtpd service will load, $names expanded;
// checked before any write. Postfix (tls_certkey.c) loads smtpd_tls_chain_files when it is set
// and then ignores every per-algorithm file; otherwise each per-algorithm pair whose
// certificate file is set (RSA, DSA, ECDSA). With none of them set smtpd offers no STARTTLS.
struct TlsMaterial {
  std::string service;      // "main.cf" or the master.cf service it applies to
  std::string cert_file;    // smtpd_tls_cert_file (the "RSA" pair, any key type in practice)
  std::string key_file;     // smtpd_tls_key_file; defaults to $smtpd_tls_cert_file
  std::string eccert_file;  // smtpd_tls_eccert_file
  std::string eckey_file;   // smtpd_tls_eckey_file; defaults to $smtpd_tls_eccert_file
  std::string dcert_file;   // smtpd_tls_dcert_file (DSA)
  std::string dkey_file;    // smtpd_tls_dkey_file; defaults to $smtpd_tls_dcert_file
  std::vector<std::string> chain_files;  // smtpd_tls_chain_files, in order; empty when unset

  // Same files (the service does not count).
  bool sameFiles(const TlsMaterial& other) const {
    return cert_file == other.cert_file && key_file == other.key_file &&
           eccert_file == other.eccert_file && eckey_file == other.eckey_file &&
           dcert_file == other.dcert_file && dkey_file == other.dkey_file &&
           chain_files == other.chain_files;
  }
};

struct Plan {
  std::string baseline_name;
  std::string baseline_version;
  std::vector<Change> changes;
  std::vector<std::string> warnings;  // legal but worth a look (duplicates, risky values)
  // What of the baseline does not apply to this host and why (its postfix_version, a
  // parameter's alternatives, an `if_exists` service the host lacks), and which alternative
  // was taken. A baseline that does not apply at all has no changes and says so here.
  std::vector<std::string> applicability;
  std::vector<TlsMaterial> tls_material;  // cert/key pairs the result depends on
  // The listeners the baseline governs (planner.h governedServices()), in master.cf order,
  // and the other smtpd services the main.cf changes reach.
  std::vector<postfix::ServiceKey> governed_services;
  std::vector<AffectedService> also_affected;
  std::string main_cf_before, main_cf_after;
  std::string master_cf_before, master_cf_after;

  bool compliant() const { return changes.empty(); }
  // kRestart when any change needs a full stop/start (listeners, inet_interfaces, ...).
  params::ApplyMode applyMode() const;
};

}  // namespace postwarden::agent::planner
