#include "controller/core/report_mapping.h"

#include <google/protobuf/map.h>

#include <algorithm>
#include <limits>

#include "common/proto_time.h"
#include "controller/core/agent_id.h"
#include "controller/store/text.h"

namespace postwarden::controller::core {
namespace {

// " (rolled_back)": the outcome's word in a history line; "" without one.
std::string outcomeNote(v1::Outcome outcome) {
  if (outcome == v1::OUTCOME_UNSPECIFIED || !v1::Outcome_IsValid(outcome)) return "";
  std::string word = v1::Outcome_Name(outcome).substr(8);  // after "OUTCOME_"
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return " (" + word + ")";
}

store::DriftRow driftRow(const std::string& agent_id, const v1::ParameterState& p,
                         store::UnixMs at) {
  return {.agent_id = agent_id,
          .file = p.file(),
          .service = p.service(),
          .parameter = p.parameter(),
          .expected = p.expected(),
          .actual = p.actual(),
          .expected_absent = p.expected_absent(),
          .actual_absent = p.actual_absent(),
          .detected_at = at};
}

std::string shown(const std::string& value, bool absent) {
  return absent ? "(unset)" : value.empty() ? "\"\"" : value;
}

std::string describeParameters(const google::protobuf::RepeatedPtrField<v1::ParameterState>& ps) {
  std::string text;
  for (const v1::ParameterState& p : ps) {
    if (!text.empty()) text += "; ";
    // What the host has, then what the baseline says: a plan line reads "current -> desired",
    // so an arrow here would make a repaired drift read as if someone undid the baseline.
    text += (p.service().empty() ? "" : p.service() + " ") + p.parameter() + " is " +
            shown(p.actual(), p.actual_absent()) +
            " (baseline: " + shown(p.expected(), p.expected_absent()) + ")";
  }
  return text;
}

}  // namespace

Status checkLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  auto valid = [](const std::string& s) {
    return !s.empty() && s.size() <= 63 && std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
  };
  for (const auto& [key, value] : labels) {
    if (!valid(key) || !valid(value)) {
      return InvalidArgumentError("labels are key=value with 1-63 characters of [A-Za-z0-9._-]");
    }
  }
  return OkStatus();
}

Status checkHello(const v1::Hello& hello) {
  if (!validAgentId(hello.hostname())) {
    return InvalidArgumentError("hello: the host name is not a lowercase host name");
  }
  for (const std::string* version : {&hello.agent_version(), &hello.postfix_version()}) {
    bool printable = std::all_of(version->begin(), version->end(),
                                 [](char c) { return c >= 0x21 && c <= 0x7e; });
    if (version->size() > 64 || !printable) {
      return InvalidArgumentError("hello: versions are up to 64 printable characters");
    }
  }
  return checkLabels(hello.labels()).withContext("hello");
}

Result<store::ReportWrite> reportWrite(const std::string& agent_id, const v1::AgentMessage& message,
                                       store::UnixMs now) {
  if (message.seq() == 0) return InvalidArgumentError("a durable report needs a seq");
  // The store keeps seqs as SQLite integers; a larger one could never be stored or acked.
  if (message.seq() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgumentError("report seq out of range");
  }
  store::ReportWrite write{.agent_id = agent_id,
                           .epoch = message.seq_epoch(),
                           .seq = message.seq(),
                           .body = message.SerializeAsString(),
                           .received_at = now};
  write.history = {.agent_id = agent_id, .at = now};
  if (message.has_state()) {
    const v1::StateReport& state = message.state();
    if (!v1::Compliance_IsValid(state.compliance()) || !v1::BaselineMode_IsValid(state.mode()) ||
        !v1::Outcome_IsValid(state.outcome()) || state.mode() == v1::BASELINE_MODE_UNSPECIFIED) {
      return InvalidArgumentError("state report with an unknown compliance, mode or outcome");
    }
    write.kind = "state";
    store::ReportWrite::State s{.baseline_name = state.baseline_name(),
                                .baseline_version = state.baseline_digest(),
                                .mode = static_cast<store::Mode>(state.mode()),
                                .compliance = static_cast<store::Compliance>(state.compliance()),
                                .serialized = state.SerializeAsString()};
    if (!state.job_id().empty() && state.outcome() != v1::OUTCOME_UNSPECIFIED) {
      s.job_state = s.serialized;
    }
    for (const v1::ParameterState& p : state.parameters()) {
      if (outOfLine(p)) s.drift.push_back(driftRow(agent_id, p, now));
    }
    write.history.kind = "state";
    write.history.summary = v1::Compliance_Name(state.compliance()).substr(11) +
                            outcomeNote(state.outcome()) +
                            (state.detail().empty() ? "" : ": " + state.detail());
    write.state = std::move(s);
    return write;
  }
  if (message.has_drift()) {
    const v1::DriftEvent& drift = message.drift();
    if (!v1::DriftSource_IsValid(drift.source()) ||
        drift.source() == v1::DRIFT_SOURCE_UNSPECIFIED) {
      return InvalidArgumentError("drift event with an unknown source");
    }
    write.kind = "drift";
    for (const v1::ParameterState& p : drift.parameters()) {
      write.drift.push_back(driftRow(agent_id, p, now));
    }
    write.history.kind = "drift";
    write.history.summary =
        drift.source() == v1::DRIFT_SOURCE_SERVICE
            ? "live service fails its probe" +
                  (drift.failures().empty() ? std::string() : ": " + drift.failures(0))
            : describeParameters(drift.parameters()) + (drift.repairing() ? " (repairing)" : "");
    return write;
  }
  return InvalidArgumentError("message has no durable report");
}

namespace {

// Rows stored before every write path checked UTF-8 may hold bytes a protobuf string cannot
// carry; sent as they are, they would fail the whole reply (store/text.h).
std::string safe(const std::string& text) { return store::toValidUtf8(text); }

void copyLabels(const store::Labels& labels, google::protobuf::Map<std::string, std::string>* out) {
  for (const auto& [key, value] : labels) (*out)[safe(key)] = safe(value);
}

}  // namespace

v1::ParameterState parameterState(const store::DriftRow& row) {
  v1::ParameterState p;
  p.set_file(safe(row.file));
  p.set_service(safe(row.service));
  p.set_parameter(safe(row.parameter));
  p.set_expected(safe(row.expected));
  p.set_actual(safe(row.actual));
  p.set_expected_absent(row.expected_absent);
  p.set_actual_absent(row.actual_absent);
  return p;
}

v1::AgentSummary agentSummary(const store::AgentRecord& agent, bool connected) {
  v1::AgentSummary s;
  s.set_id(safe(agent.id));
  s.set_hostname(safe(agent.hostname));
  copyLabels(agent.labels, s.mutable_labels());
  s.set_baseline_name(safe(agent.baseline_name));
  s.set_baseline_digest(safe(agent.baseline_version));
  s.set_mode(static_cast<v1::BaselineMode>(agent.mode));
  s.set_compliance(static_cast<v1::Compliance>(agent.compliance));
  if (agent.last_seen != 0) *s.mutable_last_seen() = timestampFromUnixMs(agent.last_seen);
  s.set_connected(connected);
  s.set_revoked(agent.revoked);
  s.set_drifted_parameters(agent.drifted_parameters);
  s.set_agent_version(safe(agent.agent_version));
  s.set_postfix_version(safe(agent.postfix_version));
  return s;
}

v1::TokenInfo tokenInfo(const store::TokenRecord& t) {
  v1::TokenInfo info;
  info.set_id(safe(t.id));
  copyLabels(t.labels, info.mutable_labels());
  *info.mutable_created_at() = timestampFromUnixMs(t.created_at);
  *info.mutable_expires_at() = timestampFromUnixMs(t.expires_at);
  info.set_uses_left(t.uses_left);
  info.set_revoked(t.revoked);
  info.set_bound_agent_id(safe(t.bound_agent_id));
  return info;
}

v1::BaselineVersion baselineVersion(const store::BaselineRecord& b, int assigned) {
  v1::BaselineVersion v;
  v.set_name(safe(b.name));
  v.set_digest(safe(b.version));
  v.set_version(safe(b.label));
  *v.mutable_pushed_at() = timestampFromUnixMs(b.pushed_at);
  v.set_size_bytes(static_cast<int32_t>(b.content.size()));
  v.set_assigned_agents(assigned);
  return v;
}

v1::HistoryEntry historyEntry(const store::HistoryRow& row) {
  v1::HistoryEntry entry;
  *entry.mutable_at() = timestampFromUnixMs(row.at);
  entry.set_kind(safe(row.kind));
  entry.set_summary(safe(row.summary));
  return entry;
}

}  // namespace postwarden::controller::core
