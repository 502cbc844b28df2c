// Controller replicas on one store: replica_sync.h, and the Fleet's half of it (fleet.h:
// resync, deliverCommand).
#include "controller/core/replica_sync.h"

#include <absl/strings/escaping.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/logging.h"
#include "controller/core/targeting.h"

namespace postwarden::controller::core {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.fleet"); }

}  // namespace

std::string commandAnnouncement(const std::string& agent_id, const v1::Command& command) {
  return std::string(store::kChangeCommand) + " " + agent_id + " " +
         absl::Base64Escape(command.SerializeAsString());
}

bool parseCommandAnnouncement(const std::string& payload, std::string* agent_id,
                              v1::Command* command) {
  const std::string prefix = std::string(store::kChangeCommand) + " ";
  if (payload.rfind(prefix, 0) != 0) return false;
  const size_t space = payload.find(' ', prefix.size());
  if (space == std::string::npos) return false;
  std::string bytes;
  if (!absl::Base64Unescape(payload.substr(space + 1), &bytes)) return false;
  if (!command->ParseFromString(bytes)) return false;
  *agent_id = payload.substr(prefix.size(), space - prefix.size());
  return !agent_id->empty();
}

void onReplicaChange(const std::string& payload, Fleet& fleet, store::RolloutStore* rollout_store,
                     Rollouts* rollouts) {
  std::string agent_id;
  v1::Command command;
  if (parseCommandAnnouncement(payload, &agent_id, &command)) {
    fleet.deliverCommand(agent_id, command);  // the replica the agent is connected to sends it
    return;
  }
  if (payload == store::kChangeJobReport) {
    // Only the leader's loop acts on it; a follower's wake reads nothing (Rollouts::loop).
    if (rollouts != nullptr) rollouts->wake();
    return;
  }
  std::optional<std::vector<store::PinRow>> pins;
  if (rollout_store != nullptr) {
    Result<std::vector<store::PinRow>> stored = rollout_store->listPins();
    if (!stored.ok()) {
      log()->error("cannot read rollout pins after a change: {}", stored.status().message());
      return;
    }
    pins = std::move(stored).value();
  }
  Status synced = fleet.resync(pins);
  if (!synced.ok()) log()->error("cannot resync after a change: {}", synced.message());
  if (rollouts != nullptr && payload != store::kChangeTargeting) rollouts->wake();
}

std::string Fleet::targetKeyLocked(const std::string& agent_id, const store::Labels& labels) const {
  if (auto pinned = pins_.find(agent_id); pinned != pins_.end()) {
    const store::PinRow& pin = pinned->second;
    return "pin " + pin.baseline_name + "@" + pin.baseline_version + " " + pin.job;
  }
  const store::AssignmentRecord* found = assignmentFor(assignments_, labels);
  return found ? "assignment " + std::to_string(found->id) : "";
}

Status Fleet::resync(const std::optional<std::vector<store::PinRow>>& pins) {
  // Read outside the lock; a change committed after these reads announces itself again.
  PW_ASSIGN_OR_RETURN(std::vector<std::string> revoked, store_.revokedAgents());
  PW_ASSIGN_OR_RETURN(std::vector<store::AssignmentRecord> assignments, store_.listAssignments());
  std::lock_guard lock(sessions_mutex_);
  std::map<std::string, std::string> before;
  for (const auto& [id, labels] : session_labels_) before[id] = targetKeyLocked(id, labels);
  revoked_.insert(revoked.begin(), revoked.end());
  assignments_ = std::move(assignments);
  if (pins) {
    pins_.clear();
    for (const store::PinRow& pin : *pins) pins_[pin.agent_id] = pin;
  }
  int sent = 0;
  for (auto it = session_labels_.begin(); it != session_labels_.end();) {
    const std::string& id = it->first;
    auto session = sessions_.find(id);
    if (revoked_.contains(id)) {
      if (session != sessions_.end()) {
        session->second->close(PermissionDeniedError("agent revoked"));
        sessions_.erase(session);
      }
      it = session_labels_.erase(it);
      continue;
    }
    const std::string key = targetKeyLocked(id, it->second);
    if (session != sessions_.end() && !key.empty() && key != before[id]) {
      if (std::optional<v1::ControllerMessage> message = assignmentMessageLocked(id, it->second)) {
        session->second->send(std::move(*message));
        ++sent;
      }
    }
    ++it;
  }
  if (sent > 0) log()->info("another replica's change: sent {} agents their new target", sent);
  return OkStatus();
}

bool Fleet::deliverCommand(const std::string& agent_id, const v1::Command& command) {
  std::lock_guard lock(sessions_mutex_);
  auto it = sessions_.find(agent_id);
  if (it == sessions_.end()) return false;
  v1::ControllerMessage message;
  *message.mutable_command() = command;
  it->second->send(std::move(message));
  return true;
}

}  // namespace postwarden::controller::core
