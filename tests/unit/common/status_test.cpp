#include "common/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace postwarden {
namespace {

Result<int> half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> quarter(int x) {
  PW_ASSIGN_OR_RETURN(int h, half(x));
  PW_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

Status checkEven(int x) {
  PW_RETURN_IF_ERROR(half(x).status());
  return OkStatus();
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.toString(), "OK");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = NotFoundError("main.cf").withContext("reading config");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "reading config: main.cf");
  EXPECT_TRUE(OkStatus().withContext("x").ok());
}

TEST(StatusTest, ErrnoMapsToCanonicalCodes) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "write").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EACCES, "open").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(EIO, "fsync").code(), StatusCode::kDataLoss);
  EXPECT_NE(ErrnoToStatus(ENOSPC, "write").message().find("write: "), std::string::npos);
}

TEST(ResultTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*quarter(8), 2);
  Result<int> r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(ResultTest, ReturnIfErrorStopsAtError) {
  EXPECT_TRUE(checkEven(4).ok());
  EXPECT_EQ(checkEven(5).code(), StatusCode::kInvalidArgument);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = InternalError("boom");
  EXPECT_DEATH((void)r.value(), "");
}

}  // namespace
}  // namespace postwarden
