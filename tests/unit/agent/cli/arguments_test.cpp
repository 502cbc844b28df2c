#include "agent/cli/arguments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/version.h"

namespace postwarden::agent::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Result<Arguments> parse(std::vector<std::string> args) { return parseArguments(args); }

// The parsed arguments as `T`, or a test failure (and a default T) when they are not.
template <typename T>
T as(const Result<Arguments>& parsed) {
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.status().toString();
    return T{};
  }
  if (!std::holds_alternative<T>(*parsed)) {
    ADD_FAILURE() << "parsed into alternative " << parsed->index();
    return T{};
  }
  return std::get<T>(*parsed);
}

void expectInvalid(const Result<Arguments>& parsed, const std::string& message_part) {
  ASSERT_FALSE(parsed.ok()) << "parsed, but should not have";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr(message_part));
}

// --- commands -------------------------------------------------------------------------

TEST(ArgumentsTest, PlanParsesItsTargetOptions) {
  PlanArgs plan = as<PlanArgs>(
      parse({"plan", "--policy", "hardening.yaml", "--postfix-dir", "/etc/postfix-out", "--role",
             "smtp=2525", "--role", "submission=1587", "--format", "json", "--no-color"}));

  EXPECT_EQ(plan.target.policy, "hardening.yaml");
  EXPECT_EQ(plan.target.postfix_dir, "/etc/postfix-out");
  EXPECT_EQ(plan.target.format, OutputFormat::kJson);
  EXPECT_FALSE(plan.target.color);
  ASSERT_EQ(plan.target.role_ports.size(), 2u);
  EXPECT_EQ(plan.target.role_ports.find("smtp")->second, "2525");
  EXPECT_EQ(plan.target.role_ports.find("submission")->second, "1587");
}

// --- directories: always absolute -----------------------------------------------------

TEST(ArgumentsTest, RelativeDirectoriesAreResolvedAgainstTheWorkingDirectory) {
  // A relative --postfix-dir once made `postfix -c DIR status` look elsewhere, and the status
  // step said Postfix was not running.
  const std::string cwd = "/srv/mail";
  EXPECT_EQ(as<PlanArgs>(parseArguments({"plan", "--policy", "p", "--postfix-dir", "pf"}, cwd))
                .target.postfix_dir,
            "/srv/mail/pf");
  ApplyArgs apply = as<ApplyArgs>(parseArguments(
      {"apply", "--policy", "p", "--postfix-dir", "./pf/", "--state-dir", "../state"}, cwd));
  EXPECT_EQ(apply.target.postfix_dir, "/srv/mail/pf");
  EXPECT_EQ(apply.state_dir, "/srv/state");
  EXPECT_EQ(as<VerifyArgs>(parseArguments({"verify", "--policy", "p", "--postfix-dir=."}, cwd))
                .target.postfix_dir,
            "/srv/mail");
  EXPECT_EQ(as<ClearArgs>(parseArguments({"clear", "--state-dir", "st"}, cwd)).state_dir,
            "/srv/mail/st");
}

TEST(ArgumentsTest, AbsoluteDirectoriesAreOnlyNormalized) {
  ApplyArgs apply = as<ApplyArgs>(parseArguments(
      {"apply", "--policy", "p", "--postfix-dir", "/etc//postfix/", "--state-dir", "/var/x/../y"},
      "/srv/mail"));
  EXPECT_EQ(apply.target.postfix_dir, "/etc/postfix");
  EXPECT_EQ(apply.state_dir, "/var/y");
  EXPECT_EQ(as<ClearArgs>(parseArguments({"clear", "--state-dir", "/"}, "")).state_dir, "/");
}

TEST(ArgumentsTest, RelativeDirectoryWithoutAWorkingDirectoryIsRefused) {
  expectInvalid(parse({"plan", "--policy", "p", "--postfix-dir", "pf"}),
                "--postfix-dir 'pf' is relative and the current directory is not known");
  expectInvalid(parse({"apply", "--policy", "p", "--state-dir", "state"}),
                "--state-dir 'state' is relative");
  expectInvalid(parse({"clear", "--state-dir", "state"}), "--state-dir 'state' is relative");
  expectInvalid(parseArguments({"verify", "--policy", "p", "--postfix-dir", "pf"}, "relative/cwd"),
                "give an absolute path");
}

TEST(ArgumentsTest, PlanHasDefaults) {
  PlanArgs plan = as<PlanArgs>(parse({"plan", "--policy", "p.yaml"}));

  EXPECT_EQ(plan.target.postfix_dir, "/etc/postfix");
  EXPECT_EQ(plan.target.format, OutputFormat::kText);
  EXPECT_TRUE(plan.target.color);
  EXPECT_TRUE(plan.target.role_ports.empty());
}

TEST(ArgumentsTest, InlineOptionValuesParse) {
  PlanArgs plan =
      as<PlanArgs>(parse({"plan", "--policy=x.yaml", "--format=json", "--role=smtp=2525"}));

  EXPECT_EQ(plan.target.policy, "x.yaml");
  EXPECT_EQ(plan.target.format, OutputFormat::kJson);
  ASSERT_EQ(plan.target.role_ports.size(), 1u);
  EXPECT_EQ(plan.target.role_ports.begin()->second, "2525");
}

TEST(ArgumentsTest, ApplyParsesEveryOption) {
  ApplyArgs apply = as<ApplyArgs>(parse({"apply",
                                         "--policy",
                                         "p.yaml",
                                         "--state-dir",
                                         "/srv/pw",
                                         "--service",
                                         "command",
                                         "--reload-command",
                                         "/usr/bin/mta-ctl  reload now",
                                         "--restart-command",
                                         "mta-ctl bounce",
                                         "--verify-deadline",
                                         "45",
                                         "--command-timeout",
                                         "90",
                                         "--dry-run",
                                         "--offline",
                                         "--probe",
                                         "127.0.0.1:2525",
                                         "--probe-timeout",
                                         "3",
                                         "--probe-login",
                                         "alice",
                                         "--probe-password-file",
                                         "/run/pw",
                                         "--probe-mail-to",
                                         "postmaster@example.org"}));

  EXPECT_EQ(apply.target.policy, "p.yaml");
  EXPECT_EQ(apply.state_dir, "/srv/pw");
  EXPECT_EQ(apply.service.strategy, service::Strategy::kCommand);
  EXPECT_EQ(apply.service.reload_command,
            (std::vector<std::string>{"/usr/bin/mta-ctl", "reload", "now"}));
  EXPECT_EQ(apply.service.restart_command, (std::vector<std::string>{"mta-ctl", "bounce"}));
  EXPECT_EQ(apply.verify_deadline, std::chrono::milliseconds(45000));
  EXPECT_EQ(apply.command_timeout, std::chrono::milliseconds(90000));
  EXPECT_TRUE(apply.dry_run);
  EXPECT_TRUE(apply.offline);
  ASSERT_TRUE(apply.probe.probe.has_value());
  EXPECT_EQ(apply.probe.probe->host, "127.0.0.1");
  EXPECT_EQ(apply.probe.probe->port, 2525);
  EXPECT_EQ(apply.probe.timeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(apply.probe.login_user, "alice");
  EXPECT_EQ(apply.probe.password_file, "/run/pw");
  EXPECT_EQ(apply.probe.mail_to, "postmaster@example.org");
}

TEST(ArgumentsTest, ApplyHasDefaults) {
  ApplyArgs apply = as<ApplyArgs>(parse({"apply", "--policy", "p.yaml"}));

  EXPECT_EQ(apply.state_dir, "/var/lib/postwarden");
  EXPECT_EQ(apply.service.strategy, service::Strategy::kPostfix);
  EXPECT_EQ(apply.service.systemd_unit, "postfix@-");
  EXPECT_EQ(apply.verify_deadline, std::chrono::milliseconds(20000));
  EXPECT_EQ(apply.command_timeout, std::chrono::milliseconds(60000));
  EXPECT_FALSE(apply.dry_run);
  EXPECT_FALSE(apply.offline);
  EXPECT_FALSE(apply.probe.probe.has_value());
  EXPECT_EQ(apply.probe.timeout, std::chrono::milliseconds(5000));
}

TEST(ArgumentsTest, ApplyWithSystemdUnit) {
  ApplyArgs apply = as<ApplyArgs>(
      parse({"apply", "--policy", "p.yaml", "--service", "systemd", "--systemd-unit", "postfix"}));

  EXPECT_EQ(apply.service.strategy, service::Strategy::kSystemd);
  EXPECT_EQ(apply.service.systemd_unit, "postfix");
}

TEST(ArgumentsTest, VerifyParsesTargetAndProbeOptions) {
  VerifyArgs verify = as<VerifyArgs>(
      parse({"verify", "--policy", "p.yaml", "--probe", "[::1]:25", "--format", "json"}));

  EXPECT_EQ(verify.target.policy, "p.yaml");
  EXPECT_EQ(verify.target.format, OutputFormat::kJson);
  ASSERT_TRUE(verify.probe.probe.has_value());
  EXPECT_EQ(verify.probe.probe->host, "::1");
  EXPECT_EQ(verify.probe.probe->port, 25);
}

TEST(ArgumentsTest, ScanParsesPositionalAddressAndOptions) {
  ScanArgs scan = as<ScanArgs>(parse({"scan", "mail.example.org:587", "--name", "mail.example.org",
                                      "--timeout", "20", "--format=json"}));

  EXPECT_EQ(scan.address.host, "mail.example.org");
  EXPECT_EQ(scan.address.port, 587);
  EXPECT_EQ(scan.expected_name, "mail.example.org");
  EXPECT_EQ(scan.timeout, std::chrono::milliseconds(20000));
  EXPECT_EQ(scan.format, OutputFormat::kJson);
}

TEST(ArgumentsTest, ScanWithoutAddressIsInvalid) {
  expectInvalid(parse({"scan", "--timeout", "5"}), "scan needs HOST:PORT");
}

TEST(ArgumentsTest, ScanWithTwoAddressesIsInvalid) {
  expectInvalid(parse({"scan", "127.0.0.1:25", "127.0.0.1:587"}),
                "unexpected argument '127.0.0.1:587'");
}

TEST(ArgumentsTest, ClearParsesStateDir) {
  EXPECT_EQ(as<ClearArgs>(parse({"clear"})).state_dir, "/var/lib/postwarden");
  EXPECT_EQ(as<ClearArgs>(parse({"clear", "--state-dir", "/srv/pw"})).state_dir, "/srv/pw");
}

TEST(ArgumentsTest, ClearTakesFormatLikeEveryCommand) {
  EXPECT_EQ(as<ClearArgs>(parse({"clear"})).format, OutputFormat::kText);
  EXPECT_EQ(as<ClearArgs>(parse({"clear", "--format", "json"})).format, OutputFormat::kJson);
}

// --- help and version -------------------------------------------------------------------

TEST(ArgumentsTest, NoArgumentsOrHelpGivesProgramHelp) {
  EXPECT_EQ(as<HelpArgs>(parse({})).text, programHelp());
  EXPECT_TRUE(as<HelpArgs>(parse({})).usage_error) << "no command: usage on stderr, exit 2";
  EXPECT_FALSE(as<HelpArgs>(parse({"--help"})).usage_error);
  EXPECT_THAT(programHelp(), HasSubstr("Exit status:"));
  EXPECT_EQ(as<HelpArgs>(parse({"--help"})).text, programHelp());
  EXPECT_EQ(as<HelpArgs>(parse({"-h"})).text, programHelp());
}

TEST(ArgumentsTest, VersionIsHelpText) {
  EXPECT_EQ(as<HelpArgs>(parse({"--version"})).text, versionLine("postwarden-agent") + "\n");
  EXPECT_THAT(versionLine("postwarden-agent"), HasSubstr(std::string(" ") + kVersion + " (git "));
}

TEST(ArgumentsTest, EveryCommandHasItsOwnHelp) {
  const std::vector<std::pair<std::string, std::string>> usages = {
      {"plan", "Usage: postwarden-agent plan --policy FILE"},
      {"apply", "Usage: postwarden-agent apply --policy FILE"},
      {"verify", "Usage: postwarden-agent verify --policy FILE"},
      {"scan", "Usage: postwarden-agent scan HOST:PORT"},
      {"clear", "Usage: postwarden-agent clear [--state-dir DIR]"},
      {"restore", "Usage: postwarden-agent restore ID [--yes]"},
  };
  for (const auto& [command, usage] : usages) {
    EXPECT_THAT(as<HelpArgs>(parse({command, "--help"})).text, StartsWith(usage)) << command;
    EXPECT_THAT(as<HelpArgs>(parse({command, "-h"})).text, StartsWith(usage)) << command;
  }
}

TEST(ArgumentsTest, HelpWinsOverOtherwiseBadArguments) {
  // --policy is missing and --bogus is unknown, but the operator asked for help.
  EXPECT_THAT(as<HelpArgs>(parse({"apply", "--bogus", "--help"})).text,
              StartsWith("Usage: postwarden-agent apply"));
}

// --- bad usage ----------------------------------------------------------------------------

TEST(ArgumentsTest, UnknownCommandSuggestsTheClosest) {
  Result<Arguments> parsed = parse({"aply", "--policy", "p.yaml"});

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(),
            "unknown command 'aply' (did you mean 'apply'?); see --help");
}

TEST(ArgumentsTest, UnknownOptionSuggestsTheClosest) {
  Result<Arguments> parsed = parse({"plan", "--polcy", "p.yaml"});

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(),
            "unknown option '--polcy' (did you mean '--policy'?); see --help");
}

TEST(ArgumentsTest, UnknownApplyOptionSuggestsAnApplyOption) {
  expectInvalid(parse({"apply", "--policy", "p.yaml", "--dryrun"}),
                "unknown option '--dryrun' (did you mean '--dry-run'?)");
}

TEST(ArgumentsTest, FarOffOptionGetsNoSuggestion) {
  Result<Arguments> parsed = parse({"plan", "--policy", "p.yaml", "--frobnicate"});

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), "unknown option '--frobnicate'; see --help");
}

TEST(ArgumentsTest, OptionOfAnotherCommandIsUnknown) {
  expectInvalid(parse({"plan", "--policy", "p.yaml", "--dry-run"}), "unknown option '--dry-run'");
}

TEST(ArgumentsTest, MissingPolicyIsInvalid) {
  expectInvalid(parse({"plan"}), "--policy FILE is required");
  expectInvalid(parse({"apply", "--dry-run"}), "--policy FILE is required");
  expectInvalid(parse({"verify", "--policy="}), "--policy FILE is required");
}

TEST(ArgumentsTest, OptionWithoutValueIsInvalid) {
  expectInvalid(parse({"plan", "--policy"}), "option --policy needs a value");
}

TEST(ArgumentsTest, FlagWithInlineValueIsInvalid) {
  expectInvalid(parse({"apply", "--policy", "p.yaml", "--dry-run=yes"}),
                "option --dry-run takes no value");
}

TEST(ArgumentsTest, BadRoleValuesAreInvalid) {
  expectInvalid(parse({"plan", "--policy", "p", "--role", "smtpp=25"}),
                "role must be smtp, submission or submissions (did you mean 'smtp'?)");
  expectInvalid(parse({"plan", "--policy", "p", "--role", "smtp"}), "expected ROLE=PORT");
  expectInvalid(parse({"plan", "--policy", "p", "--role", "smtp=0"}), "--role port");
  expectInvalid(parse({"plan", "--policy", "p", "--role", "smtp=65536"}), "--role port");
  expectInvalid(parse({"plan", "--policy", "p", "--role", "smtp=25x"}), "--role port");
}

TEST(ArgumentsTest, BadProbeValuesAreInvalid) {
  expectInvalid(parse({"verify", "--policy", "p", "--probe", "localhost"}),
                "'localhost' is not HOST:PORT");
  expectInvalid(parse({"verify", "--policy", "p", "--probe", "127.0.0.1:smtp"}), "port");
  expectInvalid(parse({"verify", "--policy", "p", "--probe-timeout", "0"}),
                "--probe-timeout: '0' is not a number from 1 to 3600");
}

TEST(ArgumentsTest, BadFormatIsInvalid) {
  expectInvalid(parse({"plan", "--policy", "p", "--format", "xml"}),
                "--format must be text or json, not 'xml'");
  expectInvalid(parse({"scan", "127.0.0.1:25", "--format", "yaml"}),
                "--format must be text or json");
}

TEST(ArgumentsTest, BadServiceIsInvalid) {
  expectInvalid(parse({"apply", "--policy", "p", "--service", "sysvinit"}),
                "--service must be postfix, systemd or command, not 'sysvinit'");
}

TEST(ArgumentsTest, ReloadCommandWithoutServiceCommandIsRefused) {
  expectInvalid(parse({"apply", "--policy", "p", "--reload-command", "mta-ctl reload"}),
                "--reload-command and --restart-command need --service command");
  expectInvalid(parse({"apply", "--policy", "p", "--service", "systemd", "--restart-command",
                       "mta-ctl bounce"}),
                "need --service command");
}

TEST(ArgumentsTest, ServiceCommandWithoutReloadCommandIsRefused) {
  expectInvalid(parse({"apply", "--policy", "p", "--service", "command"}),
                "--service command needs --reload-command");
}

TEST(ArgumentsTest, ProbeLoginAndPasswordFileGoTogether) {
  expectInvalid(parse({"verify", "--policy", "p", "--probe-login", "alice"}),
                "--probe-login and --probe-password-file go together");
  expectInvalid(parse({"apply", "--policy", "p", "--probe-password-file", "/run/pw"}),
                "go together");
}

TEST(ArgumentsTest, ProbeMailToNeedsLogin) {
  expectInvalid(parse({"verify", "--policy", "p", "--probe-mail-to", "a@example.org"}),
                "--probe-mail-to needs --probe-login");
}

TEST(ArgumentsTest, EmptyStateDirIsInvalid) {
  expectInvalid(parse({"apply", "--policy", "p", "--state-dir="}), "--state-dir must not be empty");
}

TEST(ArgumentsTest, DeadlineOutOfRangeIsInvalid) {
  expectInvalid(parse({"apply", "--policy", "p", "--verify-deadline", "3601"}),
                "--verify-deadline: '3601' is not a number from 1 to 3600");
  expectInvalid(parse({"apply", "--policy", "p", "--command-timeout", "-5"}), "--command-timeout");
}

TEST(ArgumentsTest, StrayPositionalIsInvalid) {
  expectInvalid(parse({"plan", "--policy", "p", "extra"}), "unexpected argument 'extra'");
}

// --- parseHostPort --------------------------------------------------------------------------

TEST(ParseHostPortTest, AcceptsIpv4NameAndBracketedIpv6) {
  Result<HostPort> v4 = parseHostPort("127.0.0.1:25");
  Result<HostPort> name = parseHostPort("mail.example.org:587");
  Result<HostPort> v6 = parseHostPort("[::1]:2525");

  ASSERT_TRUE(v4.ok() && name.ok() && v6.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 25);
  EXPECT_EQ(name->host, "mail.example.org");
  EXPECT_EQ(name->port, 587);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 2525);
}

TEST(ParseHostPortTest, RejectsMalformedInput) {
  for (const char* text : {"127.0.0.1", ":25", "[]:25", "host:", "host:0", "host:65536", "host:25x",
                           "ho st:25", "a/b:25"}) {
    Result<HostPort> parsed = parseHostPort(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

// --- restore --------------------------------------------------------------------------------

TEST(RestoreArgumentsTest, IdAndOptions) {
  RestoreArgs r = as<RestoreArgs>(
      parseArguments({"restore", "20260105T101500Z-42", "--yes", "--state-dir", "state",
                      "--postfix-dir", "pf", "--format", "json", "--service", "systemd", "--probe",
                      "127.0.0.1:2525", "--verify-deadline", "8", "--no-color"},
                     "/work"));
  EXPECT_EQ(r.id, "20260105T101500Z-42");
  EXPECT_TRUE(r.yes);
  EXPECT_EQ(r.state_dir, "/work/state");
  EXPECT_EQ(r.postfix_dir, "/work/pf");
  EXPECT_EQ(r.format, OutputFormat::kJson);
  EXPECT_EQ(r.service.strategy, service::Strategy::kSystemd);
  ASSERT_TRUE(r.probe.probe.has_value());
  EXPECT_EQ(r.probe.probe->port, 2525);
  EXPECT_EQ(r.verify_deadline, std::chrono::seconds(8));
  EXPECT_FALSE(r.color);
}

TEST(RestoreArgumentsTest, DefaultsAskAndUseTheSystemPaths) {
  RestoreArgs r = as<RestoreArgs>(parse({"restore", "20260105T101500Z-42"}));
  EXPECT_FALSE(r.yes);
  EXPECT_EQ(r.postfix_dir, "/etc/postfix");
  EXPECT_EQ(r.state_dir, "/var/lib/postwarden");
  EXPECT_EQ(r.format, OutputFormat::kText);
  EXPECT_EQ(r.service.strategy, service::Strategy::kPostfix);
}

TEST(RestoreArgumentsTest, BadUsage) {
  expectInvalid(parse({"restore"}), "restore needs the ID of a backup");
  expectInvalid(parse({"restore", "--yes"}), "restore needs the ID of a backup");
  expectInvalid(parse({"restore", "A", "B"}), "unexpected argument 'B'");
  expectInvalid(parse({"restore", "A", "--yess"}), "did you mean '--yes'");
  expectInvalid(parse({"restore", "A", "--yes=1"}), "--yes takes no value");
  expectInvalid(parse({"restore", "A", "--format", "xml"}), "--format must be text or json");
  expectInvalid(parse({"restore", "A", "--service"}), "--service needs a value");
  expectInvalid(parse({"restore", "A", "--reload-command", "x"}),
                "--reload-command and --restart-command need --service command");
  expectInvalid(parse({"restore", "A", "--policy", "p.yaml"}), "unknown option '--policy'");
  expectInvalid(parse({"restor", "A"}), "did you mean 'restore'");
}

// --- usage line ---------------------------------------------------------------------------

TEST(UsageLineTest, NamesTheCommandsSynopsisOrTheProgramsOne) {
  EXPECT_EQ(usageLine({"plan", "--bogus"}),
            "Usage: postwarden-agent plan --policy FILE [options]\n"
            "Run 'postwarden-agent plan --help' for its options.\n");
  EXPECT_EQ(usageLine({"restore"}),
            "Usage: postwarden-agent restore ID [--yes] [options]\n"
            "Run 'postwarden-agent restore --help' for its options.\n");
  EXPECT_EQ(usageLine({"plna"}),
            "Usage: postwarden-agent COMMAND [options]\n"
            "Run 'postwarden-agent --help' for the commands.\n");
}

}  // namespace
}  // namespace postwarden::agent::cli
