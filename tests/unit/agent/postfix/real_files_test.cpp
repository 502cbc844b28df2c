// Round trips and edits on real files nobody here wrote: the Debian 12 postfix 3.7 package's
// main.cf and master.cf templates, read from the installed package at test time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "tests/fakes/postfix_package_files.h"

namespace postwarden::agent::postfix {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

std::string readData(const std::string& name) {
  std::string text = testing::postfixPackageFile(name);
  EXPECT_FALSE(text.empty()) << testing::kPostfixPackageDir << "/" << name
                             << " is missing: install postfix (script/bootstrap)";
  return text;
}

// Splits into lines (keeping terminators) to compare documents line by line.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

TEST(RealFilesTest, DebianMainCfRoundTripsByteForByte) {
  for (const char* name : {"main.cf.debian", "main.cf.dist"}) {
    const std::string text = readData(name);
    ASSERT_FALSE(text.empty()) << name;
    const MainCfDocument doc = MainCfDocument::parse(text);
    EXPECT_EQ(doc.serialize(), text) << name;
    EXPECT_THAT(doc.problems(), IsEmpty()) << name;
    EXPECT_THAT(doc.duplicateNames(), IsEmpty()) << name;
  }
}

TEST(RealFilesTest, DebianMainCfHasExpectedDefinitions) {
  const MainCfDocument debian = MainCfDocument::parse(readData("main.cf.debian"));
  std::vector<std::string> names;
  for (const MainCfDefinition& d : debian.definitions()) names.push_back(d.name);
  EXPECT_THAT(names, ElementsAre("smtpd_banner", "biff", "append_dot_mydomain", "readme_directory",
                                 "compatibility_level"));
  EXPECT_EQ(debian.get("smtpd_banner"), "$myhostname ESMTP $mail_name (Debian/GNU)");
  EXPECT_EQ(debian.get("myorigin"), std::nullopt);  // commented out

  const MainCfDocument dist = MainCfDocument::parse(readData("main.cf.dist"));
  EXPECT_EQ(dist.definitionCount(), 17u);
  EXPECT_EQ(dist.get("compatibility_level"), "3.7");
  EXPECT_EQ(dist.get("mynetworks"), "127.0.0.0/8");
  EXPECT_EQ(dist.get("sendmail_path"), "");
  EXPECT_EQ(dist.get("debugger_command"),
            "PATH=/bin:/usr/bin:/usr/local/bin:/usr/X11R6/bin\t ddd $daemon_directory/"
            "$process_name $process_id & sleep 5");
  const std::vector<MainCfDefinition> defs = dist.definitions();
  const auto debugger = std::find_if(defs.begin(), defs.end(), [](const MainCfDefinition& d) {
    return d.name == "debugger_command";
  });
  ASSERT_NE(debugger, defs.end());
  EXPECT_EQ(debugger->first_line, 629);
  EXPECT_EQ(debugger->last_line, 631);
}

TEST(RealFilesTest, DebianMainCfEditTouchesOnlyNeededLines) {
  const std::string text = readData("main.cf.dist");
  MainCfDocument doc = MainCfDocument::parse(text);
  ASSERT_TRUE(doc.set("mynetworks", "127.0.0.0/8 [::1]/128").changed);
  ASSERT_TRUE(doc.set("debugger_command", "gdb").changed);
  ASSERT_TRUE(doc.set("smtpd_tls_auth_only", "yes").changed);

  const std::vector<std::string> before = lines(text);
  const std::vector<std::string> after = lines(doc.serialize());
  ASSERT_EQ(after.size(), before.size() - 2 + 1);  // 3-line definition became 1; 1 appended
  for (size_t i = 0; i < before.size(); ++i) {
    const int n = static_cast<int>(i) + 1;  // 1-based line in `before`
    if (n == 294) {
      EXPECT_EQ(after[i], "mynetworks = 127.0.0.0/8 [::1]/128\n");
    } else if (n == 629) {
      EXPECT_EQ(after[i], "debugger_command = gdb\n");
    } else if (n == 630 || n == 631) {
      continue;
    } else {
      EXPECT_EQ(after[n < 630 ? i : i - 2], before[i]) << "line " << n;
    }
  }
  EXPECT_EQ(after.back(), "smtpd_tls_auth_only = yes\n");
}

TEST(RealFilesTest, DebianMasterCfRoundTripsByteForByte) {
  for (const char* name : {"master.cf.dist"}) {
    const std::string text = readData(name);
    ASSERT_FALSE(text.empty()) << name;
    const MasterCfDocument doc = MasterCfDocument::parse(text);
    EXPECT_EQ(doc.serialize(), text) << name;
    EXPECT_THAT(doc.problems(), IsEmpty()) << name;
  }
}

TEST(RealFilesTest, DebianMasterCfHasExpectedServices) {
  const MasterCfDocument doc = MasterCfDocument::parse(readData("master.cf.dist"));
  const std::vector<MasterService> services = doc.services();
  EXPECT_EQ(services.size(), 31u);  // `postconf -M` lists 31 too
  EXPECT_EQ(services.front().key, (ServiceKey{"smtp", "inet"}));
  EXPECT_EQ(services.back().key, (ServiceKey{"mailman", "unix"}));
  EXPECT_EQ(doc.find({"submission", "inet"}), std::nullopt);  // commented out in the template
  EXPECT_EQ(doc.find({"postlog", "unix-dgram"})->command, "postlogd");
  EXPECT_EQ(doc.find({"tlsmgr", "unix"})->wakeup, "1000?");
  EXPECT_THAT(doc.find({"relay", "unix"})->options,
              ElementsAre(Pair("syslog_name", "postfix/$service_name")));
  const MasterService uucp = *doc.find({"uucp", "unix"});
  EXPECT_THAT(uucp.options, IsEmpty());
  EXPECT_EQ(uucp.args.front(), "flags=Fqhu");
  int with_options = 0;
  for (const MasterService& s : services) with_options += s.options.empty() ? 0 : 1;
  EXPECT_EQ(with_options, 1);
}

TEST(RealFilesTest, DebianMasterCfEditTouchesOnlyNeededLines) {
  const std::string text = readData("master.cf.dist");
  MasterCfDocument doc = MasterCfDocument::parse(text);
  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_tls_security_level", "may").ok());
  ASSERT_TRUE(doc.setOption({"relay", "unix"}, "syslog_name", "postfix/relay").ok());
  std::string expected = text;
  const std::string smtp = "smtp      inet  n       -       y       -       -       smtpd\n";
  expected.insert(expected.find(smtp) + smtp.size(), "  -o smtpd_tls_security_level=may\n");
  const std::string relay = "-o syslog_name=postfix/$service_name";
  expected.replace(expected.find(relay), relay.size(), "-o syslog_name=postfix/relay");
  EXPECT_EQ(doc.serialize(), expected);
}

}  // namespace
}  // namespace postwarden::agent::postfix
