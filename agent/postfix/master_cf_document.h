// A lossless master.cf document: parse any bytes into services (master(5)), read their
// "-o name=value" overrides as the daemons see them, edit those overrides, add services,
// and write the file back. Guarantees:
//   - serialize(parse(x)) == x byte-for-byte, for every x;
//   - an edit touches only the tokens or continuation lines of the one option it changes;
//   - every edit is verified by re-parsing the result; an edit whose result would not read
//     back as intended is refused and leaves the document unchanged.
// Pure value type: no I/O, no logging. Copyable; not synchronized.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/postfix/main_cf_document.h"  // DocumentProblem
#include "common/status.h"

namespace postwarden::agent::postfix {

// A master.cf service is identified by its name and type columns (master(5)).
struct ServiceKey {
  std::string name;  // "smtp", "submission", "127.0.0.1:2525", "cleanup", ...
  std::string type;  // "inet", "unix", "unix-dgram", "fifo" or "pass"

  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
  friend auto operator<=>(const ServiceKey&, const ServiceKey&) = default;

  std::string toString() const { return name + "/" + type; }  // "submission/inet"
};

// A parameter that one service entry sets with "-o" more than once. The daemon uses the last
// one (getopt() order), the way Postfix uses the last of duplicate main.cf definitions.
struct DuplicateOption {
  ServiceKey service;
  std::string parameter;
  std::vector<int> lines;  // 1-based physical lines of every "-o parameter=...", ascending
  std::string effective;   // the value of the last one, the one in effect
};

// One service entry (logical line) of master.cf. Columns are kept as written ("-" means
// the built-in default).
struct MasterService {
  ServiceKey key;
  std::string private_flag;
  std::string unprivileged;
  std::string chroot;
  std::string wakeup;
  std::string max_process;
  std::string command;
  // Every token after the command, as written ("{ ... }" kept), options included.
  std::vector<std::string> args;
  // The "-o" overrides in order, as the daemon reads them: "-o name=value",
  // "-oname=value", "-o { name = value }" (text inside braces trimmed, whitespace around
  // '=' dropped, whitespace inside the value kept). Only options before the first
  // non-option argument count, as with getopt().
  std::vector<std::pair<std::string, std::string>> options;
  // Parallel to `options`: the 1-based physical line of each option's "-o" flag.
  std::vector<int> option_lines;
  int first_line = 0;  // 1-based physical lines of the entry
  int last_line = 0;

  // For inet services, the port: the part of the name after its last ':' ("127.0.0.1:2525"
  // -> "2525", "[::1]:25" -> "25"), or the whole name when it has no ':' ("smtp" ->
  // "smtp"). Empty for other types.
  std::string port() const;
};

class MasterCfDocument {
 public:
  // An empty document (same as parse("")).
  MasterCfDocument() = default;

  // Parses master.cf text with Postfix's rules (master(5), util/readlline.c,
  // postconf/postconf_master.c). Total: accepts any bytes; entries Postfix would reject
  // are reported by problems() and kept verbatim.
  static MasterCfDocument parse(std::string_view text);

  // The document's bytes. Identical to the parsed input when no edit changed anything.
  const std::string& serialize() const { return text_; }

  // Every entry with at least the 8 required columns, in file order.
  std::vector<MasterService> services() const;

  // The entry for `key`. When several entries share a key, the last one: master(8) warns
  // "duplicate master.cf entry" and uses the last.
  std::optional<MasterService> find(const ServiceKey& key) const;

  // The value of the last "-o parameter=..." of the service `key`; nullopt when the
  // service or the option is absent.
  std::optional<std::string> option(const ServiceKey& key, std::string_view parameter) const;

  // Every parameter some entry sets with "-o" more than once, in file order (entry, then
  // the parameter's first "-o"). For a service with duplicate entries only the last counts.
  std::vector<DuplicateOption> duplicateOptions() const;

  // The 1-based physical line of the last "-o parameter=..." of the service `key` (the one
  // in effect); 0 when the service or the option is absent.
  int optionLine(const ServiceKey& key, std::string_view parameter) const;

  // Entries and options Postfix would reject or ignore, and duplicate services.
  const std::vector<DocumentProblem>& problems() const { return problems_; }

  // Sets "-o parameter=value" on the service `key` (leading and trailing whitespace of
  // `value` is dropped). Edits the last existing "-o parameter=..." in place, removing
  // earlier ones for the same parameter; otherwise adds the option after the service's
  // last option: as a new continuation line "  -o parameter=value" (indented like the
  // service's other -o lines) after the entry's last line, or, when the command has
  // non-option arguments, just before the first of them so that it stays a daemon option.
  // Uses "-o { parameter = value }" when the value contains whitespace. Returns true if
  // the document changed, false when the value is already in effect.
  // Errors: NotFound (no such service), InvalidArgument (parameter is not a plain name,
  // value has control characters, or the value cannot be written so that Postfix reads
  // it back, e.g. unbalanced braces), FailedPrecondition (the entry has a '{' that never
  // closes, which would swallow anything added after it, or a NUL byte, after which
  // Postfix reads nothing, or the option must be added and the entry ends with a "-o"
  // lacking its value; problems() reports all three),
  // Internal (the edit did not read back as intended).
  Result<bool> setOption(const ServiceKey& key, std::string_view parameter, std::string_view value);

  // Removes every "-o parameter=..." of the service `key`; a continuation line that held
  // only that option disappears. Returns false when there was none.
  // Errors: NotFound (no such service), FailedPrecondition (the entry has a '{' that
  // never closes, or a NUL byte), Internal (the edit did not read back as intended).
  Result<bool> removeOption(const ServiceKey& key, std::string_view parameter);

  // Appends the entry "name type n - - - - command" (private=n: for inet services
  // required, for unix services it means public), after adding a missing final newline,
  // in the file's newline style. `command` may carry arguments ("smtpd -v").
  // Errors: AlreadyExists (an entry for `key` exists), InvalidArgument (name or type
  // empty, containing whitespace, braces or control characters, name starting with '#',
  // unknown type, or command empty or with control characters).
  Status addService(const ServiceKey& key, std::string_view command);

 private:
  // A token of an entry: its logical text and where it sits in text_.
  struct Token {
    std::string text;
    size_t begin = 0;  // offset in text_ of its first byte
    size_t end = 0;    // offset in text_ just past its last byte
    int line = 0;      // 1-based physical line of its first byte
  };
  // Where one "-o" lives: the token holding the 'o' flag (at `flag_pos` in it) and the
  // token holding the value (the same token for "-oname=value").
  struct OptionRef {
    size_t flag_token = 0;
    size_t flag_pos = 1;
    size_t value_token = 0;
    bool attached = false;  // value inside the flag token
    bool braced = false;    // value written as "{ ... }"
  };
  struct Entry {
    MasterService service;
    std::vector<Token> tokens;
    std::vector<OptionRef> option_refs;  // parallel to service.options
    size_t first_nonoption = 0;          // token index (tokens.size() when none)
    bool unclosed_brace = false;         // its last token opens a '{' that never closes
    bool dangling_option = false;        // it ends with a "-o" that has no value
    bool nul_byte = false;               // Postfix stops reading it at a NUL byte
    size_t span_begin = 0;               // text_ offset of the first physical line
    size_t last_line_begin = 0;          // text_ offset of the last physical line
    size_t last_content_end = 0;         // its end before the '\n'
    size_t span_end = 0;                 // just past its '\n'
  };

  int findIndex(const ServiceKey& key) const;   // index into entries_ of the last match
  static Status checkEditable(const Entry& e);  // FailedPrecondition for broken entries
  std::string_view newline() const;
  Result<MasterCfDocument> withOptionRemoved(size_t entry, size_t option) const;
  Result<MasterCfDocument> withOptionValue(size_t entry, size_t option, std::string_view name,
                                           std::string_view value) const;
  Result<MasterCfDocument> withOptionAdded(size_t entry, std::string_view name,
                                           std::string_view value) const;
  std::string lineStartIndent(size_t offset) const;

  std::string text_;
  std::vector<Entry> entries_;
  std::vector<DocumentProblem> problems_;
  int crlf_endings_ = 0;
  int lf_endings_ = 0;
};

}  // namespace postwarden::agent::postfix
