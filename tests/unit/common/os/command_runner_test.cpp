#include "common/os/command_runner.h"

#include <gtest/gtest.h>

namespace postwarden::os {
namespace {

TEST(DescribeCommandTest, JoinsPlainArgumentsWithSpaces) {
  EXPECT_EQ(describeCommand({"postfix", "-c", "/etc/postfix", "reload"}),
            "postfix -c /etc/postfix reload");
  EXPECT_EQ(describeCommand({"postconf", "-e", "smtpd_tls_security_level=may"}),
            "postconf -e smtpd_tls_security_level=may");
}

TEST(DescribeCommandTest, QuotesArgumentsAShellWouldSplitOrExpand) {
  EXPECT_EQ(describeCommand({"sh", "-c", "echo $HOME; exit 1"}), "sh -c 'echo $HOME; exit 1'");
  EXPECT_EQ(describeCommand({"postconf", "-e", "mydestination = $myhostname, localhost"}),
            "postconf -e 'mydestination = $myhostname, localhost'");
  EXPECT_EQ(describeCommand({"echo", "*", "~"}), "echo '*' '~'");
}

TEST(DescribeCommandTest, EscapesSingleQuotesAndShowsEmptyArguments) {
  EXPECT_EQ(describeCommand({"echo", "it's", ""}), "echo 'it'\\''s' ''");
}

TEST(DescribeCommandTest, EmptyArgvIsEmptyString) { EXPECT_EQ(describeCommand({}), ""); }

}  // namespace
}  // namespace postwarden::os
