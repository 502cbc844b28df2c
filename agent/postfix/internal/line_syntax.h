// Postfix's configuration-file line syntax, shared by the main.cf and master.cf documents:
// logical lines (util/readlline.c), "name = value" splitting (util/split_nameval.c), the
// brace-aware tokenizer (util/mystrtok.c mystrtokq) and brace extraction (util/extpar.c).
// Everything here is a pure function over bytes; nothing allocates per physical line.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace postwarden::agent::postfix::internal {

// Postfix's ISSPACE(): isascii(c) && isspace(c) in the C locale. Note that '\r', '\v' and
// '\f' count as whitespace: a line starting with any of them is a continuation line.
constexpr bool isPostfixSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The master.cf field delimiters (" \t\r\n", PCF_MASTER_BLANKS / master_blanks).
constexpr bool isMasterBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// True for bytes below 0x20 and for 0x7f.
constexpr bool isControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

bool hasControl(std::string_view s);

// Strips Postfix whitespace from both ends.
std::string_view trimSpace(std::string_view s);

// Postfix parses names and values as C strings: text after a NUL byte is invisible to it.
inline std::string_view cStringPrefix(std::string_view s) {
  const void* nul = std::memchr(s.data(), '\0', s.size());
  return nul == nullptr ? s : s.substr(0, static_cast<const char*>(nul) - s.data());
}

// One physical line that belongs to a logical line. [begin, content_end) is its text without
// the '\n' (a CRLF line keeps its '\r': Postfix reads it as whitespace); `end` is just past
// the '\n', or equals content_end for a last line without a newline.
struct PhysicalLine {
  size_t begin = 0;
  size_t content_end = 0;
  size_t end = 0;
  int number = 0;  // 1-based
};

// A logical line: a start line plus its continuation lines, in order. Comment and blank
// lines between them are not listed (readlline() drops them without ending the logical
// line). `orphan` marks continuation lines with no start line before them (only possible at
// the top of a file): Postfix warns "logical line must not start with whitespace" and
// ignores them.
struct LogicalLine {
  const PhysicalLine* lines = nullptr;
  size_t line_count = 0;
  bool orphan = false;

  const PhysicalLine& first() const { return lines[0]; }
  const PhysicalLine& last() const { return lines[line_count - 1]; }
};

// Newline statistics gathered while scanning, used to pick the file's newline style.
struct LineStats {
  int physical_lines = 0;
  int crlf_endings = 0;
  int lf_endings = 0;
};

// "\r\n" when most terminated lines end in CRLF, else "\n".
inline std::string_view preferredNewline(const LineStats& stats) {
  return stats.crlf_endings > stats.lf_endings ? std::string_view("\r\n") : std::string_view("\n");
}

// The terminator of `line` as written: "\r\n", "\n" or "" (last line without newline).
inline std::string_view lineEnding(std::string_view text, const PhysicalLine& line) {
  if (line.end == line.content_end) return {};
  if (line.content_end > line.begin && text[line.content_end - 1] == '\r') {
    return text.substr(line.content_end - 1, 2);
  }
  return text.substr(line.content_end, 1);
}

// Splits `text` into logical lines exactly as readlline() does and calls
// visit(const LogicalLine&) for each, in file order. The LogicalLine is only valid during
// the call. Returns newline statistics for the whole text.
template <typename Visit>
LineStats forEachLogicalLine(std::string_view text, Visit&& visit) {
  LineStats stats;
  std::vector<PhysicalLine> group;
  bool group_orphan = false;
  auto flush = [&] {
    if (!group.empty()) {
      visit(LogicalLine{group.data(), group.size(), group_orphan});
      group.clear();
    }
  };
  const char* data = text.data();
  const size_t size = text.size();
  size_t pos = 0;
  while (pos < size) {
    PhysicalLine line;
    line.begin = pos;
    line.number = ++stats.physical_lines;
    const void* nl = std::memchr(data + pos, '\n', size - pos);
    if (nl == nullptr) {
      line.content_end = line.end = size;
    } else {
      line.content_end = static_cast<size_t>(static_cast<const char*>(nl) - data);
      line.end = line.content_end + 1;
      if (line.content_end > line.begin && data[line.content_end - 1] == '\r') {
        ++stats.crlf_endings;
      } else {
        ++stats.lf_endings;
      }
    }
    pos = line.end;
    if (line.content_end == line.begin) continue;  // empty line
    const char first = data[line.begin];
    if (first == '#') continue;  // comment line
    if (!isPostfixSpace(first)) {
      flush();
      group_orphan = false;
      group.push_back(line);
      continue;
    }
    size_t p = line.begin + 1;
    while (p < line.content_end && isPostfixSpace(data[p])) ++p;
    if (p == line.content_end || data[p] == '#') continue;  // blank or indented comment
    if (group.empty()) group_orphan = true;
    group.push_back(line);
  }
  flush();
  return stats;
}

// Appends the logical text of `line` (its physical lines concatenated without the
// newlines, which is what readlline() hands to its callers) to `out`.
void appendLogicalText(std::string_view text, const LogicalLine& line, std::string& out);

// split_nameval(): "name = value" with any whitespace around '='; the name ends at
// whitespace or '='; the value has leading and trailing whitespace removed. `error` is empty
// on success, else Postfix's message.
struct NameValue {
  std::string_view name;
  std::string_view value;
  std::string_view error;
};
NameValue splitNameValue(std::string_view logical_line);

// mystrtokq(): splits on master.cf blanks, but never inside balanced "{...}". Returns
// [begin, end) offsets of each token in `s`.
struct TokenRange {
  size_t begin = 0;
  size_t end = 0;
  bool unclosed = false;  // a '{' in it never closes, so it runs to the end of `s`
};
std::vector<TokenRange> tokenizeQuoted(std::string_view s);

// extpar(EXTPAR_FLAG_STRIP) on a token that starts with '{': the text inside the braces
// with surrounding whitespace removed. On "missing '}'" or "syntax error after '}'" the
// error is set and the text is what Postfix would go on to use anyway.
struct BraceContent {
  std::string_view text;
  std::string_view error;
};
BraceContent extractBraces(std::string_view token);

// One replacement of text[begin, end). Edits passed to applyEdits must not overlap.
struct Edit {
  size_t begin = 0;
  size_t end = 0;
  std::string replacement;
};
std::string applyEdits(std::string_view text, std::vector<Edit> edits);

}  // namespace postwarden::agent::postfix::internal
