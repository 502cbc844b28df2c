// End-to-end: policies/open-relay.yaml on a real, isolated Postfix. From loopback the client
// is in $mynetworks and every relay test passes vacuously, so the test adds a temporary
// loopback listener with -o smtpd_authorized_xclient_hosts=127.0.0.1, lets the probe present
// an outside address (XCLIENT ADDR=192.0.2.1) and asks for RCPT TO an outside domain: accepted
// before (the positive control: a $mynetworks wider than the host), 554 after.
// The listener is removed again after each check, and the test proves master.cf is left as it
// was. nmap's smtp-open-relay, which cannot use XCLIENT, sees loopback's exemption both times.
#include <gtest/gtest.h>

#include "agent/verify/smtp_prober.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

using os::CommandResult;

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

class RelayE2eTest : public PostfixSandboxFixture {
 protected:
  std::string port() { return std::to_string(sandbox().port()); }
  std::string masterPath() { return sandbox().configDir() + "/master.cf"; }

  CommandResult agent(const std::string& command) {
    std::vector<std::string> argv = {kAgent,          command,
                                     "--policy",      kSource + "/policies/open-relay.yaml",
                                     "--postfix-dir", sandbox().configDir(),
                                     "--role",        "smtp=" + port()};
    if (command == "apply") {
      for (const std::string& a : {std::string("--state-dir"), sandbox().dir() + "/agent-state",
                                   std::string("--verify-deadline"), std::string("8")}) {
        argv.push_back(a);
      }
    }
    return runProgram(argv, std::chrono::seconds(90), {}, &last_output_);
  }

  // Runs `check` against a temporary XCLIENT-authorized loopback listener and removes it
  // again, also when `check` fails; master.cf is byte-for-byte what it was afterwards.
  template <typename Check>
  void withXclientListener(Check check) {
    const std::string before = readFileText(masterPath());
    const int xclient_port = freeLoopbackPort();
    ASSERT_GT(xclient_port, 0);
    writeFileText(masterPath(), before + "127.0.0.1:" + std::to_string(xclient_port) +
                                    " inet n - n - - smtpd\n"
                                    "  -o smtpd_authorized_xclient_hosts=127.0.0.1\n");
    ASSERT_TRUE(sandbox().stop().ok());  // a new listener needs the master restarted
    Status started = sandbox().restart();
    if (started.ok()) check(xclient_port);
    writeFileText(masterPath(), before);
    Status stopped = sandbox().stop();
    ASSERT_TRUE(stopped.ok()) << stopped.toString();
    Status restarted = sandbox().restart();
    ASSERT_TRUE(restarted.ok()) << restarted.toString() << "\n" << sandbox().readLog();
    ASSERT_TRUE(started.ok()) << started.toString();
    EXPECT_EQ(readFileText(masterPath()), before);
  }

  agent::verify::ProbeResult relayProbe(int listener_port) {
    agent::verify::ProbeTarget target;
    target.port = static_cast<uint16_t>(listener_port);
    target.relay_test = agent::verify::RelayTest{};
    return agent::verify::SocketSmtpProber().probe(target);
  }

  std::string scan(int listener_port) {
    std::string output;
    runProgram({kAgent, "scan", "127.0.0.1:" + std::to_string(listener_port)},
               std::chrono::seconds(60), {}, &output);
    return output;
  }

  std::string nmapOpenRelay() {
    const std::string nmap = internal::findProgram("nmap");
    EXPECT_FALSE(nmap.empty()) << "nmap is missing: run script/bootstrap";
    std::string output;
    runProgram({nmap, "-Pn", "-n", "-sV", "-p", port(), "--script", "smtp-open-relay",
                "--script-args", "smtp-open-relay.domain=sandbox.postwarden.test", "127.0.0.1"},
               std::chrono::seconds(120), {}, &output);
    return output;
  }

  std::string last_output_;
};

TEST_F(RelayE2eTest, AnOutsideClientPresentedWithXclientIsRefusedAfterTheBaseline) {
  // Positive control: the classic mistake, a $mynetworks that holds networks beyond the host,
  // under Postfix's default relay restrictions (permit_mynetworks first). Postfix itself
  // refuses to start smtpd with no reject/defer_unauth_destination at all.
  ASSERT_TRUE(sandbox()
                  .postconf({"mynetworks=127.0.0.0/8 192.0.2.0/24",
                             "smtpd_relay_restrictions=permit_mynetworks, "
                             "permit_sasl_authenticated, defer_unauth_destination"})
                  .ok());
  ASSERT_TRUE(sandbox().reload().ok());
  withXclientListener([&](int xclient_port) {
    const agent::verify::ProbeResult before = relayProbe(xclient_port);
    ASSERT_TRUE(before.relay.has_value()) << before.failure;
    EXPECT_TRUE(before.relay->xclient_accepted) << before.relay->xclient_reply;
    EXPECT_EQ(before.relay->rcpt_code, 250) << before.relay->rcpt_reply;
    EXPECT_TRUE(contains(scan(xclient_port), "FAIL  Open relay"));
  });
  // On the real listener, loopback's exemption hides everything, and scan says so.
  EXPECT_TRUE(contains(scan(sandbox().port()), "INFO  Relay test inconclusive from loopback"));
  const std::string nmap_before = nmapOpenRelay();
  EXPECT_TRUE(contains(nmap_before, "Server is an open relay")) << nmap_before;

  CommandResult planned = agent("plan");
  EXPECT_EQ(planned.exit_code, 2) << last_output_;
  EXPECT_TRUE(contains(last_output_, "reject_unauth_destination")) << last_output_;
  CommandResult applied = agent("apply");
  ASSERT_EQ(applied.exit_code, 0) << last_output_;
  CommandResult again = agent("plan");
  EXPECT_EQ(again.exit_code, 0) << last_output_;

  withXclientListener([&](int xclient_port) {
    const agent::verify::ProbeResult after = relayProbe(xclient_port);
    ASSERT_TRUE(after.relay.has_value()) << after.failure;
    EXPECT_TRUE(after.relay->xclient_accepted) << after.relay->xclient_reply;
    EXPECT_EQ(after.relay->rcpt_code, 554) << after.relay->rcpt_reply;
    EXPECT_TRUE(contains(after.relay->rcpt_reply, "Relay access denied"))
        << after.relay->rcpt_reply;
    EXPECT_TRUE(contains(scan(xclient_port), "PASS  Relaying refused"));
  });
  // nmap cannot present an outside address: from loopback, which stays in $mynetworks, it
  // still reports relaying. Only the XCLIENT probe sees the difference.
  const std::string nmap_after = nmapOpenRelay();
  EXPECT_TRUE(contains(nmap_after, "Server is an open relay")) << nmap_after;
}

}  // namespace
}  // namespace postwarden::testing
