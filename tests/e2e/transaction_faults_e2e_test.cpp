// End-to-end fault injection against the apply transaction: the real postwarden-agent binary
// and a real, isolated Postfix (script/postfix-sandbox). A reload command that corrupts the
// backup it would be rolled back from; a killed agent whose backup is damaged before the next
// run, and the operator's way out with `clear`; an admin's `postconf -e` loop running while
// apply starts. Each test proves what is (and is not) written to the live main.cf.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/verify/smtp_prober.h"
#include "common/os/process_command_runner.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

const std::string kSource = POSTWARDEN_SOURCE_DIR;
const std::string kAgent = POSTWARDEN_AGENT_PATH;
const std::string kHardening = kSource + "/policies/smtp-auth-hardening.yaml";
const std::string kCorruptLine = "corrupt_line_from_the_fault_injection = yes\n";

class TransactionFaultsE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    state_dir_ = sandbox().dir() + "/agent-state";
  }

  CommandResult agent(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    return runProgram(argv, std::chrono::seconds(120), env, &last_output_);
  }

  CommandResult apply(const std::string& policy, std::vector<std::string> extra = {},
                      std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {"apply",
                                     "--policy",
                                     policy,
                                     "--postfix-dir",
                                     sandbox().configDir(),
                                     "--role",
                                     "smtp=" + std::to_string(sandbox().port()),
                                     "--state-dir",
                                     state_dir_,
                                     "--verify-deadline",
                                     "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args, env);
  }

  // The hardening baseline plus one more main.cf setting.
  std::string policyWith(const std::string& name, const std::string& extra_main_cf) {
    std::string text = readFileText(kHardening);
    size_t set = text.find("  set:\n");
    EXPECT_NE(set, std::string::npos);
    text.insert(set + 7, extra_main_cf);
    std::string path = sandbox().dir() + "/" + name + ".yaml";
    writeFileText(path, text);
    return path;
  }

  // A /bin/sh script in the sandbox directory.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = sandbox().dir() + "/" + name;
    writeFileText(path, "#!/bin/sh\n" + body, 0755);
    return path;
  }

  // The backup directories the agent made, oldest first.
  std::vector<std::string> backupDirs() const {
    std::vector<std::string> dirs;
    if (!fs::exists(state_dir_ + "/backups")) return dirs;
    for (const auto& entry : fs::directory_iterator(state_dir_ + "/backups")) {
      dirs.push_back(entry.path().string());
    }
    std::sort(dirs.begin(), dirs.end());
    return dirs;
  }

  // The service answers: banner, EHLO, and STARTTLS works when offered.
  void expectHealthy() {
    agent::verify::ProbeTarget target;
    target.host = "127.0.0.1";
    target.port = static_cast<uint16_t>(sandbox().port());
    agent::verify::ProbeResult r = agent::verify::SocketSmtpProber().probe(target);
    EXPECT_TRUE(r.connected && r.banner_code == 220 && r.failure.empty()) << r.failure;
    if (r.starttls_offered) {
      EXPECT_TRUE(r.tls_established) << r.tls_error;
    }
  }

  std::string state_dir_;
  std::string last_output_;
};

TEST_F(TransactionFaultsE2eTest, ReloadCommandThatCorruptsTheBackupDoesNotGetItRestored) {
  // The fault-injection repro: the reload command appends a line to the newest backup of
  // main.cf and fails. The rollback restores only bytes that match the journal's SHA-256,
  // so the live main.cf ends up exactly as it was, not with the injected line.
  // $1: the state directory. Appends kCorruptLine to every backup of main.cf, then fails.
  const std::string reload = script("corrupting-reload", R"(for f in "$1"/backups/*/main.cf; do
  echo 'corrupt_line_from_the_fault_injection = yes' >> "$f"
done
exit 1
)");
  // $1: the configuration directory. Stops Postfix, waits until it is down, starts it.
  const std::string restart = script("restart", R"(postfix -c "$1" stop
i=0
while postfix -c "$1" status >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
exec postfix -c "$1" start
)");
  const std::string before = readFileText(sandbox().mainCfPath());

  CommandResult r =
      apply(kHardening, {"--service", "command", "--reload-command", reload + " " + state_dir_,
                         "--restart-command", restart + " " + sandbox().configDir()});

  EXPECT_EQ(r.exit_code, 3) << last_output_;
  EXPECT_NE(r.stdout_data.find("result: rolled_back"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before) << "the live main.cf must not change";
  EXPECT_EQ(readFileText(sandbox().mainCfPath()).find(kCorruptLine), std::string::npos);
  EXPECT_NE(last_output_.find("failed its check: expected SHA-256"), std::string::npos)
      << last_output_;
  // The damaged backup stays as it is, as evidence.
  std::vector<std::string> dirs = backupDirs();
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_NE(readFileText(dirs[0] + "/main.cf").find(kCorruptLine), std::string::npos);
  EXPECT_FALSE(fs::exists(state_dir_ + "/journal"));
  expectHealthy();
}

TEST_F(TransactionFaultsE2eTest, CorruptBackupAfterAKilledAgentIsRefusedThenClearLetsTheHostGo) {
  // Killed after the reload of a change that breaks smtpd (no Dovecot here); the backup is
  // damaged before the next run. That run must write nothing and hold the host for a human.
  std::string broken = policyWith("dovecot", "    smtpd_sasl_type: dovecot\n");
  const std::string old_main = readFileText(sandbox().mainCfPath());
  CommandResult crashed = apply(broken, {}, {{"POSTWARDEN_TEST_CRASH_AT", "activated"}});
  ASSERT_EQ(crashed.exit_code, -1) << "killed by SIGKILL\n" << last_output_;
  ASSERT_TRUE(fs::exists(state_dir_ + "/journal"));
  const std::string new_main = readFileText(sandbox().mainCfPath());
  ASSERT_NE(new_main.find("smtpd_sasl_type = dovecot"), std::string::npos) << new_main;
  std::vector<std::string> dirs = backupDirs();
  ASSERT_EQ(dirs.size(), 1u);
  const std::string backup_main = dirs[0] + "/main.cf";
  writeFileText(backup_main, readFileText(backup_main) + kCorruptLine, 0600);

  CommandResult refused = apply(broken);

  EXPECT_EQ(refused.exit_code, 4) << last_output_;
  EXPECT_NE(last_output_.find("backup " + backup_main + " failed its check: expected SHA-256"),
            std::string::npos)
      << last_output_;
  EXPECT_NE(last_output_.find("nothing written"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), new_main) << "nothing may be written";
  EXPECT_TRUE(fs::exists(state_dir_ + "/needs-human"));

  // The operator repairs the host by hand, checks it with Postfix, and clears.
  const std::string fixed = old_main + "# fixed by hand\n";
  writeFileText(sandbox().mainCfPath(), fixed);
  ASSERT_TRUE(sandbox().reload().ok());
  expectHealthy();
  CommandResult cleared = agent({"clear", "--state-dir", state_dir_});
  EXPECT_EQ(cleared.exit_code, 0) << last_output_;
  EXPECT_NE(cleared.stdout_data.find("cleared the needs-human state"), std::string::npos)
      << last_output_;
  EXPECT_NE(cleared.stdout_data.find("ended the interrupted change"), std::string::npos)
      << last_output_;
  EXPECT_FALSE(fs::exists(state_dir_ + "/journal"));
  EXPECT_FALSE(fs::exists(state_dir_ + "/needs-human"));
  EXPECT_TRUE(fs::exists(dirs[0] + "/journal.cleared"));

  // The old change is not resumed: the next apply starts from the operator's fix.
  CommandResult next = apply(kHardening);
  EXPECT_EQ(next.exit_code, 0) << last_output_;
  EXPECT_EQ(next.stdout_data.find("recovered an interrupted change"), std::string::npos)
      << last_output_;
  const std::string after = readFileText(sandbox().mainCfPath());
  EXPECT_NE(after.find("# fixed by hand"), std::string::npos) << after;
  EXPECT_EQ(after.find(kCorruptLine), std::string::npos) << after;
  EXPECT_EQ(after.find("smtpd_sasl_type = dovecot"), std::string::npos) << after;
  expectHealthy();
}

TEST_F(TransactionFaultsE2eTest, ApplyWhileMainCfKeepsBeingEditedStopsEarlyAndWritesNothing) {
  // An admin keeps editing main.cf (the finding used a `postconf -e` loop). Postfix's own
  // cool-down makes every postfix command wait while the file is that fresh: the agent must
  // stop before starting any, instead of waiting out its command timeout. The editor here
  // replaces main.cf every 200 ms the way postconf does (temp file, rename), after one real
  // `postconf -e`, so that the file is never quiet for the agent's 2 s look.
  const std::string conf = sandbox().configDir();
  os::ProcessCommandRunner runner;
  Result<CommandResult> edited =
      runner.run({.argv = {"postconf", "-c", conf, "-e", "message_size_limit=10240001"},
                  .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(edited.ok() && edited->exit_code == 0);
  const std::string base = readFileText(sandbox().mainCfPath());
  std::atomic<bool> stop{false};
  std::thread editor([&] {
    for (int n = 1; !stop; ++n) {
      const std::string temp = conf + "/main.cf.editing";
      writeFileText(temp, base + "# edit " + std::to_string(n) + "\n");
      fs::rename(temp, conf + "/main.cf");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      thread.join();
    }
  } joiner{stop, editor};

  const auto start = std::chrono::steady_clock::now();
  CommandResult r = apply(kHardening, {"--command-timeout", "20"});
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_NE(last_output_.find("main.cf is being edited (modified "), std::string::npos)
      << last_output_;
  EXPECT_NE(last_output_.find("retry later"), std::string::npos) << last_output_;
  EXPECT_LT(elapsed, std::chrono::seconds(10)) << last_output_;
  EXPECT_TRUE(backupDirs().empty()) << "nothing written";
  EXPECT_FALSE(fs::exists(state_dir_ + "/journal"));
  EXPECT_FALSE(fs::exists(state_dir_ + "/stage"));
  EXPECT_EQ(readFileText(sandbox().mainCfPath()).find("smtpd_tls_auth_only"), std::string::npos);
}

}  // namespace
}  // namespace postwarden::testing
