#include "controller/ctl/ctl_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "controller/ctl/local_file.h"

namespace postwarden::controller::ctl {
namespace {

using ::testing::HasSubstr;

// A fresh temporary directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ctl_config_XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::string path = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(PostwardenctlConfigTest, LocationPrefersFlagThenVariableThenHome) {
  auto env = envOf({{"POSTWARDENCTL_CONFIG", "/from/env.yaml"}, {"HOME", "/home/op"}});
  std::optional<ConfigLocation> flag = configLocation(std::string("/from/flag.yaml"), env);
  ASSERT_TRUE(flag);
  EXPECT_EQ(flag->path, "/from/flag.yaml");
  EXPECT_TRUE(flag->required);
  std::optional<ConfigLocation> var = configLocation(std::nullopt, env);
  ASSERT_TRUE(var);
  EXPECT_EQ(var->path, "/from/env.yaml");
  EXPECT_TRUE(var->required);
  std::optional<ConfigLocation> home = configLocation(std::nullopt, envOf({{"HOME", "/home/op"}}));
  ASSERT_TRUE(home);
  EXPECT_EQ(home->path, "/home/op/.config/postwarden/postwardenctl.yaml");
  EXPECT_FALSE(home->required);
  EXPECT_FALSE(configLocation(std::nullopt, envOf({})).has_value());
}

TEST(PostwardenctlConfigTest, ParsesEveryKeyAndResolvesRelativePaths) {
  Result<ConnectionSettings> settings = parseCtlConfig(R"(
controller: ctl.example.org:8443
controller_name: postwarden-controller
ca_file: ca.crt
cert_file: certs/alice.crt
key_file: /secure/alice.key
)",
                                                       "/home/alice/ops/postwardenctl.yaml");
  ASSERT_TRUE(settings.ok()) << settings.status().toString();
  EXPECT_EQ(settings->controller, "ctl.example.org:8443");
  EXPECT_EQ(settings->controller_name, "postwarden-controller");
  EXPECT_EQ(settings->ca_file, "/home/alice/ops/ca.crt");
  EXPECT_EQ(settings->cert_file, "/home/alice/ops/certs/alice.crt");
  EXPECT_EQ(settings->key_file, "/secure/alice.key");
}

TEST(PostwardenctlConfigTest, RelativeConfigPathKeepsRelativeDirectory) {
  Result<ConnectionSettings> settings = parseCtlConfig("ca_file: ca.crt\n", "ops/ctl.yaml");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->ca_file, "ops/ca.crt");
  settings = parseCtlConfig("ca_file: ca.crt\n", "ctl.yaml");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->ca_file, "ca.crt");
}

TEST(PostwardenctlConfigTest, EmptyFileSetsNothing) {
  Result<ConnectionSettings> settings = parseCtlConfig("", "/c.yaml");
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->controller, "");
}

TEST(PostwardenctlConfigTest, RejectsUnknownKeysAndBadShapes) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : {
           Case{"controler: x:1\n",
                "/c.yaml: unknown key 'controler' (did you mean 'controller'?) (known keys: "
                "controller, controller_name, ca_file, cert_file, key_file)"},
           Case{"timeout: 5\n", "/c.yaml: unknown key 'timeout'"},
           Case{"- controller\n", "/c.yaml: expected a mapping of keys"},
           Case{"controller: [a, b]\n", "/c.yaml: 'controller' must be a string"},
           Case{"controller: {a: b}\n", "/c.yaml: 'controller' must be a string"},
           Case{"controller: [unclosed\n", "/c.yaml: not valid YAML"},
       }) {
    Result<ConnectionSettings> settings = parseCtlConfig(c.yaml, "/c.yaml");
    ASSERT_FALSE(settings.ok()) << c.yaml;
    EXPECT_EQ(settings.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(settings.status().message(), HasSubstr(c.message)) << c.yaml;
  }
}

TEST(PostwardenctlConfigTest, RefusesASecondDocumentWithoutHanging) {
  // "," is where yaml-cpp 0.7's YAML::LoadAll loops forever (jbeder/yaml-cpp#1040), and
  // YAML::Load alone took it, like any second document, silently.
  for (const char* yaml : {",", "controller: a.example.org:1\n---\ncontroller: b:2\n"}) {
    Result<ConnectionSettings> settings = parseCtlConfig(yaml, "/c.yaml");
    ASSERT_FALSE(settings.ok()) << yaml;
    EXPECT_EQ(settings.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(settings.status().message(),
                HasSubstr("/c.yaml: a config file holds one YAML document; found another at "))
        << yaml;
  }
  EXPECT_EQ(parseCtlConfig("controller: [unclosed\n", "/c.yaml").status().message(),
            "/c.yaml: not valid YAML at 2:1: end of sequence flow not found");
}

TEST(PostwardenctlConfigTest, LoadsFromDisk) {
  TempDir dir;
  std::string path = dir.write("ops/postwardenctl.yaml",
                               "controller: 127.0.0.1:8443\nca_file: ca.crt\n"
                               "cert_file: alice.crt\nkey_file: alice.key\n");
  Result<ConnectionSettings> settings = loadCtlConfig({path, true}, readLocalFile);
  ASSERT_TRUE(settings.ok()) << settings.status().toString();
  EXPECT_EQ(settings->controller, "127.0.0.1:8443");
  EXPECT_EQ(settings->ca_file, dir.path() + "/ops/ca.crt");
  EXPECT_EQ(settings->key_file, dir.path() + "/ops/alice.key");
}

TEST(PostwardenctlConfigTest, MissingDefaultIsFineMissingNamedFileIsNot) {
  TempDir dir;
  Result<ConnectionSettings> optional =
      loadCtlConfig({dir.path() + "/none.yaml", false}, readLocalFile);
  ASSERT_TRUE(optional.ok());
  EXPECT_EQ(optional->controller, "");
  Result<ConnectionSettings> required =
      loadCtlConfig({dir.path() + "/none.yaml", true}, readLocalFile);
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(required.status().message(),
            "config file: reading '" + dir.path() + "/none.yaml': No such file or directory");
}

TEST(PostwardenctlConfigTest, UnreadableDefaultIsAnError) {
  TempDir dir;
  std::string path = dir.write("c.yaml", "controler: x\n");
  Result<ConnectionSettings> settings = loadCtlConfig({path, false}, readLocalFile);
  ASSERT_FALSE(settings.ok());
  EXPECT_THAT(settings.status().message(), HasSubstr("unknown key 'controler'"));
}

TEST(PostwardenctlConfigTest, FlagsOverrideTheFile) {
  ConnectionSettings file{"a:1", "name-a", "/a/ca", "/a/crt", "/a/key"};
  ConnectionSettings flags;
  flags.controller = "b:2";
  flags.key_file = "b.key";
  ConnectionSettings merged = mergeSettings(file, flags);
  EXPECT_EQ(merged.controller, "b:2");
  EXPECT_EQ(merged.controller_name, "name-a");
  EXPECT_EQ(merged.ca_file, "/a/ca");
  EXPECT_EQ(merged.key_file, "b.key");
}

TEST(PostwardenctlConfigTest, ValidatesSettings) {
  ConnectionSettings good{"ctl.example.org:8443", "", "ca", "crt", "key"};
  EXPECT_TRUE(validateSettings(good, "x").ok());
  ConnectionSettings v6 = good;
  v6.controller = "[::1]:8443";
  EXPECT_TRUE(validateSettings(v6, "x").ok());
  struct Case {
    ConnectionSettings settings;
    const char* message;
  };
  for (const Case& c : {
           Case{{"", "", "ca", "crt", "key"},
                "no controller address: pass --controller HOST:PORT or set 'controller' in the "
                "config file (config file /c.yaml)"},
           Case{{"ctl.example.org", "", "ca", "crt", "key"},
                "controller address 'ctl.example.org' is not HOST:PORT"},
           Case{{"ctl:0", "", "ca", "crt", "key"}, "is not HOST:PORT"},
           Case{{":8443", "", "ca", "crt", "key"}, "is not HOST:PORT"},
           Case{{"ctl:8443", "", "", "crt", "key"}, "no CA file: pass --ca FILE"},
           Case{{"ctl:8443", "", "ca", "", "key"}, "no operator certificate: pass --cert FILE"},
           Case{{"ctl:8443", "", "ca", "crt", ""}, "no operator key: pass --key FILE"},
       }) {
    Status status = validateSettings(c.settings, "config file /c.yaml");
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(status.message(), HasSubstr(c.message));
  }
}

TEST(PostwardenctlLocalFileTest, ReadsWithLimit) {
  TempDir dir;
  std::string path = dir.write("f", "hello");
  Result<std::string> text = readLocalFile(path, 5);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello");
  Result<std::string> big = readLocalFile(path, 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big.status().message(), "reading '" + path + "': larger than 4 bytes");
  Result<std::string> directory = readLocalFile(dir.path(), 100);
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace postwarden::controller::ctl
