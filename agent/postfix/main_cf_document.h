// A lossless main.cf document: parse any bytes, read parameters exactly as Postfix reads
// them, edit single parameters, and write the file back. Guarantees:
//   - serialize(parse(x)) == x byte-for-byte, for every x (binary, CRLF, no final newline);
//   - an edit changes only the lines of the definitions it touches (plus, when appending,
//     a missing final newline), and unchanged values leave the bytes untouched;
//   - after set(n, v), parse(serialize()).get(n) == v as Postfix would read it.
// Pure value type: no I/O, no logging. Copyable; not synchronized (one writer at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postwarden::agent::postfix {

// One "name = value" definition (a logical line) in file order.
struct MainCfDefinition {
  std::string name;
  // The value as Postfix reads it: the physical lines of the logical line concatenated
  // with only their newlines removed (a continuation line keeps its leading whitespace),
  // then leading and trailing whitespace stripped. A CRLF file's interior '\r' stays.
  std::string value;
  int first_line = 0;  // 1-based physical line of the "name = ..." line
  int last_line = 0;   // 1-based physical line of its last continuation line
};

// Something Postfix would complain about, at a 1-based physical line.
struct DocumentProblem {
  int line = 0;
  std::string message;
};

struct SetResult {
  bool changed = false;
  // 1-based physical line numbers (as in the document before the edit) of the earlier
  // duplicate definitions that set() removed, ascending.
  std::vector<int> removed_duplicate_lines;
};

class MainCfDocument {
 public:
  // An empty document (same as parse("")).
  MainCfDocument() = default;

  // Parses main.cf text with Postfix's rules (postconf(5), util/readlline.c,
  // util/split_nameval.c). Total: accepts any bytes; lines Postfix would reject are
  // reported by problems() and are otherwise kept verbatim.
  static MainCfDocument parse(std::string_view text);

  // The document's bytes. Identical to the parsed input when no edit changed anything.
  const std::string& serialize() const { return text_; }

  // The effective value of `name`: that of its last definition. nullopt when undefined
  // in this file (Postfix then uses its built-in default).
  std::optional<std::string> get(std::string_view name) const;

  // Every definition in file order, duplicates included.
  std::vector<MainCfDefinition> definitions() const;
  size_t definitionCount() const { return entries_.size(); }

  // Names defined more than once, in the order of their first definition.
  std::vector<std::string> duplicateNames() const;

  // Lines Postfix would reject ("missing '=' after attribute name": Postfix refuses to
  // start) or ignore (whitespace-indented text at the top of the file).
  const std::vector<DocumentProblem>& problems() const { return problems_; }

  // Whether set() accepts `name`: non-empty, no whitespace, control characters or '=',
  // and not starting with '#'.
  static bool isSettableName(std::string_view name);
  // Whether set() accepts `value`: no control characters (tabs and newlines included).
  static bool isSettableValue(std::string_view value);

  // Sets `name` to `value` (leading and trailing whitespace of `value` is dropped, as
  // Postfix would drop it). If `name` is defined, its last definition, with all its
  // physical lines (and comment lines between them), is replaced in place by
  // "name = value" plus that definition's own line ending, and earlier duplicate
  // definitions are removed and reported. Otherwise "name = value" is appended at the
  // end, after adding a missing final newline, in the file's newline style (CRLF files
  // stay CRLF). When the effective value already equals `value` nothing changes
  // (changed == false, bytes untouched, duplicates kept).
  // Preconditions (PW_CHECK): isSettableName(name) and isSettableValue(value).
  SetResult set(std::string_view name, std::string_view value);

  // Removes every definition of `name` but the last (the one Postfix uses), which keeps its
  // bytes. Returns the 1-based physical lines removed (as in the document before the edit),
  // ascending; empty, and nothing changed, when `name` is defined once or not at all.
  std::vector<int> removeEarlierDefinitions(std::string_view name);

  // Removes every definition of `name` (all of their physical lines). Returns false, and
  // changes nothing, when `name` is not defined.
  bool remove(std::string_view name);

 private:
  // One definition. Offsets index text_ (or arena_ for multi-line values), so copies of
  // the document stay valid without fix-ups.
  struct Entry {
    size_t span_begin = 0;  // first byte of the first physical line, where the name starts
    size_t span_end = 0;    // just past the last physical line's newline
    size_t name_size = 0;
    size_t value_begin = 0;
    size_t value_size = 0;
    int first_line = 0;
    int last_line = 0;
    int previous_same_name = -1;  // index of the previous definition of the same name
    uint8_t ending_size = 0;      // 2 for "\r\n", 1 for "\n", 0 at the end of the text
    bool value_in_arena = false;
  };

  std::string_view nameOf(const Entry& e) const {
    return std::string_view(text_).substr(e.span_begin, e.name_size);
  }
  std::string_view valueOf(const Entry& e) const {
    return std::string_view(e.value_in_arena ? arena_ : text_).substr(e.value_begin, e.value_size);
  }
  std::string_view endingOf(const Entry& e) const;
  int findLast(std::string_view name) const;  // index into entries_, -1 when undefined
  void buildIndex();

  std::string text_;
  std::string arena_;  // values joined from continuation lines
  std::vector<Entry> entries_;
  std::vector<int> slots_;  // open-addressing hash: name -> index of its last definition
  std::vector<DocumentProblem> problems_;
  int crlf_endings_ = 0;
  int lf_endings_ = 0;
};

}  // namespace postwarden::agent::postfix
