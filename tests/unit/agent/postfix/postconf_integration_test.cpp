// Integration: files written by MainCfDocument / MasterCfDocument are read back by the real
// `postconf` (Postfix's own parser), which must see exactly the values we meant. Each test
// works in its own temp directory via `postconf -c DIR`; the host's /etc/postfix is never
// read. Skipped when /usr/sbin/postconf is not installed.
//
// Note: `postconf` prints values with runs of whitespace collapsed to one space, so values
// are compared after the same normalization.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "tests/fakes/postfix_package_files.h"

extern char** environ;

namespace postwarden::agent::postfix {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPostconf = "/usr/sbin/postconf";

struct ProcessOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv (no shell) with stdout on a pipe and stderr in a file, and waits for it.
ProcessOutput runProgram(const std::vector<std::string>& argv, const std::string& stderr_path) {
  ProcessOutput result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return result;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    return result;
  }
  char buf[4096];
  while (true) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      result.out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(stderr_path, std::ios::binary);
  std::ostringstream err_text;
  err_text << err.rdbuf();
  result.err = err_text.str();
  return result;
}

// Writes `text` and backdates the file by a minute: Postfix re-reads a configuration file
// whose mtime is within the last second, pausing 300 ms each time (dict_load_file_xt()).
void writeFile(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    ASSERT_TRUE(out.good()) << path;
  }
  struct timespec times[2];
  ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &times[0]), 0);
  times[0].tv_sec -= 60;
  times[1] = times[0];
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << std::strerror(errno);
}

std::string debianFile(const std::string& name) {
  std::string text = testing::postfixPackageFile(name);
  EXPECT_FALSE(text.empty()) << name << " missing from " << testing::kPostfixPackageDir;
  return text;
}

// Postfix's whitespace, collapsed to single spaces, trimmed: how postconf prints values.
std::string normalize(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// "key = value" lines into a map (key is "name" or "service/type/name").
std::map<std::string, std::string> parseListing(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find(" = ");
    if (eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 3);
    } else if (!line.empty() && line.back() == '=') {
      out[line.substr(0, line.size() - 2)] = "";  // "name =" (empty value)
    }
  }
  return out;
}

class PostconfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kPostconf, X_OK) != 0) GTEST_SKIP() << kPostconf << " not installed";
    const char* tmp = std::getenv("TMPDIR");
    std::string templ =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/postwarden-postconf-XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr) << std::strerror(errno);
    dir_ = templ;
  }

  void TearDown() override {
    if (dir_.empty()) return;
    for (const char* f : {"main.cf", "master.cf", "stderr"}) unlink((dir_ + "/" + f).c_str());
    rmdir(dir_.c_str());
  }

  void writeConfig(const std::string& main_cf, const std::string& master_cf) {
    writeFile(dir_ + "/main.cf", main_cf);
    writeFile(dir_ + "/master.cf", master_cf);
  }

  ProcessOutput postconf(const std::vector<std::string>& flags) {
    std::vector<std::string> argv = {kPostconf, "-c", dir_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    ProcessOutput r = runProgram(argv, dir_ + "/stderr");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, Not(HasSubstr("fatal"))) << r.err;
    return r;
  }

  // Asserts that `postconf -n` shows exactly the definitions `doc` reads (known names).
  void expectPostconfReads(const MainCfDocument& doc) {
    const ProcessOutput r = postconf({"-n"});
    std::map<std::string, std::string> theirs = parseListing(r.out);
    theirs.erase("config_directory");  // added by -c
    ASSERT_FALSE(theirs.empty());
    for (const auto& [name, value] : theirs) {
      const std::optional<std::string> ours = doc.get(name);
      ASSERT_TRUE(ours.has_value()) << name;
      EXPECT_EQ(normalize(*ours), value) << name;
    }
    for (const MainCfDefinition& d : doc.definitions()) {
      EXPECT_EQ(theirs.count(d.name), 1u) << "postconf -n does not show " << d.name;
    }
  }

  std::string dir_;
};

TEST_F(PostconfTest, ReadsDebianMainCfAsWeDo) {
  const MainCfDocument doc = MainCfDocument::parse(debianFile("main.cf.dist"));
  writeConfig(doc.serialize(), debianFile("master.cf.dist"));
  expectPostconfReads(doc);
}

TEST_F(PostconfTest, ReadsEditedMainCfValues) {
  MainCfDocument doc =
      MainCfDocument::parse(debianFile("main.cf.dist") +
                            "smtpd_recipient_restrictions =\n"
                            "    permit_mynetworks,\n"
                            "# reject_rbl_client zen.spamhaus.org,\n"
                            "    reject_unauth_destination\n"
                            "mynetworks = 10.0.0.0/8\n"  // duplicate of the template's line 294
                            "smtpd_banner = first\n"
                            "biff=no");  // no final newline
  ASSERT_EQ(doc.get("smtpd_recipient_restrictions"),
            "permit_mynetworks,    reject_unauth_destination");
  // Postfix agrees on the continuation line and on which duplicate wins.
  writeConfig(doc.serialize(), debianFile("master.cf.dist"));
  expectPostconfReads(doc);

  EXPECT_TRUE(doc.set("smtpd_recipient_restrictions",
                      "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
                  .changed);
  const SetResult dup = doc.set("mynetworks", "127.0.0.0/8 [::1]/128");
  EXPECT_EQ(dup.removed_duplicate_lines, std::vector<int>{294});
  const SetResult banner = doc.set("smtpd_banner", "$myhostname ESMTP # no comment");
  EXPECT_THAT(banner.removed_duplicate_lines, ::testing::SizeIs(1));
  EXPECT_TRUE(doc.set("debugger_command", "gdb $daemon_directory/$process_name").changed);
  EXPECT_TRUE(doc.set("smtpd_tls_auth_only", "yes").changed);
  EXPECT_TRUE(doc.set("relayhost", "").changed);
  EXPECT_TRUE(doc.remove("inet_protocols"));
  writeConfig(doc.serialize(), debianFile("master.cf.dist"));

  const ProcessOutput r = postconf({"-n"});
  EXPECT_THAT(r.err, Not(HasSubstr("overriding earlier entry")));
  const std::map<std::string, std::string> theirs = parseListing(r.out);
  EXPECT_EQ(theirs.at("smtpd_recipient_restrictions"),
            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination");
  EXPECT_EQ(theirs.at("mynetworks"), "127.0.0.0/8 [::1]/128");
  EXPECT_EQ(theirs.at("smtpd_banner"), "$myhostname ESMTP # no comment");
  EXPECT_EQ(theirs.at("debugger_command"), "gdb $daemon_directory/$process_name");
  EXPECT_EQ(theirs.at("smtpd_tls_auth_only"), "yes");
  EXPECT_EQ(theirs.at("relayhost"), "");
  EXPECT_EQ(theirs.at("biff"), "no");
  EXPECT_EQ(theirs.count("inet_protocols"), 0u);
  expectPostconfReads(doc);
}

TEST_F(PostconfTest, ReadsEditedCrlfMainCf) {
  MainCfDocument doc = MainCfDocument::parse(
      "# crlf\r\nmydomain = example.com\r\nsmtpd_banner = a\r\n  b\r\nbiff = no\r\n");
  writeConfig(doc.serialize(), debianFile("master.cf.dist"));
  expectPostconfReads(doc);
  doc.set("smtpd_banner", "$myhostname ESMTP");
  doc.set("myhostname", "mail.example.com");
  EXPECT_EQ(doc.serialize(),
            "# crlf\r\nmydomain = example.com\r\nsmtpd_banner = $myhostname ESMTP\r\nbiff = "
            "no\r\nmyhostname = mail.example.com\r\n");
  writeConfig(doc.serialize(), debianFile("master.cf.dist"));
  expectPostconfReads(doc);
  EXPECT_EQ(parseListing(postconf({"-n"}).out).at("smtpd_banner"), "$myhostname ESMTP");
}

// Our view of every service's effective -o overrides, keyed like `postconf -P` output.
std::map<std::string, std::string> ourParams(const MasterCfDocument& doc) {
  std::map<std::string, std::string> out;
  for (const MasterService& s : doc.services()) {
    for (const auto& [name, value] : s.options) {
      out[s.key.toString() + "/" + name] = normalize(value);
    }
  }
  return out;
}

std::vector<std::string> ourServiceKeys(const MasterCfDocument& doc) {
  std::vector<std::string> out;
  for (const MasterService& s : doc.services()) out.push_back(s.key.name + " " + s.key.type);
  return out;
}

std::vector<std::string> theirServiceKeys(const std::string& listing) {
  std::vector<std::string> out;
  std::istringstream in(listing);
  std::string name;
  std::string type;
  std::string rest;
  while (in >> name >> type && std::getline(in, rest)) out.push_back(name + " " + type);
  return out;
}

TEST_F(PostconfTest, ReadsEditedMasterCfOptions) {
  MasterCfDocument doc = MasterCfDocument::parse(debianFile("master.cf.dist"));
  const std::string main_cf = "compatibility_level = 3.7\n";
  writeConfig(main_cf, doc.serialize());
  EXPECT_EQ(parseListing(postconf({"-P"}).out), ourParams(doc));
  EXPECT_EQ(theirServiceKeys(postconf({"-M"}).out), ourServiceKeys(doc));

  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_tls_security_level", "may").ok());
  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_banner", "$myhostname  ESMTP ready").ok());
  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_tls_auth_only", "no").ok());
  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_tls_auth_only", "yes").ok());
  ASSERT_TRUE(doc.addService({"submission", "inet"}, "smtpd").ok());
  ASSERT_TRUE(doc.setOption({"submission", "inet"}, "syslog_name", "postfix/submission").ok());
  ASSERT_TRUE(doc.setOption({"submission", "inet"}, "smtpd_tls_security_level", "encrypt").ok());
  ASSERT_TRUE(doc.setOption({"submission", "inet"}, "smtpd_client_restrictions",
                            "permit_sasl_authenticated, reject")
                  .ok());
  ASSERT_TRUE(
      doc.setOption({"maildrop", "unix"}, "maildrop_destination_recipient_limit", "1").ok());
  ASSERT_TRUE(*doc.removeOption({"relay", "unix"}, "syslog_name"));
  writeConfig(main_cf, doc.serialize());

  const std::map<std::string, std::string> theirs = parseListing(postconf({"-P"}).out);
  EXPECT_EQ(theirs, ourParams(doc));
  EXPECT_EQ(theirs.at("smtp/inet/smtpd_tls_security_level"), "may");
  EXPECT_EQ(theirs.at("smtp/inet/smtpd_banner"), "$myhostname ESMTP ready");
  EXPECT_EQ(theirs.at("smtp/inet/smtpd_tls_auth_only"), "yes");
  EXPECT_EQ(theirs.at("submission/inet/smtpd_client_restrictions"),
            "permit_sasl_authenticated, reject");
  EXPECT_EQ(theirs.at("maildrop/unix/maildrop_destination_recipient_limit"), "1");
  EXPECT_EQ(theirs.count("relay/unix/syslog_name"), 0u);
  EXPECT_EQ(theirServiceKeys(postconf({"-M"}).out), ourServiceKeys(doc));
  // The pipe command keeps its own arguments after the inserted option.
  EXPECT_THAT(postconf({"-M", "maildrop/unix"}).out,
              HasSubstr("pipe -o maildrop_destination_recipient_limit=1 flags=DRXhu user=vmail "
                        "argv=/usr/bin/maildrop -d ${recipient}"));
}

TEST_F(PostconfTest, ReadsMasterCfWithDuplicatesAndBraces) {
  MasterCfDocument doc = MasterCfDocument::parse(
      "smtp inet n - y - - smtpd\r\n"
      "  -o { smtpd_banner = a  b }\r\n"
      "  -o smtpd_tls_auth_only=no -o smtpd_tls_auth_only=yes\r\n"
      "  -o {\r\n"
      "      smtpd_client_restrictions = permit_mynetworks,\r\n"
      "      reject }\r\n"
      "pickup unix n - y 60 1 pickup");
  writeConfig("compatibility_level = 3.7\n", doc.serialize());
  EXPECT_EQ(parseListing(postconf({"-P"}).out), ourParams(doc));

  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_tls_auth_only", "yes").ok());  // no-op
  ASSERT_TRUE(doc.setOption({"smtp", "inet"}, "smtpd_client_restrictions", "reject").ok());
  ASSERT_TRUE(doc.setOption({"pickup", "unix"}, "content_filter", "").ok());
  writeConfig("compatibility_level = 3.7\n", doc.serialize());
  const std::map<std::string, std::string> theirs = parseListing(postconf({"-P"}).out);
  EXPECT_EQ(theirs, ourParams(doc));
  EXPECT_EQ(theirs.at("smtp/inet/smtpd_client_restrictions"), "reject");
  EXPECT_EQ(theirs.at("pickup/unix/content_filter"), "");
}

}  // namespace
}  // namespace postwarden::agent::postfix
