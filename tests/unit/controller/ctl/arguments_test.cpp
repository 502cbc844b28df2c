#include "controller/ctl/arguments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/version.h"
#include "controller/ctl/values.h"

namespace postwarden::controller::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::StartsWith;

template <typename T>
T as(const Result<Invocation>& parsed) {
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.status().toString();
    return T{};
  }
  if (!std::holds_alternative<T>(parsed->command)) {
    ADD_FAILURE() << "parsed into alternative " << parsed->command.index();
    return T{};
  }
  return std::get<T>(parsed->command);
}

void expectInvalid(const Result<Invocation>& parsed, const std::string& message_part) {
  ASSERT_FALSE(parsed.ok()) << "parsed, but should not have";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr(message_part));
}

// --- values ------------------------------------------------------------------------------

TEST(PostwardenctlValuesTest, ParsesLabels) {
  Labels labels;
  ASSERT_TRUE(parseLabels("env=prod,role=mx-1.a_b", "--selector", labels).ok());
  EXPECT_THAT(labels, ElementsAre(Pair("env", "prod"), Pair("role", "mx-1.a_b")));
}

TEST(PostwardenctlValuesTest, RejectsBadLabels) {
  for (const char* bad : {"", "env", "env=", "=prod", "env=prod,", "e nv=x", "env=pr/od",
                          "env=a,env=b", "k=" /* empty value */}) {
    Labels labels;
    Status status = parseLabels(bad, "--selector", labels);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), StartsWith("--selector")) << bad;
  }
  Labels labels;
  EXPECT_FALSE(parseLabels("k=" + std::string(64, 'v'), "--labels", labels).ok());
  EXPECT_TRUE(parseLabels("k=" + std::string(63, 'v'), "--labels", labels).ok());
}

TEST(PostwardenctlValuesTest, ParsesDurations) {
  EXPECT_EQ(*parseDuration("90", "--ttl"), 90);
  EXPECT_EQ(*parseDuration("45s", "--ttl"), 45);
  EXPECT_EQ(*parseDuration("30m", "--ttl"), 1800);
  EXPECT_EQ(*parseDuration("1h", "--ttl"), 3600);
  EXPECT_EQ(*parseDuration("7d", "--ttl"), 7 * 86400);
  EXPECT_EQ(*parseDuration("366d", "--ttl"), 366 * 86400);
  EXPECT_EQ(*parseDuration("2000ms", "--ttl"), 2);  // common/duration.h's syntax
  for (const char* bad :
       {"", "h", "0", "0h", "-1h", "1w", "1.5h", "1h30m", "367d", " 1h", "1500ms", "999ms"}) {
    Result<int64_t> parsed = parseDuration(bad, "--ttl");
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_THAT(parsed.status().message(), StartsWith("--ttl: '"));
    }
  }
}

TEST(PostwardenctlValuesTest, ParsesBaselineRefs) {
  Result<BaselineRef> ref = parseBaselineRef("edge@3f2a1b9c0d1e");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ref->name, "edge");
  EXPECT_EQ(ref->digest, "3f2a1b9c0d1e");
  for (const char* bad : {"edge", "edge@", "@3f2a", "ed ge@1", "a@b@c"}) {
    EXPECT_FALSE(parseBaselineRef(bad).ok()) << bad;
  }
}

// --- global options ----------------------------------------------------------------------

TEST(PostwardenctlArgumentsTest, NoArgumentsAndHelpPrintProgramHelp) {
  for (std::vector<std::string> args : {std::vector<std::string>{}, {"--help"}, {"-h"}, {"help"}}) {
    EXPECT_EQ(as<HelpCommand>(parseArguments(args)).text, programHelp());
  }
  EXPECT_THAT(programHelp(), HasSubstr("Usage: postwardenctl [global options] COMMAND"));
  EXPECT_THAT(programHelp(), HasSubstr("--controller HOST:PORT"));
  EXPECT_THAT(programHelp(), HasSubstr("Exit status:\n  0  success\n"));
}

TEST(PostwardenctlArgumentsTest, Version) {
  EXPECT_EQ(as<HelpCommand>(parseArguments({"--version"})).text,
            versionLine("postwardenctl") + "\n");
}

TEST(PostwardenctlArgumentsTest, CommandHelp) {
  std::string agents = as<HelpCommand>(parseArguments({"agents", "--help"})).text;
  EXPECT_THAT(agents, StartsWith("Usage: postwardenctl agents [--selector k=v[,k=v...]]\n"));
  EXPECT_THAT(agents, HasSubstr("Global options"));
  EXPECT_EQ(as<HelpCommand>(parseArguments({"help", "agents"})).text, agents);
  EXPECT_EQ(as<HelpCommand>(parseArguments({"agents", "-h", "--selector", "bad"})).text, agents);
  EXPECT_THAT(as<HelpCommand>(parseArguments({"token", "create", "--help"})).text,
              HasSubstr("--ttl DURATION"));
  EXPECT_THAT(as<HelpCommand>(parseArguments({"baseline", "--help"})).text,
              HasSubstr("--mode enforce|detect"));
  EXPECT_THAT(as<HelpCommand>(parseArguments({"drift", "--help"})).text, HasSubstr("Exits with 2"));
  expectInvalid(parseArguments({"help", "agnets"}), "no help for 'agnets' (did you mean");
}

TEST(PostwardenctlArgumentsTest, GlobalOptionsBeforeAndAfterTheCommand) {
  Result<Invocation> parsed =
      parseArguments({"--config", "/etc/c.yaml", "--controller=ctl.example.org:8443", "agents",
                      "--json", "--controller-name", "ctl.internal", "--ca", "ca.crt", "--cert",
                      "op.crt", "--key", "op.key", "--timeout", "30", "--no-color"});
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const GlobalOptions& g = parsed->global;
  EXPECT_EQ(g.config_file, "/etc/c.yaml");
  EXPECT_EQ(g.flags.controller, "ctl.example.org:8443");
  EXPECT_EQ(g.flags.controller_name, "ctl.internal");
  EXPECT_EQ(g.flags.ca_file, "ca.crt");
  EXPECT_EQ(g.flags.cert_file, "op.crt");
  EXPECT_EQ(g.flags.key_file, "op.key");
  EXPECT_EQ(g.timeout, std::chrono::seconds(30));
  EXPECT_TRUE(g.json);
  EXPECT_TRUE(g.no_color);
}

TEST(PostwardenctlArgumentsTest, Defaults) {
  Result<Invocation> parsed = parseArguments({"drift"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->global.timeout, std::chrono::seconds(10));
  EXPECT_FALSE(parsed->global.json);
  EXPECT_FALSE(parsed->global.config_file.has_value());
  as<ListDriftCommand>(parsed);
}

TEST(PostwardenctlArgumentsTest, UsageErrors) {
  expectInvalid(parseArguments({"agnets"}), "unknown command 'agnets' (did you mean 'agents'?)");
  expectInvalid(parseArguments({"agents", "--selectr", "a=b"}),
                "unknown option '--selectr' (did you mean '--selector'?)");
  expectInvalid(parseArguments({"agents", "--selector"}), "option --selector needs a value");
  expectInvalid(parseArguments({"agents", "extra"}), "unexpected argument 'extra'");
  expectInvalid(parseArguments({"--timeout", "0", "agents"}), "--timeout: '0'");
  expectInvalid(parseArguments({"--timeout", "ten", "agents"}), "--timeout: 'ten'");
  expectInvalid(parseArguments({"--json=yes", "agents"}), "option --json takes no value");
  expectInvalid(parseArguments({"--controller=", "agents"}), "needs a non-empty value");
  expectInvalid(parseArguments({"drift", "--mode", "enforce"}), "drift does not take --mode");
  expectInvalid(parseArguments({"agent"}), "agent needs a subcommand: agent show|revoke|approve");
  expectInvalid(parseArguments({"agent", "shwo", "x"}),
                "unknown subcommand 'agent shwo' (did you mean 'show'?)");
  expectInvalid(parseArguments({"agent", "show"}), "usage: postwardenctl agent show ID");
  expectInvalid(parseArguments({"agent", "show", "a", "b"}), "unexpected argument 'b'");
  expectInvalid(parseArguments({"--selector", "a=b"}), "option --selector needs a command");
}

// --- commands ----------------------------------------------------------------------------

TEST(PostwardenctlArgumentsTest, Agents) {
  ListAgentsCommand all = as<ListAgentsCommand>(parseArguments({"agents"}));
  EXPECT_TRUE(all.selector.empty());
  ListAgentsCommand some = as<ListAgentsCommand>(
      parseArguments({"agents", "--selector", "env=prod,role=mx", "--selector=site=par1"}));
  EXPECT_THAT(some.selector,
              ElementsAre(Pair("env", "prod"), Pair("role", "mx"), Pair("site", "par1")));
  expectInvalid(parseArguments({"agents", "--selector", "env"}), "--selector 'env': expected k=v");
}

TEST(PostwardenctlArgumentsTest, AgentSubcommands) {
  EXPECT_EQ(as<ShowAgentCommand>(parseArguments({"agent", "show", "mx1"})).id, "mx1");
  EXPECT_EQ(as<RevokeAgentCommand>(parseArguments({"agent", "revoke", "mx1"})).id, "mx1");
  EXPECT_EQ(as<ApproveAgentCommand>(parseArguments({"agent", "approve", "mx1"})).id, "mx1");
}

TEST(PostwardenctlArgumentsTest, Baseline) {
  EXPECT_EQ(as<PushBaselineCommand>(parseArguments({"baseline", "push", "edge.yaml"})).file,
            "edge.yaml");
  as<ListBaselinesCommand>(parseArguments({"baseline", "list"}));
  DeleteBaselineCommand deleted =
      as<DeleteBaselineCommand>(parseArguments({"baseline", "delete", "edge@3f2a"}));
  EXPECT_EQ(deleted.baseline.name, "edge");
  EXPECT_EQ(deleted.baseline.digest, "3f2a");
  expectInvalid(parseArguments({"baseline", "delete", "edge"}), "NAME@DIGEST");
  expectInvalid(parseArguments({"baseline", "delete"}), "baseline delete NAME@DIGEST");
  AssignBaselineCommand assign = as<AssignBaselineCommand>(parseArguments(
      {"baseline", "assign", "edge@3f2a1b9c0d1e", "--selector", "env=prod", "--mode", "enforce"}));
  EXPECT_EQ(assign.baseline.name, "edge");
  EXPECT_EQ(assign.baseline.digest, "3f2a1b9c0d1e");
  EXPECT_EQ(assign.mode, AssignMode::kEnforce);
  EXPECT_THAT(assign.selector, ElementsAre(Pair("env", "prod")));
  EXPECT_EQ(as<AssignBaselineCommand>(
                parseArguments({"baseline", "assign", "edge@1", "--mode=detect", "--yes"}))
                .mode,
            AssignMode::kDetect);
  expectInvalid(parseArguments({"baseline", "assign", "edge@1"}), "needs --mode enforce|detect");
  expectInvalid(parseArguments({"baseline", "assign", "edge@1", "--mode", "repair"}),
                "--mode must be enforce or detect, not 'repair'");
  expectInvalid(parseArguments({"baseline", "assign", "edge", "--mode", "detect"}),
                "expected NAME@DIGEST");
  expectInvalid(parseArguments({"baseline", "push"}), "usage: postwardenctl baseline push FILE");
  expectInvalid(parseArguments({"baseline", "list", "--mode", "detect"}),
                "baseline list does not take --mode");
}

TEST(PostwardenctlArgumentsTest, Token) {
  CreateTokenCommand defaults = as<CreateTokenCommand>(parseArguments({"token", "create"}));
  EXPECT_EQ(defaults.ttl_seconds, 3600);
  EXPECT_EQ(defaults.uses, 1);
  EXPECT_TRUE(defaults.labels.empty());
  EXPECT_EQ(defaults.agent_id, "");
  CreateTokenCommand full = as<CreateTokenCommand>(
      parseArguments({"token", "create", "--labels", "env=prod,role=mx", "--ttl", "7d", "--uses",
                      "5", "--agent", "mx1.example.org"}));
  EXPECT_THAT(full.labels, ElementsAre(Pair("env", "prod"), Pair("role", "mx")));
  EXPECT_EQ(full.ttl_seconds, 7 * 86400);
  EXPECT_EQ(full.uses, 5);
  EXPECT_EQ(full.agent_id, "mx1.example.org");
  as<ListTokensCommand>(parseArguments({"token", "list"}));
  EXPECT_EQ(as<RevokeTokenCommand>(parseArguments({"token", "revoke", "tok1"})).id, "tok1");
  expectInvalid(parseArguments({"token", "create", "--uses", "0"}), "--uses: '0'");
  expectInvalid(parseArguments({"token", "create", "--ttl", "1h", "--ttl", "2h"}),
                "--ttl given twice");
  expectInvalid(parseArguments({"token", "create", "--ttl", "1w"}), "--ttl: '1w'");
}

TEST(PostwardenctlArgumentsTest, SendCommand) {
  SendCommandCommand apply = as<SendCommandCommand>(parseArguments({"command", "apply", "mx1"}));
  EXPECT_EQ(apply.kind, CommandKind::kApply);
  EXPECT_EQ(apply.agent_id, "mx1");
  EXPECT_EQ(as<SendCommandCommand>(parseArguments({"command", "verify", "mx1"})).kind,
            CommandKind::kVerify);
  expectInvalid(parseArguments({"command", "reload", "mx1"}),
                "unknown subcommand 'command reload'");
}

TEST(PostwardenctlArgumentsTest, Rollout) {
  using Action = RolloutCommand::Action;
  RolloutCommand plan = as<RolloutCommand>(parseArguments({"rollout", "plan", "-f", "r.yaml"}));
  EXPECT_EQ(plan.action, Action::kPlan);
  EXPECT_EQ(plan.file, "r.yaml");
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "create", "--file=r.yaml"})).file,
            "r.yaml");
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "create", "r.yaml"})).file, "r.yaml");
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "list"})).action, Action::kList);
  RolloutCommand rollback = as<RolloutCommand>(
      parseArguments({"rollout", "rollback", "tls-1", "--reason", "queues grow"}));
  EXPECT_EQ(rollback.action, Action::kRollback);
  EXPECT_EQ(rollback.id, "tls-1");
  EXPECT_EQ(rollback.reason, "queues grow");
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "approve", "tls-1"})).action,
            Action::kApprove);
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "pause", "tls-1"})).action,
            Action::kPause);
  EXPECT_EQ(as<RolloutCommand>(parseArguments({"rollout", "resume", "tls-1"})).action,
            Action::kResume);
  expectInvalid(parseArguments({"rollout", "plan"}), "usage: postwardenctl rollout plan -f FILE");
  expectInvalid(parseArguments({"rollout", "create", "-f", "a", "b"}), "unexpected argument 'b'");
  expectInvalid(parseArguments({"rollout", "create", "-f", "a", "-f", "b"}), "--file given twice");
  expectInvalid(parseArguments({"rollout", "approve", "tls-1", "--reason", "x"}),
                "rollout approve does not take --reason");
  expectInvalid(parseArguments({"rollout", "start", "x"}), "expected rollout plan|create");
}

TEST(PostwardenctlArgumentsTest, AssignToEveryAgentNeedsYes) {
  expectInvalid(parseArguments({"baseline", "assign", "b@1", "--mode", "enforce"}),
                "reaches every agent, present and future: add --yes");
  EXPECT_TRUE(as<AssignBaselineCommand>(
                  parseArguments({"baseline", "assign", "b@1", "--mode", "enforce", "--dry-run"}))
                  .dry_run);
  AssignBaselineCommand all = as<AssignBaselineCommand>(parseArguments(
      {"baseline", "assign", "b@1", "--mode", "enforce", "--yes", "--allow-no-match"}));
  EXPECT_TRUE(all.allow_no_match);
  expectInvalid(parseArguments({"baseline", "assign", "b@1", "--mode", "enforce", "--yes=1"}),
                "takes no value");
  EXPECT_EQ(as<UnassignCommand>(parseArguments({"baseline", "unassign", "12"})).id, 12);
  expectInvalid(parseArguments({"baseline", "unassign", "x"}), "assignment id");
  as<ListAssignmentsCommand>(parseArguments({"baseline", "assignments"}));
}

TEST(PostwardenctlArgumentsTest, Audit) {
  AuditCommand all = as<AuditCommand>(parseArguments({"audit"}));
  EXPECT_TRUE(all.rollout_id.empty());
  EXPECT_EQ(all.since_seconds_ago, 0);
  AuditCommand some =
      as<AuditCommand>(parseArguments({"audit", "--rollout", "r-1", "--since", "1h"}));
  EXPECT_EQ(some.rollout_id, "r-1");
  EXPECT_EQ(some.since_seconds_ago, 3600);
  expectInvalid(parseArguments({"audit", "--since", "soon"}), "--since");
}

}  // namespace
}  // namespace postwarden::controller::ctl
