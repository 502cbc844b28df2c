// AddressRotation (agent/link/channel.h): which controller replica the link connects to next.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agent/link/channel.h"

namespace postwarden::agent::link {
namespace {

TEST(AddressRotationTest, AnEndedStreamMovesToTheNextAddressAndWrapsAround) {
  AddressRotation rotation({"a:1", "b:2", "c:3"});
  std::vector<std::string> tried;
  for (int i = 0; i < 5; ++i) {
    tried.push_back(rotation.current());
    rotation.ended(/*shed=*/false);
  }
  EXPECT_EQ(tried, (std::vector<std::string>{"a:1", "b:2", "c:3", "a:1", "b:2"}));
}

TEST(AddressRotationTest, AShedStreamComesBackToTheSameController) {
  AddressRotation rotation({"a:1", "b:2"});
  rotation.ended(/*shed=*/true);  // up, and asked to be retried after its hint
  EXPECT_EQ(rotation.current(), "a:1");
  rotation.ended(/*shed=*/false);
  EXPECT_EQ(rotation.current(), "b:2");
}

TEST(AddressRotationTest, OneAddressIsAlwaysThatOne) {
  AddressRotation rotation({"only:7443"});
  rotation.ended(false);
  rotation.ended(true);
  EXPECT_EQ(rotation.current(), "only:7443");
  EXPECT_EQ(rotation.size(), 1u);
}

}  // namespace
}  // namespace postwarden::agent::link
