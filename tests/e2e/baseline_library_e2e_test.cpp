// End-to-end: the scanner-finding baselines (policies/tls-protocols.yaml, tls-ciphers.yaml,
// vrfy.yaml, banner.yaml, smtp-smuggling.yaml) on a real, isolated Postfix with the real
// postwarden-agent. For each: a positive control before the change (the finding is there and
// the check can see it), plan, apply, the probe on the wire, an independent tool agreeing
// (nmap ssl-enum-ciphers / smtp-commands / -sV, testssl.sh, openssl s_client, all against the
// sandbox's loopback port only), and a second plan that is clean. Programs run from argv.
// Over 400 lines on purpose: one test per baseline of the library plus the whole-library scan,
// sharing one fixture's tool helpers (nmap, testssl.sh, openssl, raw SMTP); the certificate
// and relay tests, which need their own fixtures, live in certificate_e2e_test.cpp and
// relay_e2e_test.cpp.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <regex>

#include "agent/verify/smtp_prober.h"
#include "common/os/process_command_runner.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"
#include "tests/fakes/certificate_generator.h"

namespace postwarden::testing {
namespace {

using os::CommandResult;

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

bool matches(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

class BaselineLibraryE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    // The sandbox starts without TLS; a default Debian Postfix offers STARTTLS (snakeoil).
    ASSERT_TRUE(sandbox().postconf({"smtpd_tls_security_level=may"}).ok());
    ASSERT_TRUE(sandbox().reload().ok());
  }

  std::string port() { return std::to_string(sandbox().port()); }

  // `postwarden-agent plan|apply --policy policies/<file>` against the sandbox.
  CommandResult agent(const std::string& command, const std::string& policy_file) {
    std::vector<std::string> argv = {kAgent,          command,
                                     "--policy",      kSource + "/policies/" + policy_file,
                                     "--postfix-dir", sandbox().configDir(),
                                     "--role",        "smtp=" + port()};
    if (command == "apply") {
      for (const char* a : {"--state-dir", "", "--verify-deadline", "8"}) argv.emplace_back(a);
      argv[argv.size() - 3] = sandbox().dir() + "/agent-state";
    }
    return runProgram(argv, std::chrono::seconds(90), agent_env_, &last_output_);
  }

  // Plan shows pending changes, apply repairs, a second plan is clean.
  void planApplyReplan(const std::string& policy_file) {
    CommandResult planned = agent("plan", policy_file);
    EXPECT_EQ(planned.exit_code, 2) << last_output_;
    CommandResult applied = agent("apply", policy_file);
    ASSERT_EQ(applied.exit_code, 0) << last_output_;
    EXPECT_TRUE(contains(applied.stdout_data, "result: repaired")) << last_output_;
    CommandResult again = agent("plan", policy_file);
    EXPECT_EQ(again.exit_code, 0) << last_output_;
    EXPECT_TRUE(contains(again.stdout_data, "compliant: no changes")) << last_output_;
  }

  std::string scan() {
    std::string output;
    runProgram({kAgent, "scan", "127.0.0.1:" + port()}, std::chrono::seconds(60), {}, &output);
    return output;
  }

  agent::verify::ProbeResult probe(std::vector<std::string> attempts, bool vrfy = false) {
    agent::verify::ProbeTarget target;
    target.port = static_cast<uint16_t>(sandbox().port());
    target.tls_attempts = std::move(attempts);
    target.try_vrfy = vrfy;
    return agent::verify::SocketSmtpProber().probe(target);
  }

  const agent::verify::TlsAttempt* attempt(const agent::verify::ProbeResult& result,
                                           const std::string& offered) {
    for (const auto& a : result.tls_attempts) {
      if (a.offered == offered) return &a;
    }
    ADD_FAILURE() << "no " << offered << " attempt";
    return nullptr;
  }

  // An independent tool, found in PATH (script/bootstrap installs it); a missing tool fails.
  std::string tool(const std::string& name, std::vector<std::string> args,
                   std::chrono::seconds timeout = std::chrono::seconds(120)) {
    const std::string path = internal::findProgram(name);
    EXPECT_FALSE(path.empty()) << name << " is missing: run script/bootstrap";
    if (path.empty()) return "";
    args.insert(args.begin(), path);
    std::string output;
    runProgram(args, timeout, {}, &output);
    return output;
  }

  std::string nmap(const std::string& scripts, bool version_detection = false) {
    std::vector<std::string> args = {"-Pn", "-n", "-p", port()};
    if (version_detection) args.push_back("-sV");
    if (!scripts.empty()) {
      args.push_back("--script");
      args.push_back(scripts);
    }
    args.push_back("127.0.0.1");
    return tool("nmap", args);
  }

  // testssl.sh over STARTTLS: protocols (-p) and cipher categories (-s).
  std::string testssl() {
    return tool("testssl", {"--quiet", "--color", "0", "--warnings", "batch", "--starttls", "smtp",
                            "-p", "-s", "127.0.0.1:" + port()});
  }

  // `openssl s_client -starttls smtp` offering only TLS 1.1; with `lowered_security`, the
  // client's own OpenSSL 3 floor is lowered (-cipher DEFAULT@SECLEVEL=0).
  std::string opensslTls11(bool lowered_security) {
    std::vector<std::string> args = {
        "s_client", "-brief", "-starttls", "smtp", "-connect", "127.0.0.1:" + port(), "-tls1_1"};
    if (lowered_security) {
      args.push_back("-cipher");
      args.push_back("DEFAULT@SECLEVEL=0");
    }
    os::ProcessCommandRunner runner;
    std::vector<std::string> argv = {"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = runner.run({.argv = argv, .timeout = std::chrono::seconds(20)});
    EXPECT_TRUE(result.ok());
    return result.ok() ? result->stdout_data + result->stderr_data : "";
  }

  // Sends each chunk in turn on one raw connection and returns the banner and what came back
  // after each chunk (until the server is quiet for 700 ms, or closes: "<closed>").
  std::vector<std::string> rawSmtp(const std::vector<std::string>& chunks) {
    std::vector<std::string> replies;
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd, 0);
    if (fd < 0) return replies;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(sandbox().port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ADD_FAILURE() << "connect failed";
      close(fd);
      return replies;
    }
    auto readReply = [&] {
      std::string text;
      int wait_ms = 5000;
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, wait_ms) <= 0) break;
        char buffer[4096];
        const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) {
          text += "<closed>";
          break;
        }
        text.append(buffer, static_cast<size_t>(n));
        wait_ms = 700;
      }
      return text;
    };
    replies.push_back(readReply());
    for (const std::string& chunk : chunks) {
      if (send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(chunk.size())) {
        replies.push_back("<send failed>");
        break;
      }
      replies.push_back(readReply());
    }
    close(fd);
    return replies;
  }

  // Connects, returns the first reply line (the greeting, or a 421 refusal) and hangs up.
  std::string firstReply() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "<socket failed>";
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(sandbox().port()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string line;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      pollfd p{fd, POLLIN, 0};
      char buffer[512];
      if (poll(&p, 1, 5000) > 0) {
        const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n > 0) line.assign(buffer, static_cast<size_t>(n));
      }
    }
    close(fd);
    return line.substr(0, line.find('\r'));
  }

  std::string mailVersion() {
    std::string output;
    runProgram({"postconf", "-d", "-h", "mail_version"}, std::chrono::seconds(30), {}, &output);
    while (!output.empty() && (output.back() == '\n' || output.back() == '\r')) output.pop_back();
    return output;
  }

  std::string last_output_;
  std::map<std::string, std::string> agent_env_;  // for agent(): e.g. SSL_CERT_FILE
};

TEST_F(BaselineLibraryE2eTest, TlsProtocolsRefuseTls10And11WhereTheyWorkedBefore) {
  // Positive control: the sandbox (Postfix 3.7 defaults, smtpd_tls_protocols = >=TLSv1)
  // completes handshakes that offer only TLS 1.0 or only TLS 1.1.
  agent::verify::ProbeResult before = probe({"TLSv1", "TLSv1.1", "TLSv1.2"});
  ASSERT_TRUE(before.starttls_offered) << before.failure;
  for (const char* v : {"TLSv1", "TLSv1.1", "TLSv1.2"}) {
    const auto* a = attempt(before, v);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->established) << v << ": " << a->error;
    EXPECT_EQ(a->version, v);
  }
  // Why the probe lowers its security level: OpenSSL 3's own client refuses TLS 1.1 at the
  // default level, so a check without it would "pass" on this unhardened server.
  EXPECT_FALSE(contains(opensslTls11(false), "CONNECTION ESTABLISHED"));
  EXPECT_TRUE(contains(opensslTls11(true), "CONNECTION ESTABLISHED"));
  const std::string nmap_before = nmap("ssl-enum-ciphers", true);
  EXPECT_TRUE(contains(nmap_before, "TLSv1.0:")) << nmap_before;
  EXPECT_TRUE(contains(nmap_before, "TLSv1.1:")) << nmap_before;
  const std::string testssl_before = testssl();
  EXPECT_TRUE(matches(testssl_before, "TLS 1 +offered")) << testssl_before;
  EXPECT_TRUE(matches(testssl_before, "TLS 1\\.1 +offered")) << testssl_before;
  const std::string scan_before = scan();
  EXPECT_TRUE(contains(scan_before, "FAIL  TLSv1 accepted")) << scan_before;
  EXPECT_TRUE(contains(scan_before, "FAIL  TLSv1.1 accepted")) << scan_before;

  CommandResult planned = agent("plan", "tls-protocols.yaml");
  EXPECT_TRUE(contains(planned.stdout_data, "smtpd_tls_protocols: (unset) -> >=TLSv1.2"))
      << last_output_;
  EXPECT_TRUE(contains(planned.stdout_data, "is the alternative for Postfix " + mailVersion()))
      << last_output_;
  EXPECT_TRUE(contains(planned.stdout_data, "the entry for 'submission'")) << last_output_;
  planApplyReplan("tls-protocols.yaml");

  agent::verify::ProbeResult after = probe({"TLSv1", "TLSv1.1", "TLSv1.2"});
  for (const char* v : {"TLSv1", "TLSv1.1"}) {
    const auto* a = attempt(after, v);
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(a->established) << v;
    EXPECT_TRUE(a->reached_handshake) << v << ": " << a->error;
  }
  const auto* tls12 = attempt(after, "TLSv1.2");
  ASSERT_NE(tls12, nullptr);
  EXPECT_TRUE(tls12->established) << tls12->error;
  EXPECT_FALSE(contains(opensslTls11(true), "CONNECTION ESTABLISHED"));
  const std::string nmap_after = nmap("ssl-enum-ciphers", true);
  EXPECT_FALSE(contains(nmap_after, "TLSv1.0:")) << nmap_after;
  EXPECT_FALSE(contains(nmap_after, "TLSv1.1:")) << nmap_after;
  EXPECT_TRUE(contains(nmap_after, "TLSv1.2:")) << nmap_after;
  const std::string testssl_after = testssl();
  EXPECT_TRUE(matches(testssl_after, "TLS 1 +not offered")) << testssl_after;
  EXPECT_TRUE(matches(testssl_after, "TLS 1\\.1 +not offered")) << testssl_after;
  EXPECT_TRUE(matches(testssl_after, "TLS 1\\.2 +offered")) << testssl_after;
  const std::string scan_after = scan();
  EXPECT_TRUE(contains(scan_after, "PASS  TLSv1 refused")) << scan_after;
  EXPECT_TRUE(contains(scan_after, "PASS  TLSv1.1 refused")) << scan_after;
}

// A -o override of the mandatory list on a submission listener (encrypt) is what a scanner
// sees there; main.cf alone would leave it. The listener is governed through `if_exists`.
TEST_F(BaselineLibraryE2eTest, TlsProtocolsRemoveAWeakOverrideOnAMandatoryTlsListener) {
  const int submission_port = freeLoopbackPort();
  ASSERT_GT(submission_port, 0);
  const std::string master_path = sandbox().configDir() + "/master.cf";
  const std::string master = readFileText(master_path);
  writeFileText(master_path, master + "127.0.0.1:" + std::to_string(submission_port) +
                                 " inet n - n - - smtpd\n"
                                 "  -o smtpd_tls_security_level=encrypt\n"
                                 "  -o smtpd_tls_mandatory_protocols=>=TLSv1\n");
  ASSERT_TRUE(sandbox().stop().ok());  // a new listener needs the master restarted
  Status restarted = sandbox().restart();
  ASSERT_TRUE(restarted.ok()) << restarted.toString();
  auto probeSubmission = [&] {
    agent::verify::ProbeTarget target;
    target.port = static_cast<uint16_t>(submission_port);
    target.tls_attempts = {"TLSv1.1", "TLSv1.2"};
    return agent::verify::SocketSmtpProber().probe(target);
  };
  agent::verify::ProbeResult before = probeSubmission();
  const auto* control = attempt(before, "TLSv1.1");
  ASSERT_NE(control, nullptr);
  EXPECT_TRUE(control->established) << control->error;

  std::vector<std::string> argv = {kAgent,
                                   "apply",
                                   "--policy",
                                   kSource + "/policies/tls-protocols.yaml",
                                   "--postfix-dir",
                                   sandbox().configDir(),
                                   "--state-dir",
                                   sandbox().dir() + "/agent-state",
                                   "--verify-deadline",
                                   "8",
                                   "--role",
                                   "smtp=" + port(),
                                   "--role",
                                   "submission=" + std::to_string(submission_port)};
  CommandResult applied = runProgram(argv, std::chrono::seconds(90), {}, &last_output_);
  ASSERT_EQ(applied.exit_code, 0) << last_output_;
  EXPECT_TRUE(contains(last_output_, "smtpd_tls_mandatory_protocols")) << last_output_;
  EXPECT_FALSE(contains(readFileText(master_path), "smtpd_tls_mandatory_protocols=>=TLSv1\n"));

  agent::verify::ProbeResult after = probeSubmission();
  const auto* tls11 = attempt(after, "TLSv1.1");
  ASSERT_NE(tls11, nullptr);
  EXPECT_FALSE(tls11->established);
  EXPECT_TRUE(tls11->reached_handshake) << tls11->error;
  const auto* tls12 = attempt(after, "TLSv1.2");
  ASSERT_NE(tls12, nullptr);
  EXPECT_TRUE(tls12->established) << tls12->error;
  argv[1] = "plan";
  argv.erase(argv.begin() + 6, argv.begin() + 10);  // no --state-dir, --verify-deadline
  CommandResult again = runProgram(argv, std::chrono::seconds(90), {}, &last_output_);
  EXPECT_EQ(again.exit_code, 0) << last_output_;
}

// Behind postscreen with its deep protocol tests on, a client's STARTTLS on port 25 is
// answered by tlsproxy(8), whose tlsproxy_tls_protocols main.cf may set on its own: the
// baseline removes it so that tlsproxy follows smtpd_tls_protocols.
TEST_F(BaselineLibraryE2eTest, TlsProtocolsReachTlsproxyBehindPostscreen) {
  const std::string master_path = sandbox().configDir() + "/master.cf";
  std::string rest = readFileText(master_path);
  const std::string listener = "127.0.0.1:" + port();
  const size_t at = rest.find(listener + " ");
  ASSERT_NE(at, std::string::npos) << rest;
  rest.erase(at, rest.find('\n', at) + 1 - at);
  ASSERT_TRUE(sandbox().stop().ok());
  writeFileText(master_path, listener + " inet n - n - 1 postscreen\n" +
                                 "smtpd pass - - n - - smtpd\n"
                                 "dnsblog unix - - n - 0 dnsblog\n"
                                 "tlsproxy unix - - n - 0 tlsproxy\n" +
                                 rest);
  // postscreen's own SMTP engine (and so tlsproxy) talks to loopback clients only when
  // $mynetworks is not on its access list and a deep protocol test is on.
  ASSERT_TRUE(sandbox()
                  .postconf({"postscreen_access_list=", "postscreen_pipelining_enable=yes",
                             "postscreen_greet_wait=1s", "tlsproxy_tls_protocols=>=TLSv1"})
                  .ok());
  Status restarted = sandbox().restart();
  ASSERT_TRUE(restarted.ok()) << restarted.toString() << "\n" << sandbox().readLog();

  agent::verify::ProbeResult before = probe({"TLSv1.1", "TLSv1.2"});
  const auto* control = attempt(before, "TLSv1.1");
  ASSERT_NE(control, nullptr) << before.failure << "\n"
                              << ::testing::PrintToString(before.transcript);
  EXPECT_TRUE(control->established) << control->error;
  EXPECT_TRUE(sandbox().logEventuallyContains("postfix/tlsproxy["));

  CommandResult planned = agent("plan", "tls-protocols.yaml");
  EXPECT_TRUE(contains(planned.stdout_data, "tlsproxy_tls_protocols: >=TLSv1 -> (removed)"))
      << last_output_;
  planApplyReplan("tls-protocols.yaml");
  EXPECT_FALSE(contains(readFileText(sandbox().mainCfPath()), "tlsproxy_tls_protocols"));

  agent::verify::ProbeResult after = probe({"TLSv1.1", "TLSv1.2"});
  const auto* tls11 = attempt(after, "TLSv1.1");
  ASSERT_NE(tls11, nullptr);
  EXPECT_FALSE(tls11->established);
  EXPECT_TRUE(tls11->reached_handshake) << tls11->error;
  const auto* tls12 = attempt(after, "TLSv1.2");
  ASSERT_NE(tls12, nullptr);
  EXPECT_TRUE(tls12->established) << tls12->error;
}

TEST_F(BaselineLibraryE2eTest, TlsCiphersRefuseAnonymousSuitesAndKeepTls12) {
  agent::verify::ProbeResult before = probe({"aNULL", "TLSv1.2"});
  const auto* anon = attempt(before, "aNULL");
  ASSERT_NE(anon, nullptr);
  EXPECT_TRUE(anon->established) << "positive control: " << anon->error;
  const std::string nmap_before = nmap("ssl-enum-ciphers", true);
  EXPECT_TRUE(contains(nmap_before, "_anon_")) << nmap_before;
  const std::string testssl_before = testssl();
  EXPECT_TRUE(matches(testssl_before, "Anonymous NULL Ciphers[^\n]*offered \\(NOT ok\\)"))
      << testssl_before;

  planApplyReplan("tls-ciphers.yaml");

  agent::verify::ProbeResult after = probe({"aNULL", "TLSv1.2"});
  anon = attempt(after, "aNULL");
  ASSERT_NE(anon, nullptr);
  EXPECT_FALSE(anon->established);
  EXPECT_TRUE(anon->reached_handshake) << anon->error;
  const auto* tls12 = attempt(after, "TLSv1.2");
  ASSERT_NE(tls12, nullptr);
  EXPECT_TRUE(tls12->established) << tls12->error;
  const std::string nmap_after = nmap("ssl-enum-ciphers", true);
  EXPECT_FALSE(contains(nmap_after, "_anon_")) << nmap_after;
  EXPECT_TRUE(contains(nmap_after, "TLSv1.2:")) << nmap_after;
  const std::string testssl_after = testssl();
  EXPECT_TRUE(matches(testssl_after, "Anonymous NULL Ciphers[^\n]*not offered")) << testssl_after;
}

// Logjam (Nessus 83875): with a 1024-bit smtpd_tls_dh1024_param_file (the positive control) a
// handshake offering only DHE suites gets a 1024-bit group, and nmap's ssl-enum-ciphers says
// "dh 1024"; after tls-ciphers empties the parameter (Postfix >= 3.1) the group is 2048 bits
// or more.
TEST_F(BaselineLibraryE2eTest, TlsCiphersReplaceA1024BitDhGroup) {
  const std::string dh_file = sandbox().dir() + "/dh1024.pem";
  std::string generated;
  ASSERT_EQ(runProgram({"openssl", "dhparam", "-out", dh_file, "1024"}, std::chrono::seconds(60),
                       {}, &generated)
                .exit_code,
            0)
      << generated;
  ASSERT_TRUE(sandbox().postconf({"smtpd_tls_dh1024_param_file=" + dh_file}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  agent::verify::ProbeResult before = probe({"DHE"});
  const auto* dhe = attempt(before, "DHE");
  ASSERT_NE(dhe, nullptr);
  ASSERT_TRUE(dhe->established) << "positive control: " << dhe->error;
  EXPECT_EQ(dhe->key_exchange, "DH");
  EXPECT_EQ(dhe->key_exchange_bits, 1024);
  const std::string nmap_before = nmap("ssl-enum-ciphers", true);
  EXPECT_TRUE(contains(nmap_before, "dh 1024")) << nmap_before;
  const std::string scan_before = scan();
  EXPECT_TRUE(contains(scan_before, "FAIL  Weak Diffie-Hellman group")) << scan_before;

  CommandResult planned = agent("plan", "tls-ciphers.yaml");
  EXPECT_TRUE(contains(planned.stdout_data, "smtpd_tls_dh1024_param_file")) << last_output_;
  planApplyReplan("tls-ciphers.yaml");

  agent::verify::ProbeResult after = probe({"DHE"});
  dhe = attempt(after, "DHE");
  ASSERT_NE(dhe, nullptr);
  EXPECT_TRUE(dhe->established) << dhe->error;
  EXPECT_GE(dhe->key_exchange_bits, 2048);
  const std::string nmap_after = nmap("ssl-enum-ciphers", true);
  EXPECT_FALSE(contains(nmap_after, "dh 1024")) << nmap_after;
  EXPECT_TRUE(contains(nmap_after, "dh 2048")) << nmap_after;
  EXPECT_TRUE(contains(scan(), "PASS  Diffie-Hellman group is strong"));
}

TEST_F(BaselineLibraryE2eTest, VrfyIsAnswered502AfterwardsAndNmapSeesNoVrfy) {
  agent::verify::ProbeResult before = probe({}, true);
  EXPECT_EQ(before.vrfy_code, 252) << before.vrfy_reply;
  const std::string nmap_before = nmap("smtp-commands", true);
  EXPECT_TRUE(contains(nmap_before, "VRFY")) << nmap_before;
  EXPECT_TRUE(contains(scan(), "FAIL  VRFY enabled"));

  planApplyReplan("vrfy.yaml");

  agent::verify::ProbeResult after = probe({}, true);
  EXPECT_EQ(after.vrfy_code, 502) << after.vrfy_reply;
  const std::string nmap_after = nmap("smtp-commands", true);
  EXPECT_TRUE(contains(nmap_after, "smtp-commands")) << nmap_after;
  EXPECT_FALSE(contains(nmap_after, "VRFY")) << nmap_after;
  EXPECT_TRUE(contains(scan(), "PASS  VRFY disabled"));
}

TEST_F(BaselineLibraryE2eTest, BannerNamesTheHostOnlyAsNmapsBannerScriptReadsIt) {
  EXPECT_TRUE(contains(probe({}).banner, "Postfix"));
  const std::string nmap_before = nmap("banner");
  EXPECT_TRUE(contains(nmap_before, "banner: 220 " + sandbox().hostname() + " ESMTP Postfix"))
      << nmap_before;

  planApplyReplan("banner.yaml");

  EXPECT_EQ(probe({}).banner, sandbox().hostname() + " ESMTP");
  // What banner-grabbing scanners read. (nmap -sV still recognises Postfix by its error
  // replies to garbage: the baseline hides the banner, not the product; docs/baselines.md.)
  const std::string nmap_after = nmap("banner");
  EXPECT_TRUE(contains(nmap_after, "banner: 220 " + sandbox().hostname() + " ESMTP\n"))
      << nmap_after;
  EXPECT_FALSE(contains(nmap_after, "Postfix")) << nmap_after;
  EXPECT_TRUE(contains(scan(), "PASS  Banner names no software"));
}

// smtpd_forbid_unauth_pipelining and smtpd_helo_required seen on the wire from loopback (they
// do not exempt $mynetworks). smtpd_forbid_bare_newline does exempt its exclusions, which
// default to $mynetworks and so hold 127.0.0.1: from loopback its check would pass vacuously.
// The test empties smtpd_forbid_bare_newline_exclusions in the sandbox (not part of the
// baseline) so that the loopback client is judged like an outside one.
TEST_F(BaselineLibraryE2eTest,
       SmugglingBaselineEndsDataOnlyAtCrlfAndRefusesPipelinedAndHeloLessClients) {
  ASSERT_TRUE(sandbox().postconf({"smtpd_forbid_bare_newline_exclusions="}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  // A message whose body holds "<LF>.<LF>": the smuggling end-of-data a lenient server takes.
  const std::vector<std::string> kSmuggle = {"EHLO client.example\r\n",
                                             "MAIL FROM:<a@example.com>\r\n",
                                             "RCPT TO:<" + sandbox().saslUser() + ">\r\n",
                                             "DATA\r\n",
                                             "Subject: x\r\n\r\nbody\n.\n",
                                             "\r\n.\r\n",
                                             "QUIT\r\n"};
  std::vector<std::string> smuggled = rawSmtp(kSmuggle);
  ASSERT_EQ(smuggled.size(), 8u);
  EXPECT_TRUE(smuggled[4].starts_with("354 ")) << smuggled[4];
  // Control: Postfix 3.7's default (smtpd_forbid_bare_newline = no) ends DATA at <LF>.<LF>.
  EXPECT_TRUE(smuggled[5].starts_with("250 2.0.0 Ok: queued")) << smuggled[5];

  const std::string kMail = "MAIL FROM:<a@example.com>\r\n";
  std::vector<std::string> before = rawSmtp({kMail});
  ASSERT_EQ(before.size(), 2u);
  EXPECT_TRUE(before[1].starts_with("250 ")) << before[1];  // control: no HELO needed
  before = rawSmtp({"HELO client.example\r\n" + kMail});
  ASSERT_EQ(before.size(), 2u);
  EXPECT_TRUE(contains(before[1], "250 2.1.0")) << before[1];  // control: pipelining allowed

  CommandResult planned = agent("plan", "smtp-smuggling.yaml");
  EXPECT_TRUE(contains(planned.stdout_data, "note: main.cf: smtpd_forbid_bare_newline = "))
      << last_output_;
  planApplyReplan("smtp-smuggling.yaml");

  std::vector<std::string> after = rawSmtp({kMail});
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(after[1].starts_with("503 5.5.1")) << after[1];
  after = rawSmtp({"HELO client.example\r\n" + kMail});
  ASSERT_EQ(after.size(), 2u);
  EXPECT_TRUE(contains(after[1], "554 5.5.0 Error: SMTP protocol synchronization")) << after[1];
  EXPECT_TRUE(contains(after[1], "<closed>")) << after[1];
  // normalize: <LF>.<LF> is body text; only <CR><LF>.<CR><LF> ends the message.
  smuggled = rawSmtp(kSmuggle);
  ASSERT_EQ(smuggled.size(), 8u);
  EXPECT_EQ(smuggled[5], "") << "the server answered <LF>.<LF>: " << smuggled[5];
  EXPECT_TRUE(smuggled[6].starts_with("250 2.0.0 Ok: queued")) << smuggled[6];
  std::string postconf;
  runProgram({"postconf", "-c", sandbox().configDir(), "-h", "smtpd_forbid_bare_newline"},
             std::chrono::seconds(30), {}, &postconf);
  EXPECT_EQ(postconf, "normalize\n");
}

// Rate limits from loopback are vacuous: smtpd_client_event_limit_exceptions defaults to
// $mynetworks. The test empties it in its sandbox (not in the baseline) so that anvil counts the
// loopback client like an outside one: 40 connections in a row are all greeted before, and
// refused with 421 after the baseline's 30 a minute.
TEST_F(BaselineLibraryE2eTest, RateLimitsRefuseTheConnectionsAboveThirtyAMinute) {
  ASSERT_TRUE(sandbox().postconf({"smtpd_client_event_limit_exceptions="}).ok());
  ASSERT_TRUE(sandbox().reload().ok());
  auto greetings = [&] {
    std::vector<std::string> replies;
    for (int i = 0; i < 40; ++i) replies.push_back(firstReply());
    return replies;
  };
  auto countStarting = [](const std::vector<std::string>& replies, const std::string& prefix) {
    return std::count_if(replies.begin(), replies.end(),
                         [&](const std::string& r) { return r.starts_with(prefix); });
  };
  const std::vector<std::string> before = greetings();
  EXPECT_EQ(countStarting(before, "220 "), 40) << ::testing::PrintToString(before);

  CommandResult planned = agent("plan", "rate-limits.yaml");
  EXPECT_TRUE(contains(planned.stdout_data, "smtpd_client_connection_rate_limit: (unset) -> 30"))
      << last_output_;
  planApplyReplan("rate-limits.yaml");

  const std::vector<std::string> after = greetings();
  EXPECT_GE(countStarting(after, "421 4.7.0 " + sandbox().hostname() +
                                     " Error: too many connections from 127.0.0.1"),
            10)
      << ::testing::PrintToString(after);
  EXPECT_EQ(countStarting(before, "421 "), 0);
  EXPECT_TRUE(sandbox().logEventuallyContains("Connection rate limit exceeded"));
}

// The whole library composes: scan of the default sandbox lists the findings; the operator's
// part (a CA-issued certificate for $myhostname with its chain: the certificate baseline
// checks, it never invents one) and the library applied in turn leave none of them, every plan
// is still clean, and scan ends with "no finding failed". The throwaway root is trusted only by
// the processes the test starts (SSL_CERT_FILE).
TEST_F(BaselineLibraryE2eTest, ScanBeforeAndAfterTheWholeLibrary) {
  const std::string before = scan();
  for (const char* finding :
       {"FAIL  VRFY enabled", "WARN  Banner discloses software", "FAIL  TLSv1 accepted",
        "FAIL  TLSv1.1 accepted", "FAIL  Anonymous cipher suite accepted",
        "FAIL  Self-signed certificate", "FAIL  Cleartext AUTH offered before STARTTLS"}) {
    EXPECT_TRUE(contains(before, finding)) << finding << "\n" << before;
  }

  using agent::tls::CertificateRequest;
  const auto now = std::chrono::system_clock::now();
  const auto root = agent::tls::generateCertificate(
      CertificateRequest{.common_name = "Library Test Root",
                         .not_before = now - std::chrono::hours(24),
                         .not_after = now + std::chrono::hours(24 * 365),
                         .is_ca = true});
  ASSERT_TRUE(root.ok());
  const auto leaf = agent::tls::generateCertificate(
      CertificateRequest{.common_name = sandbox().hostname(),
                         .dns_names = {sandbox().hostname()},
                         .not_before = now - std::chrono::hours(24),
                         .not_after = now + std::chrono::hours(24 * 365),
                         .key_type = agent::tls::KeyType::kRsa2048},
      &*root);
  ASSERT_TRUE(leaf.ok());
  const std::string ca_file = sandbox().dir() + "/library-root.pem";
  writeFileText(ca_file, root->certificate_pem);
  writeFileText(sandbox().dir() + "/mx-cert.pem", leaf->certificate_pem);
  writeFileText(sandbox().dir() + "/mx-key.pem", leaf->private_key_pem, 0600);
  ASSERT_TRUE(sandbox()
                  .postconf({"smtpd_tls_cert_file=" + sandbox().dir() + "/mx-cert.pem",
                             "smtpd_tls_key_file=" + sandbox().dir() + "/mx-key.pem"})
                  .ok());
  ASSERT_TRUE(sandbox().reload().ok());
  const std::map<std::string, std::string> trusting = {{"SSL_CERT_FILE", ca_file}};
  agent_env_ = trusting;

  const std::vector<std::string> library = {"tls-protocols.yaml",
                                            "tls-ciphers.yaml",
                                            "vrfy.yaml",
                                            "banner.yaml",
                                            "smtp-smuggling.yaml",
                                            "certificate.yaml",
                                            "smtp-auth-hardening.yaml"};
  for (const std::string& file : library) {
    CommandResult applied = agent("apply", file);
    ASSERT_EQ(applied.exit_code, 0) << file << "\n" << last_output_;
  }
  for (const std::string& file : library) {
    CommandResult again = agent("plan", file);
    EXPECT_EQ(again.exit_code, 0) << file << "\n" << last_output_;
    CommandResult verified =
        runProgram({kAgent, "verify", "--policy", kSource + "/policies/" + file, "--postfix-dir",
                    sandbox().configDir(), "--role", "smtp=" + port()},
                   std::chrono::seconds(60), trusting, &last_output_);
    EXPECT_EQ(verified.exit_code, 0) << file << "\n" << last_output_;
  }
  std::string after;
  CommandResult scanned =
      runProgram({kAgent, "scan", "127.0.0.1:" + port(), "--name", sandbox().hostname()},
                 std::chrono::seconds(60), trusting, &after);
  EXPECT_EQ(scanned.exit_code, 0) << after;
  for (const char* finding :
       {"PASS  VRFY disabled", "PASS  Banner names no software", "PASS  TLSv1 refused",
        "PASS  TLSv1.1 refused", "PASS  Anonymous cipher suites refused",
        "PASS  Diffie-Hellman group is strong", "PASS  Certificate chain trusted",
        "PASS  Certificate matches the host name", "PASS  Certificate is within its validity",
        "PASS  No AUTH offered before STARTTLS", "result: no finding failed"}) {
    EXPECT_TRUE(contains(after, finding)) << finding << "\n" << after;
  }
  EXPECT_FALSE(contains(after, "  FAIL ")) << after;
  EXPECT_FALSE(contains(after, "  WARN ")) << after;
}

}  // namespace
}  // namespace postwarden::testing
