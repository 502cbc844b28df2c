// Which parts of a baseline apply to one host's Postfix: the baseline's own
// `postfix_version`, and for each parameter written as alternatives the first whose
// `postfix_version` the installed Postfix meets. The result is a plain Baseline without
// conditions, plus one sentence per decision so that `plan` can say what does not apply and
// why. Pure: no I/O; deterministic and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/policy/baseline.h"

namespace postwarden::agent::policy {

// "3.7.11" -> {3, 7, 11}; a snapshot "3.9-20231105" -> {3, 9}. nullopt when it does not start
// with a number.
std::optional<std::vector<int>> parsePostfixVersion(std::string_view mail_version);

// ">= 3.7.10", "< 3.8", ">= 3.7.10, < 3.8" (blanks optional); nullopt otherwise, also for
// an empty range. `where` is left empty.
std::optional<VersionRequirement> parseVersionRequirement(std::string_view text);

// `installed` is `minimum` or later and older than `below` (those that are set), comparing
// part by part, missing parts as 0.
bool meetsVersion(const std::vector<int>& installed, const VersionRequirement& requirement);

// {3, 7, 11} -> "3.7.11".
std::string versionText(const std::vector<int>& version);

// True when anything in `baseline` depends on the installed Postfix version.
bool hasVersionConditions(const Baseline& baseline);

struct Applicability {
  bool applies = true;  // false: the whole baseline does not apply to this host
  Baseline resolved;    // conditions resolved: each parameter at most once, none conditional
  // "baseline 'x' does not apply to this host: it needs Postfix >= 3.6 (f:1:18); this host
  // runs 3.5.6", "main.cf: smtpd_forbid_bare_newline = normalize (f:12:7, >= 3.7.10) applies
  // to Postfix 3.7.11", "... does not apply ...: no alternative matches ...".
  std::vector<std::string> notes;
};

// Resolves `baseline` for a host running `installed` (nullopt: the version is unknown, and
// then nothing conditional applies, which the notes say).
Applicability resolveForHost(const Baseline& baseline,
                             const std::optional<std::vector<int>>& installed);

}  // namespace postwarden::agent::policy
