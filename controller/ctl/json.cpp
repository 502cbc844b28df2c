#include "controller/ctl/json.h"

#include <cstdio>
#include <cstdlib>

namespace postwarden::controller::ctl {

Json::Json(const std::map<std::string, std::string>& m) : value_(Object{}) {
  for (const auto& [key, value] : m) set(key, value);
}

Json& Json::set(std::string key, Json value) {
  Object* object = std::get_if<Object>(&value_);
  if (object == nullptr) std::abort();  // a bug: set() on a non-object
  object->emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::push(Json value) {
  Array* array = std::get_if<Array>(&value_);
  if (array == nullptr) std::abort();  // a bug: push() on a non-array
  array->push_back(std::move(value));
  return *this;
}

std::string Json::dump() const {
  std::string out;
  write(out, 0);
  return out;
}

void Json::write(std::string& out, int indent) const {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  const std::string close_pad(static_cast<size_t>(indent), ' ');
  if (std::holds_alternative<std::nullptr_t>(value_)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&value_)) {
    out += *b ? "true" : "false";
  } else if (const int64_t* n = std::get_if<int64_t>(&value_)) {
    out += std::to_string(*n);
  } else if (const std::string* s = std::get_if<std::string>(&value_)) {
    out += jsonQuote(*s);
  } else if (const Array* a = std::get_if<Array>(&value_)) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t i = 0; i < a->size(); ++i) {
      out += pad;
      (*a)[i].write(out, indent + 2);
      out += i + 1 < a->size() ? ",\n" : "\n";
    }
    out += close_pad + "]";
  } else {
    const Object& o = std::get<Object>(value_);
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    for (size_t i = 0; i < o.size(); ++i) {
      out += pad + jsonQuote(o[i].first) + ": ";
      o[i].second.write(out, indent + 2);
      out += i + 1 < o.size() ? ",\n" : "\n";
    }
    out += close_pad + "}";
  }
}

}  // namespace postwarden::controller::ctl
