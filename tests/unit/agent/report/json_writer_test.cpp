#include "agent/report/json_writer.h"

#include <gtest/gtest.h>

namespace postwarden::agent::report {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArrays) {
  JsonWriter w;
  w.beginObject();
  w.key("a");
  w.value(true);
  w.key("list");
  w.beginArray();
  w.value("x");
  w.value(std::int64_t{42});
  w.endArray();
  w.key("empty");
  w.beginObject();
  w.endObject();
  w.endObject();
  EXPECT_EQ(w.text(),
            "{\n  \"a\": true,\n  \"list\": [\n    \"x\",\n    42\n  ],\n  \"empty\": {}\n}");
}

TEST(JsonWriterTest, EscapesQuotesBackslashesAndControlBytes) {
  EXPECT_EQ(jsonQuote("a\"b\\c\nd\r\te\x01\x1b\x7f"),
            "\"a\\\"b\\\\c\\nd\\r\\te\\u0001\\u001b\\u007f\"");
}

TEST(JsonWriterDeathTest, ValueWhereKeyIsDueAborts) {
  JsonWriter w;
  w.beginObject();
  EXPECT_DEATH(w.value("no key"), "check failed");
}

}  // namespace
}  // namespace postwarden::agent::report
