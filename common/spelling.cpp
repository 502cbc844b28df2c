#include "common/spelling.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace postwarden {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

int editDistance(std::string_view a, std::string_view b) {
  // Three rolling rows of the classic dynamic programme; the strings involved are short
  // (parameter names, YAML keys), so this is cheap even across the whole catalog.
  const size_t n = b.size();
  std::vector<int> two_back(n + 1), prev(n + 1), cur(n + 1);
  for (size_t j = 0; j <= n; ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    for (size_t j = 1; j <= n; ++j) {
      const int cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        cur[j] = std::min(cur[j], two_back[j - 2] + 1);
      }
    }
    std::swap(two_back, prev);
    std::swap(prev, cur);
  }
  return prev[n];
}

int typoThreshold(std::string_view word) {
  if (word.size() <= 4) return 1;
  if (word.size() <= 12) return 2;
  return 3;
}

std::optional<std::string_view> closestMatch(std::string_view word,
                                             std::span<const std::string_view> candidates) {
  const int threshold = typoThreshold(word);
  std::optional<std::string_view> best;
  int best_distance = threshold + 1;
  for (std::string_view candidate : candidates) {
    const auto length_gap =
        std::abs(static_cast<long>(candidate.size()) - static_cast<long>(word.size()));
    if (length_gap >= best_distance) continue;  // cannot beat the current best
    const int d = editDistance(word, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string didYouMean(std::string_view word, std::span<const std::string_view> candidates) {
  std::optional<std::string_view> close = closestMatch(word, candidates);
  return close ? " (did you mean '" + std::string(*close) + "'?)" : "";
}

std::string didYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return didYouMean(word, std::span<const std::string_view>(views));
}

}  // namespace postwarden
