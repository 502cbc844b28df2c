#include "common/yaml/strict_map.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace postwarden::yaml {
namespace {

constexpr std::string_view kKeys[] = {"name", "version"};

// The pairs forEachKey hands out as "key@line:col=value", or its error message.
std::string walk(const std::string& text) {
  std::string out;
  Status status = forEachKey(
      "f.yaml", YAML::Load(text), Position{7, 3}, "the policy", kKeys,
      [&](const std::string& key, const Position& where, const YAML::Node& value) -> Status {
        if (value.IsScalar() && value.Scalar() == "fail") return InvalidArgumentError("stop");
        out += key + "@" + toString(where) + "=" + (value.IsScalar() ? value.Scalar() : "?") + " ";
        return OkStatus();
      });
  return status.ok() ? out : status.message();
}

TEST(StrictMapTest, HandsOutEachPairInFileOrder) {
  EXPECT_EQ(walk("version: 2\nname: edge\n"), "version@1:1=2 name@2:1=edge ");
  EXPECT_EQ(walk("{}"), "");
}

TEST(StrictMapTest, RefusesWhatIsNotAStrictMap) {
  EXPECT_EQ(walk(""), "f.yaml:7:3: the policy must be a map of name, version, not nothing");
  EXPECT_EQ(walk("- a\n"), "f.yaml:1:1: the policy must be a map of name, version, not a list");
  EXPECT_EQ(walk("[a]: 1\n"), "f.yaml:1:1: keys in the policy must be text, not a list");
  EXPECT_EQ(walk("name: a\nverison: 1\n"),
            "f.yaml:2:1: unknown key 'verison' in the policy (did you mean 'version'?); valid "
            "keys: name, version");
  EXPECT_EQ(walk("zzz: 1\n"),
            "f.yaml:1:1: unknown key 'zzz' in the policy; valid keys: name, "
            "version");
  EXPECT_EQ(walk("name: a\n\nname: b\n"),
            "f.yaml:3:1: duplicate key 'name' in the policy (first at 1:1)");
  EXPECT_EQ(walk("name: fail\n"), "stop");
}

TEST(StrictMapTest, Helpers) {
  EXPECT_EQ(toString(positionOf(YAML::Mark::null_mark())), "1:1");
  EXPECT_EQ(errorAt("f", {2, 5}, "bad").message(), "f:2:5: bad");
  EXPECT_EQ(describe(YAML::Load("a")), "text");
  EXPECT_EQ(describe(YAML::Node()), "nothing");
  EXPECT_EQ(joinKeys(kKeys), "name, version");
}

}  // namespace
}  // namespace postwarden::yaml
