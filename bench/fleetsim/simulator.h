// The simulated fleet: N agents, each a Connect stream on the gRPC callback API (no thread per
// stream), spread over a few channels, driven by one timer thread (connects, heartbeats, drift
// events, reconnect backoff). Counters and latencies go into a Summary at the end.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <vector>

#include "bench/fleetsim/options.h"
#include "bench/fleetsim/summary.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::fleetsim {

using Clock = std::chrono::steady_clock;

// Metadata key the controller reads the simulated agent's id from (kSimulatedAgentKey in
// controller/server/agent_service.h; not included so fleetsim links only the protocol).
inline constexpr char kSimulatedAgentKey[] = "x-postwarden-sim-agent";

class AgentStream;

class Simulator {
 public:
  explicit Simulator(Options options);
  ~Simulator();

  // Reads the credentials and opens the channels.
  Status setUp();
  // Runs the whole scenario (ramp-up, hold, optional reconnections) and summarizes it.
  Summary run();
  // Ends the hold early (SIGINT, SIGTERM); run() then summarizes as usual. Thread-safe.
  void requestStop() { stop_requested_ = true; }

 private:
  friend class AgentStream;

  struct PendingReport {
    uint64_t seq;
    Clock::time_point sent;
    bool redelivered;
    v1::AgentMessage message;
  };

  struct Agent {
    int index = 0;
    std::string id;  // sim-N
    std::string site;
    std::mutex mu;
    AgentStream* stream = nullptr;  // the live stream, if any
    uint64_t generation = 0;        // of the live (or last) stream
    bool attached = false;          // the live stream's hello was acked
    bool ever_attached = false;
    int failures = 0;  // consecutive attempts that ended before the hello's ack
    uint64_t next_seq = 0;
    std::deque<PendingReport> pending;  // durable reports not yet acked, by seq
    Clock::time_point connect_started;
  };

  enum class EventKind { kConnect, kHeartbeat, kDrift };
  struct Event {
    Clock::time_point at;
    int agent;
    uint64_t generation;
    EventKind kind;
    bool operator>(const Event& other) const { return at > other.at; }
  };

  void schedule(Clock::time_point at, int agent, uint64_t generation, EventKind kind);
  void timerLoop();
  void fire(const Event& event);
  void connect(Agent& agent);
  // False when the stream the event was scheduled for is gone (no follow-up then).
  bool sendHeartbeat(Agent& agent, uint64_t generation);
  bool sendDrift(Agent& agent, uint64_t generation);
  std::chrono::milliseconds nextDriftDelay();
  std::chrono::milliseconds backoff(int failures);

  // Called by the streams.
  v1::AgentService::Stub& stubFor(const Agent& agent);
  void onAck(Agent& agent, uint64_t generation, uint64_t acked_seq);
  void onHeartbeatWritten() { heartbeats_sent_.fetch_add(1, std::memory_order_relaxed); }
  void onStreamDone(Agent& agent, AgentStream* stream, const grpc::Status& status);

  void connectedChanged(int delta, Clock::time_point now);
  void cancelAll();
  void progressLine(double elapsed);

  Options options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::AgentService::Stub>> stubs_;
  std::vector<std::unique_ptr<Agent>> agents_;
  uint64_t seq_base_ = 0;  // the first seq of this run, and its outbox epoch
  Clock::time_point started_;

  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  bool timer_stop_ = false;
  std::thread timer_;

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> heartbeats_sent_{0};
  std::atomic<uint64_t> reports_sent_{0};
  std::atomic<uint64_t> reports_acked_{0};
  std::atomic<uint64_t> reports_redelivered_{0};
  std::atomic<uint64_t> connect_attempts_{0};
  std::atomic<int> live_streams_{0};

  // Guarded by stats_mu_.
  std::mutex stats_mu_;
  int connected_ = 0;
  int max_connected_ = 0;
  std::optional<Clock::time_point> all_connected_at_;
  std::optional<Clock::time_point> episode_started_;
  int episode_disconnected_ = 0;
  uint64_t episode_attempts_base_ = 0;
  std::vector<ReconnectEpisode> episodes_;
  std::vector<double> connect_ms_;
  std::vector<std::pair<Clock::time_point, double>> durable_ms_;  // (sent, latency)
  uint64_t connect_failures_ = 0;
  uint64_t streams_dropped_ = 0;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, std::map<std::string, uint64_t>> error_text_;
};

}  // namespace postwarden::fleetsim
