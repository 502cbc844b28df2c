// End-to-end: a baseline's main.cf value is what every listener it governs effectively runs
// with, on a real, isolated Postfix (script/postfix-sandbox). Each test gives the sandbox's
// public listener (governed through --role smtp=PORT) a master.cf "-o" that contradicts
// policies/smtp-auth-hardening.yaml, then checks with the real `postconf -c DIR -P` / `-x`
// that after `apply` every governed service has the baseline's value, that a second `plan`
// is clean (exit 0), and that the loopback probe agrees.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent/verify/smtp_prober.h"
#include "common/os/process_command_runner.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

// What the hardening baseline sets in main.cf, as `postconf -x` prints it.
const std::map<std::string, std::string> kBaselineValues = {
    {"smtpd_tls_security_level", "may"},
    {"smtpd_tls_auth_only", "yes"},
    {"smtpd_sasl_security_options", "noanonymous, noplaintext"},
    {"smtpd_sasl_tls_security_options", "noanonymous"}};

std::vector<std::string> splitFields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

class ListenerE2eTest : public PostfixSandboxFixture {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    state_dir_ = sandbox().dir() + "/agent-state";
    listener_ = "127.0.0.1:" + std::to_string(sandbox().port());
  }

  std::string masterCfPath() { return sandbox().configDir() + "/master.cf"; }

  // Runs a real program from an argv.
  CommandResult run(const std::vector<std::string>& argv) { return runProgram(argv); }

  // The agent with `args` plus --postfix-dir and --role smtp=PORT for the sandbox.
  CommandResult agent(std::vector<std::string> args) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir(), "--role",
                             "smtp=" + std::to_string(sandbox().port())});
    CommandResult r = run(argv);
    last_output_ = r.stdout_data + r.stderr_data;
    return r;
  }
  CommandResult plan() { return agent({"plan", "--policy", kHardening}); }
  CommandResult apply() {
    return agent(
        {"apply", "--policy", kHardening, "--state-dir", state_dir_, "--verify-deadline", "8"});
  }

  // `postconf -c DIR -P`: "service/type/parameter" -> value, from the real command.
  std::map<std::string, std::string> postconfP() {
    CommandResult r = run({internal::findProgram("postconf"), "-c", sandbox().configDir(), "-P"});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    std::map<std::string, std::string> out;
    std::istringstream in(r.stdout_data);
    for (std::string line; std::getline(in, line);) {
      const size_t eq = line.find(" = ");
      if (eq == std::string::npos) {
        if (line.size() > 2 && line.compare(line.size() - 2, 2, " =") == 0) {
          out[line.substr(0, line.size() - 2)] = "";
        }
        continue;
      }
      out[line.substr(0, eq)] = line.substr(eq + 3);
    }
    return out;
  }

  // `postconf -c DIR -x -h parameter`: main.cf's (or the default) value, expanded.
  std::string postconfX(const std::string& parameter) {
    CommandResult r = run(
        {internal::findProgram("postconf"), "-c", sandbox().configDir(), "-x", "-h", parameter});
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    std::string v = r.stdout_data;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }

  // The value `service` ("name/type") runs with, as postconf resolves it: its -P override
  // (with $name expanded through main.cf, as -x would) or main.cf's value.
  std::string effective(const std::map<std::string, std::string>& overrides,
                        const std::string& service, const std::string& parameter) {
    auto it = overrides.find(service + "/" + parameter);
    if (it == overrides.end()) return postconfX(parameter);
    std::string value = it->second;
    if (value.size() > 1 && value[0] == '$') {  // a whole-value "$name" / "${name}"
      std::string name = value.substr(1);
      if (name[0] == '{' || name[0] == '(') name = name.substr(1, name.size() - 2);
      return postconfX(name);
    }
    return value;
  }

  // After apply: every governed service runs with every baseline value, per postconf -P / -x.
  void expectGoverned(const std::vector<std::string>& governed) {
    const std::map<std::string, std::string> overrides = postconfP();
    for (const std::string& service : governed) {
      for (const auto& [parameter, value] : kBaselineValues) {
        EXPECT_EQ(effective(overrides, service, parameter), value)
            << service << " " << parameter << "\n"
            << readFileText(masterCfPath());
      }
    }
  }

  agent::verify::ProbeResult probe() {
    agent::verify::ProbeTarget target;
    target.host = "127.0.0.1";
    target.port = static_cast<uint16_t>(sandbox().port());
    target.login = agent::verify::Credentials{sandbox().saslUser(), sandbox().saslPassword()};
    return agent::verify::SocketSmtpProber().probe(target);
  }

  // What a scanner sees: no AUTH before STARTTLS, PLAIN after it, and the login works.
  void expectHardenedOnTheWire() {
    agent::verify::ProbeResult r = probe();
    ASSERT_TRUE(r.connected) << r.failure;
    EXPECT_TRUE(r.before_tls.auth_mechanisms.empty()) << last_output_;
    EXPECT_TRUE(r.tls_established) << r.tls_error;
    EXPECT_EQ(r.login_succeeded, true);
  }

  // A second plan is clean: exit 0, "compliant".
  void expectSecondPlanClean() {
    CommandResult again = plan();
    EXPECT_EQ(again.exit_code, 0) << last_output_;
    EXPECT_NE(again.stdout_data.find("compliant: no changes"), std::string::npos) << last_output_;
  }

  // Replaces the sandbox's master.cf and restarts Postfix so that the new listeners run.
  void installMasterCf(const std::string& text) {
    Status stopped = sandbox().stop();
    ASSERT_TRUE(stopped.ok()) << stopped.toString();
    writeFileText(masterCfPath(), text);
    Status restarted = sandbox().restart();
    ASSERT_TRUE(restarted.ok()) << restarted.toString() << "\n" << sandbox().readLog();
  }

  // The sandbox's own master.cf without its public listener line (the first entry).
  std::string sandboxServicesWithoutListener() {
    std::string text = readFileText(masterCfPath());
    const size_t at = text.find(listener_ + " ");
    EXPECT_NE(at, std::string::npos) << text;
    if (at == std::string::npos) return text;
    text.erase(at, text.find('\n', at) + 1 - at);
    return text;
  }

  std::string state_dir_;
  std::string listener_;
  std::string last_output_;
};

// Debian's master.cf, read from the installed postfix package, made runnable in the sandbox:
// its port-25 "smtp inet" line becomes `listener` (with `options` under it), and nothing is
// chrooted (the sandbox has no chroot tree).
std::string debianMasterCf(const std::string& listener, const std::string& options) {
  const std::string dist = readFileText("/usr/share/postfix/master.cf.dist");
  EXPECT_FALSE(dist.empty()) << "no /usr/share/postfix/master.cf.dist; run script/bootstrap";
  std::istringstream in(dist);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = splitFields(line);
    const bool entry =
        !line.empty() && line[0] != '#' && line[0] != ' ' && line[0] != '\t' && f.size() >= 8;
    if (!entry) {
      out += line + "\n";
      continue;
    }
    if (f[0] == "smtp" && f[1] == "inet") f[0] = listener;
    f[4] = "n";
    std::string rebuilt;
    for (const std::string& field : f) rebuilt += (rebuilt.empty() ? "" : " ") + field;
    out += rebuilt + "\n";
    if (f[0] == listener) out += options;
  }
  return out;
}

TEST_F(ListenerE2eTest, DebianMasterCfOverrideOnThePublicListenerIsRemoved) {
  const std::string before = debianMasterCf(listener_, "  -o smtpd_tls_auth_only=no\n");
  ASSERT_NE(before.find(listener_ + " inet"), std::string::npos);
  installMasterCf(before);
  ASSERT_EQ(postconfP()[listener_ + "/inet/smtpd_tls_auth_only"], "no");

  CommandResult p = plan();
  EXPECT_EQ(p.exit_code, 2) << last_output_;
  EXPECT_NE(p.stdout_data.find("master.cf " + listener_ +
                               "/inet: -o smtpd_tls_auth_only: no -> (removed) (master.cf line "),
            std::string::npos)
      << last_output_;

  CommandResult a = apply();
  ASSERT_EQ(a.exit_code, 0) << last_output_;
  EXPECT_EQ(postconfP().count(listener_ + "/inet/smtpd_tls_auth_only"), 0u)
      << readFileText(masterCfPath());
  expectGoverned({listener_ + "/inet"});
  // Only the "-o" line went: the rest of Debian's file is as it was.
  EXPECT_EQ(readFileText(masterCfPath()), debianMasterCf(listener_, ""));
  expectHardenedOnTheWire();
  expectSecondPlanClean();
}

TEST_F(ListenerE2eTest, PostscreenInFrontGovernsTheSmtpdPassService) {
  const std::string rest = sandboxServicesWithoutListener();
  installMasterCf(listener_ + " inet n - n - 1 postscreen\n" +
                  "smtpd pass - - n - - smtpd\n"
                  "  -o syslog_name=postfix/smtpd\n"
                  "  -o smtpd_tls_auth_only=no\n"
                  "dnsblog unix - - n - 0 dnsblog\n"
                  "tlsproxy unix - - n - 0 tlsproxy\n" +
                  rest);
  ASSERT_EQ(postconfP()["smtpd/pass/smtpd_tls_auth_only"], "no");

  CommandResult p = plan();
  EXPECT_EQ(p.exit_code, 2) << last_output_;
  EXPECT_NE(p.stdout_data.find("master.cf smtpd/pass: -o smtpd_tls_auth_only: no -> (removed) "
                               "(master.cf line 4"),
            std::string::npos)
      << last_output_;

  CommandResult a = apply();
  ASSERT_EQ(a.exit_code, 0) << last_output_;
  std::map<std::string, std::string> overrides = postconfP();
  EXPECT_EQ(overrides.count("smtpd/pass/smtpd_tls_auth_only"), 0u);
  EXPECT_EQ(overrides["smtpd/pass/syslog_name"], "postfix/smtpd");
  expectGoverned({"smtpd/pass"});
  expectHardenedOnTheWire();
  expectSecondPlanClean();
}

TEST_F(ListenerE2eTest, BracedExpandedAndDuplicateOverridesWithAReinjectionPortAlsoAffected) {
  const int reinjection_port = freeLoopbackPort();
  ASSERT_GT(reinjection_port, 0);
  const std::string reinjection = "127.0.0.1:" + std::to_string(reinjection_port);
  const std::string rest = sandboxServicesWithoutListener();
  ASSERT_TRUE(sandbox().postconf({"mx_tls_level=none"}).ok());
  // -o smtpd_tls_auth_only twice (the last, braced, wins), a level through $mx_tls_level, and a
  // content-filter re-injection port the baseline does not govern.
  installMasterCf(listener_ + " inet n - n - - smtpd\n" +
                  "  -o syslog_name=postfix/mx\n"
                  "  -o smtpd_tls_auth_only=yes\n"
                  "  -o { smtpd_tls_auth_only = no }\n"
                  "  -o smtpd_tls_security_level=$mx_tls_level\n" +
                  reinjection + " inet n - n - - smtpd\n" +
                  "  -o smtpd_sasl_auth_enable=no\n"
                  "  -o smtpd_tls_auth_only=no\n" +
                  rest);

  CommandResult p = plan();
  EXPECT_EQ(p.exit_code, 2) << last_output_;
  const std::string& out = p.stdout_data;
  EXPECT_NE(out.find("warning: master.cf:3: service '" + listener_ +
                     "/inet' sets -o smtpd_tls_auth_only 2 times (lines 3, 4)"),
            std::string::npos)
      << last_output_;
  EXPECT_NE(out.find("-o smtpd_tls_security_level: $mx_tls_level -> (removed) (master.cf line 5"),
            std::string::npos)
      << last_output_;
  EXPECT_NE(out.find("also affected (not governed by the baseline): " + reinjection +
                     "/inet: smtpd_tls_security_level: none -> may"),
            std::string::npos)
      << last_output_;

  // The JSON report carries the removal and the also-affected service too.
  CommandResult json = agent({"plan", "--policy", kHardening, "--format", "json"});
  EXPECT_EQ(json.exit_code, 2) << last_output_;
  EXPECT_NE(json.stdout_data.find("\"service\": \"" + listener_ + "/inet\""), std::string::npos)
      << json.stdout_data;
  EXPECT_NE(json.stdout_data.find("also affected (not governed by the baseline): " + reinjection +
                                  "/inet: smtpd_tls_security_level: none -> may"),
            std::string::npos)
      << json.stdout_data;

  CommandResult a = apply();
  ASSERT_EQ(a.exit_code, 0) << last_output_;
  std::map<std::string, std::string> overrides = postconfP();
  EXPECT_EQ(overrides.count(listener_ + "/inet/smtpd_tls_auth_only"), 0u);
  EXPECT_EQ(overrides.count(listener_ + "/inet/smtpd_tls_security_level"), 0u);
  EXPECT_EQ(overrides[listener_ + "/inet/syslog_name"], "postfix/mx");
  // The ungoverned port keeps its own overrides.
  EXPECT_EQ(overrides[reinjection + "/inet/smtpd_tls_auth_only"], "no");
  EXPECT_EQ(overrides[reinjection + "/inet/smtpd_sasl_auth_enable"], "no");
  expectGoverned({listener_ + "/inet"});
  EXPECT_EQ(readFileText(masterCfPath()), listener_ + " inet n - n - - smtpd\n" +
                                              "  -o syslog_name=postfix/mx\n" + reinjection +
                                              " inet n - n - - smtpd\n" +
                                              "  -o smtpd_sasl_auth_enable=no\n"
                                              "  -o smtpd_tls_auth_only=no\n" +
                                              rest);
  expectHardenedOnTheWire();
  expectSecondPlanClean();
}

// The repro as reported: main.cf already compliant, then someone adds the override under the
// public listener. Before, plan said "compliant: no changes" while postconf -P showed it.
TEST_F(ListenerE2eTest, OverrideAddedToACompliantHostIsDriftAndApplyRepairsOnlyMasterCf) {
  ASSERT_EQ(apply().exit_code, 0) << last_output_;
  expectSecondPlanClean();
  const std::string main_cf = readFileText(sandbox().mainCfPath());
  const std::string clean_master = readFileText(masterCfPath());
  std::string edited = clean_master;
  const size_t end = edited.find('\n', edited.find(listener_ + " inet"));
  ASSERT_NE(end, std::string::npos);
  edited.insert(end + 1, "  -o smtpd_tls_auth_only=no\n");
  writeFileText(masterCfPath(), edited);
  ASSERT_TRUE(sandbox().reload().ok());
  ASSERT_EQ(postconfP()[listener_ + "/inet/smtpd_tls_auth_only"], "no");

  CommandResult p = plan();
  EXPECT_EQ(p.exit_code, 2) << last_output_;
  EXPECT_EQ(p.stdout_data.find("compliant: no changes"), std::string::npos) << last_output_;
  EXPECT_NE(p.stdout_data.find("(master.cf line 4"), std::string::npos) << last_output_;

  CommandResult a = apply();
  ASSERT_EQ(a.exit_code, 0) << last_output_;
  EXPECT_NE(a.stdout_data.find("result: repaired"), std::string::npos) << last_output_;
  EXPECT_EQ(readFileText(masterCfPath()), clean_master);
  EXPECT_EQ(readFileText(sandbox().mainCfPath()), main_cf);
  EXPECT_EQ(postconfP().count(listener_ + "/inet/smtpd_tls_auth_only"), 0u);
  expectGoverned({listener_ + "/inet"});
  expectHardenedOnTheWire();
  expectSecondPlanClean();
}

}  // namespace
}  // namespace postwarden::testing
