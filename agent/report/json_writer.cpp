#include "agent/report/json_writer.h"

#include "common/check.h"

namespace postwarden::agent::report {

void JsonWriter::newline() {
  out_ += '\n';
  out_.append(levels_.size() * 2, ' ');
}

void JsonWriter::beforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  PW_CHECK(levels_.empty() ? out_.empty() : !levels_.back().is_object);
  if (!levels_.empty()) {
    if (!levels_.back().empty) out_ += ',';
    levels_.back().empty = false;
    newline();
  }
}

void JsonWriter::key(std::string_view name) {
  PW_CHECK(!levels_.empty() && levels_.back().is_object && !after_key_);
  if (!levels_.back().empty) out_ += ',';
  levels_.back().empty = false;
  newline();
  out_ += jsonQuote(name) + ": ";
  after_key_ = true;
}

void JsonWriter::beginObject() {
  beforeValue();
  out_ += '{';
  levels_.push_back({true});
}

void JsonWriter::beginArray() {
  beforeValue();
  out_ += '[';
  levels_.push_back({false});
}

void JsonWriter::endObject() {
  PW_CHECK(!levels_.empty() && levels_.back().is_object && !after_key_);
  bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) newline();
  out_ += '}';
}

void JsonWriter::endArray() {
  PW_CHECK(!levels_.empty() && !levels_.back().is_object);
  bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) newline();
  out_ += ']';
}

void JsonWriter::value(std::string_view text) {
  beforeValue();
  out_ += jsonQuote(text);
}

void JsonWriter::value(bool flag) {
  beforeValue();
  out_ += flag ? "true" : "false";
}

void JsonWriter::null() {
  beforeValue();
  out_ += "null";
}

void JsonWriter::value(std::int64_t number) {
  beforeValue();
  out_ += std::to_string(number);
}

}  // namespace postwarden::agent::report
