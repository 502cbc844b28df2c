// End-to-end: `postwarden-agent restore ID` on a real, isolated Postfix (script/postfix-sandbox)
// with the real binary. A backup the agent took before a change is put back and Postfix
// serves it; a backup whose bytes break the service is rolled back by the probe; and the
// refusals: an unknown id, a change in flight, no --yes without a terminal.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

class RestoreE2eTest : public PostfixSandboxFixture {
 protected:
  CommandResult agent(std::vector<std::string> args) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir(), "--state-dir", stateDir()});
    return runProgram(argv, std::chrono::seconds(120), {}, &output_);
  }
  CommandResult restore(const std::string& id, std::vector<std::string> extra = {"--yes"}) {
    std::vector<std::string> args = {"restore", id, "--verify-deadline", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args);
  }
  std::string stateDir() { return sandbox().dir() + "/agent-state"; }
  // The newest backup's id, as `backups` lists it.
  std::string newestBackup() {
    CommandResult listed = runProgram({kAgent, "backups", "--state-dir", stateDir()});
    return listed.stdout_data.substr(0, listed.stdout_data.find(' '));
  }
  // What Postfix itself reads from the live main.cf: `postconf -c DIR -n NAME`.
  std::string postconf(const std::string& name) {
    return runProgram({"postconf", "-c", sandbox().configDir(), "-n", name}).stdout_data;
  }
  std::string output_;
};

TEST_F(RestoreE2eTest, ABackupIsPutBackAndServed) {
  ASSERT_TRUE(sandbox().postconf({"smtpd_banner=$myhostname ESMTP restore-marker-one"}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  const std::string original = readFileText(sandbox().mainCfPath());
  // The hardening change takes a backup of the original main.cf.
  ASSERT_EQ(agent({"apply", "--policy", kHardening, "--role",
                   "smtp=" + std::to_string(sandbox().port()), "--verify-deadline", "8"})
                .exit_code,
            0)
      << output_;
  const std::string id = newestBackup();
  ASSERT_FALSE(id.empty()) << output_;
  ASSERT_TRUE(sandbox().postconf({"smtpd_banner=$myhostname ESMTP restore-marker-two"}).ok());
  EXPECT_NE(postconf("smtpd_tls_auth_only"), "");

  CommandResult r = restore(id);
  EXPECT_EQ(r.exit_code, 0) << output_;
  EXPECT_NE(r.stdout_data.find("+smtpd_banner = $myhostname ESMTP restore-marker-one"),
            std::string::npos)
      << "the diff is shown: " << output_;
  EXPECT_NE(r.stdout_data.find("result: restored"), std::string::npos) << output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), original);
  EXPECT_EQ(postconf("smtpd_banner"), "smtpd_banner = $myhostname ESMTP restore-marker-one\n");
  EXPECT_EQ(postconf("smtpd_tls_auth_only"), "") << "the hardening is gone again";
  // Postfix serves the restored files: AUTH offered before TLS, as before the hardening.
  Result<std::string> ehlo = sandbox().tryEhlo();
  ASSERT_TRUE(ehlo.ok()) << ehlo.status().toString();
  EXPECT_NE(ehlo->find("AUTH"), std::string::npos) << *ehlo;
  EXPECT_FALSE(fs::exists(stateDir() + "/journal"));
  // Restoring it again changes nothing; the files it replaced were backed up in turn.
  EXPECT_EQ(restore(id).exit_code, 0) << output_;
  EXPECT_NE(output_.find("nothing to restore"), std::string::npos) << output_;
  CommandResult json = restore(id, {"--yes", "--format", "json"});
  EXPECT_EQ(json.exit_code, 0) << output_;
  EXPECT_NE(json.stdout_data.find("\"outcome\": \"kept\""), std::string::npos) << output_;
  EXPECT_NE(newestBackup(), id);
}

TEST_F(RestoreE2eTest, ABackupThatBreaksTheProbeIsRolledBack) {
  // Valid Postfix syntax that breaks this host: there is no Dovecot, so every smtpd dies at
  // its first connection. postconf and postmap accept it; only the probe can tell.
  const std::string live = readFileText(sandbox().mainCfPath());
  const std::string sasl_type = postconf("smtpd_sasl_type");
  const std::string id = "20200101T000000Z-1";
  const std::string dir = stateDir() + "/backups/" + id;
  fs::create_directories(dir);
  writeFileText(dir + "/main.cf", live + "smtpd_sasl_type = dovecot\n");
  writeFileText(dir + "/master.cf", readFileText(sandbox().configDir() + "/master.cf"));

  CommandResult r = restore(id);
  EXPECT_EQ(r.exit_code, 3) << output_;
  EXPECT_NE(r.stdout_data.find("result: rolled_back"), std::string::npos) << output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), live);
  EXPECT_EQ(postconf("smtpd_sasl_type"), sasl_type);
  EXPECT_NE(sasl_type, "smtpd_sasl_type = dovecot\n");
  EXPECT_TRUE(sandbox().tryEhlo().ok());
  EXPECT_FALSE(fs::exists(stateDir() + "/journal"));
}

TEST_F(RestoreE2eTest, RefusalsChangeNothing) {
  const std::string live = readFileText(sandbox().mainCfPath());
  CommandResult unknown = restore("20200101T000000Z-9");
  EXPECT_EQ(unknown.exit_code, 1) << output_;
  EXPECT_NE(unknown.stderr_data.find("there is no backup '20200101T000000Z-9'"), std::string::npos)
      << output_;
  CommandResult unknown_json = restore("20200101T000000Z-9", {"--yes", "--format", "json"});
  EXPECT_EQ(unknown_json.exit_code, 1) << output_;
  EXPECT_NE(unknown_json.stdout_data.find("\"code\": \"NOT_FOUND\""), std::string::npos)
      << "a script gets an error object: " << output_;

  const std::string id = "20200101T000000Z-1";
  fs::create_directories(stateDir() + "/backups/" + id);
  writeFileText(stateDir() + "/backups/" + id + "/main.cf", live + "smtpd_banner = $myhostname\n");
  writeFileText(stateDir() + "/backups/" + id + "/master.cf",
                readFileText(sandbox().configDir() + "/master.cf"));
  // No terminal (the test's stdin) and no --yes: the diff, then a refusal.
  CommandResult unconfirmed = restore(id, {});
  EXPECT_EQ(unconfirmed.exit_code, 1) << output_;
  EXPECT_NE(unconfirmed.stdout_data.find("+smtpd_banner = $myhostname"), std::string::npos)
      << output_;
  EXPECT_NE(unconfirmed.stderr_data.find("give --yes to confirm"), std::string::npos) << output_;

  // A journal says a change is in flight: restore leaves it to apply's recovery.
  writeFileText(stateDir() + "/journal", "garbage that is no journal\n");
  CommandResult in_flight = restore(id);
  EXPECT_EQ(in_flight.exit_code, 1) << output_;
  EXPECT_NE(in_flight.stderr_data.find("journal"), std::string::npos) << output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), live);

  CommandResult usage = restore(id, {"--yess"});
  EXPECT_EQ(usage.exit_code, 2) << output_;
  EXPECT_NE(usage.stderr_data.find("Usage: postwarden-agent restore ID"), std::string::npos)
      << output_;
}

}  // namespace
}  // namespace postwarden::testing
