#include "common/yaml/single_document.h"

#include <gtest/gtest.h>

#include <variant>

namespace postwarden::yaml {
namespace {

TEST(SingleDocumentTest, LoadsOneDocumentOrNothing) {
  std::variant<YAML::Node, DocumentError> loaded = loadSingleDocument("a: 1\n");
  ASSERT_TRUE(std::holds_alternative<YAML::Node>(loaded));
  EXPECT_EQ(std::get<YAML::Node>(loaded)["a"].Scalar(), "1");
  loaded = loadSingleDocument("");
  ASSERT_TRUE(std::holds_alternative<YAML::Node>(loaded));
  EXPECT_TRUE(std::get<YAML::Node>(loaded).IsNull());
}

TEST(SingleDocumentTest, RefusesASecondDocumentAndBadYaml) {
  // "," is where yaml-cpp 0.7's YAML::LoadAll loops forever (jbeder/yaml-cpp#1040).
  for (const char* text : {",", "a: 1\n---\nb: 2\n"}) {
    std::variant<YAML::Node, DocumentError> loaded = loadSingleDocument(text);
    ASSERT_TRUE(std::holds_alternative<DocumentError>(loaded)) << text;
    EXPECT_EQ(std::get<DocumentError>(loaded).message, "found a second document") << text;
  }
  std::variant<YAML::Node, DocumentError> loaded = loadSingleDocument("a: [b\n");
  ASSERT_TRUE(std::holds_alternative<DocumentError>(loaded));
  EXPECT_EQ(std::get<DocumentError>(loaded).message.rfind("invalid YAML: ", 0), 0u);
}

}  // namespace
}  // namespace postwarden::yaml
