// FakeAgentSession: the Fleet's tests' stand-in for an agent's gRPC stream (AgentSession).
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "common/status.h"
#include "controller/core/agent_session.h"
#include "postwarden/v1/fleet.pb.h"

namespace postwarden::controller::core {

// Stands in for the gRPC reactor: records what the fleet sends and how it closes the stream.
// send() is called from the fleet's writer thread too, hence the mutex.
class FakeAgentSession : public AgentSession {
 public:
  void send(v1::ControllerMessage message) override {
    std::lock_guard lock(mu_);
    if (closed_) return;
    messages_.push_back(std::move(message));
  }
  void close(Status status) override {
    std::lock_guard lock(mu_);
    if (!closed_) closed_ = std::move(status);
  }

  std::vector<v1::ControllerMessage> messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  std::optional<Status> closedWith() const {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::vector<uint64_t> acks() const {
    std::vector<uint64_t> out;
    for (const v1::ControllerMessage& m : messages()) {
      if (m.has_ack()) out.push_back(m.ack().acked_seq());
    }
    return out;
  }
  std::vector<v1::Assignment> assignments() const {
    std::vector<v1::Assignment> out;
    for (const v1::ControllerMessage& m : messages()) {
      if (m.has_assignment()) out.push_back(m.assignment());
    }
    return out;
  }
  std::vector<v1::Command> commands() const {
    std::vector<v1::Command> out;
    for (const v1::ControllerMessage& m : messages()) {
      if (m.has_command()) out.push_back(m.command());
    }
    return out;
  }
  // (epoch, seq) of every ack.
  std::vector<std::pair<uint64_t, uint64_t>> epochAcks() const {
    std::vector<std::pair<uint64_t, uint64_t>> out;
    for (const v1::ControllerMessage& m : messages()) {
      if (m.has_ack()) out.emplace_back(m.ack().acked_epoch(), m.ack().acked_seq());
    }
    return out;
  }
  size_t ackCount(uint64_t seq) const {
    std::vector<uint64_t> all = acks();
    return static_cast<size_t>(std::count(all.begin(), all.end(), seq));
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::ControllerMessage> messages_;
  std::optional<Status> closed_;
};

}  // namespace postwarden::controller::core
