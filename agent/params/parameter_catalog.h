// What Postwarden knows about Postfix parameters: the names and default values of a Postfix
// release (compiled in from `postconf -d`, or parsed from a live host's `postconf -d`), the
// grammar of the values that Postfix would otherwise accept at `postfix check` and reload and
// then die on at the first connection, whether a change needs a restart, and when two spellings
// of a value mean the same thing. Pure and immutable: a ParameterCatalog is cheap to copy and
// safe to share between threads.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::agent::params {

// How a parameter change reaches the running Postfix.
enum class ApplyMode {
  kReload,   // `postfix reload` is enough
  kRestart,  // only `postfix stop` + `postfix start` picks it up (postconf(5))
};

class ParameterCatalog {
 public:
  // The Postfix 3.7 table compiled in from agent/params/postfix_defaults.inc
  // (script/regenerate-postfix-defaults). Costs nothing at run time: the table is a constexpr
  // sorted array and the catalog only points at it.
  static ParameterCatalog builtin();

  // Parses `postconf -d` output: one "name = value" (or "name =") line per parameter; lines that
  // start with whitespace continue the previous value, blank lines are ignored.
  // Errors: InvalidArgument when a line is not of that form, a name is invalid or repeated, or
  // the text holds no parameter at all; the message names the 1-based line.
  static Result<ParameterCatalog> fromPostconfDefaults(std::string_view postconf_d_output);

  // This catalog for the Postfix instance whose main.cf and master.cf are in `directory`:
  // config_directory defaults to `directory`, as for `postconf -c DIRECTORY -d`, so that
  // $config_directory and ${config_directory} in any value name that instance's files (Postfix
  // sets config_directory from -c / MAIL_CONFIG; /etc/postfix is only the default instance's).
  // An explicit config_directory in main.cf still wins, as it does in Postfix.
  ParameterCatalog withConfigDirectory(std::string directory) const;

  // Number of parameters in the table.
  size_t size() const { return entries_.size(); }

  // Every parameter name, sorted in byte order. The views stay valid as long as this catalog
  // or a copy of it lives (for builtin(), forever).
  std::vector<std::string_view> names() const;

  // True when `name` is a parameter of this Postfix (exact, case-sensitive: smtp_tls_CAfile).
  bool isKnown(std::string_view name) const;

  // True when `name` has the form <transport>_<suffix> of the per-transport parameters that
  // Postfix derives from master.cf entries (postconf(5) "transport_destination_concurrency_limit"
  // and friends), e.g. "dovecot_destination_recipient_limit". Such names are valid although
  // `postconf -d` lists them only for the transports of the default master.cf.
  bool isPerTransport(std::string_view name) const;

  // The default value exactly as `postconf -d` prints it (may contain $name expansions), or
  // nullopt for an unknown name.
  std::optional<std::string> defaultValue(std::string_view name) const;

  // The known parameter that `unknown` most likely misspells ("did you mean"), compared
  // case-insensitively with a small edit-distance threshold (see common/spelling.h), or nullopt.
  std::optional<std::string> closestName(std::string_view unknown) const;

  // Checks that `value` is something Postfix accepts for `name`, without expanding $names.
  // Always: the name must be non-empty letters, digits, '_', '-' or '.'; the value must not contain
  // a newline, CR, NUL, tab or other control character (write spaces), nor '#' (main.cf has no
  // trailing comments: "x = y # note" sets x to "y # note"; smtpd_expansion_filter, a character
  // set, is the one exception). Then the grammar where it is known: booleans (default yes/no),
  // integers and time values (inferred from the default), TLS security levels, SASL security
  // options, TLS protocol lists and cipher grades, SASL plug-in types, inet_protocols,
  // compatibility_level and a few enumerations. Values or tokens containing $-expansions are
  // not grammar-checked. Unknown names get the lexical checks only.
  // Errors: InvalidArgument with one line naming the parameter, the bad token and the valid
  // choices (with a "did you mean" when a choice is close).
  Status validateValue(std::string_view name, std::string_view value) const;

  // kRestart for parameters that `postfix reload` does not apply (inet_interfaces,
  // inet_protocols, the directory and ownership parameters, ...), else kReload.
  ApplyMode applyMode(std::string_view name) const;

  // True when Postfix gives `a` and `b` the same meaning for parameter `name`: surrounding
  // blanks never matter; list values compare token by token ("noanonymous, noplaintext" ==
  // "noanonymous,noplaintext"), and flag sets such as SASL security options ignore order;
  // booleans, TLS levels and cipher grades ignore case; integers compare by value; time values
  // compare in seconds when both carry a unit. When in doubt the answer is false, so a caller
  // may rewrite a value that was already right but never skips one that was wrong.
  bool equivalent(std::string_view name, std::string_view a, std::string_view b) const;

 private:
  struct Entry {
    std::string_view name;
    std::string_view value;
  };
  struct OwnedTable;  // storage behind a parsed catalog

  ParameterCatalog(std::span<const Entry> entries, std::shared_ptr<const OwnedTable> storage)
      : entries_(entries), storage_(std::move(storage)) {}

  const Entry* find(std::string_view name) const;
  std::optional<std::string_view> rawDefault(std::string_view name) const;

  std::span<const Entry> entries_;                       // sorted by name, byte order
  std::shared_ptr<const OwnedTable> storage_;            // null for builtin(): the table is static
  std::shared_ptr<const std::string> config_directory_;  // null: the table's default
};

}  // namespace postwarden::agent::params
