#include "agent/report/json_report.h"

#include <ctime>

#include "agent/planner/unified_diff.h"
#include "agent/report/json_writer.h"

// The field names, enum names and value forms below are those of proto/postwarden/v1/
// report.proto in protobuf's JSON mapping (tests/unit/agent/report parses this output with
// protobuf itself to keep them in step). Writing the JSON by hand keeps libprotobuf out of
// the agent, about 2 MB of resident memory on every run.
namespace postwarden::agent::report {
namespace {

const char* applyModeName(params::ApplyMode mode) {
  return mode == params::ApplyMode::kRestart ? "APPLY_MODE_RESTART" : "APPLY_MODE_RELOAD";
}

const char* outcomeEnumName(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
      return "OUTCOME_KEPT";
    case applier::Outcome::kRepaired:
      return "OUTCOME_REPAIRED";
    case applier::Outcome::kRefused:
      return "OUTCOME_REFUSED";
    case applier::Outcome::kRolledBack:
      return "OUTCOME_ROLLED_BACK";
    case applier::Outcome::kNeedsHuman:
      return "OUTCOME_NEEDS_HUMAN";
  }
  return "OUTCOME_UNSPECIFIED";
}

const char* verdictEnumName(verify::ScanFinding::Verdict verdict) {
  switch (verdict) {
    case verify::ScanFinding::Verdict::kPass:
      return "VERDICT_PASS";
    case verify::ScanFinding::Verdict::kFail:
      return "VERDICT_FAIL";
    case verify::ScanFinding::Verdict::kWarn:
      return "VERDICT_WARN";
    case verify::ScanFinding::Verdict::kInfo:
      return "VERDICT_INFO";
  }
  return "VERDICT_UNSPECIFIED";
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
  w.key("file");
  w.value(change.inMasterCf() ? "CONFIG_FILE_MASTER_CF" : "CONFIG_FILE_MAIN_CF");
  w.key("service");
  w.value(change.service ? change.service->toString() : "");
  w.key("parameter");
  w.value(change.parameter);
  if (change.before) {
    w.key("before");
    w.value(*change.before);
  } else {
    w.key("wasAbsent");
    w.value(true);
  }
  if (change.after) {
    w.key("after");
    w.value(*change.after);
  } else {
    w.key("removed");
    w.value(true);
  }
  w.key("applyMode");
  w.value(applyModeName(change.mode));
  w.endObject();
}

void writePlan(JsonWriter& w, const planner::Plan& plan, const PlanContext& context) {
  w.beginObject();
  w.key("baseline");
  w.value(plan.baseline_name);
  w.key("baselineVersion");
  w.value(plan.baseline_version);
  w.key("postfixDir");
  w.value(context.postfix_dir);
  w.key("compliant");
  w.value(plan.compliant());
  w.key("changes");
  w.beginArray();
  for (const planner::Change& change : plan.changes) writeChange(w, change);
  w.endArray();
  w.key("applyMode");
  w.value(applyModeName(plan.applyMode()));
  stringArray(w, "warnings", plan.warnings);
  w.key("mainCfDiff");
  w.value(planner::unifiedDiff(plan.main_cf_before, plan.main_cf_after, "main.cf"));
  w.key("masterCfDiff");
  w.value(planner::unifiedDiff(plan.master_cf_before, plan.master_cf_after, "master.cf"));
  w.key("plannedAt");
  w.value(rfc3339(context.planned_at));
  w.endObject();
}

void writeProbe(JsonWriter& w, const applier::ProbeRecord& probe) {
  const verify::ProbeResult& r = probe.result;
  w.beginObject();
  w.key("target");
  w.value(probe.target);
  w.key("passed");
  w.value(probe.verdict.passed);
  stringArray(w, "failures", probe.verdict.failures);
  w.key("starttlsOffered");
  w.value(r.starttls_offered);
  w.key("tlsEstablished");
  w.value(r.tls_established);
  w.key("tlsVersion");
  w.value(r.tls_version);
  stringArray(w, "authBeforeTls", r.before_tls.auth_mechanisms);
  stringArray(w, "authAfterTls", r.after_tls.auth_mechanisms);
  stringArray(w, "transcript", r.transcript);
  w.key("elapsedMs");
  w.value(static_cast<std::int64_t>(r.elapsed.count()));
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
  w.key("outcome");
  w.value(outcomeEnumName(report.outcome));
  w.key("reason");
  w.value(report.reason);
  std::vector<std::string> backups;
  if (!report.backup_dir.empty()) {
    backups = {report.backup_dir + "/main.cf", report.backup_dir + "/master.cf"};
  }
  stringArray(w, "backups", backups);
  w.key("steps");
  w.beginArray();
  for (const applier::StepRecord& step : report.steps) {
    w.beginObject();
    w.key("name");
    w.value(step.name);
    w.key("ok");
    w.value(step.ok);
    w.key("elapsedMs");
    w.value(static_cast<std::int64_t>(step.elapsed.count()));
    w.key("detail");
    w.value(step.detail);
    w.endObject();
  }
  w.endArray();
  w.key("probes");
  w.beginArray();
  for (const applier::ProbeRecord& probe : report.probes) writeProbe(w, probe);
  w.endArray();
  stringArray(w, "logLines", report.log_lines);
  w.endObject();
  return w.text();
}

std::string verifyToJson(const std::vector<applier::ProbeRecord>& probes) {
  JsonWriter w;
  bool passed = true;
  for (const applier::ProbeRecord& p : probes) passed = passed && p.verdict.passed;
  w.beginObject();
  w.key("passed");
  w.value(passed);
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
  w.key("passed");
  w.value(passed);
  w.key("probes");
  w.beginArray();
  writeProbe(w, probe);
  w.endArray();
  w.key("findings");
  w.beginArray();
  for (const verify::ScanFinding& f : findings) {
    w.beginObject();
    w.key("id");
    w.value(f.id);
    w.key("verdict");
    w.value(verdictEnumName(f.verdict));
    w.key("title");
    w.value(f.title);
    w.key("detail");
    w.value(f.detail);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return w.text();
}

}  // namespace postwarden::agent::report
