// Lexical rules of Postfix configuration values (postconf(5), "main.cf" syntax): parameter
// names, list splitting and $name references. Pure functions; results view the input, so the
// input must outlive them. Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace postwarden::agent::params {

// Separators of Postfix list values ("separated by comma and/or whitespace").
inline constexpr std::string_view kListSeparators = ", \t\r\n";

// True when `name` is a non-empty run of ASCII letters, digits, '_', '-' and '.'. Built-in
// names use letters, digits and '_' ("2bounce_notice_recipient"); per-transport names carry
// the master.cf service name, which may contain '-' or '.'
// ("scalemail-backend_destination_recipient_limit" is in Debian's `postconf -d`).
bool isValidParameterName(std::string_view name);

// Splits a list value the way Postfix does: tokens are separated by any character of
// `separators`, and separators inside "{ ... }" (braces nest) do not split, so
// "check_policy_service { inet:127.0.0.1:10023, timeout=10s }, reject" yields two tokens.
// Empty tokens are dropped.
std::vector<std::string_view> splitListValue(std::string_view value,
                                             std::string_view separators = kListSeparators);

// Names referenced by `value` as $name, ${name}, ${name?text}, ${name:text} or $(name), in
// order of first appearance, without duplicates. "$$" is a literal dollar sign.
std::vector<std::string> parameterReferences(std::string_view value);

// True when `value` contains a $-expansion, i.e. its meaning depends on other parameters.
bool hasExpansion(std::string_view value);

// `text` without leading and trailing spaces and tabs (Postfix strips them from values).
std::string_view trimBlanks(std::string_view text);

}  // namespace postwarden::agent::params
