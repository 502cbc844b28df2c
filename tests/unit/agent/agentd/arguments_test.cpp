#include "agent/agentd/arguments.h"

#include <gtest/gtest.h>

namespace postwarden::agent::agentd {
namespace {

std::string error(const std::vector<std::string>& args) {
  Result<AgentdArguments> parsed = parseArguments(args);
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(AgentdArgumentsTest, RunTakesItsConfigOrTheDefault) {
  Result<AgentdArguments> parsed = parseArguments({"run"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(std::get<RunFlags>(parsed->command).config, "/etc/postwarden/agent.yaml");
  EXPECT_FALSE(parsed->verbose);
  parsed = parseArguments({"-v", "run", "--config", "/tmp/a.yaml"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(std::get<RunFlags>(parsed->command).config, "/tmp/a.yaml");
  EXPECT_TRUE(parsed->verbose);
}

TEST(AgentdArgumentsTest, LogFormatIsTextUnlessJsonIsAskedForAnywhere) {
  Result<AgentdArguments> parsed = parseArguments({"run"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->log_format, LogFormat::kText);
  parsed = parseArguments({"run", "--log-format", "json", "--config", "/tmp/a.yaml"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->log_format, LogFormat::kJson);
  EXPECT_EQ(std::get<RunFlags>(parsed->command).config, "/tmp/a.yaml");
  parsed = parseArguments({"--log-format", "text", "run"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->log_format, LogFormat::kText);
  EXPECT_EQ(error({"run", "--log-format", "yaml"}), "--log-format takes text or json, not 'yaml'");
  EXPECT_EQ(error({"run", "--log-format"}), "--log-format needs a value");
}

TEST(AgentdArgumentsTest, HelpAndVersionWinAnywhere) {
  EXPECT_TRUE(std::holds_alternative<HelpRequest>(parseArguments({"run", "--help"})->command));
  EXPECT_TRUE(std::holds_alternative<VersionRequest>(parseArguments({"--version"})->command));
}

TEST(AgentdArgumentsTest, EnrollFlagsAreKeptAsGiven) {
  Result<AgentdArguments> parsed = parseArguments(
      {"enroll", "--controller", "c.example:7443", "--ca", "/ca.pem", "--token", "t0k"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const EnrollFlags& flags = std::get<EnrollFlags>(parsed->command);
  EXPECT_EQ(flags.controller, "c.example:7443");
  EXPECT_EQ(flags.ca_file, "/ca.pem");
  EXPECT_EQ(flags.token, "t0k");
  EXPECT_FALSE(flags.agent_id);
}

TEST(AgentdArgumentsTest, BadUsageIsOneClearSentence) {
  EXPECT_EQ(error({}), "a command is required: enroll or run");
  EXPECT_EQ(error({"start"}), "unknown command 'start' (enroll or run)");
  EXPECT_EQ(error({"run", "--conf", "x"}), "unknown option --conf for run (see --help)");
  EXPECT_EQ(error({"run", "--config"}), "--config needs a value");
  EXPECT_EQ(error({"enroll", "--token", "a", "--token", "b"}), "--token is given twice");
  EXPECT_EQ(error({"enroll", "--config", "a.yaml", "--tokn", "b"}),
            "unknown option --tokn for enroll (see --help)");
}

EnrollFlags minimalFlags() {
  return {.controller = "ctl.example:7443", .ca_file = "/ca.pem", .token = "secret"};
}

TEST(ResolveEnrollTest, DefaultsComeFromTheHostAndTheControllerAddress) {
  Result<EnrollSettings> s = resolveEnroll(minimalFlags(), std::nullopt, "MX1.Example.ORG");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->agent_id, "mx1.example.org");
  EXPECT_EQ(s->enroll_address, "ctl.example:7444");
  EXPECT_EQ(s->state_dir, "/var/lib/postwarden");
  EXPECT_EQ(s->token, "secret");
}

TEST(ResolveEnrollTest, FlagsOverrideTheConfigFile) {
  daemon::AgentConfig config;
  config.controller_host = "from-config.example";
  config.controller_port = 9000;
  config.ca_file = "/etc/postwarden/ca.pem";
  config.agent_id = "configured";
  config.state_dir = "/srv/pw";
  EnrollFlags flags{.agent_id = "flagged", .token_file = "/run/token"};
  Result<EnrollSettings> s = resolveEnroll(flags, config, "host");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->enroll_address, "from-config.example:9001");
  EXPECT_EQ(s->ca_file, "/etc/postwarden/ca.pem");
  EXPECT_EQ(s->agent_id, "flagged");
  EXPECT_EQ(s->state_dir, "/srv/pw");
  EXPECT_EQ(s->token_file, "/run/token");
  EXPECT_FALSE(s->token);
}

TEST(ResolveEnrollTest, MissingOrBadSettingsAreRefused) {
  auto error = [](EnrollFlags flags, const std::string& host = "mx1") {
    Result<EnrollSettings> s = resolveEnroll(flags, std::nullopt, host);
    return s.ok() ? "" : s.status().message();
  };
  EnrollFlags flags = minimalFlags();
  flags.controller.reset();
  EXPECT_EQ(error(flags), "--controller is required");
  flags = minimalFlags();
  flags.ca_file.reset();
  EXPECT_EQ(error(flags), "--ca is required");
  flags = minimalFlags();
  flags.token.reset();
  EXPECT_EQ(error(flags), "--token or --token-file is required");
  flags = minimalFlags();
  flags.token_file = "/t";
  EXPECT_EQ(error(flags), "--token and --token-file exclude each other");
  flags = minimalFlags();
  flags.controller = "ctl.example";
  EXPECT_EQ(error(flags), "bad --controller 'ctl.example': HOST:PORT expected");
  flags.controller = "ctl.example:65535";
  EXPECT_EQ(error(flags), "bad --controller 'ctl.example:65535': HOST:PORT expected");
  flags.enroll_address = "ctl.example:7000";
  EXPECT_EQ(error(flags), "") << "an explicit enrollment address needs no port arithmetic";
  EXPECT_EQ(error(minimalFlags(), "bad_host!"),
            "agent id 'bad_host!' is not a lowercase host name (use --agent-id)");
}

}  // namespace
}  // namespace postwarden::agent::agentd
