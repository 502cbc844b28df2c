#include "agent/postfix/main_cf_document.h"

#include <algorithm>
#include <bit>
#include <functional>
#include <utility>

#include "agent/postfix/internal/line_syntax.h"
#include "common/check.h"

namespace postwarden::agent::postfix {
namespace {

using internal::LogicalLine;

size_t hashName(std::string_view name) { return std::hash<std::string_view>{}(name); }

}  // namespace

MainCfDocument MainCfDocument::parse(std::string_view text) {
  MainCfDocument doc;
  doc.text_.assign(text.data(), text.size());
  const std::string_view t(doc.text_);
  std::string scratch;  // reused for the logical text of multi-line definitions
  // One definition per line at most: reserving avoids regrowing a large vector.
  doc.entries_.reserve(static_cast<size_t>(std::count(t.begin(), t.end(), '\n')) + 1);
  const internal::LineStats stats = internal::forEachLogicalLine(t, [&](const LogicalLine& l) {
    if (l.orphan) {
      // readlline(): "logical line must not start with whitespace"; Postfix skips it.
      doc.problems_.push_back(
          {l.first().number, "indented text with no parameter before it (Postfix ignores it)"});
      return;
    }
    Entry e;
    e.span_begin = l.first().begin;
    e.span_end = l.last().end;
    e.ending_size = static_cast<uint8_t>(internal::lineEnding(t, l.last()).size());
    e.first_line = l.first().number;
    e.last_line = l.last().number;
    if (l.line_count == 1) {
      // The common case: name and value are views of the one physical line.
      const std::string_view line = t.substr(e.span_begin, l.first().content_end - e.span_begin);
      const internal::NameValue nv = internal::splitNameValue(line);
      if (!nv.error.empty()) {
        doc.problems_.push_back({e.first_line, std::string(nv.error) + " (Postfix refuses it)"});
        return;
      }
      // A start line begins with a non-space byte, so the name starts the line.
      PW_CHECK(nv.name.data() == line.data());
      e.name_size = nv.name.size();
      e.value_begin = static_cast<size_t>(nv.value.data() - t.data());
      e.value_size = nv.value.size();
    } else {
      // readlline() joins continuation lines by dropping only the newlines, so a
      // continuation line's leading whitespace becomes part of the value.
      scratch.clear();
      internal::appendLogicalText(t, l, scratch);
      const internal::NameValue nv = internal::splitNameValue(scratch);
      if (!nv.error.empty()) {
        doc.problems_.push_back({e.first_line, std::string(nv.error) + " (Postfix refuses it)"});
        return;
      }
      // The name starts the first physical line and ends at whitespace or '='; every
      // continuation line starts with whitespace, so the name lies inside the first line
      // and can be kept as an offset into text_.
      PW_CHECK(nv.name.data() == scratch.data() &&
               nv.name.size() <= l.first().content_end - l.first().begin);
      e.name_size = nv.name.size();
      e.value_in_arena = true;
      e.value_begin = doc.arena_.size();
      e.value_size = nv.value.size();
      doc.arena_.append(nv.value);
    }
    doc.entries_.push_back(e);
  });
  doc.crlf_endings_ = stats.crlf_endings;
  doc.lf_endings_ = stats.lf_endings;
  doc.buildIndex();
  return doc;
}

void MainCfDocument::buildIndex() {
  slots_.clear();
  if (entries_.empty()) return;
  const size_t capacity = std::bit_ceil(entries_.size() * 2);
  slots_.assign(capacity, -1);
  const size_t mask = capacity - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const std::string_view name = nameOf(entries_[i]);
    size_t s = hashName(name) & mask;
    while (slots_[s] != -1 && nameOf(entries_[slots_[s]]) != name) s = (s + 1) & mask;
    entries_[i].previous_same_name = slots_[s];  // -1 for the first definition
    slots_[s] = static_cast<int>(i);
  }
}

int MainCfDocument::findLast(std::string_view name) const {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  for (size_t s = hashName(name) & mask; slots_[s] != -1; s = (s + 1) & mask) {
    if (nameOf(entries_[slots_[s]]) == name) return slots_[s];
  }
  return -1;
}

std::string_view MainCfDocument::endingOf(const Entry& e) const {
  return std::string_view(text_).substr(e.span_end - e.ending_size, e.ending_size);
}

std::optional<std::string> MainCfDocument::get(std::string_view name) const {
  const int i = findLast(name);
  if (i < 0) return std::nullopt;
  return std::string(valueOf(entries_[i]));
}

std::vector<MainCfDefinition> MainCfDocument::definitions() const {
  std::vector<MainCfDefinition> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    out.push_back({std::string(nameOf(e)), std::string(valueOf(e)), e.first_line, e.last_line});
  }
  return out;
}

std::vector<std::string> MainCfDocument::duplicateNames() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (e.previous_same_name == -1 && findLast(nameOf(e)) != static_cast<int>(i)) {
      out.emplace_back(nameOf(e));
    }
  }
  return out;
}

bool MainCfDocument::isSettableName(std::string_view name) {
  if (name.empty() || name[0] == '#') return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return internal::isControl(c) || internal::isPostfixSpace(c) || c == '=';
  });
}

bool MainCfDocument::isSettableValue(std::string_view value) {
  return !internal::hasControl(value);
}

SetResult MainCfDocument::set(std::string_view name, std::string_view value) {
  PW_CHECK(isSettableName(name));
  PW_CHECK(isSettableValue(value));
  value = internal::trimSpace(value);
  SetResult result;
  const int last = findLast(name);
  if (last >= 0 && valueOf(entries_[last]) == value) return result;

  std::string line;
  line.reserve(name.size() + value.size() + 5);
  line.append(name);
  line.append(value.empty() ? " =" : " = ");
  line.append(value);

  std::vector<internal::Edit> edits;
  if (last >= 0) {
    const Entry& effective = entries_[last];
    for (int i = effective.previous_same_name; i >= 0; i = entries_[i].previous_same_name) {
      const Entry& dup = entries_[i];
      edits.push_back({dup.span_begin, dup.span_end, {}});
      for (int n = dup.first_line; n <= dup.last_line; ++n) {
        result.removed_duplicate_lines.push_back(n);
      }
    }
    line.append(endingOf(effective));
    edits.push_back({effective.span_begin, effective.span_end, std::move(line)});
    std::sort(result.removed_duplicate_lines.begin(), result.removed_duplicate_lines.end());
  } else {
    const std::string_view newline = internal::preferredNewline({0, crlf_endings_, lf_endings_});
    std::string appended;
    if (!text_.empty() && text_.back() != '\n') {
      // Terminate the last line first; a CRLF file whose last line already ends in '\r'
      // only lacks the '\n'.
      appended.append(newline.size() == 2 && text_.back() == '\r' ? "\n" : newline);
    }
    appended.append(line);
    appended.append(newline);
    edits.push_back({text_.size(), text_.size(), std::move(appended)});
  }
  *this = parse(internal::applyEdits(text_, std::move(edits)));
  result.changed = true;
  return result;
}

std::vector<int> MainCfDocument::removeEarlierDefinitions(std::string_view name) {
  std::vector<int> removed;
  const int last = findLast(name);
  if (last < 0 || entries_[last].previous_same_name < 0) return removed;
  std::vector<internal::Edit> edits;
  for (int i = entries_[last].previous_same_name; i >= 0; i = entries_[i].previous_same_name) {
    const Entry& dup = entries_[i];
    edits.push_back({dup.span_begin, dup.span_end, {}});
    for (int n = dup.first_line; n <= dup.last_line; ++n) removed.push_back(n);
  }
  std::sort(removed.begin(), removed.end());
  *this = parse(internal::applyEdits(text_, std::move(edits)));
  return removed;
}

bool MainCfDocument::remove(std::string_view name) {
  int i = findLast(name);
  if (i < 0) return false;
  std::vector<internal::Edit> edits;
  for (; i >= 0; i = entries_[i].previous_same_name) {
    edits.push_back({entries_[i].span_begin, entries_[i].span_end, {}});
  }
  *this = parse(internal::applyEdits(text_, std::move(edits)));
  return true;
}

}  // namespace postwarden::agent::postfix
