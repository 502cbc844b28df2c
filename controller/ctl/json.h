// A small JSON value for postwardenctl's --json output: built in memory, then written
// pretty-printed (two-space indent) with object keys in insertion order, so the output is
// byte-for-byte stable. Strings are escaped per RFC 8259 (every control byte), integers are
// plain JSON numbers (unix milliseconds stay below 2^53).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/json_quote.h"

namespace postwarden::controller::ctl {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() : value_(nullptr) {}                           // null
  Json(std::nullptr_t) : value_(nullptr) {}             // NOLINT
  Json(bool b) : value_(b) {}                           // NOLINT
  Json(int64_t n) : value_(n) {}                        // NOLINT
  Json(int32_t n) : value_(static_cast<int64_t>(n)) {}  // NOLINT
  Json(std::string s) : value_(std::move(s)) {}         // NOLINT
  Json(const char* s) : value_(std::string(s)) {}       // NOLINT
  Json(Array a) : value_(std::move(a)) {}               // NOLINT
  Json(const std::map<std::string, std::string>& m);    // NOLINT: an object of strings

  static Json object() { return Json(Object{}); }
  static Json array() { return Json(Array{}); }

  // Appends a member to an object (a bug on anything else); returns *this for chaining.
  Json& set(std::string key, Json value);
  // Appends an element to an array (a bug on anything else).
  Json& push(Json value);

  // The document, pretty-printed, without a trailing newline.
  std::string dump() const;

 private:
  explicit Json(Object o) : value_(std::move(o)) {}
  void write(std::string& out, int indent) const;

  std::variant<std::nullptr_t, bool, int64_t, std::string, Array, Object> value_;
};

// Quoting is shared with the rest of Postwarden (common/json_quote.h).
using postwarden::jsonQuote;

}  // namespace postwarden::controller::ctl
