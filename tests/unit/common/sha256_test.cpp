#include "common/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace postwarden {
namespace {

// FIPS 180-2 test vectors.
TEST(Sha256HexTest, EmptyInput) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256HexTest, Abc) {
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256HexTest, TwoBlockMessage) {
  EXPECT_EQ(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256HexTest, BinaryBytesIncludingNulAreHashed) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(sha256Hex(with_nul), sha256Hex("a"));
  EXPECT_EQ(sha256Hex(with_nul).size(), 64u);
  EXPECT_EQ(sha256Hex(with_nul).find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace postwarden
