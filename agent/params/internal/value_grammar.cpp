// Over 400 lines on purpose: one small pure grammar per kind of Postfix value (booleans, sizes,
// times, lists, lookup tables, TLS levels, ...), each a few lines, in the one place the
// catalog looks.
#include "agent/params/internal/value_grammar.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "agent/params/value_syntax.h"
#include "common/spelling.h"

namespace postwarden::agent::params::internal {
namespace {

using Choices = std::span<const std::string_view>;

// Postfix's SASL plug-ins take these security properties (xsasl_cyrus_security.c,
// xsasl_dovecot_server.c). Matched case-sensitively there (name_mask without ANY_CASE).
constexpr std::array<std::string_view, 6> kSaslOptions = {
    "noplaintext", "noactive", "nodictionary", "noanonymous", "mutual_auth", "forward_secrecy"};

// tls_level.c; name_code() matches case-insensitively. The SMTP server (and postscreen and
// tlsproxy in the server role) implements only the first three; postconf(5) says it logs a
// warning for "fingerprint", "verify" and "secure" and silently uses "encrypt" instead, which
// on port 25 would refuse mail from servers without TLS. So client-only levels are rejected.
constexpr std::array<std::string_view, 3> kServerTlsLevels = {"none", "may", "encrypt"};
constexpr std::array<std::string_view, 8> kClientTlsLevels = {
    "none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"};

// tls_misc.c protocol_table / tls_cipher_grade_table; both case-insensitive.
constexpr std::array<std::string_view, 6> kTlsProtocolNames = {"SSLv2",   "SSLv3",   "TLSv1",
                                                               "TLSv1.1", "TLSv1.2", "TLSv1.3"};
constexpr std::array<std::string_view, 5> kCipherGrades = {"export", "low", "medium", "high",
                                                           "null"};

// xsasl_server.c / xsasl_client.c compare plug-in names with strcmp. `postconf -a` on Debian
// lists cyrus and dovecot; `postconf -A` (client) lists cyrus only.
constexpr std::array<std::string_view, 2> kServerSaslTypes = {"cyrus", "dovecot"};
constexpr std::array<std::string_view, 1> kClientSaslTypes = {"cyrus"};

// inet_proto.c uses name_mask(), which is case-sensitive.
constexpr std::array<std::string_view, 3> kInetProtocols = {"all", "ipv4", "ipv6"};

constexpr std::array<std::string_view, 2> kBooleans = {"yes", "no"};
constexpr std::array<std::string_view, 4> kBareNewline = {"yes", "no", "normalize", "reject"};
constexpr std::array<std::string_view, 4> kEecdhGrades = {"none", "strong", "ultra", "auto"};

// Parameters whose kind the default value would get wrong or cannot tell.
struct NamedKind {
  std::string_view name;
  ValueKind kind;
};
constexpr NamedKind kKindsByName[] = {
    {"compatibility_level", ValueKind::kCompatibilityLevel},  // default "0", yet "3.6" is valid
    {"inet_interfaces", ValueKind::kList},
    {"inet_protocols", ValueKind::kInetProtocols},
    {"lmtp_sasl_type", ValueKind::kClientSaslType},
    {"lmtp_tcp_port", ValueKind::kText},  // default "24", yet a service name is valid
    {"lmtp_tls_security_level", ValueKind::kClientTlsLevel},
    {"mydestination", ValueKind::kList},
    {"mynetworks", ValueKind::kList},
    {"postscreen_dnsbl_allowlist_threshold", ValueKind::kSignedInteger},
    {"postscreen_dnsbl_whitelist_threshold", ValueKind::kSignedInteger},
    {"postscreen_tls_security_level", ValueKind::kServerTlsLevel},
    {"smtp_sasl_type", ValueKind::kClientSaslType},
    {"smtp_tls_security_level", ValueKind::kClientTlsLevel},
    {"smtpd_forbid_bare_newline", ValueKind::kBareNewline},  // default "no", also normalize
    {"smtpd_sasl_type", ValueKind::kServerSaslType},
    {"smtpd_tls_eecdh_grade", ValueKind::kEecdhGrade},
    {"smtpd_tls_security_level", ValueKind::kServerTlsLevel},
};

// Name endings of list-valued parameters (compared token by token), used when the default
// value is not a boolean, integer or time.
constexpr std::string_view kListSuffixes[] = {
    "_restrictions", "_maps",    "_networks", "_domains",          "_interfaces", "_classes",
    "_checks",       "_ciphers", "_digests",  "_mechanism_filter", "_cert_match", "_curves",
    "_users",        "_files",   "_keywords", "_prefixes",         "_sites",      "_list"};

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool isDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool contains(Choices choices, std::string_view token, bool ignore_case) {
  return std::any_of(choices.begin(), choices.end(), [&](std::string_view c) {
    return ignore_case ? equalsIgnoreCase(c, token) : c == token;
  });
}

std::string joinChoices(Choices choices) {
  std::string out;
  for (std::string_view c : choices) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

// "parameter 'x': <what> 'token' (did you mean 'y'?); valid choices: a, b, c"
Status badChoice(std::string_view name, std::string_view what, std::string_view token,
                 Choices choices) {
  std::string message = "parameter '" + std::string(name) + "': " + std::string(what) + " '" +
                        std::string(token) + "'" + didYouMean(token, choices);
  message += "; valid choices: " + joinChoices(choices);
  return InvalidArgumentError(std::move(message));
}

Status badValue(std::string_view name, std::string_view what, std::string_view value,
                std::string_view expected) {
  return InvalidArgumentError("parameter '" + std::string(name) + "': " + std::string(what) + " '" +
                              std::string(value) + "'; " + std::string(expected));
}

// One value from a fixed set (TLS level, cipher grade, plug-in type ...). Empty passes only
// when `empty_ok` (the parameter's default is empty).
Status checkChoice(std::string_view name, std::string_view value, Choices choices,
                   std::string_view what, bool ignore_case, bool empty_ok) {
  if (value.empty()) {
    if (empty_ok) return OkStatus();
    return InvalidArgumentError("parameter '" + std::string(name) + "': empty " +
                                std::string(what) + "; valid choices: " + joinChoices(choices));
  }
  if (contains(choices, value, ignore_case)) return OkStatus();
  return badChoice(name, what, value, choices);
}

// A set of flags from `choices`, separated by commas and/or whitespace.
Status checkFlagList(std::string_view name, std::string_view value, Choices choices,
                     std::string_view what, bool empty_ok) {
  const auto tokens = splitListValue(value);
  if (tokens.empty() && !empty_ok) {
    return InvalidArgumentError("parameter '" + std::string(name) + "': empty value; specify " +
                                "one or more of: " + joinChoices(choices));
  }
  for (std::string_view token : tokens) {
    if (hasExpansion(token)) continue;
    if (!contains(choices, token, /*ignore_case=*/false))
      return badChoice(name, what, token, choices);
  }
  return OkStatus();
}

bool isTlsProtocolName(std::string_view token) {
  return contains(kTlsProtocolNames, token, /*ignore_case=*/true);
}

// ">=" and "<=" also take a hexadecimal protocol number (tls_misc.c parse_tls_version(), which
// uses strtoul(..., 16)): "0303", "0x303".
bool isTlsVersionBound(std::string_view version) {
  if (isTlsProtocolName(version)) return true;
  if (version.size() > 2 && version[0] == '0' && (version[1] == 'x' || version[1] == 'X')) {
    version.remove_prefix(2);
  }
  return !version.empty() && version.size() <= 8 &&
         std::all_of(version.begin(), version.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

Status checkTlsProtocols(std::string_view name, std::string_view value) {
  // tls_proto_mask_lims(): separators are commas, whitespace and colons.
  for (std::string_view token : splitListValue(value, ", \t\r\n:")) {
    if (hasExpansion(token)) continue;
    bool ok;
    if (token.starts_with(">=") || token.starts_with("<=")) {
      ok = isTlsVersionBound(token.substr(2));
    } else if (token.starts_with("!")) {
      ok = isTlsProtocolName(token.substr(1));
    } else {
      ok = isTlsProtocolName(token);
    }
    if (!ok) {
      std::string message = "parameter '" + std::string(name) + "': invalid TLS protocol '" +
                            std::string(token) + "'";
      std::string_view bare = token;
      while (!bare.empty() && (bare.front() == '!' || bare.front() == '>' || bare.front() == '<' ||
                               bare.front() == '=')) {
        bare.remove_prefix(1);
      }
      if (auto close = closestMatch(bare, kTlsProtocolNames)) {
        message += " (did you mean '" + std::string(token.substr(0, token.size() - bare.size())) +
                   std::string(*close) + "'?)";
      }
      message += "; valid choices: " + joinChoices(kTlsProtocolNames) +
                 ", each as NAME, !NAME (exclude), >=VERSION or <=VERSION (bounds, e.g. "
                 "\">=TLSv1.2\")";
      return InvalidArgumentError(std::move(message));
    }
  }
  return OkStatus();
}

Status checkInteger(std::string_view name, std::string_view value, bool allow_negative) {
  std::string_view digits = value;
  if (allow_negative && digits.starts_with("-")) digits.remove_prefix(1);
  if (!isDigits(digits)) {
    return badValue(name, "invalid integer", value,
                    allow_negative ? "expected an integer such as 0 or -1"
                                   : "expected a non-negative integer (digits only)");
  }
  if (digits.size() > 18) return badValue(name, "integer out of range", value, "too many digits");
  return OkStatus();
}

// conv_time() in mail_conf_time.c: an integral value plus an optional one-letter unit.
Status checkTime(std::string_view name, std::string_view value) {
  std::string_view number = value;
  if (!number.empty() && std::string_view("smhdw").find(number.back()) != std::string_view::npos) {
    number.remove_suffix(1);
  }
  if (!isDigits(number)) {
    return badValue(name, "invalid time value", value,
                    "expected digits with an optional unit s, m, h, d or w (e.g. 300s, 5d)");
  }
  if (number.size() > 12) return badValue(name, "time value out of range", value, "too large");
  return OkStatus();
}

Status checkCompatibilityLevel(std::string_view name, std::string_view value) {
  // compat_level_from_string(): "N", "N.N" or "N.N.N".
  int parts = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = value.find('.', start);
    const std::string_view part =
        value.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!isDigits(part)) {
      return badValue(name, "invalid compatibility level", value,
                      "expected a Postfix version level such as 0, 1, 2, 3.6 or 3.7");
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts > 3) {
    return badValue(name, "invalid compatibility level", value,
                    "expected at most three numbers, e.g. 3.6");
  }
  return OkStatus();
}

std::optional<int64_t> parseInt(std::string_view s) {
  int64_t v = 0;
  if (s.starts_with("+")) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

struct TimeValue {
  int64_t amount;
  char unit;  // 0 when absent
};

std::optional<TimeValue> parseTime(std::string_view s) {
  char unit = 0;
  if (!s.empty() && std::string_view("smhdw").find(s.back()) != std::string_view::npos) {
    unit = s.back();
    s.remove_suffix(1);
  }
  if (!isDigits(s) || s.size() > 12) return std::nullopt;
  auto amount = parseInt(s);
  if (!amount) return std::nullopt;
  return TimeValue{*amount, unit};
}

int64_t unitSeconds(char unit) {
  switch (unit) {
    case 'm':
      return 60;
    case 'h':
      return 3600;
    case 'd':
      return 86400;
    case 'w':
      return 7 * 86400;
    default:
      return 1;
  }
}

std::vector<std::string> sortedTokens(std::string_view value, std::string_view separators,
                                      bool ignore_case) {
  std::vector<std::string> tokens;
  for (std::string_view t : splitListValue(value, separators)) {
    tokens.push_back(ignore_case ? toLower(t) : std::string(t));
  }
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  return tokens;
}

bool isYesNoConditional(std::string_view d) {
  // "${{$compatibility_level} <level {1} ? {no} : {yes}}"
  return d.starts_with("${{") && (endsWith(d, "? {yes} : {no}}") || endsWith(d, "? {no} : {yes}}"));
}

}  // namespace

std::optional<ValueKind> kindByName(std::string_view name) {
  for (const NamedKind& nk : kKindsByName) {
    if (nk.name == name) return nk.kind;
  }
  if (endsWith(name, "_sasl_security_options") || endsWith(name, "_sasl_tls_security_options") ||
      endsWith(name, "_sasl_tls_verified_security_options")) {
    return ValueKind::kSaslSecurityOptions;
  }
  if (endsWith(name, "_tls_protocols") || endsWith(name, "_tls_mandatory_protocols")) {
    return ValueKind::kTlsProtocols;
  }
  if (endsWith(name, "_tls_ciphers") || endsWith(name, "_tls_mandatory_ciphers")) {
    return ValueKind::kCipherGrade;
  }
  // Character sets, not lists: "," and " " are members (command_expansion_filter).
  if (endsWith(name, "_expansion_filter")) return ValueKind::kText;
  // Default "1", but "1/concurrency" and fractions are valid too (postconf(5)).
  if (endsWith(name, "_concurrency_negative_feedback") ||
      endsWith(name, "_concurrency_positive_feedback")) {
    return ValueKind::kText;
  }
  return std::nullopt;
}

ValueKind kindByDefault(std::string_view name, std::string_view default_value) {
  const std::string_view d = trimBlanks(default_value);
  if (d == "yes" || d == "no" || isYesNoConditional(d)) return ValueKind::kBoolean;
  if (isDigits(d)) return ValueKind::kInteger;
  if (d.size() >= 2 && isDigits(d.substr(0, d.size() - 1)) &&
      std::string_view("smhdw").find(d.back()) != std::string_view::npos) {
    return ValueKind::kTime;
  }
  for (std::string_view suffix : kListSuffixes) {
    if (endsWith(name, suffix)) return ValueKind::kList;
  }
  if (d.find(',') != std::string_view::npos && !d.starts_with("${{")) return ValueKind::kList;
  return ValueKind::kText;
}

Status checkValue(ValueKind kind, std::string_view name, std::string_view raw_value) {
  const std::string_view value = trimBlanks(raw_value);
  switch (kind) {
    case ValueKind::kText:
    case ValueKind::kList:
      return OkStatus();
    case ValueKind::kSaslSecurityOptions:
      return checkFlagList(name, value, kSaslOptions, "unknown SASL security option",
                           /*empty_ok=*/true);
    case ValueKind::kInetProtocols:
      return checkFlagList(name, value, kInetProtocols, "unknown address family",
                           /*empty_ok=*/false);
    case ValueKind::kTlsProtocols:
      return checkTlsProtocols(name, value);
    default:
      break;
  }
  // Single-valued kinds: a $-expansion makes the value unknowable here.
  if (hasExpansion(value)) return OkStatus();
  switch (kind) {
    case ValueKind::kBoolean:
      return checkChoice(name, value, kBooleans, "invalid boolean", true, false);
    case ValueKind::kInteger:
      return checkInteger(name, value, /*allow_negative=*/false);
    case ValueKind::kSignedInteger:
      return checkInteger(name, value, /*allow_negative=*/true);
    case ValueKind::kTime:
      return checkTime(name, value);
    case ValueKind::kServerTlsLevel:
      if (!value.empty() && !contains(kServerTlsLevels, value, true) &&
          contains(kClientTlsLevels, value, true)) {
        return badValue(name, "client-only TLS security level", value,
                        "the Postfix SMTP server accepts: " + joinChoices(kServerTlsLevels));
      }
      return checkChoice(name, value, kServerTlsLevels, "invalid TLS security level", true, true);
    case ValueKind::kClientTlsLevel:
      return checkChoice(name, value, kClientTlsLevels, "invalid TLS security level", true, true);
    case ValueKind::kCipherGrade:
      return checkChoice(name, value, kCipherGrades, "invalid cipher grade", true, false);
    case ValueKind::kServerSaslType:
      return checkChoice(name, value, kServerSaslTypes, "unsupported SASL plug-in type", false,
                         false);
    case ValueKind::kClientSaslType:
      return checkChoice(name, value, kClientSaslTypes, "unsupported SASL plug-in type", false,
                         false);
    case ValueKind::kCompatibilityLevel:
      return checkCompatibilityLevel(name, value);
    case ValueKind::kBareNewline:
      return checkChoice(name, value, kBareNewline, "invalid value", true, false);
    case ValueKind::kEecdhGrade:
      return checkChoice(name, value, kEecdhGrades, "invalid EECDH grade", true, false);
    default:
      return OkStatus();
  }
}

bool equivalentValues(ValueKind kind, std::string_view raw_a, std::string_view raw_b) {
  const std::string_view a = trimBlanks(raw_a);
  const std::string_view b = trimBlanks(raw_b);
  if (a == b) return true;
  switch (kind) {
    case ValueKind::kText:
    case ValueKind::kServerSaslType:
    case ValueKind::kClientSaslType:
    case ValueKind::kCompatibilityLevel:
      return false;
    case ValueKind::kList:
      return splitListValue(a) == splitListValue(b);
    case ValueKind::kBoolean:
    case ValueKind::kServerTlsLevel:
    case ValueKind::kClientTlsLevel:
    case ValueKind::kCipherGrade:
    case ValueKind::kBareNewline:
    case ValueKind::kEecdhGrade:
      return equalsIgnoreCase(a, b);
    case ValueKind::kInteger:
    case ValueKind::kSignedInteger: {
      const auto x = parseInt(a);
      const auto y = parseInt(b);
      return x && y && *x == *y;
    }
    case ValueKind::kTime: {
      const auto x = parseTime(a);
      const auto y = parseTime(b);
      if (!x || !y) return false;
      // Without a unit Postfix applies the parameter's own default unit, which the default
      // value does not reliably reveal: only compare like with like.
      if ((x->unit == 0) != (y->unit == 0)) return false;
      return x->amount * unitSeconds(x->unit) == y->amount * unitSeconds(y->unit);
    }
    case ValueKind::kSaslSecurityOptions:
    case ValueKind::kInetProtocols:
      return sortedTokens(a, kListSeparators, false) == sortedTokens(b, kListSeparators, false);
    case ValueKind::kTlsProtocols:
      return sortedTokens(a, ", \t\r\n:", true) == sortedTokens(b, ", \t\r\n:", true);
  }
  return false;
}

}  // namespace postwarden::agent::params::internal
