// Over 400 lines: the fleet core's sessions, the writer thread's batches and the
// assignments and pins share one lock order; targeting, enrollment and mapping live apart.
#include "controller/core/fleet.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "common/proto_time.h"
#include "controller/core/enrollment_policy.h"
#include "controller/core/report_mapping.h"
#include "controller/core/targeting.h"
#include "controller/store/text.h"

namespace postwarden::controller::core {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.fleet"); }

store::UnixMs systemNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Fleet::Fleet(store::Store& store, FleetOptions options) : store_(store), options_(options) {
  if (!options_.now) options_.now = systemNow;
}

Fleet::~Fleet() { stop(); }

Status Fleet::start() {
  PW_ASSIGN_OR_RETURN(std::vector<std::string> revoked, store_.revokedAgents());
  PW_ASSIGN_OR_RETURN(std::vector<store::AssignmentRecord> assignments, store_.listAssignments());
  {
    std::lock_guard lock(sessions_mutex_);
    revoked_.insert(revoked.begin(), revoked.end());
    assignments_ = std::move(assignments);
  }
  writer_ = std::thread([this] { writerLoop(); });
  heartbeat_flusher_ = std::thread([this] { heartbeatLoop(); });
  return OkStatus();
}

void Fleet::stop() {
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(heartbeat_mutex_);
    heartbeat_stopping_ = true;
  }
  heartbeat_cv_.notify_all();
  // Last: its final flush stores what came in until the writer stopped.
  if (heartbeat_flusher_.joinable()) heartbeat_flusher_.join();
}

bool Fleet::isRevoked(const std::string& agent_id) const {
  std::lock_guard lock(sessions_mutex_);
  return revoked_.contains(agent_id);
}

Status Fleet::attach(const std::string& agent_id, AgentSession* session, const v1::Hello& hello,
                     bool simulated) {
  if (isRevoked(agent_id)) return PermissionDeniedError("agent is revoked");
  if (simulated) PW_RETURN_IF_ERROR(store_.registerSimulatedAgent(agent_id, now()));
  store::Labels agent_labels(hello.labels().begin(), hello.labels().end());
  PW_RETURN_IF_ERROR(store_.recordHello(agent_id, hello.hostname(), hello.agent_version(),
                                        hello.postfix_version(), agent_labels, now(),
                                        effectiveLabels));
  PW_ASSIGN_OR_RETURN(store::AgentRecord record, store_.getAgent(agent_id));
  std::string assigned = "no baseline assigned";
  {
    // One critical section with assign(): either it sees this session, or this sees its
    // assignment.
    std::lock_guard lock(sessions_mutex_);
    if (revoked_.contains(agent_id)) return PermissionDeniedError("agent is revoked");
    AgentSession*& slot = sessions_[agent_id];
    AgentSession* previous = std::exchange(slot, session);
    session_labels_[agent_id] = record.labels;
    // What is already stored need not be sent again (the agent may have missed the ack).
    // Only of the agent's own outbox: a new one (another epoch) has nothing stored yet.
    v1::ControllerMessage ack;
    ack.mutable_ack()->set_acked_seq(record.seq_epoch == hello.seq_epoch() ? record.last_seq : 0);
    ack.mutable_ack()->set_acked_epoch(hello.seq_epoch());
    session->send(std::move(ack));
    if (std::optional<v1::ControllerMessage> assignment =
            assignmentMessageLocked(agent_id, record.labels)) {
      assigned = assignment->assignment().baseline_name() + "@" +
                 assignment->assignment().baseline_digest();
      session->send(std::move(*assignment));
    }
    if (previous && previous != session) {
      previous->close(AbortedError("superseded by a newer stream of the same agent"));
    }
  }
  // Debug: at fleet scale a restart means thousands of these.
  log()->debug("agent {} connected ({}, Postfix {}, agent {}): {}", agent_id, hello.hostname(),
               hello.postfix_version(), hello.agent_version(), assigned);
  return OkStatus();
}

void Fleet::detach(const std::string& agent_id, AgentSession* session) {
  std::lock_guard lock(sessions_mutex_);
  auto it = sessions_.find(agent_id);
  if (it != sessions_.end() && it->second == session) {
    sessions_.erase(it);
    session_labels_.erase(agent_id);
    log()->debug("agent {} disconnected", agent_id);
  }
}

void Fleet::heartbeat(const std::string& agent_id) {
  std::lock_guard lock(queue_mutex_);
  seen_[agent_id] = now();
  ++stats_.heartbeats;
}

Status Fleet::report(const std::string& agent_id, const v1::AgentMessage& message) {
  PW_ASSIGN_OR_RETURN(store::ReportWrite write, reportWrite(agent_id, message, now()));
  // Refused here, before it is queued: in a batch it would fail every write of the batch.
  PW_RETURN_IF_ERROR(store::checkText(write));
  if (message.has_drift()) {
    const v1::DriftEvent& drift = message.drift();
    log()->info("drift on {}: {} ({} ms after the change)", agent_id, write.history.summary,
                drift.has_changed_at() ? now() - unixMs(drift.changed_at()) : -1);
  }
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back({std::move(write), std::chrono::steady_clock::now()});
  }
  queue_cv_.notify_one();
  return OkStatus();
}

store::UnixMs Fleet::storedThrough() const {
  std::lock_guard lock(queue_mutex_);
  if (writing_since_ != 0) return writing_since_;  // older than anything still queued
  return queue_.empty() ? now() : queue_.front().write.received_at;
}

void Fleet::writerLoop() {
  for (;;) {
    std::vector<Pending> batch;
    bool stopping;
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      writing_since_ = batch.empty() ? 0 : batch.front().write.received_at;
      stopping = stopping_ && queue_.empty();
    }
    if (!batch.empty()) flush(batch);
    {
      std::lock_guard lock(queue_mutex_);
      writing_since_ = 0;
    }
    if (stopping) return;
  }
}

// Heartbeats in a thread of their own: a flush (tens of ms for thousands of agents on
// PostgreSQL) in the writer's thread delayed every report queued meanwhile. On SQLite both
// share the store's one writer connection, so a batch may still wait for a flush's commit;
// that costs no more than before (docs/performance.md, "Replicas").
void Fleet::heartbeatLoop() {
  for (;;) {
    bool stopping;
    {
      std::unique_lock lock(heartbeat_mutex_);
      heartbeat_cv_.wait_for(lock, options_.heartbeat_flush, [&] { return heartbeat_stopping_; });
      stopping = heartbeat_stopping_;
    }
    flushHeartbeats();
    if (stopping) return;
  }
}

void Fleet::flush(std::vector<Pending>& batch) {
  std::vector<store::ReportWrite> writes;
  std::vector<std::chrono::steady_clock::time_point> queued;
  writes.reserve(batch.size());
  for (const Pending& p : batch) queued.push_back(p.queued);
  for (Pending& p : batch) writes.push_back(std::move(p.write));
  Result<std::vector<bool>> stored = store_.recordReports(writes);
  std::vector<std::pair<size_t, bool>> results;    // index into writes, stored
  std::vector<std::pair<size_t, Status>> refused;  // index into writes, why not stored
  if (stored.ok()) {
    for (size_t i = 0; i < writes.size(); ++i) results.emplace_back(i, (*stored)[i]);
  } else {
    // One bad write (an agent deleted meanwhile) must not hold back the others: retry alone.
    log()->warn("batch of {} reports failed ({}); retrying one by one", writes.size(),
                stored.status().message());
    for (size_t i = 0; i < writes.size(); ++i) {
      Result<std::vector<bool>> one = store_.recordReports({&writes[i], 1});
      if (one.ok()) {
        results.emplace_back(i, one->front());
      } else {
        log()->error("report {} of agent {} not stored: {}", writes[i].seq, writes[i].agent_id,
                     one.status().message());
        refused.emplace_back(i, one.status());
      }
    }
  }
  observeCommitted(writes, queued, results);
  const bool state_stored = std::any_of(results.begin(), results.end(), [&](const auto& r) {
    return r.second && writes[r.first].kind == "state";
  });
  if (state_stored) {
    std::lock_guard lock(listener_mutex_);
    if (state_stored_) state_stored_();
  }
  uint64_t stored_count = 0;
  {
    std::lock_guard lock(sessions_mutex_);
    for (auto [i, was_new] : results) {
      ackLocked(writes[i].agent_id, writes[i].epoch, writes[i].seq);
      stored_count += was_new ? 1 : 0;
    }
    // A report not stored is never acked, and its stream ends with the reason: refused (an
    // absurd seq jump), the agent would otherwise send it again forever; failed (the store
    // unreachable), the agent sends it only on a new stream, to this or another replica.
    for (auto& [i, status] : refused) {
      auto it = sessions_.find(writes[i].agent_id);
      if (it == sessions_.end()) continue;
      it->second->close(status);
      sessions_.erase(it);
      session_labels_.erase(writes[i].agent_id);
    }
  }
  std::lock_guard stats_lock(queue_mutex_);
  stats_.reports_stored += stored_count;
  stats_.reports_duplicate += results.size() - stored_count;
  ++stats_.batches;
}

void Fleet::observeCommitted(const std::vector<store::ReportWrite>& writes,
                             const std::vector<std::chrono::steady_clock::time_point>& queued,
                             const std::vector<std::pair<size_t, bool>>& results) {
  const FleetMetrics& m = options_.metrics;
  const auto committed = std::chrono::steady_clock::now();
  for (auto [i, was_new] : results) {
    if (m.commit_latency) {
      m.commit_latency->observe(std::chrono::duration<double>(committed - queued[i]).count());
    }
    if (m.drift_events && was_new && writes[i].kind == "drift") m.drift_events->inc();
  }
}

void Fleet::flushHeartbeats() {
  std::unordered_map<std::string, store::UnixMs> seen;
  {
    std::lock_guard lock(queue_mutex_);
    seen.swap(seen_);
  }
  if (seen.empty()) return;
  std::vector<std::pair<std::string, store::UnixMs>> rows(seen.begin(), seen.end());
  Status status = store_.touchAgents(rows);
  if (!status.ok()) log()->warn("heartbeats not stored: {}", status.message());
}

void Fleet::ackLocked(const std::string& agent_id, uint64_t epoch, uint64_t seq) {
  auto it = sessions_.find(agent_id);
  if (it == sessions_.end()) return;  // the agent redelivers; the store drops the duplicate
  v1::ControllerMessage ack;
  ack.mutable_ack()->set_acked_seq(seq);
  ack.mutable_ack()->set_acked_epoch(epoch);
  it->second->send(std::move(ack));
}

std::optional<v1::ControllerMessage> Fleet::assignmentMessageLocked(const std::string& agent_id,
                                                                    const store::Labels& labels) {
  if (auto pinned = pins_.find(agent_id); pinned != pins_.end()) return pinMessage(pinned->second);
  const store::AssignmentRecord* found = assignmentFor(assignments_, labels);
  if (!found) return std::nullopt;
  Result<store::BaselineRecord> baseline =
      store_.getBaseline(found->baseline_name, found->baseline_version);
  if (!baseline.ok()) {
    log()->error("assigned baseline {}@{} unreadable: {}", found->baseline_name,
                 found->baseline_version, baseline.status().message());
    return std::nullopt;
  }
  return assignmentMessage(*baseline, found->mode, found->repair_windows);
}

std::optional<v1::ControllerMessage> Fleet::pinMessage(const store::PinRow& pin) {
  Result<store::BaselineRecord> baseline =
      store_.getBaseline(pin.baseline_name, pin.baseline_version);
  if (!baseline.ok()) {
    log()->error("pinned baseline {}@{} unreadable: {}", pin.baseline_name, pin.baseline_version,
                 baseline.status().message());
    return std::nullopt;
  }
  // A pin repairs drift at once: the version a rollout gave the host is known-good
  // (docs/rollouts.md, "Drift during and after a rollout").
  v1::ControllerMessage message = assignmentMessage(*baseline, store::Mode::kEnforce, {});
  if (!message.mutable_assignment()->mutable_job()->ParseFromString(pin.job)) {
    log()->error("pin of agent {} has an unreadable job", pin.agent_id);
    return std::nullopt;
  }
  return message;
}

void Fleet::setPins(const std::vector<store::PinRow>& pins) {
  std::lock_guard lock(sessions_mutex_);
  pins_.clear();
  for (const store::PinRow& pin : pins) pins_[pin.agent_id] = pin;
}

void Fleet::onStateStored(std::function<void()> listener) {
  std::lock_guard lock(listener_mutex_);
  state_stored_ = std::move(listener);
}

void Fleet::pin(const store::PinRow& pin) {
  std::lock_guard lock(sessions_mutex_);
  pins_[pin.agent_id] = pin;
  auto session = sessions_.find(pin.agent_id);
  if (session == sessions_.end()) return;  // sent when it connects
  if (std::optional<v1::ControllerMessage> message = pinMessage(pin)) {
    session->second->send(std::move(*message));
  }
}

v1::ControllerMessage Fleet::assignmentMessage(const store::BaselineRecord& baseline,
                                               store::Mode mode,
                                               const std::vector<std::string>& repair_windows) {
  v1::ControllerMessage message;
  v1::Assignment* a = message.mutable_assignment();
  a->set_baseline_name(baseline.name);
  a->set_baseline_digest(baseline.version);
  a->set_content(baseline.content);
  a->set_mode(static_cast<v1::BaselineMode>(mode));
  for (const std::string& window : repair_windows) a->add_repair_windows(window);
  return message;
}

Result<Fleet::Assigned> Fleet::assign(const store::AssignmentRecord& assignment) {
  // Read first: a failure must leave no assignment behind.
  PW_ASSIGN_OR_RETURN(store::BaselineRecord baseline,
                      store_.getBaseline(assignment.baseline_name, assignment.baseline_version));
  PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, store_.listAgents());
  PW_ASSIGN_OR_RETURN(store::AssignmentRecord stored, store_.addAssignment(assignment));
  const int matched = countSelected(stored.selector, agents);
  const v1::ControllerMessage message =
      assignmentMessage(baseline, stored.mode, stored.repair_windows);
  size_t pushed = 0;
  {
    std::lock_guard lock(sessions_mutex_);
    assignments_.push_back(stored);
    // Push to connected agents whose effective assignment is now this one.
    for (const auto& [id, labels] : session_labels_) {
      if (pins_.contains(id)) continue;  // held by a rollout
      const store::AssignmentRecord* effective = assignmentFor(assignments_, labels);
      if (!effective || effective->id != stored.id) continue;
      auto it = sessions_.find(id);
      if (it == sessions_.end()) continue;
      it->second->send(message);
      ++pushed;
    }
  }
  log()->info("assigned {}@{} ({}) to {} agents, {} connected", stored.baseline_name,
              stored.baseline_version, stored.mode == store::Mode::kDetect ? "detect" : "enforce",
              matched, pushed);
  return Assigned{.id = stored.id, .matched = matched};
}

Result<std::vector<store::AssignmentRecord>> Fleet::assignments() {
  return store_.listAssignments();
}

Result<int> Fleet::unassign(int64_t assignment_id) {
  PW_ASSIGN_OR_RETURN(std::vector<store::AgentRecord> agents, store_.listAgents());
  std::lock_guard lock(sessions_mutex_);
  PW_RETURN_IF_ERROR(store_.removeAssignment(assignment_id));
  std::vector<store::AssignmentRecord> before = assignments_;
  std::erase_if(assignments_,
                [&](const store::AssignmentRecord& a) { return a.id == assignment_id; });
  int affected = 0;
  for (const store::AgentRecord& agent : agents) {
    const store::AssignmentRecord* was = assignmentFor(before, agent.labels);
    if (agent.revoked || was == nullptr || was->id != assignment_id) continue;
    ++affected;
    auto session = sessions_.find(agent.id);
    if (session == sessions_.end() || pins_.contains(agent.id)) continue;
    if (std::optional<v1::ControllerMessage> now =
            assignmentMessageLocked(agent.id, agent.labels)) {
      session->second->send(std::move(*now));
    }
  }
  log()->info("withdrew assignment {} ({} agents)", assignment_id, affected);
  return affected;
}

Result<std::string> Fleet::deleteBaseline(const std::string& name, const std::string& version) {
  std::lock_guard lock(sessions_mutex_);
  PW_ASSIGN_OR_RETURN(std::string deleted,
                      store_.deleteBaseline(name, version, assignmentsDroppedWith));
  // The store dropped the assignments no agent can select any more; so does the cache.
  std::erase_if(assignments_, [&](const store::AssignmentRecord& a) {
    return a.baseline_name == name && a.baseline_version == deleted;
  });
  log()->info("deleted baseline {}@{}", name, deleted);
  return deleted;
}

Status Fleet::revoke(const std::string& agent_id) {
  PW_RETURN_IF_ERROR(store_.revokeAgent(agent_id, now()));
  std::lock_guard lock(sessions_mutex_);
  revoked_.insert(agent_id);
  auto it = sessions_.find(agent_id);
  if (it != sessions_.end()) {
    it->second->close(PermissionDeniedError("agent revoked"));
    sessions_.erase(it);
    session_labels_.erase(agent_id);
  }
  log()->warn("agent {} revoked", agent_id);
  return OkStatus();
}

Status Fleet::command(const std::string& agent_id, const v1::Command& command) {
  std::unique_lock lock(sessions_mutex_);
  auto it = sessions_.find(agent_id);
  if (it == sessions_.end()) {
    lock.unlock();
    if (options_.relay_command) return options_.relay_command(agent_id, command);
    return UnavailableError("agent " + agent_id + " is not connected");
  }
  v1::ControllerMessage message;
  *message.mutable_command() = command;
  it->second->send(std::move(message));
  return OkStatus();
}

Result<store::AgentRecord> Fleet::enroll(const store::EnrollmentRequest& request) {
  return store_.enrollAgent(request, checkEnrollment);
}

Result<std::vector<store::AgentRecord>> Fleet::agents() { return store_.listAgents(); }

Result<store::AgentRecord> Fleet::agent(const std::string& agent_id) {
  return store_.getAgent(agent_id);
}

Result<std::vector<store::HistoryRow>> Fleet::history(const std::string& agent_id, int limit) {
  return store_.history(agent_id, limit);
}

Result<std::vector<store::DriftRow>> Fleet::drift() { return store_.listDrift(); }

Result<std::vector<store::BaselineRecord>> Fleet::baselines() { return store_.listBaselines(); }

Result<store::BaselineRecord> Fleet::baseline(const std::string& name, const std::string& version) {
  return store_.getBaseline(name, version);
}

Result<std::vector<store::TokenRecord>> Fleet::tokens() { return store_.listTokens(); }

Result<bool> Fleet::putBaseline(const store::BaselineRecord& baseline) {
  return store_.putBaseline(baseline);
}

Status Fleet::approveReenrollment(const std::string& agent_id) {
  return store_.approveReenrollment(agent_id, now());
}

Status Fleet::createToken(const store::TokenRecord& token) { return store_.createToken(token); }

Status Fleet::revokeToken(const std::string& token_id) { return store_.revokeToken(token_id); }

bool Fleet::connected(const std::string& agent_id) const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.contains(agent_id);
}

size_t Fleet::connectedCount() const {
  std::lock_guard lock(sessions_mutex_);
  return sessions_.size();
}

FleetStats Fleet::stats() const {
  std::lock_guard lock(queue_mutex_);
  return stats_;
}

}  // namespace postwarden::controller::core
