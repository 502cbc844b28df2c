#include "agent/params/value_syntax.h"

#include <algorithm>

namespace postwarden::agent::params {
namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

bool isValidParameterName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(),
                                      [](char c) { return isNameChar(c) || c == '-' || c == '.'; });
}

std::vector<std::string_view> splitListValue(std::string_view value, std::string_view separators) {
  // Mirrors mystrtokq(3) in Postfix: separators only split at brace depth zero.
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < value.size()) {
    if (separators.find(value[i]) != std::string_view::npos) {
      ++i;
      continue;
    }
    const size_t start = i;
    int depth = 0;
    for (; i < value.size(); ++i) {
      const char c = value[i];
      if (c == '{') {
        ++depth;
      } else if (c == '}' && depth > 0) {
        --depth;
      } else if (depth == 0 && separators.find(c) != std::string_view::npos) {
        break;
      }
    }
    tokens.push_back(value.substr(start, i - start));
  }
  return tokens;
}

std::vector<std::string> parameterReferences(std::string_view value) {
  std::vector<std::string> names;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '$' || i + 1 >= value.size()) continue;
    size_t start = i + 1;
    if (value[start] == '$') {  // "$$" is a literal '$'
      ++i;
      continue;
    }
    if (value[start] == '{' || value[start] == '(') ++start;
    size_t end = start;
    while (end < value.size() && isNameChar(value[end])) ++end;
    if (end == start) continue;  // "${{expr} ...}": the inner $names are found later
    std::string name(value.substr(start, end - start));
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    i = end - 1;
  }
  return names;
}

bool hasExpansion(std::string_view value) {
  for (size_t i = 0; i + 1 < value.size(); ++i) {
    if (value[i] != '$') continue;
    const char next = value[i + 1];
    if (next == '$') {
      ++i;
      continue;
    }
    if (next == '{' || next == '(' || isNameChar(next)) return true;
  }
  return false;
}

std::string_view trimBlanks(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace postwarden::agent::params
