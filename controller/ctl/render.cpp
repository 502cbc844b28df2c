// Over 400 lines on purpose: a text and a JSON rendering for each reply of the operator API,
// side by side so both change together. Split by reply kind if it grows further.
#include "controller/ctl/render.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/parameter_state.h"
#include "common/proto_time.h"
#include "controller/ctl/format.h"
#include "controller/ctl/table.h"

namespace postwarden::controller::ctl {
namespace {

using Labels = std::map<std::string, std::string>;

Labels toMap(const google::protobuf::Map<std::string, std::string>& labels) {
  return Labels(labels.begin(), labels.end());
}

Color complianceColor(v1::Compliance compliance) {
  switch (compliance) {
    case v1::COMPLIANCE_COMPLIANT:
      return Color::kGreen;
    case v1::COMPLIANCE_DRIFTED:
      return Color::kYellow;
    case v1::COMPLIANCE_FAILING:
    case v1::COMPLIANCE_REFUSED:
    case v1::COMPLIANCE_NEEDS_HUMAN:
    case v1::COMPLIANCE_ROLLED_BACK:
      return Color::kRed;
    default:
      return Color::kNone;
  }
}

// JSON spelling of a compliance: the text name with '_' ("needs_human").
std::string complianceKey(v1::Compliance compliance) {
  std::string name = complianceName(compliance);
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

Json modeJson(v1::BaselineMode mode) {
  if (mode == v1::BASELINE_MODE_ENFORCE) return "enforce";
  if (mode == v1::BASELINE_MODE_DETECT) return "detect";
  return nullptr;
}

// Sets "<name>": RFC 3339 with milliseconds, as protobuf writes a Timestamp; null when unset.
void setTime(Json& object, const std::string& name, const google::protobuf::Timestamp& at) {
  const int64_t unix_ms = unixMs(at);
  object.set(name, unix_ms == 0 ? Json() : Json(rfc3339(unix_ms, true)));
}

std::string baselineRef(const std::string& name, const std::string& version) {
  if (name.empty()) return "-";
  return version.empty() ? name : name + "@" + version;
}

std::string orDash(const std::string& text) { return text.empty() ? "-" : text; }

std::string valueText(const std::string& value, bool absent) {
  if (absent) return "(unset)";  // the plan's word too
  return value.empty() ? "\"\"" : value;
}

std::string lastSeen(const v1::AgentSummary& agent, int64_t now_ms) {
  if (agent.connected()) return "connected";
  if (unixMs(agent.last_seen()) == 0) return "never";
  return relativeTime(unixMs(agent.last_seen()), now_ms);
}

std::string plural(int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::vector<v1::AgentSummary> sortedAgents(const v1::ListAgentsResponse& reply) {
  std::vector<v1::AgentSummary> agents(reply.agents().begin(), reply.agents().end());
  std::stable_sort(agents.begin(), agents.end(),
                   [](const auto& a, const auto& b) { return a.id() < b.id(); });
  return agents;
}

Json agentSummaryJson(const v1::AgentSummary& agent) {
  Json object = Json::object();
  object.set("id", agent.id())
      .set("hostname", agent.hostname())
      .set("labels", Json(toMap(agent.labels())))
      .set("baseline_name", agent.baseline_name())
      .set("baseline_digest", agent.baseline_digest())
      .set("mode", modeJson(agent.mode()))
      .set("compliance", complianceKey(agent.compliance()))
      .set("connected", agent.connected())
      .set("revoked", agent.revoked());
  setTime(object, "last_seen", agent.last_seen());
  object.set("drifted_parameters", agent.drifted_parameters())
      .set("agent_version", agent.agent_version())
      .set("postfix_version", agent.postfix_version());
  return object;
}

Json parameterJson(const v1::ParameterState& p) {
  Json object = Json::object();
  object.set("file", p.file())
      .set("service", p.service())
      .set("parameter", p.parameter())
      .set("expected", p.expected())
      .set("actual", p.actual())
      .set("expected_absent", p.expected_absent())
      .set("actual_absent", p.actual_absent());
  return object;
}

Json baselineJson(const v1::BaselineVersion& b) {
  Json object = Json::object();
  object.set("name", b.name()).set("digest", b.digest()).set("version", b.version());
  setTime(object, "pushed_at", b.pushed_at());
  object.set("size_bytes", b.size_bytes()).set("assigned_agents", b.assigned_agents());
  return object;
}

Json tokenJson(const v1::TokenInfo& t) {
  Json object = Json::object();
  object.set("id", t.id()).set("labels", Json(toMap(t.labels())));
  setTime(object, "created_at", t.created_at());
  setTime(object, "expires_at", t.expires_at());
  object.set("uses_left", t.uses_left())
      .set("revoked", t.revoked())
      .set("bound_agent_id", t.bound_agent_id());
  return object;
}

std::string modeWord(AssignMode mode) {
  return mode == AssignMode::kEnforce ? "enforce" : "detect";
}

// "key:        value" lines with the keys padded to one width.
class Summary {
 public:
  void add(const std::string& key, const std::string& value) { lines_.emplace_back(key, value); }
  std::string render() const {
    size_t width = 0;
    for (const auto& line : lines_) width = std::max(width, line.first.size());
    std::string out;
    for (const auto& [key, value] : lines_) {
      out += key + ":" + std::string(width - key.size() + 2, ' ') + value + "\n";
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

}  // namespace

std::string complianceName(v1::Compliance compliance) {
  switch (compliance) {
    case v1::COMPLIANCE_COMPLIANT:
      return "compliant";
    case v1::COMPLIANCE_DRIFTED:
      return "drifted";
    case v1::COMPLIANCE_FAILING:
      return "failing";
    case v1::COMPLIANCE_REFUSED:
      return "refused";
    case v1::COMPLIANCE_NEEDS_HUMAN:
      return "needs-human";
    case v1::COMPLIANCE_ROLLED_BACK:
      return "rolled-back";
    default:
      return "unknown";
  }
}

std::string modeName(v1::BaselineMode mode) {
  if (mode == v1::BASELINE_MODE_ENFORCE) return "enforce";
  if (mode == v1::BASELINE_MODE_DETECT) return "detect";
  return "-";
}

// --- agents ------------------------------------------------------------------------------

std::string renderAgents(const v1::ListAgentsResponse& reply, const RenderContext& ctx) {
  if (reply.agents().empty()) return "no agents\n";
  Table table({"ID", "HOSTNAME", "LABELS", "BASELINE", "MODE", "COMPLIANCE", "LAST-SEEN"});
  for (const v1::AgentSummary& a : sortedAgents(reply)) {
    // A revoked agent's last compliance no longer means anything: say it is revoked.
    Cell compliance = a.revoked()
                          ? Cell("revoked", Color::kRed)
                          : Cell(complianceName(a.compliance()), complianceColor(a.compliance()));
    table.addRow({a.id(), orDash(a.hostname()), joinLabels(toMap(a.labels())),
                  baselineRef(a.baseline_name(), a.baseline_digest()), modeName(a.mode()),
                  compliance, lastSeen(a, ctx.now_ms)});
  }
  return table.render(ctx.color);
}

Json agentsJson(const v1::ListAgentsResponse& reply) {
  Json array = Json::array();
  for (const v1::AgentSummary& a : sortedAgents(reply)) array.push(agentSummaryJson(a));
  return array;
}

std::string renderAgent(const v1::GetAgentResponse& reply, const RenderContext& ctx) {
  const v1::AgentSummary& a = reply.agent();
  Summary summary;
  summary.add("agent", printable(a.id()));
  summary.add("hostname", printable(orDash(a.hostname())));
  summary.add("labels", printable(joinLabels(toMap(a.labels()))));
  std::string baseline = baselineRef(a.baseline_name(), a.baseline_digest());
  if (a.mode() != v1::BASELINE_MODE_UNSPECIFIED) baseline += " (" + modeName(a.mode()) + ")";
  summary.add("baseline", printable(baseline));
  std::string compliance =
      colorize(complianceName(a.compliance()), complianceColor(a.compliance()), ctx.color);
  if (a.drifted_parameters() > 0) {
    compliance += ", " + plural(a.drifted_parameters(), "drifted parameter");
  }
  summary.add("compliance", compliance);
  std::string seen = lastSeen(a, ctx.now_ms);
  if (unixMs(a.last_seen()) != 0) seen += " (" + rfc3339(unixMs(a.last_seen())) + ")";
  summary.add("last seen", seen);
  summary.add("versions", printable("agent " + orDash(a.agent_version()) + ", Postfix " +
                                    orDash(a.postfix_version())));
  if (a.revoked()) summary.add("revoked", colorize("yes", Color::kRed, ctx.color));
  if (!reply.detail().empty()) summary.add("detail", printable(reply.detail()));
  std::string out = summary.render();

  out += "\n";
  if (reply.parameters().empty()) {
    out += "parameters: none reported\n";
  } else {
    Table table({"PARAMETER", "SERVICE", "EXPECTED", "ACTUAL", "OK"});
    for (const v1::ParameterState& p : reply.parameters()) {
      bool ok = !outOfLine(p);
      std::string name = p.file() == "main.cf" || p.file().empty()
                             ? p.parameter()
                             : p.file() + ": " + p.parameter();
      table.addRow({name, orDash(p.service()), valueText(p.expected(), p.expected_absent()),
                    valueText(p.actual(), p.actual_absent()),
                    ok ? Cell("yes", Color::kGreen) : Cell("NO", Color::kRed)});
    }
    out += table.render(ctx.color);
  }

  out += "\n";
  if (reply.probe_transcript().empty()) {
    out += "last probe: none reported\n";
  } else {
    out += "last probe:\n";
    for (const std::string& line : reply.probe_transcript()) out += "  " + printable(line) + "\n";
  }

  out += "\n";
  if (reply.history().empty()) {
    out += "history: none\n";
  } else {
    out += "history (newest first):\n";
    std::vector<v1::HistoryEntry> history(reply.history().begin(), reply.history().end());
    std::stable_sort(history.begin(), history.end(),
                     [](const auto& x, const auto& y) { return unixMs(x.at()) > unixMs(y.at()); });
    Table table({"TIME", "AGE", "KIND", "SUMMARY"});
    for (const v1::HistoryEntry& h : history) {
      table.addRow({rfc3339(unixMs(h.at())), relativeTime(unixMs(h.at()), ctx.now_ms), h.kind(),
                    h.summary()});
    }
    out += table.render(ctx.color);
  }
  return out;
}

Json agentJson(const v1::GetAgentResponse& reply) {
  Json parameters = Json::array();
  for (const v1::ParameterState& p : reply.parameters()) {
    parameters.push(parameterJson(p).set("ok", !outOfLine(p)));
  }
  Json transcript = Json::array();
  for (const std::string& line : reply.probe_transcript()) transcript.push(line);
  Json history = Json::array();
  for (const v1::HistoryEntry& h : reply.history()) {
    Json entry = Json::object();
    setTime(entry, "at", h.at());
    entry.set("kind", h.kind()).set("summary", h.summary());
    history.push(std::move(entry));
  }
  Json object = Json::object();
  object.set("agent", agentSummaryJson(reply.agent()))
      .set("parameters", std::move(parameters))
      .set("probe_transcript", std::move(transcript))
      .set("detail", reply.detail())
      .set("history", std::move(history));
  return object;
}

// --- drift -------------------------------------------------------------------------------

namespace {

std::vector<v1::DriftRecord> sortedDrift(const v1::ListDriftResponse& reply) {
  std::vector<v1::DriftRecord> drift(reply.drift().begin(), reply.drift().end());
  auto key = [](const v1::DriftRecord& d) {
    return std::tie(d.agent_id(), d.parameter().file(), d.parameter().service(),
                    d.parameter().parameter());
  };
  std::stable_sort(drift.begin(), drift.end(),
                   [&](const auto& a, const auto& b) { return key(a) < key(b); });
  return drift;
}

}  // namespace

std::string renderDrift(const v1::ListDriftResponse& reply, const RenderContext& ctx) {
  if (reply.drift().empty()) return "no drift\n";
  Table table({"AGENT", "HOSTNAME", "BASELINE", "FILE", "SERVICE", "PARAMETER", "EXPECTED",
               "ACTUAL", "MODE", "SINCE"});
  for (const v1::DriftRecord& d : sortedDrift(reply)) {
    const v1::ParameterState& p = d.parameter();
    table.addRow(
        {d.agent_id(), orDash(d.hostname()), baselineRef(d.baseline_name(), d.baseline_digest()),
         orDash(p.file()), orDash(p.service()), p.parameter(),
         Cell(valueText(p.expected(), p.expected_absent()), Color::kGreen),
         Cell(valueText(p.actual(), p.actual_absent()), Color::kRed), modeName(d.mode()),
         unixMs(d.detected_at()) == 0 ? "-" : relativeTime(unixMs(d.detected_at()), ctx.now_ms)});
  }
  return table.render(ctx.color);
}

Json driftJson(const v1::ListDriftResponse& reply) {
  Json array = Json::array();
  for (const v1::DriftRecord& d : sortedDrift(reply)) {
    const v1::ParameterState& p = d.parameter();
    Json object = Json::object();
    object.set("agent_id", d.agent_id())
        .set("hostname", d.hostname())
        .set("baseline_name", d.baseline_name())
        .set("baseline_digest", d.baseline_digest())
        .set("file", p.file())
        .set("service", p.service())
        .set("parameter", p.parameter())
        .set("expected", p.expected())
        .set("actual", p.actual())
        .set("expected_absent", p.expected_absent())
        .set("actual_absent", p.actual_absent())
        .set("mode", modeJson(d.mode()));
    setTime(object, "detected_at", d.detected_at());
    array.push(std::move(object));
  }
  return array;
}

// --- baselines ---------------------------------------------------------------------------

std::string renderPushed(const v1::PushBaselineResponse& reply) {
  const v1::BaselineVersion& b = reply.baseline();
  std::string details = humanSize(b.size_bytes());
  if (!b.version().empty()) details = "version '" + b.version() + "', " + details;
  return printable(b.name() + "@" + b.digest()) + ": " +
         (reply.created() ? "new" : "already stored") + " (" + printable(details) + ")\n";
}

Json pushedJson(const v1::PushBaselineResponse& reply) {
  return baselineJson(reply.baseline()).set("created", reply.created());
}

namespace {

std::vector<v1::BaselineVersion> sortedBaselines(const v1::ListBaselinesResponse& reply) {
  std::vector<v1::BaselineVersion> list(reply.baselines().begin(), reply.baselines().end());
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    if (a.name() != b.name()) return a.name() < b.name();
    return unixMs(a.pushed_at()) > unixMs(b.pushed_at());  // newest version first
  });
  return list;
}

}  // namespace

std::string renderBaselines(const v1::ListBaselinesResponse& reply, const RenderContext& ctx) {
  if (reply.baselines().empty()) return "no baselines\n";
  Table table({"NAME", "DIGEST", "VERSION", "PUSHED", "SIZE", "AGENTS"});
  for (const v1::BaselineVersion& b : sortedBaselines(reply)) {
    table.addRow(
        {b.name(), b.digest(), orDash(b.version()),
         unixMs(b.pushed_at()) == 0 ? "-" : relativeTime(unixMs(b.pushed_at()), ctx.now_ms),
         humanSize(b.size_bytes()), std::to_string(b.assigned_agents())});
  }
  return table.render(ctx.color);
}

Json baselinesJson(const v1::ListBaselinesResponse& reply) {
  Json array = Json::array();
  for (const v1::BaselineVersion& b : sortedBaselines(reply)) array.push(baselineJson(b));
  return array;
}

std::string renderAssigned(const AssignBaselineCommand& command,
                           const v1::AssignBaselineResponse& reply) {
  std::string out = std::string(command.dry_run ? "would assign " : "assigned ") +
                    command.baseline.name + "@" + command.baseline.digest + " in " +
                    modeWord(command.mode) + " mode to " + plural(reply.matched_agents(), "agent");
  if (!command.selector.empty()) out += " matching " + joinLabels(command.selector);
  if (reply.assignment_id() != 0)
    out += " (assignment " + std::to_string(reply.assignment_id()) + ")";
  out += "\n";
  if (!reply.agent_ids().empty()) {
    std::string ids;
    for (const std::string& id : reply.agent_ids())
      ids += (ids.empty() ? "" : ", ") + printable(id);
    if (reply.matched_agents() > reply.agent_ids_size()) ids += ", ...";
    out += "  agents: " + ids + "\n";
  }
  return out;
}

Json assignedJson(const AssignBaselineCommand& command, const v1::AssignBaselineResponse& reply) {
  Json ids = Json::array();
  for (const std::string& id : reply.agent_ids()) ids.push(id);
  Json object = Json::object();
  object.set("name", command.baseline.name)
      .set("digest", command.baseline.digest)
      .set("mode", modeWord(command.mode))
      .set("selector", Json(command.selector))
      .set("matched_agents", reply.matched_agents())
      .set("agent_ids", ids)
      .set("assignment_id", reply.assignment_id())
      .set("dry_run", command.dry_run);
  return object;
}

std::string renderAssignments(const v1::ListAssignmentsResponse& reply, const RenderContext& ctx) {
  if (reply.assignments().empty()) return "no assignments\n";
  Table table({"ID", "BASELINE", "MODE", "SELECTOR", "REPAIR", "AGENTS", "CREATED"});
  for (const v1::AssignmentInfo& a : reply.assignments()) {
    const std::map<std::string, std::string> selector(a.selector().begin(), a.selector().end());
    std::string repair = a.mode() == v1::BASELINE_MODE_DETECT ? "-" : "at once";
    if (!a.repair_windows().empty()) repair.clear();
    for (const std::string& window : a.repair_windows()) {
      repair += (repair.empty() ? "" : "; ") + window;
    }
    table.addRow({std::to_string(a.id()), baselineRef(a.baseline_name(), a.baseline_digest()),
                  modeName(a.mode()), selector.empty() ? "*" : joinLabels(selector), repair,
                  std::to_string(a.effective_agents()),
                  relativeTime(unixMs(a.created_at()), ctx.now_ms)});
  }
  return table.render(ctx.color);
}

Json assignmentsJson(const v1::ListAssignmentsResponse& reply) {
  Json array = Json::array();
  for (const v1::AssignmentInfo& a : reply.assignments()) {
    Json object = Json::object();
    object.set("id", a.id())
        .set("name", a.baseline_name())
        .set("digest", a.baseline_digest())
        .set("mode", modeName(a.mode()))
        .set("selector",
             Json(std::map<std::string, std::string>(a.selector().begin(), a.selector().end())))
        .set("effective_agents", a.effective_agents());
    Json windows = Json::array();
    for (const std::string& window : a.repair_windows()) windows.push(Json(window));
    object.set("repair_windows", windows);
    setTime(object, "created_at", a.created_at());
    array.push(object);
  }
  return array;
}

// --- tokens ------------------------------------------------------------------------------

std::string renderTokenCreated(const v1::CreateTokenResponse& reply, const RenderContext& ctx) {
  const v1::TokenInfo& t = reply.info();
  Summary summary;
  summary.add("token", printable(reply.token()));
  summary.add("id", printable(t.id()));
  summary.add("labels", printable(joinLabels(toMap(t.labels()))));
  summary.add("uses", std::to_string(t.uses_left()));
  summary.add("expires", unixMs(t.expires_at()) == 0
                             ? "never"
                             : rfc3339(unixMs(t.expires_at())) + " (" +
                                   relativeTime(unixMs(t.expires_at()), ctx.now_ms) + ")");
  if (!t.bound_agent_id().empty()) {
    summary.add("agent", printable(t.bound_agent_id()) + " (only this identity; may re-enroll)");
  }
  return summary.render() +
         "\nThe token is shown only now; the controller keeps only its hash. On the host:\n"
         "  postwarden-agent enroll --config /etc/postwarden/agent.yaml --token-file FILE\n";
}

Json tokenCreatedJson(const v1::CreateTokenResponse& reply) {
  return tokenJson(reply.info()).set("token", reply.token());
}

namespace {

std::vector<v1::TokenInfo> sortedTokens(const v1::ListTokensResponse& reply) {
  std::vector<v1::TokenInfo> list(reply.tokens().begin(), reply.tokens().end());
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    if (unixMs(a.created_at()) != unixMs(b.created_at())) {
      return unixMs(a.created_at()) < unixMs(b.created_at());
    }
    return a.id() < b.id();
  });
  return list;
}

Cell tokenState(const v1::TokenInfo& t, int64_t now_ms) {
  if (t.revoked()) return Cell("revoked", Color::kRed);
  if (unixMs(t.expires_at()) != 0 && unixMs(t.expires_at()) <= now_ms) {
    return Cell("expired", Color::kYellow);
  }
  if (t.uses_left() <= 0) return Cell("used", Color::kYellow);
  return Cell("active", Color::kGreen);
}

}  // namespace

std::string renderTokens(const v1::ListTokensResponse& reply, const RenderContext& ctx) {
  if (reply.tokens().empty()) return "no tokens\n";
  Table table({"ID", "LABELS", "CREATED", "EXPIRES", "USES-LEFT", "AGENT", "STATE"});
  for (const v1::TokenInfo& t : sortedTokens(reply)) {
    table.addRow(
        {t.id(), joinLabels(toMap(t.labels())),
         unixMs(t.created_at()) == 0 ? "-" : relativeTime(unixMs(t.created_at()), ctx.now_ms),
         unixMs(t.expires_at()) == 0 ? "never" : relativeTime(unixMs(t.expires_at()), ctx.now_ms),
         std::to_string(t.uses_left()), orDash(t.bound_agent_id()), tokenState(t, ctx.now_ms)});
  }
  return table.render(ctx.color);
}

Json tokensJson(const v1::ListTokensResponse& reply) {
  Json array = Json::array();
  for (const v1::TokenInfo& t : sortedTokens(reply)) array.push(tokenJson(t));
  return array;
}

// --- status ------------------------------------------------------------------------------

std::vector<Unhealthy> unhealthyAgents(const v1::ListAgentsResponse& reply, int64_t now_ms,
                                       int64_t stale_after_ms) {
  std::vector<Unhealthy> out;
  for (const v1::AgentSummary& a : sortedAgents(reply)) {
    if (a.revoked()) continue;  // cut off on purpose; `agents` shows it
    Unhealthy u{.agent = a, .reasons = {}};
    switch (a.compliance()) {
      case v1::COMPLIANCE_COMPLIANT:
        break;
      case v1::COMPLIANCE_UNSPECIFIED:
        u.reasons.push_back(a.baseline_name().empty() ? "no baseline" : "not evaluated");
        break;
      default:
        u.reasons.push_back(complianceName(a.compliance()));
    }
    if (unixMs(a.last_seen()) == 0 || now_ms - unixMs(a.last_seen()) > stale_after_ms) {
      u.reasons.push_back("stale");
    }
    if (!u.reasons.empty()) out.push_back(std::move(u));
  }
  return out;
}

std::string renderStatus(const v1::ListAgentsResponse& reply,
                         const std::vector<Unhealthy>& unhealthy, const RenderContext& ctx) {
  int total = 0;
  for (const v1::AgentSummary& a : reply.agents()) total += a.revoked() ? 0 : 1;
  if (unhealthy.empty()) {
    return "all " + std::to_string(total) + " agents compliant and verified\n";
  }
  Table table({"ID", "HOSTNAME", "BASELINE", "MODE", "REASON", "LAST-SEEN"});
  for (const Unhealthy& u : unhealthy) {
    std::string reason;
    for (const std::string& r : u.reasons) reason += (reason.empty() ? "" : ", ") + r;
    table.addRow({u.agent.id(), orDash(u.agent.hostname()),
                  baselineRef(u.agent.baseline_name(), u.agent.baseline_digest()),
                  modeName(u.agent.mode()), Cell(reason, Color::kRed),
                  lastSeen(u.agent, ctx.now_ms)});
  }
  return table.render(ctx.color) + std::to_string(unhealthy.size()) + " of " +
         std::to_string(total) + " agents need attention\n";
}

Json statusJson(const v1::ListAgentsResponse& reply, const std::vector<Unhealthy>& unhealthy) {
  int total = 0;
  for (const v1::AgentSummary& a : reply.agents()) total += a.revoked() ? 0 : 1;
  Json array = Json::array();
  for (const Unhealthy& u : unhealthy) {
    Json reasons = Json::array();
    for (const std::string& r : u.reasons) reasons.push(Json(r));
    array.push(agentSummaryJson(u.agent).set("reasons", std::move(reasons)));
  }
  Json object = Json::object();
  object.set("healthy", unhealthy.empty())
      .set("agents", static_cast<int64_t>(total))
      .set("unhealthy", std::move(array));
  return object;
}

}  // namespace postwarden::controller::ctl
