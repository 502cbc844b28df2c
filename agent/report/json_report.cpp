#include "agent/report/json_report.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "agent/planner/unified_diff.h"
#include "postwarden/v1/report.pb.h"

namespace postwarden::agent::report {
namespace {

v1::ApplyMode toProto(params::ApplyMode mode) {
  return mode == params::ApplyMode::kRestart ? v1::APPLY_MODE_RESTART : v1::APPLY_MODE_RELOAD;
}

v1::Change toProto(const planner::Change& change) {
  v1::Change out;
  out.set_file(change.inMasterCf() ? v1::CONFIG_FILE_MASTER_CF : v1::CONFIG_FILE_MAIN_CF);
  if (change.service) out.set_service(change.service->toString());
  out.set_parameter(change.parameter);
  if (change.before) {
    out.set_before(*change.before);
  } else {
    out.set_was_absent(true);
  }
  if (change.after) {
    out.set_after(*change.after);
  } else {
    out.set_removed(true);
  }
  out.set_apply_mode(toProto(change.mode));
  return out;
}

v1::PlanReport toProto(const planner::Plan& plan, const PlanContext& context) {
  v1::PlanReport report;
  report.set_baseline(plan.baseline_name);
  report.set_baseline_version(plan.baseline_version);
  report.set_postfix_dir(context.postfix_dir);
  report.set_compliant(plan.compliant());
  for (const planner::Change& change : plan.changes) *report.add_changes() = toProto(change);
  report.set_apply_mode(toProto(plan.applyMode()));
  for (const std::string& warning : plan.warnings) report.add_warnings(warning);
  report.set_main_cf_diff(planner::unifiedDiff(plan.main_cf_before, plan.main_cf_after, "main.cf"));
  report.set_master_cf_diff(
      planner::unifiedDiff(plan.master_cf_before, plan.master_cf_after, "master.cf"));
  auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(context.planned_at.time_since_epoch());
  *report.mutable_planned_at() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(since_epoch.count());

  return report;
}

v1::ProbeReport toProto(const applier::ProbeRecord& probe) {
  v1::ProbeReport out;
  out.set_target(probe.target);
  out.set_passed(probe.verdict.passed);
  for (const std::string& f : probe.verdict.failures) out.add_failures(f);
  const verify::ProbeResult& r = probe.result;
  out.set_starttls_offered(r.starttls_offered);
  out.set_tls_established(r.tls_established);
  out.set_tls_version(r.tls_version);
  for (const std::string& m : r.before_tls.auth_mechanisms) out.add_auth_before_tls(m);
  for (const std::string& m : r.after_tls.auth_mechanisms) out.add_auth_after_tls(m);
  for (const std::string& line : r.transcript) out.add_transcript(line);
  out.set_elapsed_ms(r.elapsed.count());
  return out;
}

v1::ApplyReport::Outcome toProto(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
      return v1::ApplyReport::OUTCOME_KEPT;
    case applier::Outcome::kRepaired:
      return v1::ApplyReport::OUTCOME_REPAIRED;
    case applier::Outcome::kRefused:
      return v1::ApplyReport::OUTCOME_REFUSED;
    case applier::Outcome::kRolledBack:
      return v1::ApplyReport::OUTCOME_ROLLED_BACK;
    case applier::Outcome::kNeedsHuman:
      return v1::ApplyReport::OUTCOME_NEEDS_HUMAN;
  }
  return v1::ApplyReport::OUTCOME_UNSPECIFIED;
}

v1::Finding::Verdict toProto(verify::ScanFinding::Verdict verdict) {
  switch (verdict) {
    case verify::ScanFinding::Verdict::kPass:
      return v1::Finding::VERDICT_PASS;
    case verify::ScanFinding::Verdict::kFail:
      return v1::Finding::VERDICT_FAIL;
    case verify::ScanFinding::Verdict::kWarn:
      return v1::Finding::VERDICT_WARN;
    case verify::ScanFinding::Verdict::kInfo:
      return v1::Finding::VERDICT_INFO;
  }
  return v1::Finding::VERDICT_UNSPECIFIED;
}

std::string toJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a message we built ourselves cannot fail for want of input validity.
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace

std::string planToJson(const planner::Plan& plan, const PlanContext& context) {
  return toJson(toProto(plan, context));
}

std::string applyToJson(const planner::Plan& plan, const applier::TransactionReport& report,
                        const PlanContext& context) {
  v1::ApplyReport out;
  *out.mutable_plan() = toProto(plan, context);
  out.set_outcome(toProto(report.outcome));
  out.set_reason(report.reason);
  if (!report.backup_dir.empty()) {
    out.add_backups(report.backup_dir + "/main.cf");
    out.add_backups(report.backup_dir + "/master.cf");
  }
  for (const applier::StepRecord& step : report.steps) {
    v1::Step* s = out.add_steps();
    s->set_name(step.name);
    s->set_ok(step.ok);
    s->set_elapsed_ms(step.elapsed.count());
    s->set_detail(step.detail);
  }
  for (const applier::ProbeRecord& probe : report.probes) *out.add_probes() = toProto(probe);
  for (const std::string& line : report.log_lines) out.add_log_lines(line);
  return toJson(out);
}

std::string verifyToJson(const std::vector<applier::ProbeRecord>& probes) {
  v1::VerifyReport out;
  bool passed = true;
  for (const applier::ProbeRecord& p : probes) {
    passed = passed && p.verdict.passed;
    *out.add_probes() = toProto(p);
  }
  out.set_passed(passed);
  return toJson(out);
}

std::string scanToJson(const applier::ProbeRecord& probe,
                       const std::vector<verify::ScanFinding>& findings) {
  v1::VerifyReport out;
  *out.add_probes() = toProto(probe);
  bool passed = true;
  for (const verify::ScanFinding& f : findings) {
    v1::Finding* finding = out.add_findings();
    finding->set_id(f.id);
    finding->set_verdict(toProto(f.verdict));
    finding->set_title(f.title);
    finding->set_detail(f.detail);
    passed = passed && f.verdict != verify::ScanFinding::Verdict::kFail;
  }
  out.set_passed(passed);
  return toJson(out);
}

}  // namespace postwarden::agent::report
