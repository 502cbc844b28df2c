// End-to-end: main.cf as operators keep it. A main.cf managed elsewhere and symlinked into
// the Postfix directory stays a symlink when the real postwarden-agent applies a baseline (the
// target gets the new bytes, Postfix reads them); a target or directory a non-root user could
// change is a finding in `plan` and apply refuses to write over it (exit 1, nothing changed).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/os/process_command_runner.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ConfigFilesE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    state_dir_ = sandbox().dir() + "/agent-state";
    // Config managed elsewhere: main.cf lives in its own directory and is linked back.
    target_dir_ = sandbox().dir() + "/srv-config";
    target_ = target_dir_ + "/main.cf";
    ASSERT_EQ(::mkdir(target_dir_.c_str(), 0755), 0);
    ASSERT_EQ(::chmod(target_dir_.c_str(), 0755), 0);
    ASSERT_EQ(::rename(sandbox().mainCfPath().c_str(), target_.c_str()), 0);
    ASSERT_EQ(::symlink(target_.c_str(), sandbox().mainCfPath().c_str()), 0);
  }

  CommandResult agent(std::vector<std::string> args) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir(), "--role",
                             "smtp=" + std::to_string(sandbox().port())});
    return runProgram(argv, std::chrono::seconds(90), {}, &last_output_);
  }

  CommandResult apply(std::vector<std::string> extra = {}, const std::string& policy = kHardening) {
    std::vector<std::string> args = {"apply",    "--policy",          policy, "--state-dir",
                                     state_dir_, "--verify-deadline", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args);
  }

  CommandResult plan() { return agent({"plan", "--policy", kHardening}); }

  std::string postconfN() {
    os::ProcessCommandRunner runner;
    Result<CommandResult> result =
        runner.run({.argv = {"postconf", "-c", sandbox().configDir(), "-n"},
                    .timeout = std::chrono::seconds(30)});
    EXPECT_TRUE(result.ok() && result->exit_code == 0);
    return result.ok() ? result->stdout_data : "";
  }

  // main.cf is still the symlink the operator made, to the same target.
  void expectStillLinked() {
    std::error_code error;
    EXPECT_TRUE(fs::is_symlink(sandbox().mainCfPath(), error)) << "main.cf was replaced";
    EXPECT_EQ(fs::read_symlink(sandbox().mainCfPath(), error).string(), target_);
  }

  // Nothing was written: same bytes, still linked, no backup, no journal.
  void expectNothingWritten(const std::string& before) {
    EXPECT_EQ(readFileText(target_), before);
    expectStillLinked();
    EXPECT_FALSE(fs::exists(state_dir_ + "/backups") && !fs::is_empty(state_dir_ + "/backups"))
        << "a refused apply keeps no backup";
    EXPECT_FALSE(fs::exists(state_dir_ + "/journal"));
    EXPECT_FALSE(contains(postconfN(), "smtpd_tls_auth_only = yes"));
  }

  std::string state_dir_;
  std::string target_dir_;
  std::string target_;
  std::string last_output_;
};

TEST_F(ConfigFilesE2eTest, ApplyThroughASymlinkKeepsTheLinkAndWritesItsTarget) {
  CommandResult planned = plan();
  EXPECT_EQ(planned.exit_code, 2) << last_output_;
  EXPECT_FALSE(contains(planned.stdout_data, "warning:")) << last_output_;

  CommandResult r = apply();

  ASSERT_EQ(r.exit_code, 0) << last_output_;
  EXPECT_TRUE(contains(r.stdout_data, "result: repaired")) << last_output_;
  expectStillLinked();
  EXPECT_TRUE(contains(readFileText(target_), "smtpd_tls_auth_only = yes"));
  struct stat st {};
  ASSERT_EQ(::stat(target_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_uid, 0u);
  // No temp file left beside the link or the target.
  for (const std::string& dir : {sandbox().configDir(), target_dir_}) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      EXPECT_FALSE(contains(entry.path().filename().string(), ".pw-tmp-")) << entry.path();
    }
  }
  EXPECT_TRUE(contains(postconfN(), "smtpd_tls_auth_only = yes"));
  EXPECT_EQ(plan().exit_code, 0) << last_output_;
}

TEST_F(ConfigFilesE2eTest, RollbackThroughSymlinksRestoresTheTargetsAndKeepsTheLinks) {
  // master.cf is linked too, through a relative link.
  const std::string master_target = target_dir_ + "/master.cf";
  const std::string master_link = sandbox().configDir() + "/master.cf";
  ASSERT_EQ(::rename(master_link.c_str(), master_target.c_str()), 0);
  ASSERT_EQ(::symlink("../srv-config/master.cf", master_link.c_str()), 0);
  // Valid syntax that kills every smtpd here (there is no Dovecot): applied, then rolled back.
  std::string policy = readFileText(kHardening);
  const size_t set = policy.find("  set:\n");
  ASSERT_NE(set, std::string::npos);
  policy.insert(set + 7, "    smtpd_sasl_type: dovecot\n");
  const std::string policy_path = sandbox().dir() + "/dovecot.yaml";
  std::ofstream(policy_path) << policy;
  const std::string before = readFileText(target_);

  CommandResult r = apply({}, policy_path);

  EXPECT_EQ(r.exit_code, 3) << last_output_;
  EXPECT_TRUE(contains(r.stdout_data, "result: rolled_back")) << last_output_;
  expectStillLinked();
  EXPECT_EQ(readFileText(target_), before);
  std::error_code error;
  EXPECT_TRUE(fs::is_symlink(master_link, error));
  EXPECT_EQ(fs::read_symlink(master_link, error).string(), "../srv-config/master.cf");
  EXPECT_EQ(sandbox().ehlo().find("250"), 0u) << "the restored Postfix answers";
}

TEST_F(ConfigFilesE2eTest, GroupWritableTargetIsAPlanFindingAndApplyRefuses) {
  ASSERT_EQ(::chmod(target_.c_str(), 0664), 0);
  const std::string before = readFileText(target_);
  const std::string finding = "group or other writable: '" + target_ + "' (mode 0664)";

  CommandResult planned = plan();
  EXPECT_EQ(planned.exit_code, 1) << last_output_;
  EXPECT_TRUE(contains(planned.stdout_data, "warning: '" + sandbox().mainCfPath() +
                                                "' (symlink to '" + target_ + "'): " + finding))
      << last_output_;
  EXPECT_TRUE(contains(planned.stderr_data, "apply would refuse")) << last_output_;

  CommandResult r = apply();
  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_TRUE(contains(r.stderr_data, finding)) << last_output_;
  EXPECT_TRUE(contains(r.stderr_data, "nothing written")) << last_output_;
  expectNothingWritten(before);

  CommandResult offline = apply({"--offline"});
  EXPECT_EQ(offline.exit_code, 1) << last_output_;
  EXPECT_TRUE(contains(offline.stderr_data, finding)) << last_output_;
  expectNothingWritten(before);
}

TEST_F(ConfigFilesE2eTest, TargetDirectoryOwnedByNobodyIsRefused) {
  ASSERT_EQ(::chown(target_dir_.c_str(), 65534, 65534), 0);
  const std::string before = readFileText(target_);

  CommandResult r = apply();

  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_TRUE(
      contains(r.stderr_data, "not owned by root: directory '" + target_dir_ + "' (uid 65534)"))
      << last_output_;
  expectNothingWritten(before);
}

}  // namespace
}  // namespace postwarden::testing
