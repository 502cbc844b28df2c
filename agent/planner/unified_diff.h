// Line-based unified diff (like `diff -u`) of two texts, for showing plans to operators.
// Pure. Lines keep their terminators, so a CRLF or missing-final-newline change is visible.
#pragma once

#include <string>
#include <string_view>

namespace postwarden::agent::planner {

// Returns "" when the texts are equal, else a unified diff with `context` lines around each
// change and "--- a/<label>" / "+++ b/<label>" headers. Uses Myers' O((N+M)D) algorithm,
// so a few edits in a 10,000-line file stay cheap.
std::string unifiedDiff(std::string_view before, std::string_view after, std::string_view label,
                        int context = 3);

// Adds ANSI colors to a unified diff (red removals, green additions, cyan hunk headers).
std::string colorizeDiff(std::string_view diff);

}  // namespace postwarden::agent::planner
