// Pure mapping between the wire protocol (postwarden.v1) and the store's plain rows.
#pragma once

#include <string>

#include "common/parameter_state.h"
#include "controller/store/store.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::core {

// Labels and selectors: key=value with 1-63 characters of [A-Za-z0-9._-]. InvalidArgument.
Status checkLabels(const google::protobuf::Map<std::string, std::string>& labels);

// A hello's fields end up in the store, in operators' tables and in logs: the host name must
// be a host name, versions short printable text, labels as checkLabels(). InvalidArgument.
Status checkHello(const v1::Hello& hello);

// The durable write for one report message (state or drift), or InvalidArgument when the
// message is not a durable report (no seq, no body, unknown enum values).
Result<store::ReportWrite> reportWrite(const std::string& agent_id, const v1::AgentMessage& message,
                                       store::UnixMs now);

// Store rows to the wire. Text that is not valid UTF-8 (a row stored before every write path
// checked it, see store/text.h) is sent with U+FFFD in place of each bad byte, so one bad row
// cannot fail a whole listing.
v1::ParameterState parameterState(const store::DriftRow& row);
v1::AgentSummary agentSummary(const store::AgentRecord& agent, bool connected);
v1::TokenInfo tokenInfo(const store::TokenRecord& token);
v1::BaselineVersion baselineVersion(const store::BaselineRecord& baseline, int assigned_agents);
v1::HistoryEntry historyEntry(const store::HistoryRow& row);

}  // namespace postwarden::controller::core
