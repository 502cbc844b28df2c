// Internal to postwarden::params: the value grammars behind ParameterCatalog::validateValue and
// ParameterCatalog::equivalent. Pure functions; the catalog decides which kind applies to a
// parameter (by name, then by resolving its default value).
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"

namespace postwarden::agent::params::internal {

enum class ValueKind {
  kText,                 // free text, compared literally
  kList,                 // comma/whitespace list, compared token by token
  kBoolean,              // yes | no, any case
  kInteger,              // digits
  kSignedInteger,        // optional '-' then digits
  kTime,                 // digits + optional s/m/h/d/w
  kServerTlsLevel,       // none | may | encrypt (smtpd, postscreen, tlsproxy)
  kClientTlsLevel,       // none | may | encrypt | dane | dane-only | fingerprint | verify | secure
  kSaslSecurityOptions,  // set of noplaintext, noactive, ...
  kTlsProtocols,         // [!]NAME, >=VERSION, <=VERSION
  kCipherGrade,          // export | low | medium | high | null, any case
  kServerSaslType,       // cyrus | dovecot
  kClientSaslType,       // cyrus
  kInetProtocols,        // set of all, ipv4, ipv6 (non-empty)
  kCompatibilityLevel,   // 0, 1, 2, 3.6, 3.7 ...
  kBareNewline,          // yes | no | normalize | reject, any case
  kEecdhGrade,           // none | strong | ultra | auto, any case
};

// The kind fixed by the parameter name alone (exact names and suffixes such as
// "_tls_mandatory_protocols"), or nullopt when the default value has to decide.
std::optional<ValueKind> kindByName(std::string_view name);

// The kind inferred from a (fully resolved) default value: "yes"/"no" (also inside a
// compatibility_level conditional) -> kBoolean, digits -> kInteger, digits+unit -> kTime;
// otherwise kList for list-like names or comma-separated defaults, else kText.
ValueKind kindByDefault(std::string_view name, std::string_view default_value);

// Grammar check of `value` (blanks around it ignored) for `kind`; `name` is only used in the
// message. Values or tokens with $-expansions pass. Errors: InvalidArgument, one line.
Status checkValue(ValueKind kind, std::string_view name, std::string_view value);

// Whether `a` and `b` mean the same to Postfix under `kind` (see ParameterCatalog::equivalent).
bool equivalentValues(ValueKind kind, std::string_view a, std::string_view b);

}  // namespace postwarden::agent::params::internal
