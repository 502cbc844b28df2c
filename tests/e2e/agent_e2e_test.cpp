// End-to-end: the real postwarden-agent binary against a real, isolated Postfix instance
// (script/postfix-sandbox): plan, apply with reload/restart, the loopback probe with a real
// STARTTLS handshake, automatic rollback, kill -9 recovery, timeouts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/verify/smtp_prober.h"
#include "common/os/file_lock.h"
#include "common/os/process_command_runner.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

class AgentE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    state_dir_ = sandbox().dir() + "/agent-state";
    policy_dir_ = sandbox().dir() + "/policies";
    fs::create_directories(policy_dir_);
  }

  // Runs the agent with `args` plus --postfix-dir/--role for the sandbox.
  CommandResult agent(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                      bool target_options = true) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    if (target_options) {
      argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir(), "--role",
                               "smtp=" + std::to_string(sandbox().port())});
    }
    return runProgram(argv, std::chrono::seconds(90), env, &last_output_);
  }

  CommandResult apply(const std::string& policy, std::vector<std::string> extra = {},
                      std::map<std::string, std::string> env = {}) {
    std::vector<std::string> args = {"apply",    "--policy",          policy, "--state-dir",
                                     state_dir_, "--verify-deadline", "8"};
    args.insert(args.end(), extra.begin(), extra.end());
    return agent(args, env);
  }

  // A policy file in the sandbox: the hardening baseline plus `extra_main_cf` settings.
  std::string policyWith(const std::string& name, const std::string& extra_main_cf) {
    std::string text = readFileText(kHardening);
    size_t set = text.find("  set:\n");
    EXPECT_NE(set, std::string::npos);
    text.insert(set + 7, extra_main_cf);
    std::string path = policy_dir_ + "/" + name + ".yaml";
    writeFileText(path, text);
    return path;
  }

  agent::verify::ProbeResult probe(const std::string& host = "127.0.0.1") {
    agent::verify::ProbeTarget target;
    target.host = host;
    target.port = static_cast<uint16_t>(sandbox().port());
    target.login = agent::verify::Credentials{sandbox().saslUser(), sandbox().saslPassword()};
    return agent::verify::SocketSmtpProber().probe(target);
  }

  static bool offersAuth(const agent::verify::Capabilities& caps, const std::string& mech) {
    return std::find(caps.auth_mechanisms.begin(), caps.auth_mechanisms.end(), mech) !=
           caps.auth_mechanisms.end();
  }

  // The baseline's expectations hold on the wire and the test credential logs in.
  void expectHardened(const std::string& host = "127.0.0.1") {
    agent::verify::ProbeResult r = probe(host);
    ASSERT_TRUE(r.connected) << r.failure;
    EXPECT_TRUE(r.before_tls.auth_mechanisms.empty()) << last_output_;
    EXPECT_TRUE(r.tls_established) << r.tls_error;
    EXPECT_TRUE(offersAuth(r.after_tls, "PLAIN"));
    EXPECT_TRUE(offersAuth(r.after_tls, "LOGIN"));
    EXPECT_EQ(r.login_succeeded, true);
    EXPECT_EQ(r.plain_auth_before_tls_refused, true);
  }

  // The service answers: banner, EHLO, and STARTTLS works when offered.
  void expectHealthy() {
    agent::verify::ProbeResult r = probe();
    EXPECT_TRUE(r.connected && r.banner_code == 220 && r.failure.empty()) << r.failure;
    if (r.starttls_offered) {
      EXPECT_TRUE(r.tls_established) << r.tls_error;
    }
  }

  bool journalExists() const { return fs::exists(state_dir_ + "/journal"); }

  std::string state_dir_;
  std::string policy_dir_;
  std::string last_output_;
};

TEST_F(AgentE2eTest, PlanShowsPendingChangesAndChangesNothing) {
  std::string before = readFileText(sandbox().mainCfPath());
  CommandResult r = agent({"plan", "--policy", kHardening});
  EXPECT_EQ(r.exit_code, 2) << last_output_;
  EXPECT_NE(r.stdout_data.find("smtpd_tls_auth_only: (unset) -> yes"), std::string::npos);
  EXPECT_NE(r.stdout_data.find("+smtpd_tls_auth_only = yes"), std::string::npos);
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);

  CommandResult json = agent({"plan", "--policy", kHardening, "--format", "json"});
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_NE(json.stdout_data.find("\"compliant\": false"), std::string::npos) << json.stdout_data;
  EXPECT_NE(json.stdout_data.find("\"parameter\": \"smtpd_tls_auth_only\""), std::string::npos);
}

TEST_F(AgentE2eTest, NonCompliantInstanceBecomesCompliantAndSecondApplyChangesNothing) {
  agent::verify::ProbeResult before = probe();
  ASSERT_TRUE(offersAuth(before.before_tls, "PLAIN")) << "the sandbox should start vulnerable";
  ASSERT_TRUE(offersAuth(before.before_tls, "LOGIN"));

  CommandResult r = apply(kHardening);
  ASSERT_EQ(r.exit_code, 0) << last_output_;
  EXPECT_NE(r.stdout_data.find("reload: ok"), std::string::npos) << last_output_;
  EXPECT_NE(r.stdout_data.find("result: repaired"), std::string::npos) << last_output_;
  expectHardened();
  EXPECT_FALSE(journalExists());

  struct stat first {};
  ASSERT_EQ(stat(sandbox().mainCfPath().c_str(), &first), 0);
  std::string bytes = readFileText(sandbox().mainCfPath());
  CommandResult again = apply(kHardening);
  EXPECT_EQ(again.exit_code, 0) << last_output_;
  EXPECT_NE(again.stdout_data.find("result: kept"), std::string::npos) << last_output_;
  EXPECT_EQ(again.stdout_data.find("reload"), std::string::npos) << "no reload when compliant";
  struct stat second {};
  ASSERT_EQ(stat(sandbox().mainCfPath().c_str(), &second), 0);
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), bytes);
  EXPECT_EQ(first.st_mtim.tv_sec, second.st_mtim.tv_sec);
  EXPECT_EQ(first.st_mtim.tv_nsec, second.st_mtim.tv_nsec);
  EXPECT_EQ(first.st_ino, second.st_ino);
}

TEST_F(AgentE2eTest, StoppedPostfixIsRefusedAndStaysStopped) {
  ASSERT_TRUE(sandbox().stop().ok());
  const std::string before = readFileText(sandbox().mainCfPath());
  CommandResult r = apply(kHardening);
  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_NE(r.stderr_data.find("is not running"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  EXPECT_FALSE(sandbox().masterPid().ok()) << "the agent must not start a stopped Postfix";
  EXPECT_FALSE(probe().connected);
}

TEST_F(AgentE2eTest, SecondAgentIsRefusedWhileTheLockIsHeld) {
  fs::create_directories(state_dir_);
  Result<os::FileLock> held = os::FileLock::acquire(state_dir_ + "/lock");
  ASSERT_TRUE(held.ok()) << held.status().toString();
  const std::string before = readFileText(sandbox().mainCfPath());
  CommandResult r = apply(kHardening);
  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_NE(r.stderr_data.find("holds"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
}

TEST_F(AgentE2eTest, JsonReportOfAnApplyNamesOutcomeStepsAndProbe) {
  CommandResult r = apply(kHardening, {"--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << last_output_;
  const std::string& json = r.stdout_data;
  EXPECT_EQ(json.front(), '{') << json;
  EXPECT_NE(json.find("\"outcome\": \"repaired\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\": \"reload\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"tls_established\": true"), std::string::npos) << json;
  EXPECT_EQ(json.find("applying:"), std::string::npos) << "no text mixed into the JSON";
}

TEST_F(AgentE2eTest, DryRunChangesNothingNotEvenTheStateDirectory) {
  const std::string before = readFileText(sandbox().mainCfPath());
  CommandResult r = apply(kHardening, {"--dry-run"});
  EXPECT_EQ(r.exit_code, 2) << last_output_;  // like plan: changes pending
  EXPECT_NE(r.stdout_data.find("dry run: would apply, then reload"), std::string::npos)
      << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  EXPECT_FALSE(fs::exists(state_dir_));
  EXPECT_TRUE(offersAuth(probe().before_tls, "PLAIN")) << "still the old configuration";
}

TEST_F(AgentE2eTest, RawAuthPlainBeforeStarttlsIsRefusedAfterBaseline) {
  ASSERT_EQ(apply(kHardening).exit_code, 0) << last_output_;
  // By hand, as an attacker would: AUTH PLAIN with the real credential, in clear.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(sandbox().port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // Reads one whole reply: up to a line "NNN text" (a space after the code ends it).
  auto readReply = [&] {
    std::string reply;
    char buf[4096];
    while (true) {
      size_t last_start = reply.rfind('\n', reply.size() >= 2 ? reply.size() - 2 : 0);
      last_start = last_start == std::string::npos ? 0 : last_start + 1;
      if (!reply.empty() && reply.back() == '\n' && reply.size() - last_start > 3 &&
          reply[last_start + 3] == ' ') {
        return reply;
      }
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return reply;
      reply.append(buf, static_cast<size_t>(n));
    }
  };
  readReply();  // banner
  std::string ehlo = "EHLO attacker.test\r\n";
  ASSERT_EQ(write(fd, ehlo.data(), ehlo.size()), static_cast<ssize_t>(ehlo.size()));
  readReply();
  std::string credential =
      std::string("\0", 1) + sandbox().saslUser() + std::string("\0", 1) + sandbox().saslPassword();
  // base64 of the credential
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  for (size_t i = 0; i < credential.size(); i += 3) {
    uint32_t n = static_cast<uint8_t>(credential[i]) << 16;
    if (i + 1 < credential.size()) n |= static_cast<uint8_t>(credential[i + 1]) << 8;
    if (i + 2 < credential.size()) n |= static_cast<uint8_t>(credential[i + 2]);
    b64 += kAlphabet[(n >> 18) & 63];
    b64 += kAlphabet[(n >> 12) & 63];
    b64 += i + 1 < credential.size() ? kAlphabet[(n >> 6) & 63] : '=';
    b64 += i + 2 < credential.size() ? kAlphabet[n & 63] : '=';
  }
  std::string auth = "AUTH PLAIN " + b64 + "\r\n";
  ASSERT_EQ(write(fd, auth.data(), auth.size()), static_cast<ssize_t>(auth.size()));
  std::string reply = readReply();
  close(fd);
  ASSERT_GE(reply.size(), 3u);
  EXPECT_EQ(reply[0], '5') << "AUTH PLAIN in clear must be refused, got: " << reply;
}

TEST_F(AgentE2eTest, WeakCertificateThatPostfixCannotLoadIsRolledBack) {
  // A 512-bit RSA certificate parses, matches its key and has not expired, so no pre-flight
  // catches it; OpenSSL's security level makes smtpd refuse to load it ("ee key too small"),
  // and STARTTLS then fails.
  std::string cert = sandbox().dir() + "/weak-cert.pem";
  std::string key = sandbox().dir() + "/weak-key.pem";
  os::ProcessCommandRunner runner;
  Result<CommandResult> made =
      runner.run({.argv = {"openssl", "req", "-x509", "-newkey", "rsa:512", "-nodes", "-days", "2",
                           "-subj", "/CN=weak.test", "-keyout", key, "-out", cert},
                  .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(made.ok() && made->exit_code == 0);
  std::string policy = policyWith(
      "weak-cert", "    smtpd_tls_cert_file: " + cert + "\n    smtpd_tls_key_file: " + key + "\n");
  std::string before = readFileText(sandbox().mainCfPath());

  CommandResult r = apply(policy);
  EXPECT_EQ(r.exit_code, 3) << last_output_;
  EXPECT_NE(r.stdout_data.find("result: rolled_back"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  EXPECT_FALSE(journalExists());
  expectHealthy();
}

TEST_F(AgentE2eTest, SaslBackendMissingOnThisHostIsRolledBack) {
  // Valid Postfix syntax that validation cannot know is wrong here: there is no Dovecot, so
  // every smtpd dies at its first connection ("fatal: no SASL authentication mechanisms").
  std::string policy = policyWith("dovecot", "    smtpd_sasl_type: dovecot\n");
  std::string before = readFileText(sandbox().mainCfPath());

  CommandResult r = apply(policy);
  EXPECT_EQ(r.exit_code, 3) << last_output_;
  EXPECT_NE(r.stdout_data.find("result: rolled_back"), std::string::npos) << last_output_;
  EXPECT_NE(r.stdout_data.find("Postfix log:"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  expectHealthy();

  // The previous, working state is back: AUTH in clear as before (the host was vulnerable).
  agent::verify::ProbeResult after = probe();
  EXPECT_TRUE(offersAuth(after.before_tls, "PLAIN"));
}

TEST_F(AgentE2eTest, CertificateThatIsNotACertificateIsRefusedBeforeAnyChange) {
  std::string bogus = sandbox().dir() + "/not-a-cert.pem";
  writeFileText(bogus, "this is not a certificate\n");
  std::string policy = policyWith("bogus-cert", "    smtpd_tls_cert_file: " + bogus + "\n");
  std::string before = readFileText(sandbox().mainCfPath());
  CommandResult r = apply(policy);
  EXPECT_EQ(r.exit_code, 1) << last_output_;
  EXPECT_NE(last_output_.find("not-a-cert.pem"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  expectHealthy();
}

TEST_F(AgentE2eTest, RestartOnlyChangeStopsAndStartsAndProbeSeesNewListener) {
  // A new listener in master.cf is a restart-only change: the baseline adds one on a second
  // free port, and its verify entry probes it there.
  int port = 0;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    close(fd);
  }
  const std::string listener = "127.0.0.1:" + std::to_string(port);
  std::string text = readFileText(kHardening);
  text += "\nmaster.cf:\n  - service: \"" + listener + "\"\n    command: smtpd\n";
  size_t verify = text.find("  - service: smtp\n");
  ASSERT_NE(verify, std::string::npos) << text;
  text.replace(verify, 18, "  - service: \"" + listener + "\"\n");
  std::string policy = policy_dir_ + "/listener.yaml";
  writeFileText(policy, text);

  CommandResult r = apply(policy);
  ASSERT_EQ(r.exit_code, 0) << last_output_;
  EXPECT_NE(r.stdout_data.find("restart: ok"), std::string::npos) << last_output_;
  EXPECT_EQ(r.stdout_data.find("reload: ok"), std::string::npos) << last_output_;
  EXPECT_NE(r.stdout_data.find("probe " + listener + ": pass"), std::string::npos) << last_output_;
  agent::verify::ProbeTarget target;
  target.port = static_cast<uint16_t>(port);
  agent::verify::ProbeResult fresh = agent::verify::SocketSmtpProber().probe(target);
  EXPECT_TRUE(fresh.connected && fresh.banner_code == 220) << fresh.failure;
  EXPECT_TRUE(fresh.before_tls.auth_mechanisms.empty());
  expectHardened();
}

class AgentCrashTest : public AgentE2eTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(AgentCrashTest, KillAtStepThenNormalRunLeavesWholeConfigAndGreenService) {
  const std::string old_main = readFileText(sandbox().mainCfPath());
  CommandResult crashed = apply(kHardening, {}, {{"POSTWARDEN_TEST_CRASH_AT", GetParam()}});
  EXPECT_EQ(crashed.exit_code, -1) << "killed by SIGKILL at " << GetParam() << "\n" << last_output_;

  // Whatever the step, main.cf is one whole version, never a mix.
  std::string after_crash = readFileText(sandbox().mainCfPath());
  bool old_version = after_crash == old_main;
  bool new_version = after_crash.find("smtpd_tls_auth_only = yes") != std::string::npos;
  EXPECT_TRUE(old_version || new_version) << after_crash;

  CommandResult r = apply(kHardening);
  EXPECT_EQ(r.exit_code, 0) << last_output_;
  if (std::string(GetParam()) != "journaled") {
    EXPECT_NE(r.stdout_data.find("recovered an interrupted change"), std::string::npos)
        << last_output_;
  }
  EXPECT_FALSE(journalExists());
  expectHardened();
  for (const auto& entry : fs::directory_iterator(sandbox().configDir())) {
    EXPECT_EQ(entry.path().filename().string().find(".pw-tmp-"), std::string::npos)
        << "leftover temp file " << entry.path();
  }
}

INSTANTIATE_TEST_SUITE_P(EveryStep, AgentCrashTest,
                         ::testing::Values("journaled", "swapped", "activated", "verified"));

TEST_F(AgentE2eTest, KillDuringRollbackThenNormalRunRestoresWorkingService) {
  std::string policy = policyWith("dovecot", "    smtpd_sasl_type: dovecot\n");
  const std::string old_main = readFileText(sandbox().mainCfPath());
  CommandResult crashed = apply(policy, {}, {{"POSTWARDEN_TEST_CRASH_AT", "rolling_back"}});
  EXPECT_EQ(crashed.exit_code, -1) << last_output_;
  EXPECT_TRUE(journalExists());

  CommandResult r = apply(policy);  // recovers (rolls back), then tries again: rolled back
  EXPECT_NE(r.stdout_data.find("recovered an interrupted change: rolled_back"), std::string::npos)
      << last_output_;
  EXPECT_EQ(r.exit_code, 3) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), old_main);
  expectHealthy();
}

TEST_F(AgentE2eTest, HungReloadCommandTimesOutAndHostNeedsHuman) {
  CommandResult r = apply(kHardening, {"--service", "command", "--reload-command", "sleep 60",
                                       "--command-timeout", "1"});
  // The reload hangs; so does the reload of the rollback: nobody can say Postfix runs the
  // restored files, so the host is held for a human.
  EXPECT_EQ(r.exit_code, 4) << last_output_;
  EXPECT_NE(last_output_.find("timed out"), std::string::npos) << last_output_;
  EXPECT_TRUE(fs::exists(state_dir_ + "/needs-human"));

  CommandResult held = apply(kHardening);
  EXPECT_EQ(held.exit_code, 4) << last_output_;
  EXPECT_NE(last_output_.find("needs-human"), std::string::npos) << last_output_;

  CommandResult cleared = agent({"clear", "--state-dir", state_dir_}, {}, false);
  EXPECT_EQ(cleared.exit_code, 0) << last_output_;
  CommandResult r2 = apply(kHardening);
  EXPECT_EQ(r2.exit_code, 0) << last_output_;
  expectHardened();
}

TEST_F(AgentE2eTest, TarPittingListenerEndsVerifyWithinTimeout) {
  // A listener that accepts and never says a word.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string target = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  auto start = std::chrono::steady_clock::now();
  CommandResult r = agent(
      {"verify", "--policy", kHardening, "--probe", target, "--probe-timeout", "2"}, {}, false);
  auto elapsed = std::chrono::steady_clock::now() - start;
  close(listener);
  EXPECT_EQ(r.exit_code, 2) << last_output_;
  EXPECT_NE(last_output_.find("timed out"), std::string::npos) << last_output_;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST_F(AgentE2eTest, VerifyAndScanReportBeforeAndAfter) {
  std::string target = "127.0.0.1:" + std::to_string(sandbox().port());
  CommandResult scan = agent({"scan", target}, {}, false);
  EXPECT_EQ(scan.exit_code, 2) << last_output_;
  EXPECT_NE(scan.stdout_data.find("54582"), std::string::npos) << last_output_;
  EXPECT_EQ(agent({"verify", "--policy", kHardening}).exit_code, 2) << last_output_;

  ASSERT_EQ(apply(kHardening).exit_code, 0) << last_output_;
  std::string password_file = sandbox().dir() + "/probe-password";
  writeFileText(password_file, sandbox().saslPassword() + "\n");
  CommandResult verify = agent({"verify", "--policy", kHardening, "--probe-login",
                                sandbox().saslUser(), "--probe-password-file", password_file,
                                "--probe-mail-to", "postmaster@" + sandbox().hostname()});
  EXPECT_EQ(verify.exit_code, 0) << last_output_;
  EXPECT_EQ(last_output_.find(sandbox().saslPassword()), std::string::npos)
      << "the password must never be printed";
  // The hardening closes Nessus 54582; scan still fails on the findings the other baselines
  // close (VRFY, TLS 1.0/1.1, anonymous suites: baseline_library_e2e_test), not on this one.
  CommandResult rescan = agent({"scan", target}, {}, false);
  EXPECT_NE(rescan.stdout_data.find("PASS  No AUTH offered before STARTTLS"), std::string::npos)
      << last_output_;
  EXPECT_NE(rescan.stdout_data.find("PASS  Cleartext AUTH PLAIN attempt refused"),
            std::string::npos)
      << last_output_;
  EXPECT_EQ(rescan.stdout_data.find("FAIL  Cleartext"), std::string::npos) << last_output_;
}

TEST_F(AgentE2eTest, OfflineApplyWritesWhatPostconfReadsBack) {
  CommandResult r = apply(kHardening, {"--offline"});
  ASSERT_EQ(r.exit_code, 0) << last_output_;
  os::ProcessCommandRunner runner;
  Result<CommandResult> postconf =
      runner.run({.argv = {"postconf", "-c", sandbox().configDir(), "-h", "smtpd_tls_auth_only",
                           "smtpd_sasl_security_options", "smtpd_sasl_tls_security_options",
                           "smtpd_tls_security_level"},
                  .timeout = std::chrono::seconds(30)});
  ASSERT_TRUE(postconf.ok());
  EXPECT_EQ(postconf->stdout_data, "yes\nnoanonymous, noplaintext\nnoanonymous\nmay\n");
  EXPECT_EQ(agent({"plan", "--policy", kHardening}).exit_code, 0) << last_output_;
}

TEST_F(AgentE2eTest, BadPolicyIsRefusedWithLocationAndNothingWritten) {
  const std::string before = readFileText(sandbox().mainCfPath());
  struct Case {
    std::string name;
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"typo", "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_auth_onyl: \"yes\"\n",
       "smtpd_tls_auth_only"},
      {"sasl",
       "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_sasl_security_options: "
       "noanonymous, noplaintxt\n",
       "noplaintxt"},
      {"malformed", "name: x\nversion: \"1\"\nmain.cf: [\n", "malformed.bad.yaml:4:1:"},
      {"newline", "name: x\nversion: \"1\"\nmain.cf:\n  set:\n    myhostname: \"a\\nb\"\n",
       "myhostname"},
  };
  for (const Case& c : cases) {
    std::string path = policy_dir_ + "/" + c.name + ".bad.yaml";
    writeFileText(path, c.text);
    CommandResult r = apply(path);
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << last_output_;
    EXPECT_NE(r.stderr_data.find(c.expected), std::string::npos) << c.name << ": " << last_output_;
    EXPECT_NE(r.stderr_data.find(c.name + ".bad.yaml"), std::string::npos) << last_output_;
    EXPECT_EQ(readFileText(sandbox().mainCfPath()), before) << c.name;
  }
}

// A port 25 without SASL (Debian's default) cannot leak a password: the shipped baseline
// applies there and proves STARTTLS, while a baseline that insists on AUTH after TLS is
// refused by plan before anything is written, instead of being applied and rolled back.
TEST_F(AgentE2eTest, HostWithoutSaslOnPort25GetsTlsAndPlanRefusesAnAuthRequirement) {
  ASSERT_TRUE(sandbox().postconf({"smtpd_sasl_auth_enable=no"}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  std::string strict = readFileText(kHardening);
  const std::string condition = "    require_auth_after_tls_where: sasl_enabled\n";
  ASSERT_NE(strict.find(condition), std::string::npos);
  strict.erase(strict.find(condition), condition.size());
  const std::string strict_path = policy_dir_ + "/strict.yaml";
  writeFileText(strict_path, strict);
  const std::string before = readFileText(sandbox().mainCfPath());

  CommandResult planned = agent({"plan", "--policy", strict_path});
  EXPECT_EQ(planned.exit_code, 1) << last_output_;
  EXPECT_NE(last_output_.find("smtpd_sasl_auth_enable is 'no'"), std::string::npos) << last_output_;
  CommandResult refused = apply(strict_path);
  EXPECT_EQ(refused.exit_code, 1) << last_output_;
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), before);
  EXPECT_FALSE(journalExists());

  CommandResult applied = apply(kHardening);
  EXPECT_EQ(applied.exit_code, 0) << last_output_;
  agent::verify::ProbeResult r = probe();
  ASSERT_TRUE(r.connected) << r.failure;
  EXPECT_TRUE(r.tls_established) << r.tls_error;
  EXPECT_TRUE(r.before_tls.auth_mechanisms.empty());
  EXPECT_TRUE(r.after_tls.auth_mechanisms.empty());
  EXPECT_EQ(agent({"plan", "--policy", kHardening}).exit_code, 0) << last_output_;
}

// A script gets a parseable answer for every outcome: an error before any report is an
// ErrorReport on stdout (the text stays on stderr), for plan, verify and apply alike.
TEST_F(AgentE2eTest, PlanVerifyAndApplyInJsonPrintAnErrorObjectOnStdout) {
  const std::string path = policy_dir_ + "/malformed.bad.yaml";
  writeFileText(path, "name: x\nversion: \"1\"\nmain.cf: [\n");
  for (const std::string command : {"plan", "verify", "apply"}) {
    std::vector<std::string> args = {command, "--policy", path, "--format", "json"};
    if (command == "apply") args.insert(args.end(), {"--state-dir", state_dir_});
    CommandResult r = agent(args);
    EXPECT_EQ(r.exit_code, 1) << command << ": " << last_output_;
    EXPECT_EQ(r.stdout_data.rfind("{", 0), 0u) << command << ": " << r.stdout_data;
    EXPECT_NE(r.stdout_data.find("\"code\": \"INVALID_ARGUMENT\""), std::string::npos)
        << r.stdout_data;
    EXPECT_NE(r.stdout_data.find("malformed.bad.yaml:4:1:"), std::string::npos) << r.stdout_data;
    EXPECT_NE(r.stderr_data.find("error: "), std::string::npos) << r.stderr_data;
  }
}

// --offline keeps every safety step but the status step, the reload and the probe: with
// Postfix stopped, a candidate Postfix refuses is refused before anything is written, whether
// Postfix's global parameter checks (postmap) or only the full `postfix check` find it, and
// a good change is journaled, backed up and swapped, and takes effect once Postfix starts.
TEST_F(AgentE2eTest, OfflineApplyToAStoppedPostfixRefusesWhatPostfixRefuses) {
  ASSERT_TRUE(sandbox().stop().ok());
  const std::string before = readFileText(sandbox().mainCfPath());
  struct Case {
    std::string name;
    std::string setting;   // passes the baseline validator
    std::string expected;  // in the refusal
  };
  const std::vector<Case> cases = {
      // mail_params_init() refuses it: every Postfix program would die at start.
      {"privs", "    default_privs: postwarden-no-such-user\n",
       "parameter default_privs: unknown user name value: postwarden-no-such-user"},
      {"owner", "    mail_owner: postwarden-no-such-user\n",
       "parameter mail_owner: unknown user name value: postwarden-no-such-user"},
      // Only `postfix check` finds it (postconf and postmap do not look at directories).
      {"queue", "    queue_directory: " + sandbox().dir() + "/no-such-queue\n",
       "postfix -c " + state_dir_ + "/stage check"},
  };
  for (const Case& c : cases) {
    CommandResult r = apply(policyWith(c.name, c.setting), {"--offline"});
    EXPECT_EQ(r.exit_code, 1) << c.name << ": " << last_output_;
    EXPECT_NE(r.stderr_data.find("Postfix refused the candidate configuration"), std::string::npos)
        << c.name << ": " << last_output_;
    EXPECT_NE(last_output_.find(c.expected), std::string::npos) << c.name << ": " << last_output_;
    EXPECT_EQ(readFileText(sandbox().mainCfPath()), before) << c.name;
    EXPECT_FALSE(journalExists()) << c.name;
    EXPECT_FALSE(fs::exists(state_dir_ + "/backups")) << c.name << ": nothing backed up";
  }
  EXPECT_FALSE(fs::exists(sandbox().dir() + "/no-such-queue"));

  CommandResult good = apply(kHardening, {"--offline"});
  ASSERT_EQ(good.exit_code, 0) << last_output_;
  EXPECT_NE(good.stdout_data.find("check: ok"), std::string::npos) << last_output_;
  EXPECT_NE(good.stdout_data.find("journal: ok"), std::string::npos) << last_output_;
  EXPECT_NE(good.stdout_data.find("Postfix was not reloaded"), std::string::npos) << last_output_;
  EXPECT_EQ(good.stdout_data.find("status:"), std::string::npos) << last_output_;
  EXPECT_EQ(good.stdout_data.find("verify:"), std::string::npos) << last_output_;
  EXPECT_NE(readFileText(sandbox().mainCfPath()), before);
  EXPECT_FALSE(journalExists());
  ASSERT_TRUE(fs::exists(state_dir_ + "/backups"));
  for (const fs::directory_entry& backup : fs::directory_iterator(state_dir_ + "/backups")) {
    EXPECT_EQ(readFileText(backup.path().string() + "/main.cf"), before);
  }
  EXPECT_FALSE(sandbox().masterPid().ok()) << "--offline must not start a stopped Postfix";

  ASSERT_TRUE(sandbox().restart().ok());
  expectHardened();
  CommandResult again = apply(kHardening);
  EXPECT_EQ(again.exit_code, 0) << last_output_;
  EXPECT_NE(again.stdout_data.find("result: kept"), std::string::npos) << last_output_;
}

}  // namespace
}  // namespace postwarden::testing
