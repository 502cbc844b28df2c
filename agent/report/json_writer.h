// A small streaming JSON writer (pretty-printed, two-space indent). Strings are escaped per
// RFC 8259, including every control byte, so hostile text from an SMTP server stays data.
// Not thread-safe; misuse (a value where a key is due) is a bug and aborts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_quote.h"

namespace postwarden::agent::report {

class JsonWriter {
 public:
  void beginObject();
  void endObject();
  void beginArray();
  void endArray();
  void key(std::string_view name);
  void value(std::string_view text);
  void value(const char* text) { value(std::string_view(text)); }
  void value(bool flag);
  void null();  // JSON null: a time or value that is unset
  // A JSON number, as postwardenctl --json writes integers (protobuf's parser accepts both).
  void value(std::int64_t number);

  // key(name) followed by value(v).
  void field(std::string_view name, std::string_view text) { key(name), value(text); }
  void field(std::string_view name, const char* text) { key(name), value(text); }
  void field(std::string_view name, bool flag) { key(name), value(flag); }
  void field(std::string_view name, std::int64_t number) { key(name), value(number); }

  // The document; complete once every object and array is closed.
  const std::string& text() const { return out_; }

 private:
  struct Level {
    bool is_object;
    bool empty = true;
  };
  void beforeValue();
  void newline();

  std::string out_;
  std::vector<Level> levels_;
  bool after_key_ = false;
};

// Quoting is shared with the rest of Postwarden (common/json_quote.h).
using postwarden::jsonQuote;

}  // namespace postwarden::agent::report
