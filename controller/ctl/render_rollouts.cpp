#include "controller/ctl/render_rollouts.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <array>
#include <map>

#include "common/json_quote.h"
#include "common/proto_time.h"
#include "controller/ctl/format.h"
#include "controller/ctl/table.h"

namespace postwarden::controller::ctl {
namespace {

using google::protobuf::util::TimeUtil;

std::string durationText(const google::protobuf::Duration& d) {
  const int64_t s = TimeUtil::DurationToSeconds(d);
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items,
                   const std::string& none = "-") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + printable(item);
  return out.empty() ? none : out;
}

Color phaseColor(const std::string& phase) {
  if (phase == "done" || phase == "completed" || phase == "passed") return Color::kGreen;
  if (phase == "failed" || phase == "halted" || phase == "aborted") return Color::kRed;
  if (phase == "rolling_back" || phase == "rolled_back" || phase == "paused") {
    return Color::kYellow;
  }
  return Color::kNone;
}

// The host phases `rollout show` counts per wave, in the order of the columns.
constexpr std::array<const char*, 6> kCounted = {"pending", "dispatched", "soaking",
                                                 "done",    "failed",     "rolled_back"};

}  // namespace

std::string renderRolloutPlan(const v1::RolloutPlan& plan, const RenderContext& ctx) {
  std::string out = "rollout of " + printable(plan.baseline_name()) + "@" +
                    printable(plan.target_digest()) + "\n\n";
  Table table({"WAVE", "TAKES", "HOSTS", "SOAK", "NEXT-WINDOW"});
  for (int i = 0; i < plan.waves_size(); ++i) {
    const v1::PlannedRolloutWave& w = plan.waves(i);
    std::string window = "any time";
    if (w.has_next_window()) {
      window = unixMs(w.next_window()) <= ctx.now_ms
                   ? "open now"
                   : rfc3339(unixMs(w.next_window())) + " (" +
                         relativeTime(unixMs(w.next_window()), ctx.now_ms) + ")";
    }
    table.addRow({std::to_string(i + 1), w.description() + (w.canary() ? " (canary)" : ""),
                  joined(w.hosts(), "(none)"), durationText(w.soak()), window});
  }
  out += table.render(ctx.color);
  out += "\nalready on the target: " + joined(plan.already_done(), "none") + "\n";
  out += "windows: " + joined(plan.windows(), "none (anytime)") + "\n";
  for (const std::string& diff : plan.baseline_diffs()) out += "\n" + printable(diff);
  return out;
}

std::string renderRollout(const v1::RolloutRecord& r, const RenderContext& ctx) {
  std::string out = "rollout " + printable(r.id()) + ": " + printable(r.baseline_name()) + "@" +
                    printable(r.target_digest()) + "\n";
  out += "phase:     " + colorize(r.phase(), phaseColor(r.phase()), ctx.color) + "\n";
  for (const std::string& reason : r.reasons()) out += "reason:    " + printable(reason) + "\n";
  if (!r.paused_by().empty()) out += "held by:   " + printable(r.paused_by()) + "\n";
  out += "created:   " + rfc3339(unixMs(r.created_at())) + " by " + printable(r.creator()) + "\n";
  std::string approvers;
  for (const v1::RolloutApproval& a : r.approvals()) {
    approvers += (approvers.empty() ? "" : ", ") + printable(a.approver());
  }
  out += "approvals: " + (approvers.empty() ? "none" : approvers) + "\n";
  if (r.has_wake_at()) out += "next step: " + rfc3339(unixMs(r.wake_at())) + "\n";

  std::map<int, std::map<std::string, int>> counts;
  for (const v1::RolloutHost& h : r.hosts()) ++counts[h.wave()][h.phase()];
  Table waves({"WAVE", "TAKES", "STATUS", "PENDING", "CHANGING", "SOAKING", "DONE", "FAILED",
               "ROLLED-BACK"});
  for (int i = 0; i < r.waves_size(); ++i) {
    std::vector<Cell> row = {std::to_string(i + 1), printable(r.waves(i).description()),
                             Cell(r.waves(i).status(), phaseColor(r.waves(i).status()))};
    for (const char* phase : kCounted) {
      int n = counts[i][phase];
      if (std::string(phase) == "rolled_back") n += counts[i]["rolling_back"];
      row.emplace_back(std::to_string(n));
    }
    waves.addRow(std::move(row));
  }
  out += "\n" + waves.render(ctx.color);

  Table hosts({"HOST", "WAVE", "PHASE", "ATTEMPT", "SINCE", "FAILURE"});
  for (const v1::RolloutHost& h : r.hosts()) {
    hosts.addRow({h.id(), h.wave() < 0 ? "-" : std::to_string(h.wave() + 1),
                  Cell(h.phase(), phaseColor(h.phase())), std::to_string(h.attempt()),
                  h.has_since() ? relativeTime(unixMs(h.since()), ctx.now_ms) : "-",
                  h.failure().empty() ? "-" : h.failure()});
  }
  out += "\n" + hosts.render(ctx.color);
  return out;
}

namespace {

// Adds `n` hosts in `phase` to `w`.
void addHosts(WaveProgress& w, const std::string& p, int n, bool starting) {
  w.total += n;
  if (p == "pending") {
    (starting && w.status == "running" ? w.in_window : w.pending) += n;
  } else if (p == "dispatched") {
    w.changing += n;
  } else if (p == "soaking") {
    w.soaking += n;
  } else if (p == "done") {
    w.done += n;
  } else if (p == "failed") {
    w.failed += n;
  } else {  // rolling_back, rolled_back
    w.rolled_back += n;
  }
}

}  // namespace

// From the waves' phase_counts when the controller sent them (a summary lists only some
// hosts), else from the hosts.
std::vector<WaveProgress> waveProgress(const v1::RolloutRecord& r) {
  std::vector<WaveProgress> waves(static_cast<size_t>(r.waves_size()));
  bool counted = false;
  for (int i = 0; i < r.waves_size(); ++i) {
    waves[size_t(i)].description = r.waves(i).description();
    waves[size_t(i)].status = r.waves(i).status();
    counted = counted || !r.waves(i).phase_counts().empty();
  }
  const bool starting = r.phase() == "running";
  if (counted) {
    for (int i = 0; i < r.waves_size(); ++i) {
      for (const auto& [phase, n] : r.waves(i).phase_counts()) {
        addHosts(waves[size_t(i)], phase, n, starting);
      }
    }
    return waves;
  }
  for (const v1::RolloutHost& h : r.hosts()) {
    if (h.wave() < 0 || h.wave() >= r.waves_size()) continue;
    addHosts(waves[size_t(h.wave())], h.phase(), 1, starting);
  }
  return waves;
}

namespace {

std::string countsText(const WaveProgress& w) {
  return "pending " + std::to_string(w.pending) + ", in window " + std::to_string(w.in_window) +
         ", changing " + std::to_string(w.changing) + ", soaking " + std::to_string(w.soaking) +
         ", done " + std::to_string(w.done) + ", failed " + std::to_string(w.failed) +
         ", rolled back " + std::to_string(w.rolled_back);
}

// "[#####-----]": done hosts as '#', failed or rolled back as 'x', the rest '-'.
std::string progressBar(const WaveProgress& w, int cells, bool color) {
  if (cells <= 0) return "";
  auto share = [&](int n) { return w.total == 0 ? 0 : n * cells / w.total; };
  const int done = w.total == 0 && w.status == "passed" ? cells : share(w.done);
  const int bad = std::min(cells - done, share(w.failed + w.rolled_back));
  return "[" + colorize(std::string(size_t(done), '#'), Color::kGreen, color) +
         colorize(std::string(size_t(bad), 'x'), Color::kRed, color) +
         std::string(size_t(cells - done - bad), '-') + "]";
}

}  // namespace

std::string renderRolloutProgress(const v1::RolloutRecord& r, const RenderContext& ctx, int width) {
  std::string out = "rollout " + printable(r.id()) + ": " + printable(r.baseline_name()) + "@" +
                    printable(r.target_digest()) + "  " +
                    colorize(r.phase(), phaseColor(r.phase()), ctx.color) + "\n";
  for (const std::string& reason : r.reasons()) out += "  " + printable(reason) + "\n";
  const std::vector<WaveProgress> waves = waveProgress(r);
  for (size_t i = 0; i < waves.size(); ++i) {
    const WaveProgress& w = waves[i];
    const std::string head = "wave " + std::to_string(i + 1) + " " + printable(w.description);
    const std::string settled =
        std::to_string(w.done + w.failed + w.rolled_back) + "/" + std::to_string(w.total);
    const int cells =
        std::clamp(width - static_cast<int>(head.size() + settled.size()) - 14, 10, 50);
    out += "\n" + head + "  " + colorize(w.status, phaseColor(w.status), ctx.color) + "\n  " +
           progressBar(w, cells, ctx.color) + " " + settled + "\n  " + countsText(w) + "\n";
  }
  if (r.has_wake_at()) {
    out += "\nnext step: " + relativeTime(unixMs(r.wake_at()), ctx.now_ms) + "\n";
  }
  return out;
}

std::string rolloutProgressLine(const v1::RolloutRecord& r) {
  std::string out = printable(r.id()) + " " + r.phase();
  if (r.waves_size() > 0) {
    out += " wave " + std::to_string(r.current_wave() + 1) + "/" + std::to_string(r.waves_size());
  }
  const std::vector<WaveProgress> waves = waveProgress(r);
  for (size_t i = 0; i < waves.size(); ++i) {
    out += "; wave " + std::to_string(i + 1) + " " + waves[i].status + ": " + countsText(waves[i]);
  }
  if (!r.reasons().empty()) out += "; reason: " + printable(r.reasons(0));
  return out + "\n";
}

std::string rolloutProgressJson(const v1::RolloutRecord& r) {
  std::string out = "{\"id\":" + jsonQuote(r.id()) + ",\"phase\":" + jsonQuote(r.phase()) +
                    ",\"current_wave\":" + std::to_string(r.current_wave()) + ",\"reasons\":[";
  for (int i = 0; i < r.reasons_size(); ++i) out += (i ? "," : "") + jsonQuote(r.reasons(i));
  out += "],\"waves\":[";
  const std::vector<WaveProgress> waves = waveProgress(r);
  for (size_t i = 0; i < waves.size(); ++i) {
    const WaveProgress& w = waves[i];
    out += std::string(i ? "," : "") + "{\"description\":" + jsonQuote(w.description) +
           ",\"status\":" + jsonQuote(w.status) + ",\"pending\":" + std::to_string(w.pending) +
           ",\"in_window\":" + std::to_string(w.in_window) +
           ",\"changing\":" + std::to_string(w.changing) +
           ",\"soaking\":" + std::to_string(w.soaking) + ",\"done\":" + std::to_string(w.done) +
           ",\"failed\":" + std::to_string(w.failed) +
           ",\"rolled_back\":" + std::to_string(w.rolled_back) +
           ",\"total\":" + std::to_string(w.total) + "}";
  }
  return out + "]}\n";
}

bool rolloutSettled(const v1::RolloutRecord& r) {
  if (r.phase() == "completed" || r.phase() == "aborted") return true;
  if (r.phase() != "halted") return false;
  for (const v1::RolloutHost& h : r.hosts()) {
    if (h.phase() == "dispatched" || h.phase() == "rolling_back") return false;
  }
  return true;
}

std::string renderRollouts(const v1::ListRolloutsResponse& reply, const RenderContext& ctx) {
  if (reply.rollouts().empty()) return "no rollouts\n";
  Table table(
      {"ID", "BASELINE", "PHASE", "WAVE", "DONE", "FAILED", "HOSTS", "CREATED-BY", "CREATED"});
  for (const v1::RolloutRecord& r : reply.rollouts()) {
    int done = 0;
    int failed = 0;
    for (const v1::RolloutHost& h : r.hosts()) {
      done += h.phase() == "done";
      failed += h.phase() == "failed" || h.phase() == "rolled_back";
    }
    table.addRow({r.id(), r.baseline_name() + "@" + r.target_digest(),
                  Cell(r.phase(), phaseColor(r.phase())),
                  std::to_string(r.current_wave() + 1) + "/" + std::to_string(r.waves_size()),
                  std::to_string(done), std::to_string(failed), std::to_string(r.hosts_size()),
                  r.creator(), relativeTime(unixMs(r.created_at()), ctx.now_ms)});
  }
  return table.render(ctx.color);
}

std::string renderAudit(const v1::AuditResponse& reply) {
  if (reply.events().empty()) return "no audit events\n";
  Table table({"AT", "ACTOR", "ROLLOUT", "ACTION", "HOST", "DETAIL"});
  for (const v1::AuditEvent& e : reply.events()) {
    table.addRow({rfc3339(unixMs(e.at())), e.actor(), e.rollout_id(), e.action(),
                  e.host().empty() ? "-" : e.host(), e.detail().empty() ? "-" : e.detail()});
  }
  return table.render(false);
}

std::string protoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}\n";
  return out + "\n";
}

std::string auditJsonLines(const v1::AuditResponse& reply) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  for (const v1::AuditEvent& e : reply.events()) {
    std::string line;
    if (google::protobuf::util::MessageToJsonString(e, &line, options).ok()) out += line + "\n";
  }
  return out;
}

}  // namespace postwarden::controller::ctl
