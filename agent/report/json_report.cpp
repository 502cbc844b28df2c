#include "agent/report/json_report.h"

#include <ctime>

#include "agent/planner/unified_diff.h"
#include "agent/report/json_writer.h"

// Postwarden's one JSON dialect (docs/vocabulary.md), as postwardenctl --json writes it: the
// keys are report.proto's field names (snake_case), an enum is its plain lower-case word
// ("rolled_back", "reload", "main.cf"), a time is RFC 3339 as protobuf writes a Timestamp.
// tests/unit/agent/report maps the words back and parses the output with protobuf itself,
// so fields, types and words stay in step with report.proto. Writing the JSON by hand keeps
// libprotobuf out of the agent, about 2 MB of resident memory on every run.
namespace postwarden::agent::report {
namespace {

const char* applyModeWord(params::ApplyMode mode) {
  return mode == params::ApplyMode::kRestart ? "restart" : "reload";
}

const char* outcomeWord(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
      return "kept";
    case applier::Outcome::kRepaired:
      return "repaired";
    case applier::Outcome::kRefused:
      return "refused";
    case applier::Outcome::kRolledBack:
      return "rolled_back";
    case applier::Outcome::kNeedsHuman:
      return "needs_human";
  }
  return "unspecified";
}

const char* verdictWord(verify::ScanFinding::Verdict verdict) {
  switch (verdict) {
    case verify::ScanFinding::Verdict::kPass:
      return "pass";
    case verify::ScanFinding::Verdict::kFail:
      return "fail";
    case verify::ScanFinding::Verdict::kWarn:
      return "warn";
    case verify::ScanFinding::Verdict::kInfo:
      return "info";
  }
  return "unspecified";
}

// RFC 3339 in UTC with milliseconds, as google.protobuf.Timestamp is written.
std::string rfc3339(std::chrono::system_clock::time_point when) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
  std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03lldZ", static_cast<long long>(ms.count() % 1000));
  return text;
}

void stringArray(JsonWriter& w, std::string_view key, const std::vector<std::string>& values) {
  w.key(key);
  w.beginArray();
  for (const std::string& v : values) w.value(v);
  w.endArray();
}

void writeChange(JsonWriter& w, const planner::Change& change) {
  w.beginObject();
  w.field("file", change.inMasterCf() ? "master.cf" : "main.cf");
  w.field("service", change.service ? change.service->toString() : "");
  w.field("parameter", change.parameter);
  if (change.before) {
    w.field("before", *change.before);
  } else {
    w.field("was_absent", true);
  }
  if (change.after) {
    w.field("after", *change.after);
  } else {
    w.field("removed", true);
  }
  w.field("apply_mode", applyModeWord(change.mode));
  if (!change.removed_main_cf_lines.empty()) {
    w.key("removed_main_cf_lines");
    w.beginArray();
    for (int line : change.removed_main_cf_lines) w.value(static_cast<int64_t>(line));
    w.endArray();
  }
  w.endObject();
}

void writePlan(JsonWriter& w, const planner::Plan& plan, const PlanContext& context) {
  w.beginObject();
  w.field("baseline", plan.baseline_name);
  w.field("baseline_version", plan.baseline_version);
  w.field("postfix_dir", context.postfix_dir);
  w.field("compliant", plan.compliant());
  w.key("changes");
  w.beginArray();
  for (const planner::Change& change : plan.changes) writeChange(w, change);
  w.endArray();
  w.field("apply_mode", applyModeWord(plan.applyMode()));
  std::vector<std::string> warnings = plan.warnings;  // the proto has no also-affected field
  for (const planner::AffectedService& a : plan.also_affected) {
    warnings.push_back("also affected (not governed by the baseline): " + a.describe());
  }
  stringArray(w, "warnings", warnings);
  stringArray(w, "notes", plan.applicability);
  w.field("main_cf_diff", planner::unifiedDiff(plan.main_cf_before, plan.main_cf_after, "main.cf"));
  w.field("master_cf_diff",
          planner::unifiedDiff(plan.master_cf_before, plan.master_cf_after, "master.cf"));
  w.field("planned_at", rfc3339(context.planned_at));
  w.endObject();
}

void writeProbe(JsonWriter& w, const applier::ProbeRecord& probe) {
  const verify::ProbeResult& r = probe.result;
  w.beginObject();
  w.field("target", probe.target);
  w.field("passed", probe.verdict.passed);
  stringArray(w, "failures", probe.verdict.failures);
  w.field("starttls_offered", r.starttls_offered);
  w.field("tls_established", r.tls_established);
  w.field("tls_version", r.tls_version);
  stringArray(w, "auth_before_tls", r.before_tls.auth_mechanisms);
  stringArray(w, "auth_after_tls", r.after_tls.auth_mechanisms);
  stringArray(w, "transcript", r.transcript);
  w.field("elapsed_ms", static_cast<std::int64_t>(r.elapsed.count()));
  w.endObject();
}

}  // namespace

std::string planToJson(const planner::Plan& plan, const PlanContext& context) {
  JsonWriter w;
  writePlan(w, plan, context);
  return w.text();
}

std::string applyToJson(const planner::Plan& plan, const applier::TransactionReport& report,
                        const PlanContext& context) {
  JsonWriter w;
  w.beginObject();
  w.key("plan");
  writePlan(w, plan, context);
  w.field("outcome", outcomeWord(report.outcome));
  w.field("reason", report.reason);
  std::vector<std::string> backups;
  if (!report.backup_dir.empty()) {
    backups = {report.backup_dir + "/main.cf", report.backup_dir + "/master.cf"};
  }
  stringArray(w, "backups", backups);
  w.key("steps");
  w.beginArray();
  for (const applier::StepRecord& step : report.steps) {
    w.beginObject();
    w.field("name", step.name);
    w.field("ok", step.ok);
    w.field("elapsed_ms", static_cast<std::int64_t>(step.elapsed.count()));
    w.field("detail", step.detail);
    w.endObject();
  }
  w.endArray();
  w.key("probes");
  w.beginArray();
  for (const applier::ProbeRecord& probe : report.probes) writeProbe(w, probe);
  w.endArray();
  stringArray(w, "log_lines", report.log_lines);
  stringArray(w, "warnings", report.warnings);
  w.endObject();
  return w.text();
}

std::string verifyToJson(const std::vector<applier::ProbeRecord>& probes) {
  JsonWriter w;
  bool passed = true;
  for (const applier::ProbeRecord& p : probes) passed = passed && p.verdict.passed;
  w.beginObject();
  w.field("passed", passed);
  w.key("probes");
  w.beginArray();
  for (const applier::ProbeRecord& p : probes) writeProbe(w, p);
  w.endArray();
  w.key("findings");
  w.beginArray();
  w.endArray();
  w.endObject();
  return w.text();
}

std::string scanToJson(const applier::ProbeRecord& probe,
                       const std::vector<verify::ScanFinding>& findings) {
  JsonWriter w;
  bool passed = true;
  for (const verify::ScanFinding& f : findings) {
    passed = passed && f.verdict != verify::ScanFinding::Verdict::kFail;
  }
  w.beginObject();
  w.field("passed", passed);
  w.key("probes");
  w.beginArray();
  writeProbe(w, probe);
  w.endArray();
  w.key("findings");
  w.beginArray();
  for (const verify::ScanFinding& f : findings) {
    w.beginObject();
    w.field("id", f.id);
    w.field("verdict", verdictWord(f.verdict));
    w.field("title", f.title);
    w.field("detail", f.detail);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.text();
}

std::string errorToJson(const Status& status) {
  JsonWriter w;
  w.beginObject();
  w.field("code", statusCodeName(status.code()));
  w.key("messages");
  w.beginArray();
  const std::string& message = status.message();
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    w.value(std::string_view(message).substr(start, end - start));
    start = end + 1;
  }
  w.endArray();
  w.endObject();
  return w.text();
}

std::string clearToJson(const std::string& state_dir, const applier::ClearedState& cleared) {
  JsonWriter w;
  w.beginObject();
  w.field("state_dir", state_dir);
  if (cleared.reason) {
    std::string reason = *cleared.reason;
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    w.field("needed_human", true);
    w.field("needs_human_reason", reason);
  }
  if (cleared.ended) {
    w.field("ended_change_id", cleared.ended->id);
    w.field("ended_at_step", applier::journalStepName(cleared.ended->step));
    w.field("backup_dir", cleared.ended->backup_dir);
  }
  if (cleared.unreadable_journal) w.field("unreadable_journal", true);
  if (!cleared.journal_kept_at.empty()) w.field("journal_kept_at", cleared.journal_kept_at);
  w.endObject();
  return w.text();
}

}  // namespace postwarden::agent::report
