#include "controller/ctl/values.h"

#include <charconv>
#include <chrono>

#include "common/duration.h"

namespace postwarden::controller::ctl {
namespace {

bool isLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

bool isValidLabelWord(std::string_view word) {
  if (word.empty() || word.size() > 63) return false;
  for (char c : word) {
    if (!isLabelChar(c)) return false;
  }
  return true;
}

Status parseLabels(std::string_view text, std::string_view option, Labels& into) {
  const std::string opt(option);
  if (text.empty()) return InvalidArgumentError(opt + " needs k=v[,k=v...], not an empty value");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view pair = text.substr(start, comma - start);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgumentError(opt + " " + quoted(pair) + ": expected k=v");
    }
    std::string_view key = pair.substr(0, eq);
    std::string_view value = pair.substr(eq + 1);
    for (std::string_view word : {key, value}) {
      if (!isValidLabelWord(word)) {
        return InvalidArgumentError(opt + " " + quoted(pair) + ": " + quoted(word) +
                                    " must be 1 to 63 of A-Z a-z 0-9 . _ -");
      }
    }
    if (!into.emplace(std::string(key), std::string(value)).second) {
      return InvalidArgumentError(opt + ": key " + quoted(key) + " given twice");
    }
    start = comma + 1;
  }
  return OkStatus();
}

Result<int64_t> parseInteger(std::string_view text, int64_t min, int64_t max,
                             std::string_view what) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return InvalidArgumentError(std::string(what) + ": " + quoted(text) +
                                " is not a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return value;
}

Result<int64_t> parseDuration(std::string_view text, std::string_view option) {
  constexpr std::chrono::seconds kMax = std::chrono::days(366);
  Result<std::chrono::milliseconds> parsed = postwarden::parseDuration(text, kMax);
  if (!parsed.ok() || *parsed < std::chrono::seconds(1) || parsed->count() % 1000 != 0) {
    return InvalidArgumentError(std::string(option) + ": " + quoted(text) +
                                " is not a duration from 1s to 366d (e.g. 30m, 1h, 7d, or "
                                "seconds)");
  }
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed).count();
}

Result<BaselineRef> parseBaselineRef(std::string_view text) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    return InvalidArgumentError("baseline " + quoted(text) +
                                ": expected NAME@DIGEST (see 'postwardenctl baseline list')");
  }
  BaselineRef ref{std::string(text.substr(0, at)), std::string(text.substr(at + 1))};
  if (!isValidLabelWord(ref.name) || !isValidLabelWord(ref.digest)) {
    return InvalidArgumentError("baseline " + quoted(text) +
                                ": NAME and DIGEST must each be 1 to 63 of A-Z a-z 0-9 . _ -");
  }
  return ref;
}

}  // namespace postwarden::controller::ctl
