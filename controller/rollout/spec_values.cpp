#include "controller/rollout/spec_values.h"

#include <algorithm>
#include <limits>

#include "common/duration.h"

namespace postwarden::controller::rollout {
namespace {

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool isLabelText(std::string_view s) {
  return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), isLabelChar);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

}  // namespace

Result<LabelSelector> parseSelector(std::string_view text) {
  LabelSelector out;
  if (trim(text).empty()) return out;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string_view term = trim(text.substr(begin, comma - begin));
    const size_t eq = term.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError("selector term " + quoted(term) +
                                  " must be key=value (terms are separated by commas)");
    }
    const std::string_view key = trim(term.substr(0, eq));
    const std::string_view value = trim(term.substr(eq + 1));
    if (!isLabelText(key) || !isLabelText(value)) {
      return InvalidArgumentError(
          "selector term " + quoted(term) +
          ": key and value must be 1 to 63 characters of A-Z a-z 0-9 . _ -");
    }
    for (const auto& [k, v] : out.terms) {
      if (k == key) return InvalidArgumentError("selector names label " + quoted(key) + " twice");
    }
    out.terms.emplace_back(std::string(key), std::string(value));
    begin = comma + 1;
  }
  std::sort(out.terms.begin(), out.terms.end());
  return out;
}

bool matches(const LabelSelector& selector, const Labels& labels) {
  return std::all_of(selector.terms.begin(), selector.terms.end(), [&](const auto& term) {
    auto it = labels.find(term.first);
    return it != labels.end() && it->second == term.second;
  });
}

std::string toString(const LabelSelector& selector) {
  if (selector.empty()) return "*";
  std::string out;
  for (const auto& [key, value] : selector.terms) {
    if (!out.empty()) out += ",";
    out += key + "=" + value;
  }
  return out;
}

Result<int> parseCount(std::string_view text, int max) {
  const Status bad = InvalidArgumentError("expected a whole number from 0 to " +
                                          std::to_string(max) + ", not " + quoted(text));
  if (text.empty() || text.size() > 9) return bad;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad;
    value = value * 10 + (c - '0');
  }
  if (value > max) return bad;
  return value;
}

Result<absl::Duration> parseDuration(std::string_view text) {
  PW_ASSIGN_OR_RETURN(std::chrono::milliseconds duration, postwarden::parseDuration(text));
  return absl::FromChrono(duration);
}

Result<BaselineRef> parseBaselineRef(std::string_view text) {
  const size_t at = text.find('@');
  if (at == std::string_view::npos || text.find('@', at + 1) != std::string_view::npos) {
    return InvalidArgumentError("expected NAME@DIGEST (e.g. mx-baseline@3f2a9c0d1e2f), not " +
                                quoted(text));
  }
  const std::string_view name = text.substr(0, at);
  const std::string_view version = text.substr(at + 1);
  if (!isLabelText(name)) {
    return InvalidArgumentError("baseline name " + quoted(name) +
                                " must be 1 to 63 characters of A-Z a-z 0-9 . _ -");
  }
  const bool version_ok = !version.empty() && version.size() <= 128 &&
                          std::all_of(version.begin(), version.end(), [](char c) {
                            return isLabelChar(c) || c == ':' || c == '+';
                          });
  if (!version_ok) {
    return InvalidArgumentError("baseline digest " + quoted(version) +
                                " must be a digest or label: 1 to 128 characters of A-Z a-z 0-9 "
                                ". _ - : +");
  }
  return BaselineRef{std::string(name), std::string(version)};
}

Result<FailureBudget> parseFailureBudget(std::string_view text) {
  const bool percent = !text.empty() && text.back() == '%';
  Result<int> n =
      parseCount(percent ? text.substr(0, text.size() - 1) : text, percent ? 100 : 100000);
  if (!n.ok()) {
    return InvalidArgumentError(
        "expected a number of hosts (e.g. 1) or a percentage (e.g. "
        "\"10%\"), not " +
        quoted(text));
  }
  return FailureBudget{.is_percent = percent, .value = *n};
}

int InFlightLimit::allowed(int wave_hosts) const {
  if (value == 0) return std::numeric_limits<int>::max();
  if (!is_percent) return value;
  return std::max(1, (wave_hosts * value + 99) / 100);
}

Result<InFlightLimit> parseInFlightLimit(std::string_view text) {
  Result<FailureBudget> n = parseFailureBudget(text);
  if (!n.ok() || n->value == 0) {
    return InvalidArgumentError(
        "expected a number of hosts of at least 1 (e.g. 2) or a percentage of the wave from 1% "
        "(e.g. \"25%\"), not " +
        quoted(text) + "; omit it for no limit");
  }
  return InFlightLimit{.is_percent = n->is_percent, .value = n->value};
}

Result<int> parsePercent(std::string_view text, int max) {
  const bool percent = !text.empty() && text.back() == '%';
  Result<int> n = percent ? parseCount(text.substr(0, text.size() - 1), max)
                          : Result<int>(InvalidArgumentError("no % sign"));
  if (!n.ok()) {
    return InvalidArgumentError("expected a percentage from 0% to " + std::to_string(max) +
                                "% (e.g. \"50%\"), not " + quoted(text));
  }
  return *n;
}

}  // namespace postwarden::controller::rollout
