// fleetsim's command line: several controllers, and what to sample (pure).
#include "bench/fleetsim/options.h"

#include <gtest/gtest.h>

namespace postwarden::fleetsim {
namespace {

std::vector<std::string> withCredentials(std::vector<std::string> args) {
  for (const char* a : {"--ca", "ca.crt", "--cert", "sim.crt", "--key", "sim.key"}) {
    args.push_back(a);
  }
  return args;
}

TEST(OptionsTest, OneControllerIsAListOfOne) {
  Result<Options> o = parseOptions(withCredentials({"--controller", "127.0.0.1:7443"}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->controller, "127.0.0.1:7443");
  EXPECT_EQ(o->controllers, (std::vector<std::string>{"127.0.0.1:7443"}));
  EXPECT_TRUE(o->samples.empty());
  EXPECT_EQ(o->settle.count(), 0);
}

TEST(OptionsTest, SettleIsADuration) {
  Result<Options> o = parseOptions(withCredentials({"--controller", "a:1", "--settle", "15s"}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->settle, std::chrono::seconds(15));
  EXPECT_FALSE(parseOptions(withCredentials({"--controller", "a:1", "--settle", "soon"})).ok());
}

TEST(OptionsTest, ControllersCommaSeparatedAndRepeatedKeepTheirOrder) {
  Result<Options> o = parseOptions(
      withCredentials({"--controller", "a:1,b:2", "--controller", "c:3", "--agents", "10"}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->controllers, (std::vector<std::string>{"a:1", "b:2", "c:3"}));
  EXPECT_EQ(o->controller, "a:1");
}

TEST(OptionsTest, AnEmptyControllerInTheListIsRefused) {
  for (const char* bad : {"a:1,", ",a:1", "a:1,,b:2", ""}) {
    Result<Options> o = parseOptions(withCredentials({"--controller", bad}));
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_NE(o.status().message().find("--controller needs HOST:PORT"), std::string::npos)
        << o.status().message();
  }
  EXPECT_FALSE(parseOptions(withCredentials({})).ok());  // none at all
}

TEST(OptionsTest, SamplesAndTreesInOrder) {
  Result<Options> o =
      parseOptions(withCredentials({"--controller", "a:1", "--sample", "replica-a=100", "--sample",
                                    "replica-b=200", "--sample-tree", "pg=300"}));
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_EQ(o->samples.size(), 3u);
  EXPECT_EQ(o->samples[0].name, "replica-a");
  EXPECT_EQ(o->samples[1].pid, 200);
  EXPECT_FALSE(o->samples[1].tree);
  EXPECT_EQ(o->samples[2].name, "pg");
  EXPECT_TRUE(o->samples[2].tree);
  EXPECT_FALSE(parseOptions(withCredentials({"--controller", "a:1", "--sample", "300"})).ok());
}

}  // namespace
}  // namespace postwarden::fleetsim
