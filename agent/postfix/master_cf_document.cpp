// Over 400 lines on purpose: the lossless tokenizer, the -o reader and the editors share one
// token model that splitting the file would have to expose.
#include "agent/postfix/master_cf_document.h"

#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "agent/postfix/internal/line_syntax.h"
#include "common/check.h"

namespace postwarden::agent::postfix {
namespace {

using internal::isMasterBlank;
using internal::isPostfixSpace;

constexpr size_t kRequiredFields = 8;  // service type private unpriv chroot wakeup maxproc command

// master(5) service types (postconf_master.c pcf_valid_master_types; unix-dgram since 3.4).
constexpr std::array<std::string_view, 5> kServiceTypes = {"inet", "unix", "unix-dgram", "fifo",
                                                           "pass"};

bool isKnownType(std::string_view type) {
  return std::find(kServiceTypes.begin(), kServiceTypes.end(), type) != kServiceTypes.end();
}

bool allDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Quoted input for a message: at most 40 bytes, control bytes shown as '?'.
std::string excerpt(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 40)) out.push_back(internal::isControl(c) ? '?' : c);
  return out + (s.size() > 40 ? "...'" : "'");
}

// The per-field checks of postconf_master.c pcf_check_master_entry(); Postfix refuses the
// file when one fails.
std::string fieldProblem(const MasterService& s) {
  if (!isKnownType(s.key.type)) return "invalid type field " + excerpt(s.key.type);
  const std::pair<const char*, const std::string*> flags[] = {
      {"private", &s.private_flag}, {"unprivileged", &s.unprivileged}, {"chroot", &s.chroot}};
  for (const auto& [field, value] : flags) {
    if (value->size() != 1 || std::string_view("yn-").find((*value)[0]) == std::string::npos) {
      return std::string("invalid ") + field + " field " + excerpt(*value);
    }
  }
  std::string_view wakeup = s.wakeup;
  if (!wakeup.empty() && wakeup.back() == '?') wakeup.remove_suffix(1);
  if (s.wakeup != "-" && !allDigits(wakeup)) return "invalid wakeup field " + excerpt(s.wakeup);
  if (s.max_process != "-" && !allDigits(s.max_process)) {
    return "invalid maxproc field " + excerpt(s.max_process);
  }
  return {};
}

// A parameter name we are willing to write after "-o".
bool isPlainParameter(std::string_view name) {
  if (name.empty()) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return internal::isControl(c) || isPostfixSpace(c) || c == '=' || c == '{' || c == '}';
  });
}

// The option text after "-o": the short form when the value allows it, else the long
// form of master(5) (Postfix 3.0+), which keeps inner whitespace.
std::string optionText(std::string_view name, std::string_view value, bool force_braces) {
  const bool short_ok = !force_braces && std::none_of(value.begin(), value.end(), [](char c) {
    return isPostfixSpace(c) || c == '{' || c == '}';
  });
  std::string out;
  if (short_ok) {
    out.append(name).append("=").append(value);
  } else {
    out.append("{ ").append(name).append(" = ").append(value).append(" }");
  }
  return out;
}

// The options of `s` other than `parameter`, for verifying that an edit left them alone.
std::vector<std::pair<std::string, std::string>> otherOptions(const MasterService& s,
                                                              std::string_view parameter) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& o : s.options) {
    if (o.first != parameter) out.push_back(o);
  }
  return out;
}

size_t lineStartOf(std::string_view text, size_t offset) {
  while (offset > 0 && text[offset - 1] != '\n') --offset;
  return offset;
}

size_t contentEndOf(std::string_view text, size_t offset) {
  const size_t nl = text.find('\n', offset);
  return nl == std::string_view::npos ? text.size() : nl;
}

bool allSpace(std::string_view s) { return std::all_of(s.begin(), s.end(), isPostfixSpace); }

}  // namespace

std::string MasterService::port() const {
  if (key.type != "inet") return {};
  const size_t colon = key.name.rfind(':');
  return colon == std::string::npos ? key.name : key.name.substr(colon + 1);
}

MasterCfDocument MasterCfDocument::parse(std::string_view text) {
  MasterCfDocument doc;
  doc.text_.assign(text.data(), text.size());
  const std::string_view t(doc.text_);
  std::string logical;
  std::vector<size_t> logical_starts;  // logical offset where each physical line begins
  const internal::LineStats stats = internal::forEachLogicalLine(t, [&](const auto& l) {
    if (l.orphan) {
      doc.problems_.push_back(
          {l.first().number, "indented text with no service before it (Postfix ignores it)"});
      return;
    }
    logical.clear();
    logical_starts.clear();
    for (size_t i = 0; i < l.line_count; ++i) {
      logical_starts.push_back(logical.size());
      logical.append(t.substr(l.lines[i].begin, l.lines[i].content_end - l.lines[i].begin));
    }
    // Maps a logical offset (of a byte, not one past) to its offset in text_.
    auto segment = [&](size_t p) {
      return static_cast<size_t>(std::upper_bound(logical_starts.begin(), logical_starts.end(), p) -
                                 logical_starts.begin() - 1);
    };
    auto physical = [&](size_t p) {
      const size_t i = segment(p);
      return l.lines[i].begin + (p - logical_starts[i]);
    };
    // argv_splitq() works on a C string: Postfix never sees bytes after a NUL.
    const std::string_view visible = internal::cStringPrefix(logical);
    const std::vector<internal::TokenRange> ranges = internal::tokenizeQuoted(visible);
    if (ranges.size() < kRequiredFields) {
      doc.problems_.push_back(
          {l.first().number, "bad field count: " + std::to_string(ranges.size()) +
                                 " of 8 (Postfix refuses the file)"});
      return;
    }
    Entry e;
    if (visible.size() != logical.size()) {
      e.nul_byte = true;
      doc.problems_.push_back({l.lines[segment(visible.size())].number,
                               "NUL byte: Postfix ignores the rest of this entry"});
    }
    if (ranges.back().unclosed) {
      // mystrtokq() lets an unclosed '{' run to the end of the entry.
      e.unclosed_brace = true;
      doc.problems_.push_back({l.last().number, "a '{' in this service entry never closes"});
    }
    e.span_begin = l.first().begin;
    e.last_line_begin = l.last().begin;
    e.last_content_end = l.last().content_end;
    e.span_end = l.last().end;
    e.tokens.reserve(ranges.size());
    for (const internal::TokenRange& r : ranges) {
      e.tokens.push_back({logical.substr(r.begin, r.end - r.begin), physical(r.begin),
                          physical(r.end - 1) + 1, l.lines[segment(r.begin)].number});
    }
    MasterService& s = e.service;
    s.key = {e.tokens[0].text, e.tokens[1].text};
    s.private_flag = e.tokens[2].text;
    s.unprivileged = e.tokens[3].text;
    s.chroot = e.tokens[4].text;
    s.wakeup = e.tokens[5].text;
    s.max_process = e.tokens[6].text;
    s.command = e.tokens[7].text;
    s.first_line = l.first().number;
    s.last_line = l.last().number;
    for (size_t i = kRequiredFields; i < e.tokens.size(); ++i) s.args.push_back(e.tokens[i].text);
    if (std::string p = fieldProblem(s); !p.empty()) {
      doc.problems_.push_back({s.first_line, p + " (Postfix refuses the file)"});
    }

    // Daemon options, as getopt() in the daemon sees them: a token "-xyz" is a cluster
    // of flags; 'o' takes the rest of the token, or else the next token, as its value;
    // the first non-option token or "--" ends the options. (postconf(1) 3.7 -M/-P splits
    // "-oname=value" at any later 'o' in the name; the daemons do not, and nor do we.)
    size_t i = kRequiredFields;
    while (i < e.tokens.size()) {
      const std::string& tok = e.tokens[i].text;
      if (tok.size() < 2 || tok[0] != '-') break;
      if (tok == "--") break;
      const size_t o = tok.find('o', 1);
      if (o == std::string::npos) {
        ++i;
        continue;
      }
      OptionRef ref;
      ref.flag_token = i;
      ref.flag_pos = o;
      std::string_view raw;
      if (o + 1 < tok.size()) {
        ref.attached = true;
        ref.value_token = i;
        raw = std::string_view(tok).substr(o + 1);
        i += 1;
      } else if (i + 1 < e.tokens.size()) {
        ref.value_token = i + 1;
        raw = e.tokens[i + 1].text;
        i += 2;
      } else {
        e.dangling_option = true;
        doc.problems_.push_back({e.tokens[i].line, "'-o' without a value"});
        i += 1;
        break;
      }
      std::string_view setting = raw;
      if (!raw.empty() && raw[0] == '{') {
        ref.braced = true;
        const internal::BraceContent inner = internal::extractBraces(raw);
        if (!inner.error.empty() && !e.unclosed_brace) {  // else reported once above
          doc.problems_.push_back({e.tokens[ref.value_token].line,
                                   "-o " + excerpt(raw) + ": " + std::string(inner.error)});
        }
        setting = inner.text;
      }
      const internal::NameValue nv = internal::splitNameValue(setting);
      if (!nv.error.empty()) {
        doc.problems_.push_back(
            {e.tokens[ref.value_token].line,
             "-o " + excerpt(raw) + ": " + std::string(nv.error) + " (the daemon refuses it)"});
        continue;
      }
      s.options.emplace_back(std::string(nv.name), std::string(nv.value));
      s.option_lines.push_back(e.tokens[ref.flag_token].line);
      e.option_refs.push_back(ref);
    }
    e.first_nonoption = i;
    for (; i < e.tokens.size(); ++i) {
      const std::string& tok = e.tokens[i].text;
      if (tok[0] != '{') continue;
      if (std::string_view err = internal::extractBraces(tok).error;
          !err.empty() && !(e.unclosed_brace && i + 1 == e.tokens.size())) {
        doc.problems_.push_back(
            {e.tokens[i].line, "argument " + excerpt(tok) + ": " + std::string(err)});
      }
    }
    doc.entries_.push_back(std::move(e));
  });
  doc.crlf_endings_ = stats.crlf_endings;
  doc.lf_endings_ = stats.lf_endings;

  std::map<ServiceKey, int> seen;
  for (const Entry& e : doc.entries_) {
    if (seen[e.service.key]++ > 0) {
      doc.problems_.push_back({e.service.first_line, "duplicate entry for service " +
                                                         excerpt(e.service.key.toString()) +
                                                         " (Postfix uses the last one)"});
    }
  }
  std::stable_sort(
      doc.problems_.begin(), doc.problems_.end(),
      [](const DocumentProblem& a, const DocumentProblem& b) { return a.line < b.line; });
  return doc;
}

std::vector<MasterService> MasterCfDocument::services() const {
  std::vector<MasterService> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.service);
  return out;
}

int MasterCfDocument::findIndex(const ServiceKey& key) const {
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].service.key == key) return static_cast<int>(i);
  }
  return -1;
}

std::optional<MasterService> MasterCfDocument::find(const ServiceKey& key) const {
  const int i = findIndex(key);
  if (i < 0) return std::nullopt;
  return entries_[i].service;
}

std::optional<std::string> MasterCfDocument::option(const ServiceKey& key,
                                                    std::string_view parameter) const {
  const int i = findIndex(key);
  if (i < 0) return std::nullopt;
  const auto& options = entries_[i].service.options;
  for (auto it = options.rbegin(); it != options.rend(); ++it) {
    if (it->first == parameter) return it->second;
  }
  return std::nullopt;
}

std::vector<DuplicateOption> MasterCfDocument::duplicateOptions() const {
  std::vector<DuplicateOption> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const MasterService& s = entries_[i].service;
    if (findIndex(s.key) != static_cast<int>(i)) continue;  // master(8) uses the last entry
    std::vector<std::string> order;
    std::map<std::string, DuplicateOption> by_name;
    for (size_t k = 0; k < s.options.size(); ++k) {
      auto [it, fresh] = by_name.try_emplace(s.options[k].first);
      if (fresh) {
        order.push_back(s.options[k].first);
        it->second.service = s.key;
        it->second.parameter = s.options[k].first;
      }
      it->second.lines.push_back(s.option_lines[k]);
      it->second.effective = s.options[k].second;
    }
    for (const std::string& name : order) {
      if (by_name[name].lines.size() > 1) out.push_back(std::move(by_name[name]));
    }
  }
  return out;
}

int MasterCfDocument::optionLine(const ServiceKey& key, std::string_view parameter) const {
  const int i = findIndex(key);
  if (i < 0) return 0;
  const MasterService& s = entries_[i].service;
  for (size_t k = s.options.size(); k-- > 0;) {
    if (s.options[k].first == parameter) return s.option_lines[k];
  }
  return 0;
}

std::string_view MasterCfDocument::newline() const {
  return internal::preferredNewline({0, crlf_endings_, lf_endings_});
}

std::string MasterCfDocument::lineStartIndent(size_t offset) const {
  const size_t start = lineStartOf(text_, offset);
  size_t p = start;
  while (p < text_.size() && (text_[p] == ' ' || text_[p] == '\t')) ++p;
  return text_.substr(start, p - start);
}

Result<MasterCfDocument> MasterCfDocument::withOptionRemoved(size_t entry, size_t option) const {
  const Entry& e = entries_[entry];
  const OptionRef& ref = e.option_refs[option];
  const Token& flag = e.tokens[ref.flag_token];
  const Token& value = e.tokens[ref.value_token];
  std::vector<internal::Edit> edits;
  if (ref.flag_pos > 1) {
    // "-vo name=value" or "-voname=value": keep the other flags ("-v").
    edits.push_back({flag.begin, value.end, flag.text.substr(0, ref.flag_pos)});
  } else {
    size_t begin = flag.begin;
    size_t end = value.end;
    const size_t line_start = lineStartOf(text_, begin);
    const size_t content_end = contentEndOf(text_, end);
    const bool alone_before =
        allSpace(std::string_view(text_).substr(line_start, begin - line_start));
    const bool alone_after = allSpace(std::string_view(text_).substr(end, content_end - end));
    if (alone_before && alone_after) {
      // The option fills its continuation line(s): drop the whole lines.
      begin = line_start;
      end = content_end < text_.size() ? content_end + 1 : content_end;
      if (end == text_.size() && content_end == text_.size() && begin > 0) {
        // No newline after it: keep the file without a final newline.
        begin -= 1;
        if (begin > 0 && text_[begin - 1] == '\r') begin -= 1;
      }
    } else if (!alone_before) {
      // Something precedes it on its line: drop it with the blanks before it.
      while (begin > line_start && isMasterBlank(text_[begin - 1])) --begin;
    } else {
      // It starts its line and more follows: drop it with the blanks after it, so the
      // next token moves to its place.
      while (end < content_end && (text_[end] == ' ' || text_[end] == '\t')) ++end;
    }
    edits.push_back({begin, end, {}});
  }
  return parse(internal::applyEdits(text_, std::move(edits)));
}

Result<MasterCfDocument> MasterCfDocument::withOptionValue(size_t entry, size_t option,
                                                           std::string_view name,
                                                           std::string_view value) const {
  const Entry& e = entries_[entry];
  const OptionRef& ref = e.option_refs[option];
  std::vector<internal::Edit> edits;
  if (ref.attached) {
    // "-oname=value": keep the attached form when it needs no braces; braces go in a
    // token of their own, which is what the daemons expect ("-o { name = value }").
    const Token& flag = e.tokens[ref.flag_token];
    std::string text = flag.text.substr(0, ref.flag_pos + 1);
    const std::string short_form = optionText(name, value, false);
    if (short_form[0] == '{') text.append(" ");
    text.append(short_form);
    edits.push_back({flag.begin, flag.end, std::move(text)});
  } else {
    const Token& tok = e.tokens[ref.value_token];
    edits.push_back({tok.begin, tok.end, optionText(name, value, ref.braced)});
  }
  return parse(internal::applyEdits(text_, std::move(edits)));
}

Result<MasterCfDocument> MasterCfDocument::withOptionAdded(size_t entry, std::string_view name,
                                                           std::string_view value) const {
  const Entry& e = entries_[entry];
  const std::string option = "-o " + optionText(name, value, false);
  std::vector<internal::Edit> edits;
  if (e.first_nonoption < e.tokens.size()) {
    // Non-option arguments follow (pipe's "flags=... argv=..."): an option after them
    // would be an argument, so insert it before the first of them.
    const Token& tok = e.tokens[e.first_nonoption];
    const size_t line_start = lineStartOf(text_, tok.begin);
    const std::string_view indent =
        std::string_view(text_).substr(line_start, tok.begin - line_start);
    const std::string_view ending =
        line_start >= 2 && text_[line_start - 2] == '\r' ? "\r\n" : "\n";
    if (!indent.empty() && allSpace(indent)) {
      // The argument starts a continuation line: put the option on a line of its own.
      edits.push_back({line_start, line_start, std::string(indent) + option + std::string(ending)});
    } else if (indent.empty()) {
      // The argument starts its line, which begins with '\v' or '\f': whitespace to
      // readlline() but not a field separator. The trailing blank keeps the option apart
      // from it once the lines are joined.
      edits.push_back({line_start, line_start, "  " + option + " " + std::string(ending)});
    } else {
      edits.push_back({tok.begin, tok.begin, option + " "});
    }
  } else {
    // A new continuation line after the entry's last line, indented like the entry's
    // last -o line that starts its own line.
    std::string indent = "  ";
    for (auto it = e.option_refs.rbegin(); it != e.option_refs.rend(); ++it) {
      const size_t begin = e.tokens[it->flag_token].begin;
      const size_t line_start = lineStartOf(text_, begin);
      if (line_start != e.span_begin &&
          allSpace(std::string_view(text_).substr(line_start, begin - line_start))) {
        indent = lineStartIndent(begin);
        if (indent.empty()) indent = "  ";
        break;
      }
    }
    internal::PhysicalLine last{e.last_line_begin, e.last_content_end, e.span_end, 0};
    std::string_view ending = internal::lineEnding(text_, last);
    std::string inserted;
    if (ending.empty()) {
      ending = newline();
      inserted.append(ending.size() == 2 && e.last_content_end > e.last_line_begin &&
                              text_[e.last_content_end - 1] == '\r'
                          ? std::string_view("\n")
                          : ending);
    }
    inserted.append(indent).append(option).append(ending);
    edits.push_back({e.span_end, e.span_end, std::move(inserted)});
  }
  return parse(internal::applyEdits(text_, std::move(edits)));
}

Status MasterCfDocument::checkEditable(const Entry& e) {
  // In both cases Postfix would not see what we add to the entry.
  if (e.unclosed_brace) {
    return FailedPreconditionError("master.cf service " + excerpt(e.service.key.toString()) +
                                   " has a '{' that never closes; fix it by hand first");
  }
  if (e.nul_byte) {
    return FailedPreconditionError("master.cf service " + excerpt(e.service.key.toString()) +
                                   " contains a NUL byte; fix it by hand first");
  }
  return OkStatus();
}

Result<bool> MasterCfDocument::setOption(const ServiceKey& key, std::string_view parameter,
                                         std::string_view value) {
  if (!isPlainParameter(parameter)) {
    return InvalidArgumentError("master.cf -o: invalid parameter name '" + std::string(parameter) +
                                "'");
  }
  if (internal::hasControl(value)) {
    return InvalidArgumentError("master.cf -o " + std::string(parameter) +
                                ": value contains control characters");
  }
  value = internal::trimSpace(value);
  const int index = findIndex(key);
  if (index < 0) return NotFoundError("master.cf has no service '" + key.toString() + "'");
  if (option(key, parameter) == value) return false;
  PW_RETURN_IF_ERROR(checkEditable(entries_[index]));
  if (entries_[index].dangling_option && !option(key, parameter).has_value()) {
    // A new "-o" after it would become that option's value.
    return FailedPreconditionError("master.cf service '" + key.toString() +
                                   "' ends with '-o' without a value; fix it by hand first");
  }

  // Refuse values that cannot be written so that Postfix reads them back (unbalanced
  // braces); this is a property of the value, not of this file.
  const MasterCfDocument probe =
      parse("x unix - - - - - x -o " + optionText(parameter, value, false) + "\n");
  if (probe.option({"x", "unix"}, parameter) != value ||
      probe.entries_[0].service.options.size() != 1) {
    return InvalidArgumentError("master.cf -o " + std::string(parameter) + ": value '" +
                                std::string(value) + "' cannot be written in master.cf");
  }

  const MasterService before = entries_[index].service;
  MasterCfDocument work = *this;
  size_t found = 0;
  while (true) {
    const auto& options = work.entries_[index].service.options;
    std::vector<size_t> hits;
    for (size_t i = 0; i < options.size(); ++i) {
      if (options[i].first == parameter) hits.push_back(i);
    }
    found = hits.size();
    if (hits.size() <= 1) {
      Result<MasterCfDocument> next = hits.empty()
                                          ? work.withOptionAdded(index, parameter, value)
                                          : work.withOptionValue(index, hits[0], parameter, value);
      PW_RETURN_IF_ERROR(next.status());
      work = std::move(next).value();
      break;
    }
    Result<MasterCfDocument> next = work.withOptionRemoved(index, hits[0]);
    PW_RETURN_IF_ERROR(next.status());
    const size_t options_before = options.size();
    work = std::move(next).value();
    if (work.entries_.size() != entries_.size() ||
        work.entries_[index].service.options.size() + 1 != options_before) {
      break;  // the removal went wrong; the check below reports it
    }
  }
  if (work.entries_.size() != entries_.size() || work.entries_[index].service.key != key ||
      work.option(key, parameter) != value ||
      otherOptions(work.entries_[index].service, parameter) != otherOptions(before, parameter)) {
    return InternalError("master.cf: setting -o " + std::string(parameter) + " on '" +
                         key.toString() + "' did not read back as intended (" +
                         std::to_string(found) + " existing)");
  }
  *this = std::move(work);
  return true;
}

Result<bool> MasterCfDocument::removeOption(const ServiceKey& key, std::string_view parameter) {
  const int index = findIndex(key);
  if (index < 0) return NotFoundError("master.cf has no service '" + key.toString() + "'");
  if (!option(key, parameter).has_value()) return false;
  PW_RETURN_IF_ERROR(checkEditable(entries_[index]));
  const MasterService before = entries_[index].service;
  MasterCfDocument work = *this;
  bool changed = false;
  while (true) {
    const auto& options = work.entries_[index].service.options;
    auto it = std::find_if(options.begin(), options.end(),
                           [&](const auto& o) { return o.first == parameter; });
    if (it == options.end()) break;
    Result<MasterCfDocument> next =
        work.withOptionRemoved(index, static_cast<size_t>(it - options.begin()));
    PW_RETURN_IF_ERROR(next.status());
    const size_t count_before = options.size();
    work = std::move(next).value();
    changed = true;
    if (work.entries_.size() != entries_.size() ||
        work.entries_[index].service.options.size() + 1 != count_before) {
      break;  // the removal went wrong; the check below reports it
    }
  }
  if (!changed) return false;
  if (work.entries_.size() != entries_.size() || work.entries_[index].service.key != key ||
      work.option(key, parameter).has_value() ||
      otherOptions(work.entries_[index].service, parameter) != otherOptions(before, parameter)) {
    return InternalError("master.cf: removing -o " + std::string(parameter) + " from '" +
                         key.toString() + "' did not read back as intended");
  }
  *this = std::move(work);
  return true;
}

Status MasterCfDocument::addService(const ServiceKey& key, std::string_view command) {
  auto plain_field = [](std::string_view s) {
    return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
      return internal::isControl(c) || isPostfixSpace(c) || c == '{' || c == '}';
    });
  };
  if (!plain_field(key.name) || key.name[0] == '#' || !plain_field(key.type) ||
      !isKnownType(key.type)) {
    return InvalidArgumentError("master.cf: invalid service '" + key.toString() + "'");
  }
  command = internal::trimSpace(command);
  if (command.empty() || internal::hasControl(command)) {
    return InvalidArgumentError("master.cf: invalid command for service '" + key.toString() + "'");
  }
  if (findIndex(key) >= 0) {
    return AlreadyExistsError("master.cf already has service '" + key.toString() + "'");
  }
  const std::string_view nl = newline();
  std::string appended;
  if (!text_.empty() && text_.back() != '\n') {
    appended.append(nl.size() == 2 && text_.back() == '\r' ? std::string_view("\n") : nl);
  }
  appended.append(key.name).append(" ").append(key.type).append(" n - - - - ");
  appended.append(command).append(nl);
  MasterCfDocument work = parse(text_ + appended);

  // The command's own tokens must come back unchanged (no stray braces swallowing them).
  const std::vector<internal::TokenRange> words = internal::tokenizeQuoted(command);
  for (const internal::TokenRange& w : words) {
    if (command[w.begin] == '{' &&
        !internal::extractBraces(command.substr(w.begin, w.end - w.begin)).error.empty()) {
      return InvalidArgumentError("master.cf: command '" + std::string(command) +
                                  "' has unbalanced braces");
    }
  }
  const int index = work.findIndex(key);
  bool ok = index == static_cast<int>(entries_.size()) &&
            work.entries_.size() == entries_.size() + 1 &&
            work.entries_[index].tokens.size() == kRequiredFields - 1 + words.size();
  for (size_t i = 0; ok && i < words.size(); ++i) {
    ok = work.entries_[index].tokens[kRequiredFields - 1 + i].text ==
         command.substr(words[i].begin, words[i].end - words[i].begin);
  }
  if (!ok) {
    return InvalidArgumentError("master.cf: command '" + std::string(command) +
                                "' cannot be written for service '" + key.toString() + "'");
  }
  *this = std::move(work);
  return OkStatus();
}

}  // namespace postwarden::agent::postfix
