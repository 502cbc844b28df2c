// The hand-written JSON must be exactly what protobuf's JSON mapping of report.proto
// accepts: every report is parsed back with protobuf itself, which rejects unknown fields,
// wrong types and unknown enum names.
#include "agent/report/json_report.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>

#include "postwarden/v1/report.pb.h"

namespace postwarden::agent::report {
namespace {

// The report writes an enum as its plain word ("rolled_back", "main.cf"); protobuf's parser
// wants the value's name. Each word is mapped back by its field, so an unknown word still
// fails the parse.
std::string wordsToEnumNames(std::string json) {
  static const std::regex kEnumField(R"re("(outcome|verdict|apply_mode|file)": "([a-z_.]+)")re");
  static const std::map<std::string, std::string> kPrefix = {{"outcome", "OUTCOME_"},
                                                             {"verdict", "VERDICT_"},
                                                             {"apply_mode", "APPLY_MODE_"},
                                                             {"file", "CONFIG_FILE_"}};
  std::string out;
  auto begin = std::sregex_iterator(json.begin(), json.end(), kEnumField);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    std::string word = (*it)[2];
    std::transform(word.begin(), word.end(), word.begin(),
                   [](char c) { return c == '.' ? '_' : static_cast<char>(std::toupper(c)); });
    out += json.substr(last, it->position() - last);
    out += "\"" + (*it)[1].str() + "\": \"" + kPrefix.at((*it)[1]) + word + "\"";
    last = it->position() + it->length();
  }
  return out + json.substr(last);
}

template <typename Message>
Message parse(const std::string& json) {
  Message message;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status =
      google::protobuf::util::JsonStringToMessage(wordsToEnumNames(json), &message, options);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return message;
}

planner::Plan samplePlan() {
  planner::Plan plan;
  plan.baseline_name = "smtp-auth-hardening";
  plan.baseline_version = "1";
  plan.main_cf_before = "a = 1\n";
  plan.main_cf_after = "a = 1\nsmtpd_tls_auth_only = yes\n";
  plan.master_cf_before = plan.master_cf_after = "smtp inet n - y - - smtpd\n";
  plan.warnings = {"a \"quoted\" warning\twith a tab"};
  plan.changes.push_back({planner::ChangeKind::kSetMain, std::nullopt, "smtpd_tls_auth_only",
                          std::nullopt, "yes", params::ApplyMode::kReload});
  plan.changes.push_back({planner::ChangeKind::kRemoveServiceOption,
                          postfix::ServiceKey{"smtp", "inet"}, "smtpd_tls_auth_only", "no",
                          std::nullopt, params::ApplyMode::kRestart});
  return plan;
}

const PlanContext kContext{"/etc/postfix",
                           std::chrono::system_clock::time_point(std::chrono::seconds(1800000000))};

TEST(JsonReportTest, ACollapseOfDuplicatesNamesTheLinesItRemoves) {
  planner::Plan plan = samplePlan();
  plan.changes[0].removed_main_cf_lines = {3, 7};
  v1::PlanReport report = parse<v1::PlanReport>(planToJson(plan, kContext));
  ASSERT_EQ(report.changes(0).removed_main_cf_lines_size(), 2);
  EXPECT_EQ(report.changes(0).removed_main_cf_lines(0), 3);
  EXPECT_EQ(report.changes(0).removed_main_cf_lines(1), 7);
  EXPECT_EQ(report.changes(1).removed_main_cf_lines_size(), 0) << "absent when none";
}

TEST(JsonReportTest, ClearMatchesTheProtoSchema) {
  applier::ClearedState cleared;
  cleared.reason = "rollback failed: main.cf differs from its backup\n";
  cleared.ended = applier::JournalEntry{};
  cleared.ended->id = "20240101T000000Z-42";
  cleared.ended->step = applier::JournalStep::kActivated;
  cleared.ended->backup_dir = "/var/lib/postwarden/backups/20240101T000000Z-42";
  cleared.journal_kept_at = cleared.ended->backup_dir + "/journal.cleared";
  v1::ClearReport report = parse<v1::ClearReport>(clearToJson("/var/lib/postwarden", cleared));
  EXPECT_EQ(report.state_dir(), "/var/lib/postwarden");
  EXPECT_TRUE(report.needed_human());
  EXPECT_EQ(report.needs_human_reason(), "rollback failed: main.cf differs from its backup");
  EXPECT_EQ(report.ended_change_id(), "20240101T000000Z-42");
  EXPECT_EQ(report.ended_at_step(), "activated");
  EXPECT_EQ(report.journal_kept_at(), cleared.journal_kept_at);

  v1::ClearReport nothing = parse<v1::ClearReport>(clearToJson("/srv/pw", {}));
  EXPECT_FALSE(nothing.needed_human());
  EXPECT_TRUE(nothing.ended_change_id().empty());
}

TEST(JsonReportTest, PlanMatchesTheProtoSchema) {
  v1::PlanReport report = parse<v1::PlanReport>(planToJson(samplePlan(), kContext));
  EXPECT_EQ(report.baseline(), "smtp-auth-hardening");
  EXPECT_EQ(report.postfix_dir(), "/etc/postfix");
  EXPECT_FALSE(report.compliant());
  ASSERT_EQ(report.changes_size(), 2);
  EXPECT_EQ(report.changes(0).file(), v1::CONFIG_FILE_MAIN_CF);
  EXPECT_TRUE(report.changes(0).was_absent());
  EXPECT_EQ(report.changes(0).after(), "yes");
  EXPECT_EQ(report.changes(1).file(), v1::CONFIG_FILE_MASTER_CF);
  EXPECT_EQ(report.changes(1).service(), "smtp/inet");
  EXPECT_EQ(report.changes(1).before(), "no");
  EXPECT_TRUE(report.changes(1).removed());
  EXPECT_EQ(report.apply_mode(), v1::APPLY_MODE_RESTART);
  ASSERT_EQ(report.warnings_size(), 1);
  EXPECT_EQ(report.warnings(0), "a \"quoted\" warning\twith a tab");
  EXPECT_NE(report.main_cf_diff().find("+smtpd_tls_auth_only = yes"), std::string::npos);
  EXPECT_EQ(report.master_cf_diff(), "");
  EXPECT_EQ(google::protobuf::util::TimeUtil::TimestampToSeconds(report.planned_at()), 1800000000);
}

// One dialect with postwardenctl --json: snake_case keys, plain words, applicability notes.
TEST(JsonReportTest, WritesSnakeCaseKeysPlainWordsAndNotes) {
  planner::Plan plan = samplePlan();
  plan.applicability = {"service submission/inet is not in master.cf: skipped (if_exists)"};
  const std::string json = planToJson(plan, kContext);
  for (const char* expected :
       {R"("file": "main.cf")", R"("file": "master.cf")", R"("apply_mode": "restart")",
        R"("was_absent": true)", R"("planned_at": "2027-01-15T08:00:00.000Z")"}) {
    EXPECT_NE(json.find(expected), std::string::npos) << expected << "\n" << json;
  }
  EXPECT_EQ(json.find("CONFIG_FILE_"), std::string::npos) << json;
  v1::PlanReport report = parse<v1::PlanReport>(json);
  ASSERT_EQ(report.notes_size(), 1);
  EXPECT_EQ(report.notes(0), plan.applicability[0]);
}

TEST(JsonReportTest, ApplyMatchesTheProtoSchema) {
  applier::TransactionReport tx;
  tx.outcome = applier::Outcome::kRolledBack;
  tx.reason = "the change failed verification";
  tx.backup_dir = "/var/lib/postwarden/backups/x";
  tx.steps = {{"check", true, std::chrono::milliseconds(12), "ok"},
              {"verify", false, std::chrono::milliseconds(3000), "AUTH PLAIN offered"}};
  applier::ProbeRecord probe;
  probe.target = "127.0.0.1:25";
  probe.result.starttls_offered = true;
  probe.result.before_tls.auth_mechanisms = {"PLAIN", "LOGIN"};
  probe.result.transcript = {"S: 220 mx \x1b[31m", "C: EHLO postwarden.probe"};
  probe.result.elapsed = std::chrono::milliseconds(7);
  probe.verdict = {false, {"AUTH PLAIN offered before TLS"}};
  tx.probes = {probe};
  tx.log_lines = {"postfix/smtpd[1]: fatal: no SASL authentication mechanisms"};
  tx.warnings = {"swap: written, but the directory fsync failed"};

  v1::ApplyReport report = parse<v1::ApplyReport>(applyToJson(samplePlan(), tx, kContext));
  EXPECT_EQ(report.outcome(), v1::OUTCOME_ROLLED_BACK);
  EXPECT_NE(applyToJson(samplePlan(), tx, kContext).find(R"("outcome": "rolled_back")"),
            std::string::npos);
  EXPECT_EQ(report.plan().changes_size(), 2);
  EXPECT_EQ(report.backups_size(), 2);
  ASSERT_EQ(report.steps_size(), 2);
  EXPECT_EQ(report.steps(1).elapsed_ms(), 3000);
  EXPECT_FALSE(report.steps(1).ok());
  ASSERT_EQ(report.probes_size(), 1);
  EXPECT_FALSE(report.probes(0).passed());
  EXPECT_EQ(report.probes(0).auth_before_tls_size(), 2);
  EXPECT_EQ(report.probes(0).transcript(0), "S: 220 mx \x1b[31m");
  EXPECT_EQ(report.log_lines_size(), 1);
  ASSERT_EQ(report.warnings_size(), 1);
  EXPECT_EQ(report.warnings(0), "swap: written, but the directory fsync failed");
}

TEST(JsonReportTest, ScanMatchesTheProtoSchema) {
  applier::ProbeRecord probe;
  probe.target = "192.0.2.1:25";
  std::vector<verify::ScanFinding> findings = {
      {"smtp-cleartext-auth", verify::ScanFinding::Verdict::kFail, "Cleartext AUTH", "54582"},
      {"smtp-starttls-offered", verify::ScanFinding::Verdict::kPass, "STARTTLS", ""}};
  v1::VerifyReport report = parse<v1::VerifyReport>(scanToJson(probe, findings));
  EXPECT_FALSE(report.passed());
  ASSERT_EQ(report.findings_size(), 2);
  EXPECT_EQ(report.findings(0).verdict(), v1::Finding::VERDICT_FAIL);
  EXPECT_EQ(report.findings(1).id(), "smtp-starttls-offered");

  v1::VerifyReport verified = parse<v1::VerifyReport>(verifyToJson({probe}));
  EXPECT_EQ(verified.probes_size(), 1);
}

TEST(JsonReportTest, ErrorMatchesTheProtoSchemaWithOneMessagePerLine) {
  v1::ErrorReport report = parse<v1::ErrorReport>(
      errorToJson(InvalidArgumentError("p.yaml:3:1: unknown \"x\"\np.yaml:4:1: bad value")));
  EXPECT_EQ(report.code(), "INVALID_ARGUMENT");
  ASSERT_EQ(report.messages_size(), 2);
  EXPECT_EQ(report.messages(0), "p.yaml:3:1: unknown \"x\"");
  EXPECT_EQ(report.messages(1), "p.yaml:4:1: bad value");
}

}  // namespace
}  // namespace postwarden::agent::report
