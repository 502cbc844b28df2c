#include "agent/postfix/internal/line_syntax.h"

#include <algorithm>

#include "common/check.h"

namespace postwarden::agent::postfix::internal {

bool hasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return isControl(c); });
}

std::string_view trimSpace(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && isPostfixSpace(s[b])) ++b;
  while (e > b && isPostfixSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

void appendLogicalText(std::string_view text, const LogicalLine& line, std::string& out) {
  for (size_t i = 0; i < line.line_count; ++i) {
    const PhysicalLine& l = line.lines[i];
    out.append(text.data() + l.begin, l.content_end - l.begin);
  }
}

NameValue splitNameValue(std::string_view logical_line) {
  // Mirrors split_nameval(): it works on a C string, so a NUL byte ends the input.
  const std::string_view s = cStringPrefix(logical_line);
  NameValue result;
  size_t p = 0;
  while (p < s.size() && isPostfixSpace(s[p])) ++p;
  if (p == s.size() || s[p] == '=') {
    result.error = "missing attribute name";
    return result;
  }
  const size_t name_begin = p;
  while (p < s.size() && !isPostfixSpace(s[p]) && s[p] != '=') ++p;
  const size_t name_end = p;
  while (p < s.size() && isPostfixSpace(s[p])) ++p;
  if (p == s.size() || s[p] != '=') {
    result.error = "missing '=' after attribute name";
    return result;
  }
  result.name = s.substr(name_begin, name_end - name_begin);
  result.value = trimSpace(s.substr(p + 1));
  return result;
}

std::vector<TokenRange> tokenizeQuoted(std::string_view s) {
  std::vector<TokenRange> tokens;
  size_t p = 0;
  while (true) {
    while (p < s.size() && isMasterBlank(s[p])) ++p;
    if (p >= s.size()) break;
    TokenRange t;
    t.begin = p;
    int level = 0;
    for (; p < s.size(); ++p) {
      const char c = s[p];
      if (c == '{') {
        ++level;
      } else if (level > 0 && c == '}') {
        --level;
      } else if (level == 0 && isMasterBlank(c)) {
        break;
      }
    }
    t.end = p;
    t.unclosed = level > 0;
    tokens.push_back(t);
  }
  return tokens;
}

BraceContent extractBraces(std::string_view token) {
  PW_CHECK(!token.empty() && token[0] == '{');
  BraceContent result;
  // balpar(): length of the balanced "{...}" prefix, 0 when it never closes.
  size_t len = 0;
  int level = 1;
  for (size_t i = 1; i < token.size(); ++i) {
    if (token[i] == '}') {
      if (--level == 0) {
        len = i + 1;
        break;
      }
    } else if (token[i] == '{') {
      ++level;
    }
  }
  std::string_view inner;
  if (len == 0) {
    result.error = "missing '}'";
    inner = token.substr(1);
  } else {
    if (len != token.size()) result.error = "syntax error after '}'";
    inner = token.substr(1, len - 2);
  }
  result.text = trimSpace(inner);
  return result;
}

std::string applyEdits(std::string_view text, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  size_t size = text.size();
  for (const Edit& e : edits) size += e.replacement.size();
  std::string out;
  out.reserve(size);
  size_t pos = 0;
  for (const Edit& e : edits) {
    PW_CHECK(e.begin >= pos && e.begin <= e.end && e.end <= text.size());
    out.append(text.data() + pos, e.begin - pos);
    out += e.replacement;
    pos = e.end;
  }
  out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace postwarden::agent::postfix::internal
