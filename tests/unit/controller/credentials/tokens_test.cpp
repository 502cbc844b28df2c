#include "controller/credentials/tokens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/sha256.h"

namespace postwarden::controller::credentials {
namespace {

const std::string kId = "tk0123456789abcdef";
const std::string kSecret = std::string(64, 'a').replace(0, 16, "0123456789abcdef");

void expectMalformed(const std::string& text) {
  Result<ParsedToken> parsed = parseToken(text);
  ASSERT_FALSE(parsed.ok()) << "'" << text << "' was accepted";
  EXPECT_EQ(parsed.status().code(), StatusCode::kUnauthenticated) << "'" << text << "'";
}

TEST(TokensTest, NewTokenHasTheDocumentedFormat) {
  Result<NewToken> token = newToken();
  ASSERT_TRUE(token.ok()) << token.status().toString();
  EXPECT_THAT(token->id, ::testing::MatchesRegex("tk[0-9a-f]{16}"));
  EXPECT_THAT(token->text, ::testing::MatchesRegex("pwt\\.tk[0-9a-f]{16}\\.[0-9a-f]{64}"))
      << token->text;
  EXPECT_EQ(token->text.substr(4, 18), token->id);
  EXPECT_THAT(token->secret_sha256, ::testing::MatchesRegex("[0-9a-f]{64}"));
  // Only the hash is kept: the secret itself is not the stored value.
  EXPECT_EQ(token->text.find(token->secret_sha256), std::string::npos);
}

TEST(TokensTest, ParseRoundTripsANewToken) {
  Result<NewToken> token = newToken();
  ASSERT_TRUE(token.ok());
  Result<ParsedToken> parsed = parseToken(token->text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->id, token->id);
  EXPECT_EQ(parsed->secret_sha256, token->secret_sha256);
  EXPECT_EQ(parsed->secret_sha256, sha256Hex(token->text.substr(23)));
}

TEST(TokensTest, TokensDiffer) {
  std::set<std::string> ids, texts, hashes;
  for (int i = 0; i < 50; ++i) {
    Result<NewToken> token = newToken();
    ASSERT_TRUE(token.ok());
    ids.insert(token->id);
    texts.insert(token->text);
    hashes.insert(token->secret_sha256);
  }
  EXPECT_EQ(ids.size(), 50u);
  EXPECT_EQ(texts.size(), 50u);
  EXPECT_EQ(hashes.size(), 50u);
}

TEST(TokensTest, ParseWellFormedToken) {
  Result<ParsedToken> parsed = parseToken("pwt." + kId + "." + kSecret);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->id, kId);
  EXPECT_EQ(parsed->secret_sha256, sha256Hex(kSecret));
}

TEST(TokensTest, ParseRejectsMissingOrWrongPrefix) {
  expectMalformed(kId + "." + kSecret);
  expectMalformed("pwt" + kId + "." + kSecret);
  expectMalformed("PWT." + kId + "." + kSecret);
  expectMalformed("pwx." + kId + "." + kSecret);
  expectMalformed(" pwt." + kId + "." + kSecret);
}

TEST(TokensTest, ParseRejectsWrongLengths) {
  expectMalformed("");
  expectMalformed("pwt.");
  expectMalformed("pwt." + kId);
  expectMalformed("pwt." + kId + ".");
  expectMalformed("pwt.." + kSecret);
  expectMalformed("pwt." + kId.substr(0, 17) + "." + kSecret);
  expectMalformed("pwt." + kId + "0." + kSecret);
  expectMalformed("pwt." + kId + "." + kSecret.substr(0, 63));
  expectMalformed("pwt." + kId + "." + kSecret + "0");
  expectMalformed("pwt." + kId + "." + kSecret + "\n");
}

TEST(TokensTest, ParseRejectsNonLowercaseHex) {
  std::string upper_id = "tk0123456789ABCDEF";
  expectMalformed("pwt." + upper_id + "." + kSecret);
  std::string upper_secret = kSecret;
  upper_secret[20] = 'A';
  expectMalformed("pwt." + kId + "." + upper_secret);
  std::string non_hex_secret = kSecret;
  non_hex_secret[5] = 'g';
  expectMalformed("pwt." + kId + "." + non_hex_secret);
  expectMalformed("pwt.TK0123456789abcdef." + kSecret);
  expectMalformed("pwt.xx0123456789abcdef." + kSecret);
  expectMalformed("pwt.tk0123456789abcde-." + kSecret);
}

TEST(TokensTest, ParseRejectsExtraDots) {
  expectMalformed("pwt." + kId + "." + kSecret + ".");
  expectMalformed("pwt." + kId + "." + kSecret + ".x");
  expectMalformed("pwt." + kId + ".." + kSecret.substr(1));
  expectMalformed("pwt.." + kId + "." + kSecret);
  expectMalformed("pwt." + kId + "." + kSecret.substr(0, 32) + "." + kSecret.substr(33));
}

}  // namespace
}  // namespace postwarden::controller::credentials
