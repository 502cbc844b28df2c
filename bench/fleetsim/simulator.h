// The simulated fleet: N agents, each a Connect stream on the gRPC callback API (no thread per
// stream), spread over a few channels, driven by one timer thread (connects, heartbeats, drift
// events, reconnect backoff). Reconnects are paced by the agent's own link::ReconnectPacer
// (the next replica promptly, the backoff growing per failed round) and honour the
// controller's retry hints the same way (agent/link/controller_link.cpp), so what fleetsim
// measures after a restart or a store outage is what a real fleet would do. Counters and latencies
// go into a Summary at the end.
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

#include "agent/link/backoff.h"
#include "agent/link/channel.h"
#include "agent/link/reconnect_pacer.h"
#include "bench/fleetsim/options.h"
#include "bench/fleetsim/process_sampler.h"
#include "bench/fleetsim/summary.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::fleetsim {

using Clock = std::chrono::steady_clock;

// Metadata key the controller reads the simulated agent's id from (kSimulatedAgentKey in
// controller/rpc/simulator_access.h; not included so fleetsim links only the protocol).
inline constexpr char kSimulatedAgentKey[] = "x-postwarden-sim-agent";

class AgentStream;
class RolloutDriver;

// The whole file (certificates, keys); NotFound when it cannot be read.
Result<std::string> readFile(const std::string& path);

// One rollout job as a simulated agent saw it (--rollout).
struct JobRecord {
  int agent = 0;
  std::string job_id;
  bool rollback = false;
  bool failed = false;  // an injected failure: reported as rolled back by the agent
  Clock::time_point received;
  std::optional<Clock::time_point> result_sent;
  std::optional<Clock::time_point> result_acked;  // the controller stored the result
};

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
  // --rollout: attached before run(); run() ends when it has finished.
  void setRolloutDriver(RolloutDriver* driver) { driver_ = driver; }

  // For the rollout driver (thread-safe).
  bool allConnected();
  // Agents whose report of running `version` (without a job) the controller acked.
  int agentsAckedOn(const std::string& version);
  std::vector<JobRecord> jobRecords();
  const std::string& agentId(int index) const { return agents_[size_t(index)]->id; }
  int agentCount() const { return static_cast<int>(agents_.size()); }

 private:
  friend class AgentStream;

  struct PendingReport {
    uint64_t seq;
    Clock::time_point sent;
    bool redelivered;
    v1::AgentMessage message;
    int job_record = -1;    // the result of this job (index into jobs_)
    bool baseline = false;  // the report of an assigned baseline (no job)
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
    // Its reconnect waits, as the real agent's link paces them; guarded by `mu`.
    std::optional<agent::link::ReconnectPacer> pacer;
    // Its controllers (replicas), current() the one to connect to; guarded by `mu`.
    std::optional<agent::link::AddressRotation> rotation;
    int legacy_failures = 0;  // --legacy-backoff: attempts since the last ack
    uint64_t next_seq = 0;
    std::deque<PendingReport> pending;  // durable reports not yet acked, by seq
    Clock::time_point connect_started;
    std::optional<Clock::time_point> accepted_at;  // the live stream's initial metadata
    // --rollout: what the agent runs, and its current (last) job.
    std::string baseline_name;
    std::string baseline_version;
    std::string acked_version;  // its report of running baseline_version was acked
    std::string job_id;
    uint64_t job_serial = 0;  // per job: events of an earlier job are dropped
    int job_record = -1;
    v1::Assignment job_assignment;
    std::optional<v1::StateReport> job_result;  // answered again for the same job id
    Clock::time_point soak_end;
  };

  // kJobDone and kSoakReport carry the agent's job_serial in `generation`.
  enum class EventKind { kConnect, kHeartbeat, kDrift, kJobDone, kSoakReport };
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
  // Rollout jobs, as agent/daemon/agent_daemon_jobs.cpp answers them.
  void onAssignment(Agent& agent, const v1::Assignment& assignment);
  void finishJob(Agent& agent, uint64_t serial);
  void sendSoakReport(Agent& agent, uint64_t serial);
  v1::StateReport stateReportLocked(const Agent& agent) const;
  // Queued as a durable report: sent now when attached, else redelivered on the next stream.
  void sendDurableLocked(Agent& agent, v1::StateReport report, int job_record, bool baseline);

  // Called by the streams.
  v1::AgentService::Stub& stubFor(const Agent& agent);
  // Index into options_.controllers of the agent's current controller; agent's mutex held.
  size_t controllerOf(const Agent& agent) const;
  void onAck(Agent& agent, uint64_t generation, uint64_t acked_seq);
  void onAccepted(Agent& agent, uint64_t generation);
  void onHeartbeatWritten() { heartbeats_sent_.fetch_add(1, std::memory_order_relaxed); }
  // `retry_after`: the controller's hint (a stream shed RESOURCE_EXHAUSTED, or ended
  // UNAVAILABLE by a replica whose store is down).
  void onStreamDone(Agent& agent, AgentStream* stream, const grpc::Status& status,
                    std::optional<std::chrono::milliseconds> retry_after);

  // `controller`: the stream's; `started`: when the stream that just connected was started
  // (delta > 0).
  void connectedChanged(int delta, size_t controller, Clock::time_point now,
                        Clock::time_point started = {});
  void cancelAll();
  void progressLine(double elapsed);

  Options options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::AgentService::Stub>> stubs_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::map<std::string, size_t> controller_index_;  // address -> index in options_.controllers
  ProcessSampler sampler_;                          // used by run()'s thread only
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
  std::atomic<uint64_t> refused_{0};  // streams the controller shed (RESOURCE_EXHAUSTED)
  std::atomic<int> live_streams_{0};

  RolloutDriver* driver_ = nullptr;
  std::mutex jobs_mu_;  // taken after an agent's mutex, never before
  std::vector<JobRecord> jobs_;
  int change_jobs_ = 0;  // change jobs received so far (for --job-failure-skip)

  // Guarded by stats_mu_.
  std::mutex stats_mu_;
  int connected_ = 0;
  int max_connected_ = 0;
  std::optional<Clock::time_point> all_connected_at_;
  std::vector<int> attached_per_controller_;
  // The first stream of a connected fleet that ended: the steady hold ends there.
  std::optional<Clock::time_point> first_disconnect_;
  uint64_t heartbeats_at_disconnect_ = 0;
  uint64_t reports_at_disconnect_ = 0;
  std::vector<int> attached_at_disconnect_;
  std::optional<Clock::time_point> episode_started_;
  int episode_disconnected_ = 0;
  uint64_t episode_attempts_base_ = 0;
  uint64_t episode_refused_base_ = 0;
  std::vector<double> episode_back_s_;     // hellos acked, seconds since the episode's start
  std::vector<double> episode_started_s_;  // when the controller accepted them, the same
  std::vector<double> episode_attempt_s_;  // attempts started, the same
  std::vector<double> episode_shed_s_;     // attempts shed (RESOURCE_EXHAUSTED), the same
  std::vector<ReconnectEpisode> episodes_;
  std::vector<double> connect_ms_;
  std::vector<std::pair<Clock::time_point, double>> durable_ms_;  // (sent, latency)
  uint64_t connect_failures_ = 0;
  uint64_t streams_dropped_ = 0;
  std::map<std::string, uint64_t> errors_;
  std::map<std::string, std::map<std::string, uint64_t>> error_text_;
};

}  // namespace postwarden::fleetsim
