// "Did you mean ...?" for misspelt names: an edit distance and a closest-candidate search, for
// Postfix parameter names, option tokens, YAML keys, commands and options. Pure functions over
// strings; ASCII letters compare case-insensitively. Thread-safe.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postwarden {

// Optimal-string-alignment distance between `a` and `b`: insertions, deletions,
// substitutions and swaps of two adjacent characters each cost 1. ASCII letters are compared
// case-insensitively, so editDistance("SMTPD", "smtpd") == 0.
int editDistance(std::string_view a, std::string_view b);

// The largest distance at which `candidate` still looks like a typo of `word`: 1 for words of
// up to 4 characters, 2 up to 12, 3 beyond. Small on purpose: a wrong suggestion is worse
// than none.
int typoThreshold(std::string_view word);

// The candidate nearest to `word` within typoThreshold(word), or nullopt. Ties go to the
// candidate listed first. The result views an element of `candidates`.
std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates);

// " (did you mean 'X'?)" with X = closestMatch(word, candidates), or "" when there is none.
std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates);
std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace postwarden
