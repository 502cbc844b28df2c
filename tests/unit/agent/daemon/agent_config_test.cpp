#include "agent/daemon/agent_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::agent::daemon {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

constexpr char kPath[] = "/etc/postwarden/agent.yaml";

// A config with the two required keys, then `extra`.
std::string minimal(const std::string& extra = "") {
  return "controller: controller.example.org:7443\n"
         "ca_file: /etc/postwarden/controller-ca.pem\n" +
         extra;
}

Result<AgentConfig> parse(const std::string& text) {
  return parseAgentConfig(text, kPath, "mx1.example.org");
}

// The error message of parsing `text`, which must fail with InvalidArgument.
std::string error(const std::string& text) {
  Result<AgentConfig> config = parse(text);
  EXPECT_FALSE(config.ok()) << text;
  if (config.ok()) return "";
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  return config.status().message();
}

TEST(AgentConfigTest, FullConfig) {
  const std::string text = R"(# the agent of mx1
controller: controller.example.org:7443
controller_name: ctl.internal
ca_file: /etc/postwarden/controller-ca.pem
state_dir: /srv/postwarden
agent_id: mx1-a.example.org
postfix_dir: /etc/postfix-out
mail_log: /var/log/postfix/mail.log
service:
  strategy: command
  reload_command: [/usr/sbin/postfix, -c, /etc/postfix-out, reload]
  restart_command:
    - /bin/systemctl
    - restart
    - postfix
probe:
  address: 127.0.0.1
  port: 2525
  roles: {smtp: 2525, submission: [587, 2587]}
  login: probe@example.org
  password_file: /etc/postwarden/probe-password
  mail_to: postmaster@example.org
  timeout: 7s
labels: {site: fra1, role: mx, tier: "1", Env_x.y-z: prod}
check_interval: 5m
splay: 500ms
heartbeat_interval: 15
verify_deadline: 1h
command_timeout: 90s
outbox_limit: 500
log_level: debug
)";
  Result<AgentConfig> parsed = parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const AgentConfig& c = *parsed;
  EXPECT_EQ(c.controller_host, "controller.example.org");
  EXPECT_EQ(c.controller_port, 7443);
  EXPECT_EQ(c.controller_name, "ctl.internal");
  EXPECT_EQ(c.ca_file, "/etc/postwarden/controller-ca.pem");
  EXPECT_EQ(c.state_dir, "/srv/postwarden");
  EXPECT_EQ(c.agent_id, "mx1-a.example.org");
  EXPECT_EQ(c.postfix_dir, "/etc/postfix-out");
  EXPECT_EQ(c.mail_log, "/var/log/postfix/mail.log");
  EXPECT_EQ(c.service.strategy, ServiceStrategy::kCommand);
  EXPECT_THAT(c.service.reload_command,
              ElementsAre("/usr/sbin/postfix", "-c", "/etc/postfix-out", "reload"));
  EXPECT_THAT(c.service.restart_command, ElementsAre("/bin/systemctl", "restart", "postfix"));
  EXPECT_EQ(c.probe.address, "127.0.0.1");
  EXPECT_EQ(c.probe.port, 2525);
  EXPECT_THAT(c.probe.role_ports,
              ElementsAre(Pair("smtp", 2525), Pair("submission", 587), Pair("submission", 2587)));
  EXPECT_EQ(c.probe.login, "probe@example.org");
  EXPECT_EQ(c.probe.password_file, "/etc/postwarden/probe-password");
  EXPECT_EQ(c.probe.mail_to, "postmaster@example.org");
  EXPECT_EQ(c.probe.timeout, milliseconds(7000));
  EXPECT_THAT(c.labels, ElementsAre(Pair("Env_x.y-z", "prod"), Pair("role", "mx"),
                                    Pair("site", "fra1"), Pair("tier", "1")));
  EXPECT_EQ(c.check_interval, milliseconds(300000));
  EXPECT_EQ(c.splay, milliseconds(500));
  EXPECT_EQ(c.heartbeat_interval, milliseconds(15000));
  EXPECT_EQ(c.verify_deadline, milliseconds(3600000));
  EXPECT_EQ(c.command_timeout, milliseconds(90000));
  EXPECT_EQ(c.outbox_limit, 500u);
  EXPECT_EQ(c.log_level, "debug");
}

TEST(AgentConfigTest, Defaults) {
  Result<AgentConfig> parsed = parse(minimal());
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const AgentConfig& c = *parsed;
  EXPECT_EQ(c.controller_name, "controller.example.org");
  EXPECT_EQ(c.state_dir, "/var/lib/postwarden");
  EXPECT_EQ(c.agent_id, "mx1.example.org");
  EXPECT_EQ(c.postfix_dir, "/etc/postfix");
  EXPECT_FALSE(c.mail_log.has_value()) << "Postfix's maillog_file or /var/log/mail.log";
  EXPECT_EQ(c.service.strategy, ServiceStrategy::kPostfix);
  EXPECT_EQ(c.service.systemd_unit, "postfix@-");
  EXPECT_TRUE(c.service.reload_command.empty());
  EXPECT_FALSE(c.probe.address.has_value());
  EXPECT_FALSE(c.probe.port.has_value());
  EXPECT_TRUE(c.probe.role_ports.empty());
  EXPECT_FALSE(c.probe.login.has_value());
  EXPECT_EQ(c.probe.timeout, milliseconds(5000));
  EXPECT_TRUE(c.labels.empty());
  EXPECT_EQ(c.check_interval, milliseconds(60000));
  EXPECT_EQ(c.splay, milliseconds(6000));
  EXPECT_EQ(c.heartbeat_interval, milliseconds(30000));
  EXPECT_EQ(c.verify_deadline, milliseconds(20000));
  EXPECT_EQ(c.command_timeout, milliseconds(60000));
  EXPECT_EQ(c.outbox_limit, 10000u);
  EXPECT_EQ(c.log_level, "info");
}

TEST(AgentConfigTest, SplayDefaultsToATenthOfTheCheckInterval) {
  Result<AgentConfig> parsed = parse(minimal("check_interval: 5m\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->splay, milliseconds(30000));
  parsed = parse(minimal("check_interval: 5m\nsplay: 0\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->splay, milliseconds(0));
}

TEST(AgentConfigTest, EmptySectionsKeepTheirDefaults) {
  Result<AgentConfig> parsed = parse(minimal("service:\nprobe:\nlabels:\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->service.strategy, ServiceStrategy::kPostfix);
  EXPECT_TRUE(parsed->labels.empty());
}

TEST(AgentConfigTest, SystemdStrategy) {
  Result<AgentConfig> parsed =
      parse(minimal("service:\n  strategy: systemd\n  systemd_unit: postfix@out\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->service.strategy, ServiceStrategy::kSystemd);
  EXPECT_EQ(parsed->service.systemd_unit, "postfix@out");
}

TEST(AgentConfigTest, ControllerForms) {
  Result<AgentConfig> parsed = parse("controller: '[2001:db8::1]:443'\nca_file: /ca.pem\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->controller_host, "2001:db8::1");
  EXPECT_EQ(parsed->controller_port, 443);
  EXPECT_EQ(parsed->controller_name, "2001:db8::1");
  parsed = parse("controller: 10.0.0.1:1\nca_file: /ca.pem\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->controller_host, "10.0.0.1");
  EXPECT_EQ(parsed->controller_port, 1);

  for (const char* bad :
       {"controller.example.org", "'controller.example.org:'", "':7443'",
        "controller.example.org:0", "controller.example.org:65536", "controller.example.org:74x",
        "2001:db8::1:443", "'[2001:db8::1]'", "'[2001:db8::1]443'"}) {
    EXPECT_THAT(error(std::string("controller: ") + bad + "\nca_file: /ca.pem\n"),
                HasSubstr(std::string(kPath) + ":1:13: 'controller' must be HOST:PORT"))
        << bad;
  }
}

TEST(AgentConfigTest, ControllersListsReplicasInOrder) {
  Result<AgentConfig> parsed =
      parse("controllers: [a.example.org:7443, '[::1]:7444']\nca_file: /ca.pem\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->controllers, (std::vector<std::string>{"a.example.org:7443", "[::1]:7444"}));
  EXPECT_EQ(parsed->controller_host, "a.example.org");  // the first
  EXPECT_EQ(parsed->controller_port, 7443);
  EXPECT_EQ(parse("controller: c:1\nca_file: /ca.pem\n")->controllers,
            std::vector<std::string>{"c:1"});
  EXPECT_THAT(error("controller: c:1\ncontrollers: [d:2]\nca_file: /ca.pem\n"),
              HasSubstr("give either 'controller' or 'controllers', not both"));
  EXPECT_THAT(error("controllers: []\nca_file: /ca.pem\n"), HasSubstr("not an empty list"));
  EXPECT_THAT(error("controllers: [c:1, nope]\nca_file: /ca.pem\n"),
              HasSubstr("an entry of 'controllers' must be HOST:PORT"));
}

TEST(AgentConfigTest, RelativePathsAreResolvedAgainstTheConfigDirectory) {
  const std::string text =
      "controller: c:1\nca_file: ca.pem\nstate_dir: ../state\n"
      "postfix_dir: ./postfix/\nmail_log: log/mail\nprobe:\n  login: u\n"
      "  password_file: secrets/pw\n";
  Result<AgentConfig> parsed = parseAgentConfig(text, "/etc/postwarden/agent.yaml", "h");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->ca_file, "/etc/postwarden/ca.pem");
  EXPECT_EQ(parsed->state_dir, "/etc/state");
  EXPECT_EQ(parsed->postfix_dir, "/etc/postwarden/postfix/");
  EXPECT_EQ(parsed->mail_log, "/etc/postwarden/log/mail");
  EXPECT_EQ(parsed->probe.password_file, "/etc/postwarden/secrets/pw");
  // Without a directory in the path, relative paths stay relative (to the working directory).
  parsed = parseAgentConfig(text, "agent.yaml", "h");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->ca_file, "ca.pem");
}

// The syntax itself is common/duration.h's (tests/unit/common/duration_test.cpp).
TEST(AgentConfigTest, Durations) {
  Result<AgentConfig> parsed = parse(minimal("check_interval: 500ms\nsplay: 0\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->check_interval, milliseconds(500));
  EXPECT_EQ(parsed->splay, milliseconds(0));
  parsed = parse(minimal("check_interval: 1d\nverify_deadline: 168h\n"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->check_interval, milliseconds(24LL * 3600 * 1000));
  EXPECT_EQ(parsed->verify_deadline, milliseconds(7LL * 24 * 3600 * 1000));

  EXPECT_EQ(
      error(minimal("check_interval: 169h\n")),
      std::string(kPath) + ":3:17: 'check_interval': '169h' is longer than the limit of 7 days");
  EXPECT_EQ(error(minimal("splay: 18446744073709551616\n")),
            std::string(kPath) +
                ":3:8: 'splay': '18446744073709551616' is longer than the limit of 7 days");
  EXPECT_EQ(error(minimal("check_interval: 1.5s\n")),
            std::string(kPath) +
                ":3:17: 'check_interval': expected a duration such as 500ms, 30s, 5m, 1h or a "
                "number of seconds, not '1.5s'");
  EXPECT_EQ(error(minimal("heartbeat_interval: 0s\n")),
            std::string(kPath) + ":3:21: 'heartbeat_interval' must be longer than 0");
  EXPECT_EQ(error(minimal("probe:\n  timeout: soon\n")),
            std::string(kPath) +
                ":4:12: 'timeout': expected a duration such as 500ms, 30s, 5m, 1h or a number "
                "of seconds, not 'soon'");
}

TEST(AgentConfigTest, MalformedYaml) {
  EXPECT_THAT(error("controller: [a\nca_file: x\n"), HasSubstr(std::string(kPath) + ":"));
  EXPECT_EQ(error("controller: c:1\n  ca_file: x: y\n"),
            std::string(kPath) + ":2:10: invalid YAML: illegal map value");
  EXPECT_EQ(error(""), std::string(kPath) +
                           ":1:1: empty config: expected a map with at least 'controller' and "
                           "'ca_file'");
  EXPECT_EQ(error(minimal("---\nfoo: 1\n")),
            std::string(kPath) + ":3:1: a config file holds one YAML document; found another");
  EXPECT_EQ(error("- a\n- b\n"),
            std::string(kPath) +
                ":1:1: the agent config must be a map of controller, controllers, controller_name, "
                "ca_file, "
                "state_dir, agent_id, postfix_dir, service, probe, labels, check_interval, "
                "splay, heartbeat_interval, verify_deadline, command_timeout, outbox_limit, "
                "log_level, mail_log, metrics_textfile, backup_keep, not a list");
}

TEST(AgentConfigTest, UnknownKeysSuggestTheClosest) {
  EXPECT_THAT(error(minimal("check_intervall: 60s\n")),
              HasSubstr(std::string(kPath) +
                        ":3:1: unknown key 'check_intervall' in the agent config (did you mean "
                        "'check_interval'?); valid keys: controller,"));
  EXPECT_THAT(error(minimal("service:\n  stratgy: systemd\n")),
              HasSubstr(std::string(kPath) +
                        ":4:3: unknown key 'stratgy' in 'service' (did you mean 'strategy'?)"));
  EXPECT_THAT(error(minimal("probe:\n  adress: 127.0.0.1\n")),
              HasSubstr(":4:3: unknown key 'adress' in 'probe' (did you mean 'address'?)"));
  EXPECT_THAT(error(minimal("colour: blue\n")),
              HasSubstr(":3:1: unknown key 'colour' in the agent config; valid keys:"));
  EXPECT_EQ(error(minimal("state_dir: /a\nstate_dir: /b\n")),
            std::string(kPath) +
                ":4:1: duplicate key 'state_dir' in the agent config (first at "
                "3:1)");
}

TEST(AgentConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(
      error("ca_file: /ca.pem\n"),
      std::string(kPath) + ":1:1: missing required key 'controller' (HOST:PORT of the controller)");
  EXPECT_EQ(error("\n\nstate_dir: /x\ncontroller: c:1\n"),
            std::string(kPath) +
                ":3:1: missing required key 'ca_file' (the controller's CA certificate)");
}

TEST(AgentConfigTest, WrongTypes) {
  EXPECT_EQ(error(minimal("state_dir: [a, b]\n")),
            std::string(kPath) + ":3:12: 'state_dir' must be text, not a list");
  EXPECT_EQ(error(minimal("state_dir:\n")), std::string(kPath) + ":3:1: 'state_dir' has no value");
  EXPECT_EQ(error(minimal("state_dir: ''\n")),
            std::string(kPath) + ":3:12: 'state_dir' must not be empty");
  EXPECT_EQ(error(minimal("service: postfix\n")),
            std::string(kPath) +
                ":3:10: 'service' must be a map of strategy, systemd_unit, reload_command, "
                "restart_command, not text");
  EXPECT_EQ(error(minimal("labels: [a]\n")),
            std::string(kPath) +
                ":3:9: 'labels' must be a map of name: value (such as {site: fra1}), not a list");
  EXPECT_EQ(error(minimal("outbox_limit: lots\n")),
            std::string(kPath) +
                ":3:15: 'outbox_limit' must be a number from 1 to 1000000, not "
                "'lots'");
  EXPECT_EQ(error(minimal("outbox_limit: 0\n")),
            std::string(kPath) +
                ":3:15: 'outbox_limit' must be a number from 1 to 1000000, not "
                "'0'");
  EXPECT_EQ(error(minimal("log_level: verbose\n")),
            std::string(kPath) +
                ":3:12: 'log_level' must be one of trace, debug, info, warn, "
                "error, critical, off, not 'verbose'");
  EXPECT_EQ(error(minimal("log_level: inf\n")),
            std::string(kPath) +
                ":3:12: 'log_level' must be one of trace, debug, info, warn, "
                "error, critical, off, not 'inf' (did you mean 'info'?)");
  EXPECT_EQ(error(minimal("probe:\n  port: 70000\n")),
            std::string(kPath) +
                ":4:9: 'port' must be a port number from 1 to 65535, not "
                "'70000'");
}

TEST(AgentConfigTest, ServiceRules) {
  EXPECT_EQ(error(minimal("service:\n  strategy: sytemd\n")),
            std::string(kPath) +
                ":4:13: 'strategy' must be postfix, systemd or command, not "
                "'sytemd' (did you mean 'systemd'?)");
  EXPECT_EQ(error(minimal("service:\n  strategy: command\n")),
            std::string(kPath) + ":4:3: strategy: command needs 'reload_command'");
  EXPECT_EQ(error(minimal("service:\n  reload_command: [a]\n")),
            std::string(kPath) + ":4:3: 'reload_command' needs strategy: command");
  EXPECT_EQ(error(minimal("service:\n  systemd_unit: postfix\n")),
            std::string(kPath) + ":4:3: 'systemd_unit' needs strategy: systemd");
  EXPECT_EQ(error(minimal("service:\n  strategy: command\n  reload_command: postfix reload\n")),
            std::string(kPath) +
                ":5:19: 'reload_command' must be a list of words (the argv, run without a shell), "
                "not text; write [/usr/sbin/postfix, reload], not a command line");
  EXPECT_EQ(error(minimal("service:\n  strategy: command\n  reload_command: []\n")),
            std::string(kPath) +
                ":5:19: 'reload_command' must be a list of words (the argv, run without a shell), "
                "not an empty list");
  EXPECT_EQ(error(minimal("service:\n  strategy: command\n  reload_command: [a, [b]]\n")),
            std::string(kPath) + ":5:23: a word of 'reload_command' must be text, not a list");
}

TEST(AgentConfigTest, ProbeRules) {
  EXPECT_EQ(error(minimal("probe:\n  login: u\n")),
            std::string(kPath) + ":4:3: 'login' needs 'password_file'");
  EXPECT_EQ(error(minimal("probe:\n  password_file: /pw\n")),
            std::string(kPath) + ":4:3: 'password_file' needs 'login'");
  EXPECT_EQ(error(minimal("probe:\n  mail_to: a@b\n")),
            std::string(kPath) +
                ":4:3: 'mail_to' needs 'login' (the test message is sent as an authenticated "
                "client)");
  EXPECT_EQ(error(minimal("probe:\n  roles: {smpt: 25}\n")),
            std::string(kPath) +
                ":4:11: unknown role 'smpt' in 'roles' (did you mean 'smtp'?); roles: smtp, "
                "submission, submissions");
  EXPECT_EQ(error(minimal("probe:\n  roles: {smtp: 0}\n")),
            std::string(kPath) +
                ":4:17: the port of role 'smtp' must be a port number from 1 to 65535, not '0'");
  EXPECT_EQ(error(minimal("probe:\n  roles: {smtp: []}\n")),
            std::string(kPath) + ":4:17: the port of role 'smtp' must not be an empty list");
  EXPECT_EQ(error(minimal("probe:\n  roles: 25\n")),
            std::string(kPath) +
                ":4:10: 'roles' must be a map of role: port (such as {smtp: 2525}), not text");
}

TEST(AgentConfigTest, AgentId) {
  EXPECT_EQ(error(minimal("agent_id: MX1.example.org\n")),
            std::string(kPath) +
                ":3:11: agent_id 'MX1.example.org' must match [a-z0-9][a-z0-9.-]{0,252} "
                "(lowercase letters, digits, '.' and '-')");
  EXPECT_THAT(error(minimal("agent_id: -mx1\n")), HasSubstr(":3:11: agent_id '-mx1' must match"));
  EXPECT_THAT(error(minimal("agent_id: mx_1\n")), HasSubstr(":3:11: agent_id 'mx_1' must match"));
  EXPECT_THAT(error(minimal("agent_id: " + std::string(254, 'a') + "\n")),
              HasSubstr(":3:11: agent_id"));
  EXPECT_TRUE(parse(minimal("agent_id: " + std::string(253, 'a') + "\n")).ok());
  EXPECT_TRUE(parse(minimal("agent_id: 0\n")).ok());

  // The host name is lowercased; an unusable one asks for agent_id.
  Result<AgentConfig> parsed = parseAgentConfig(minimal(), kPath, "MX2.Example.ORG");
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->agent_id, "mx2.example.org");
  parsed = parseAgentConfig(minimal(), kPath, "mx_2");
  EXPECT_EQ(parsed.status().message(),
            std::string(kPath) +
                ":1:1: agent_id is not set and the host name 'mx_2' is not a valid agent id "
                "([a-z0-9][a-z0-9.-]{0,252}); set agent_id");
  EXPECT_FALSE(parseAgentConfig(minimal(), kPath, "").ok());
  EXPECT_TRUE(parseAgentConfig(minimal("agent_id: mx3\n"), kPath, "").ok());
}

TEST(AgentConfigTest, ControlCharactersAreRejected) {
  EXPECT_EQ(
      error(minimal("state_dir: \"/var/lib\\npostwarden\"\n")),
      std::string(kPath) + ":3:12: 'state_dir' must not contain control characters or line breaks");
  EXPECT_THAT(error(minimal("probe:\n  login: \"a\\tb\"\n  password_file: /p\n")),
              HasSubstr(":4:10: 'login' must not contain control characters"));
  EXPECT_THAT(error(minimal("service:\n  strategy: command\n  reload_command: [\"a\\u007f\"]\n")),
              HasSubstr(":5:20: a word of 'reload_command' must not contain control characters"));
  EXPECT_THAT(error(minimal("controller_name: |\n  two\n  lines\n")),
              HasSubstr(":3:18: 'controller_name' must not contain control characters"));
}

TEST(AgentConfigTest, Labels) {
  EXPECT_EQ(error(minimal("labels: {site: \"\"}\n")),
            std::string(kPath) +
                ":3:16: the value of label 'site' must be 1 to 63 characters "
                "of A-Z, a-z, 0-9, '.', '_' and '-'");
  EXPECT_EQ(error(minimal("labels: {site:}\n")),
            std::string(kPath) + ":3:10: label 'site' has no value");
  EXPECT_EQ(error(minimal("labels: {\"my site\": x}\n")),
            std::string(kPath) +
                ":3:10: label name 'my site' must be 1 to 63 characters of "
                "A-Z, a-z, 0-9, '.', '_' and '-'");
  EXPECT_THAT(error(minimal("labels: {site: fra/1}\n")),
              HasSubstr(":3:16: the value of label 'site' must be"));
  EXPECT_THAT(error(minimal("labels: {" + std::string(64, 'k') + ": v}\n")),
              HasSubstr(":3:10: label name"));
  EXPECT_TRUE(
      parse(minimal("labels: {" + std::string(63, 'k') + ": " + std::string(63, 'v') + "}\n"))
          .ok());
  EXPECT_EQ(error(minimal("labels: {site: [a]}\n")),
            std::string(kPath) + ":3:16: the value of label 'site' must be text, not a list");
  EXPECT_EQ(error(minimal("labels:\n  a: x\n  a: y\n")),
            std::string(kPath) + ":5:3: duplicate label 'a' (first at 4:3)");
}

TEST(AgentConfigTest, TheDocumentedExampleParses) {
  std::ifstream in(std::string(POSTWARDEN_SOURCE_DIR) + "/docs/agent-config.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t start = doc.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  Result<AgentConfig> parsed = parse(doc.substr(start + 8, end - start - 8));
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->controller_port, 7443);
  EXPECT_EQ(parsed->service.strategy, ServiceStrategy::kCommand);
  EXPECT_EQ(parsed->probe.role_ports.size(), 3u);
  EXPECT_EQ(parsed->splay, milliseconds(10000));
}

TEST(AgentConfigTest, LoadReadsTheFileAndResolvesAgainstItsDirectory) {
  os::TempDir temp;
  const std::string path = temp.file("agent.yaml");
  std::ofstream(path) << "controller: c.example.org:7443\nca_file: ca.pem\nagent_id: mx9\n";
  Result<AgentConfig> loaded = loadAgentConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_EQ(loaded->ca_file, temp.file("ca.pem"));
  EXPECT_EQ(loaded->agent_id, "mx9");

  std::ofstream(path) << "controller: c.example.org:7443\nca_file: ca.pem\nstate_dir: [x]\n";
  EXPECT_EQ(loadAgentConfig(path).status().message(),
            path + ":3:12: 'state_dir' must be text, not a list");

  EXPECT_EQ(loadAgentConfig(temp.file("missing.yaml")).status().code(), StatusCode::kNotFound);
}

TEST(AgentConfigTest, LoadDefaultsTheAgentIdToTheHostName) {
  os::TempDir temp;
  const std::string path = temp.file("agent.yaml");
  std::ofstream(path) << minimal();
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  std::string expected = host;
  for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Result<AgentConfig> loaded = loadAgentConfig(path);
  if (!isValidAgentId(expected)) GTEST_SKIP() << "host name '" << host << "' is not an agent id";
  ASSERT_TRUE(loaded.ok()) << loaded.status().toString();
  EXPECT_EQ(loaded->agent_id, expected);
}

}  // namespace
}  // namespace postwarden::agent::daemon
