#include "agent/planner/unified_diff.h"

#include <algorithm>
#include <vector>

namespace postwarden::agent::planner {
namespace {

std::vector<std::string_view> splitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

enum class Op { kKeep, kDelete, kInsert };
struct Edit {
  Op op;
  size_t a;  // index in before (kKeep, kDelete)
  size_t b;  // index in after (kKeep, kInsert)
};

// Myers' greedy shortest edit script, keeping each round's V array to backtrack.
std::vector<Edit> shortestEditScript(const std::vector<std::string_view>& a,
                                     const std::vector<std::string_view>& b) {
  const long n = static_cast<long>(a.size());
  const long m = static_cast<long>(b.size());
  const long max = n + m;
  const long offset = max + 1;
  std::vector<long> v(2 * max + 3, 0);
  std::vector<std::vector<long>> trace;
  long found_d = -1;
  for (long d = 0; d <= max && found_d < 0; ++d) {
    trace.push_back(v);
    for (long k = -d; k <= d; k += 2) {
      long x = (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]))
                   ? v[offset + k + 1]
                   : v[offset + k - 1] + 1;
      long y = x - k;
      while (x < n && y < m && a[x] == b[y]) ++x, ++y;
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found_d = d;
        break;
      }
    }
  }
  std::vector<Edit> edits;
  long x = n, y = m;
  for (long d = found_d; d > 0; --d) {
    const std::vector<long>& pv = trace[d];
    long k = x - y;
    long prev_k = (k == -d || (k != d && pv[offset + k - 1] < pv[offset + k + 1])) ? k + 1 : k - 1;
    long prev_x = pv[offset + prev_k];
    long prev_y = prev_x - prev_k;
    while (x > prev_x && y > prev_y) {
      --x, --y;
      edits.push_back({Op::kKeep, size_t(x), size_t(y)});
    }
    if (x == prev_x) {
      --y;
      edits.push_back({Op::kInsert, size_t(x), size_t(y)});
    } else {
      --x;
      edits.push_back({Op::kDelete, size_t(x), size_t(y)});
    }
  }
  while (x > 0 && y > 0) {
    --x, --y;
    edits.push_back({Op::kKeep, size_t(x), size_t(y)});
  }
  std::reverse(edits.begin(), edits.end());
  return edits;
}

void appendLine(std::string& out, char marker, std::string_view line) {
  out += marker;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

std::string range(size_t start, size_t count) {
  // diff -u numbers an empty range by the line before it.
  size_t first = count == 0 ? start : start + 1;
  return std::to_string(first) + (count == 1 ? "" : "," + std::to_string(count));
}

}  // namespace

std::string unifiedDiff(std::string_view before, std::string_view after, std::string_view label,
                        int context) {
  if (before == after) return "";
  const std::vector<std::string_view> a = splitLines(before);
  const std::vector<std::string_view> b = splitLines(after);
  const std::vector<Edit> edits = shortestEditScript(a, b);
  const size_t ctx = static_cast<size_t>(std::max(context, 0));

  std::string out;
  out += "--- a/" + std::string(label) + "\n";
  out += "+++ b/" + std::string(label) + "\n";
  size_t i = 0;
  while (i < edits.size()) {
    // Find the next change, then grow the hunk while changes are within 2*ctx of each other.
    while (i < edits.size() && edits[i].op == Op::kKeep) ++i;
    if (i == edits.size()) break;
    size_t hunk_start = i >= ctx ? i - ctx : 0;
    size_t hunk_end = i;
    size_t keep_run = 0;
    for (size_t j = i; j < edits.size(); ++j) {
      if (edits[j].op == Op::kKeep) {
        if (++keep_run > 2 * ctx) break;
      } else {
        keep_run = 0;
        hunk_end = j;
      }
    }
    hunk_end = std::min(edits.size(), hunk_end + 1 + ctx);

    size_t a_start = 0, b_start = 0, a_count = 0, b_count = 0;
    bool have_a = false, have_b = false;
    for (size_t j = hunk_start; j < hunk_end; ++j) {
      const Edit& e = edits[j];
      if (e.op != Op::kInsert) {
        if (!have_a) a_start = e.a, have_a = true;
        ++a_count;
      }
      if (e.op != Op::kDelete) {
        if (!have_b) b_start = e.b, have_b = true;
        ++b_count;
      }
    }
    if (!have_a) a_start = edits[hunk_start].a;
    if (!have_b) b_start = edits[hunk_start].b;
    out += "@@ -" + range(a_start, a_count) + " +" + range(b_start, b_count) + " @@\n";
    for (size_t j = hunk_start; j < hunk_end; ++j) {
      const Edit& e = edits[j];
      switch (e.op) {
        case Op::kKeep:
          appendLine(out, ' ', a[e.a]);
          break;
        case Op::kDelete:
          appendLine(out, '-', a[e.a]);
          break;
        case Op::kInsert:
          appendLine(out, '+', b[e.b]);
          break;
      }
    }
    i = hunk_end;
  }
  return out;
}

std::string colorizeDiff(std::string_view diff) {
  std::string out;
  for (std::string_view line : splitLines(diff)) {
    std::string_view color;
    if (line.starts_with("+++") || line.starts_with("---"))
      color = "\033[1m";
    else if (line.starts_with("@@"))
      color = "\033[36m";
    else if (line.starts_with("+"))
      color = "\033[32m";
    else if (line.starts_with("-"))
      color = "\033[31m";
    if (color.empty()) {
      out += line;
      continue;
    }
    bool has_newline = !line.empty() && line.back() == '\n';
    out += color;
    out += has_newline ? line.substr(0, line.size() - 1) : line;
    out += "\033[0m";
    if (has_newline) out += '\n';
  }
  return out;
}

}  // namespace postwarden::agent::planner
