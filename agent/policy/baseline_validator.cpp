// Over 400 lines on purpose: one small rule per guard, each with its FILE:LINE:COL
// message, so every refusal of a baseline is found in one place.
#include "agent/policy/baseline_validator.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <string_view>

#include "agent/params/value_syntax.h"
#include "common/spelling.h"

namespace postwarden::agent::policy {
namespace {

using params::ParameterCatalog;

// master(5): the type column.
constexpr std::string_view kServiceTypes[] = {"inet", "unix", "unix-dgram", "fifo", "pass"};

// Programs in Postfix 3.7's daemon_directory that master.cf runs.
constexpr std::string_view kPostfixDaemons[] = {
    "anvil",    "bounce", "cleanup",  "discard",         "dnsblog", "error",    "flush",
    "lmtp",     "local",  "oqmgr",    "pickup",          "pipe",    "postlogd", "postscreen",
    "proxymap", "qmgr",   "qmqpd",    "scache",          "showq",   "smtp",     "smtpd",
    "spawn",    "tlsmgr", "tlsproxy", "trivial-rewrite", "verify",  "virtual"};

// postconf(5) marks process_id, process_name and service_name read-only; mail_version and
// mail_release_date are compiled in and overwritten at start-up.
constexpr std::string_view kReadOnly[] = {"mail_release_date", "mail_version", "process_id",
                                          "process_name", "service_name"};

// Per-host files: a baseline meant for a fleet must not pin them.
constexpr std::string_view kPerHostFiles[] = {"smtpd_tls_cert_file",   "smtpd_tls_key_file",
                                              "smtpd_tls_chain_files", "smtpd_tls_eccert_file",
                                              "smtpd_tls_eckey_file",  "smtpd_tls_dcert_file",
                                              "smtpd_tls_dkey_file"};

template <size_t N>
bool isOneOf(std::string_view s, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string position(const SourceLocation& where) {
  return std::to_string(where.line) + ":" + std::to_string(where.column);
}

bool hasToken(std::string_view value, std::string_view token) {
  for (std::string_view t : params::splitListValue(value)) {
    if (t == token) return true;
  }
  return false;
}

bool isYes(const Setting* s) {
  return s != nullptr && toLower(params::trimBlanks(s->value)) == "yes";
}
bool isNo(const Setting* s) {
  return s != nullptr && toLower(params::trimBlanks(s->value)) == "no";
}

// True for a TLS level that turns STARTTLS off ("none", or empty without legacy settings).
bool disablesTls(const Setting* s) {
  if (s == nullptr) return false;
  const std::string level = toLower(params::trimBlanks(s->value));
  return level == "none" || level.empty();
}

bool isValidWord(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#';
  });
}

// RFC 4422 section 3.1: 1 to 20 characters from upper-case letters, digits, '-' and '_'.
bool isSaslMechanismName(std::string_view s) {
  return !s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

// A DNS name, optionally with a leading "*." wildcard label.
// "$myhostname" or "${myhostname}": the name comes from that parameter on the listener.
bool isParameterReference(std::string_view s) {
  if (!s.starts_with('$')) return false;
  s.remove_prefix(1);
  if (s.starts_with('{') && s.ends_with('}')) s = s.substr(1, s.size() - 2);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool isCertificateName(std::string_view s) {
  if (s.starts_with("*.")) s.remove_prefix(2);
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

class Validator {
 public:
  Validator(const Baseline& baseline, const ParameterCatalog& catalog)
      : baseline_(baseline), catalog_(catalog) {}

  std::vector<Finding> run() {
    collectUserDefinedNames();
    for (const Setting& s : baseline_.main_cf_set) checkSetting(s);
    for (const Removal& r : baseline_.main_cf_remove) checkRemoval(r);
    for (const ServiceOverride& svc : baseline_.master_cf) checkService(svc);
    for (const ProbeExpectation& e : baseline_.verify) checkExpectation(e);
    checkRisks(nullptr);
    for (const ServiceOverride& svc : baseline_.master_cf) checkRisks(&svc);
    checkSizeRelation();
    std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
      if (a.where.line != b.where.line) return a.where.line < b.where.line;
      if (a.where.column != b.where.column) return a.where.column < b.where.column;
      return a.severity == Finding::Severity::kError && b.severity != Finding::Severity::kError;
    });
    return std::move(findings_);
  }

 private:
  void error(const SourceLocation& where, std::string message) {
    findings_.push_back(Finding{Finding::Severity::kError, std::move(message), where});
  }
  void warning(const SourceLocation& where, std::string message) {
    findings_.push_back(Finding{Finding::Severity::kWarning, std::move(message), where});
  }

  // message_size_limit <= mailbox_size_limit (0: unlimited), with Postfix's default for the
  // one the baseline does not set: local(8) cannot deliver a message larger than a mailbox
  // may grow. Only plain numbers are compared (a $name or a version-dependent value is not).
  void checkSizeRelation() {
    const Setting* message = nullptr;
    const Setting* mailbox = nullptr;
    for (const Setting& s : baseline_.main_cf_set) {
      if (s.alternative) continue;
      if (s.name == "message_size_limit") message = &s;
      if (s.name == "mailbox_size_limit") mailbox = &s;
    }
    if (message == nullptr && mailbox == nullptr) return;
    auto number = [&](const Setting* s, std::string_view name) -> std::optional<long long> {
      const std::string text =
          s != nullptr ? s->value : catalog_.defaultValue(name).value_or(std::string());
      long long value = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
      return value;
    };
    const std::optional<long long> message_limit = number(message, "message_size_limit");
    const std::optional<long long> mailbox_limit = number(mailbox, "mailbox_size_limit");
    if (!message_limit || !mailbox_limit || *mailbox_limit == 0) return;
    if (*message_limit == 0 || *message_limit > *mailbox_limit) {
      error((message != nullptr ? message : mailbox)->where,
            "message_size_limit (" + std::to_string(*message_limit) +
                (message == nullptr ? ", Postfix's default" : "") +
                ") is larger than mailbox_size_limit (" + std::to_string(*mailbox_limit) +
                (mailbox == nullptr ? ", Postfix's default" : "") +
                "): local delivery could not store the largest message the server accepts; "
                "raise mailbox_size_limit or lower message_size_limit");
    }
  }

  // Names the baseline itself uses as $name (or as restriction classes) count as deliberate
  // user-defined parameters, the same rule as postconf's "unused parameter" warning.
  void collectUserDefinedNames() {
    auto collect = [&](const std::vector<Setting>& settings) {
      for (const Setting& s : settings) {
        for (std::string& name : params::parameterReferences(s.value)) {
          user_defined_.insert(std::move(name));
        }
        if (s.name == "smtpd_restriction_classes") {
          for (std::string_view t : params::splitListValue(s.value)) {
            user_defined_.insert(std::string(t));
          }
        }
      }
    };
    collect(baseline_.main_cf_set);
    for (const ServiceOverride& svc : baseline_.master_cf) collect(svc.options);
  }

  bool isBuiltinName(std::string_view name) const {
    return catalog_.isKnown(name) || catalog_.isPerTransport(name);
  }

  void checkSetting(const Setting& s) {
    if (!params::isValidParameterName(s.name)) {
      error(s.where, catalog_.validateValue(s.name, s.value).message());
      return;
    }
    if (!isBuiltinName(s.name)) {
      if (user_defined_.contains(s.name)) {
        // A user-defined parameter: only lexical checks apply.
      } else if (auto close = catalog_.closestName(s.name)) {
        error(s.where, "unknown parameter '" + s.name + "' (did you mean '" + *close + "'?)");
        return;
      } else {
        warning(s.where, "'" + s.name +
                             "' is not a Postfix parameter and nothing in this baseline "
                             "references it as $" +
                             s.name + "; Postfix ignores unused parameters");
      }
    }
    if (isOneOf(s.name, kReadOnly)) {
      error(s.where, "parameter '" + s.name + "' is read-only; Postfix ignores a value for it");
      return;
    }
    if (Status st = catalog_.validateValue(s.name, s.value); !st.ok()) {
      error(s.where, st.message());
    }
  }

  void checkRemoval(const Removal& r) {
    if (!params::isValidParameterName(r.name)) {
      error(r.where, catalog_.validateValue(r.name, "").message());
      return;
    }
    // Removing an unknown (user-defined) parameter is ordinary clean-up; only a near miss of a
    // built-in name is suspicious, because the intended removal would silently not happen.
    if (!isBuiltinName(r.name)) {
      if (auto close = catalog_.closestName(r.name)) {
        error(r.where,
              "cannot remove unknown parameter '" + r.name + "' (did you mean '" + *close + "'?)");
      }
    }
  }

  void checkService(const ServiceOverride& svc) {
    if (!isValidWord(svc.service)) {
      error(svc.where, "invalid master.cf service name '" + svc.service +
                           "': one word without blanks, control characters or '#'");
    }
    if (!isOneOf(svc.type, kServiceTypes)) {
      error(svc.where, "unknown master.cf service type '" + svc.type + "'" +
                           didYouMean(svc.type, kServiceTypes) +
                           "; valid types: inet, unix, unix-dgram, fifo, pass");
    }
    if (svc.command) {
      const std::string& command = *svc.command;
      if (std::any_of(command.begin(), command.end(), [](char c) {
            return (static_cast<unsigned char>(c) < 0x20) || c == 0x7f || c == '#';
          })) {
        error(svc.where, "master.cf command for '" + svc.service +
                             "' must be one line without control characters or '#'");
      } else {
        const auto words = params::splitListValue(command, " ");
        const std::string_view program = words.empty() ? std::string_view() : words.front();
        if (!isOneOf(program, kPostfixDaemons)) {
          if (auto close = closestMatch(program, kPostfixDaemons)) {
            error(svc.where, "unknown Postfix daemon '" + std::string(program) +
                                 "' (did you mean '" + std::string(*close) + "'?)");
          } else {
            warning(svc.where, "'" + std::string(program) +
                                   "' is not a Postfix 3.7 daemon; master(8) runs it from "
                                   "daemon_directory, so it must exist there");
          }
        }
      }
    }
    for (const Setting& s : svc.options) checkSetting(s);
    for (const Removal& r : svc.remove_options) checkRemoval(r);
  }

  // The setting that decides `name` for a service: its own -o override, else main.cf.
  struct Effective {
    const Setting* setting = nullptr;
    bool from_service = false;
  };
  Effective effective(const ServiceOverride* svc, std::string_view name) const {
    if (svc != nullptr) {
      for (const Setting& s : svc->options) {
        if (s.name == name) return {&s, true};
      }
    }
    for (const Setting& s : baseline_.main_cf_set) {
      if (s.name == name) return {&s, false};
    }
    return {};
  }
  const ServiceOverride* inetService(std::string_view name) const {
    for (const ServiceOverride& svc : baseline_.master_cf) {
      if (svc.service == name && svc.type == "inet") return &svc;
    }
    return nullptr;
  }

  // A verify expectation the baseline itself makes impossible. Certain (an error) when the
  // service's own override decides; only likely (a warning) when main.cf decides, because the
  // host's master.cf may override it for that service.
  void contradiction(const ProbeExpectation& e, const Effective& eff, const std::string& what) {
    std::string message = "verify on '" + e.service + "' " + what + " (" + eff.setting->name +
                          " = " + eff.setting->value + " at " + position(eff.setting->where) + ")";
    if (eff.from_service) {
      error(e.where, message);
    } else {
      warning(e.where, message + " unless the host's master.cf overrides it for this service");
    }
  }

  void checkExpectation(const ProbeExpectation& e) {
    if (!isValidWord(e.service)) {
      error(e.where, "invalid service '" + e.service + "' to verify: one word expected");
    }
    for (const auto* list : {&e.forbid_auth_before_tls, &e.require_auth_after_tls}) {
      for (const std::string& mech : *list) {
        if (mech == "*" && list == &e.forbid_auth_before_tls) continue;
        if (!isSaslMechanismName(mech)) {
          error(e.where, "invalid SASL mechanism name '" + mech +
                             "': 1 to 20 upper-case letters, digits, '-' or '_' (RFC 4422), "
                             "e.g. PLAIN");
        }
      }
    }
    if (e.certificate_name && !isCertificateName(*e.certificate_name) &&
        !isParameterReference(*e.certificate_name)) {
      error(e.where, "certificate_name '" + *e.certificate_name +
                         "' is neither a DNS name nor a parameter such as $myhostname");
    }
    if (e.require_auth_only_where_sasl_enabled && e.require_auth_after_tls.empty()) {
      error(e.where,
            "require_auth_after_tls_where without require_auth_after_tls has nothing to limit");
    }

    const ServiceOverride* svc = inetService(e.service);
    if (e.starttls == StartTls::kRequired) {
      if (Effective level = effective(svc, "smtpd_tls_security_level");
          disablesTls(level.setting)) {
        contradiction(e, level, "requires STARTTLS, which this TLS level turns off");
      }
    }
    if (!e.require_auth_after_tls.empty()) {
      if (Effective auth = effective(svc, "smtpd_sasl_auth_enable");
          isNo(auth.setting) && !e.require_auth_only_where_sasl_enabled) {
        contradiction(e, auth, "requires AUTH after STARTTLS, but SASL AUTH is disabled");
      }
      // smtpd_sasl_tls_security_options defaults to $smtpd_sasl_security_options.
      Effective options = effective(svc, "smtpd_sasl_tls_security_options");
      if (options.setting == nullptr) options = effective(svc, "smtpd_sasl_security_options");
      const bool wants_plaintext =
          std::any_of(e.require_auth_after_tls.begin(), e.require_auth_after_tls.end(),
                      [](const std::string& m) { return m == "PLAIN" || m == "LOGIN"; });
      if (wants_plaintext && options.setting != nullptr &&
          hasToken(options.setting->value, "noplaintext")) {
        contradiction(e, options,
                      "requires PLAIN/LOGIN after STARTTLS, but noplaintext refuses them over "
                      "TLS too");
      }
    }
  }

  // Legal but risky choices, checked once for main.cf (svc == nullptr) and once per master.cf
  // service (only for settings written in that service, so nothing is reported twice).
  void checkRisks(const ServiceOverride* svc) {
    const std::vector<Setting>& own = svc != nullptr ? svc->options : baseline_.main_cf_set;
    auto get = [&](std::string_view name) { return effective(svc, name).setting; };
    // Does this scope end up serving port 25? main.cf does unless an "smtp" inet override
    // exists; an override does when it is that service.
    const ServiceOverride* smtp_override = inetService("smtp");
    const bool port25 = svc != nullptr ? svc == smtp_override : true;

    for (const Setting& s : own) {
      const std::string value = std::string(params::trimBlanks(s.value));
      const bool expands = params::hasExpansion(value);

      if (s.name == "smtpd_sasl_security_options" && hasToken(value, "noplaintext") &&
          get("smtpd_sasl_tls_security_options") == nullptr) {
        warning(s.where,
                "smtpd_sasl_security_options includes noplaintext but "
                "smtpd_sasl_tls_security_options is not set: its default "
                "($smtpd_sasl_security_options) then refuses PLAIN and LOGIN after STARTTLS "
                "too, so most mail clients cannot log in; set "
                "smtpd_sasl_tls_security_options = noanonymous");
      }
      if ((s.name == "smtpd_sasl_security_options" ||
           s.name == "smtpd_sasl_tls_security_options") &&
          !expands && !hasToken(value, "noanonymous")) {
        warning(s.where,
                s.name + " = " + value + " allows anonymous authentication; include noanonymous");
      }
      if (s.name == "smtpd_tls_security_level" && toLower(value) == "encrypt") {
        const bool applies_to_port25 =
            svc != nullptr
                ? port25
                : (smtp_override == nullptr || effective(smtp_override, s.name).setting == &s);
        if (applies_to_port25) {
          warning(s.where,
                  "smtpd_tls_security_level = encrypt applies to port 25 here: a public MX "
                  "must not require TLS (RFC 3207 section 4) or mail from servers without "
                  "TLS bounces; use may for smtp and encrypt on submission in master.cf");
        }
      }
      if (isOneOf(s.name, kPerHostFiles)) {
        warning(s.where, s.name +
                             " is a per-host path; a baseline shared by several hosts should "
                             "leave certificates and keys to each host's own configuration");
      }
      if (s.name == "smtpd_tls_auth_only" && isYes(&s) &&
          disablesTls(get("smtpd_tls_security_level"))) {
        warning(s.where,
                "smtpd_tls_auth_only = yes while smtpd_tls_security_level turns TLS off: "
                "AUTH is never offered");
      }
      if (s.name == "smtpd_sasl_auth_enable" && isYes(&s) && !isYes(get("smtpd_tls_auth_only"))) {
        const Setting* options = get("smtpd_sasl_security_options");
        if (options == nullptr || !hasToken(options->value, "noplaintext")) {
          warning(s.where,
                  "smtpd_sasl_auth_enable = yes without smtpd_tls_auth_only = yes: PLAIN and "
                  "LOGIN may be offered before STARTTLS, exposing passwords (Nessus 54582)");
        }
      }
      if ((s.name.ends_with("_tls_protocols") || s.name.ends_with("_tls_mandatory_protocols")) &&
          !expands) {
        for (std::string_view t : params::splitListValue(value, ", \t:")) {
          const std::string token = toLower(t);
          if (token == "sslv2" || token == "sslv3" || token == ">=sslv2" || token == ">=sslv3") {
            warning(s.where, s.name + " enables '" + std::string(t) +
                                 "'; SSLv2 and SSLv3 are broken (RFC 6176, RFC 7568)");
            break;
          }
        }
      }
      if ((s.name.ends_with("_tls_ciphers") || s.name.ends_with("_tls_mandatory_ciphers")) &&
          !expands) {
        const std::string grade = toLower(value);
        if (grade == "export" || grade == "low" || grade == "null") {
          warning(s.where,
                  s.name + " = " + value + " allows weak or no encryption; use medium or high");
        }
      }
    }
  }

  const Baseline& baseline_;
  const ParameterCatalog& catalog_;
  std::set<std::string, std::less<>> user_defined_;
  std::vector<Finding> findings_;
};

}  // namespace

std::string Finding::toString() const {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
         (severity == Severity::kError ? ": error: " : ": warning: ") + message;
}

std::vector<Finding> validateBaseline(const Baseline& baseline,
                                      const params::ParameterCatalog& catalog) {
  return Validator(baseline, catalog).run();
}

bool hasErrors(const std::vector<Finding>& findings) {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Finding::Severity::kError; });
}

}  // namespace postwarden::agent::policy
