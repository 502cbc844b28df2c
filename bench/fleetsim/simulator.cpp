// Over 400 lines: a simulated agent's whole life (connect, hello, heartbeats, drift, acks,
// rollout jobs) on one gRPC completion-queue model. A benchmark tool; the jobs' part is the
// next to move out if it grows.
#include "bench/fleetsim/simulator.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/fleetsim/rollout.h"
#include "common/proto_time.h"

namespace postwarden::fleetsim {
namespace {

// As ControllerLink::kLivedSession: a stream that lived this long was a success, and the
// pacer starts a fresh round with full jitter.
constexpr std::chrono::seconds kLivedSession{10};

std::mt19937_64& rng() {
  thread_local std::mt19937_64 generator(std::random_device{}());
  return generator;
}

double uniform(double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(rng());
}

double millisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::string codeName(grpc::StatusCode code) {
  return std::string(statusCodeName(static_cast<StatusCode>(code)));
}

}  // namespace

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// One Connect call of one simulated agent. Writes are queued and sent one at a time; a hold
// keeps OnDone back until no write can be started any more, so the timer thread may queue
// heartbeats from outside the reactions. Every field but `in_` is guarded by the agent's mutex.
class AgentStream final : public grpc::ClientBidiReactor<v1::AgentMessage, v1::ControllerMessage> {
 public:
  AgentStream(Simulator& sim, Simulator::Agent& agent, uint64_t generation)
      : sim_(sim), agent_(agent), generation_(generation) {}

  // Before StartCall, with the agent's mutex held: queues the hello.
  void prepareLocked() {
    context_.AddMetadata(kSimulatedAgentKey, agent_.id);
    sim_.stubFor(agent_).async()->Connect(&context_, this);
    AddHold();
    StartRead(&in_);
    v1::AgentMessage hello;
    v1::Hello* h = hello.mutable_hello();
    h->set_agent_version("fleetsim");
    h->set_postfix_version("3.7.11");
    h->set_hostname(agent_.id);
    h->set_seq_epoch(sim_.seq_base_);
    (*h->mutable_labels())["site"] = agent_.site;
    h->set_compliance(v1::COMPLIANCE_COMPLIANT);
    enqueueLocked(std::move(hello));
  }

  void start() { StartCall(); }
  void cancel() { context_.TryCancel(); }

  // With the agent's mutex held. False once the stream is closing.
  bool enqueueLocked(v1::AgentMessage message) {
    if (closed_) return false;
    outgoing_.push_back(std::move(message));  // references to queued elements stay valid
    if (!writing_) {
      writing_ = true;
      StartWrite(&outgoing_.front());
    }
    return true;
  }

  void OnWriteDone(bool ok) override {
    bool release = false;
    {
      std::lock_guard lock(agent_.mu);
      if (ok && outgoing_.front().has_heartbeat()) sim_.onHeartbeatWritten();
      outgoing_.pop_front();
      if (!ok) closed_ = true;
      if (!closed_ && !outgoing_.empty()) {
        StartWrite(&outgoing_.front());
      } else {
        writing_ = false;
        release = releaseLocked();
      }
    }
    if (release) RemoveHold();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (ok) sim_.onAccepted(agent_, generation_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      bool release = false;
      {
        std::lock_guard lock(agent_.mu);
        closed_ = true;
        release = releaseLocked();
      }
      if (release) RemoveHold();
      return;
    }
    if (in_.has_ack()) sim_.onAck(agent_, generation_, in_.ack().acked_seq());
    if (in_.has_assignment() && sim_.options_.rollout) sim_.onAssignment(agent_, in_.assignment());
    StartRead(&in_);
  }

  void OnDone(const grpc::Status& status) override {
    std::optional<std::chrono::milliseconds> retry_after;
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
        status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      const auto& trailers = context_.GetServerTrailingMetadata();
      auto it = trailers.find(agent::link::kRetryAfterMsKey);
      if (it != trailers.end()) {
        retry_after =
            agent::link::parseRetryAfterMs(std::string_view(it->second.data(), it->second.size()));
      }
    }
    sim_.onStreamDone(agent_, this, status, retry_after);
    delete this;
  }

 private:
  bool releaseLocked() {
    if (!closed_ || writing_ || released_) return false;
    released_ = true;
    return true;
  }

  Simulator& sim_;
  Simulator::Agent& agent_;
  const uint64_t generation_;
  grpc::ClientContext context_;
  v1::ControllerMessage in_;
  std::deque<v1::AgentMessage> outgoing_;  // front() is being written
  bool writing_ = false;
  bool closed_ = false;
  bool released_ = false;
};

Simulator::Simulator(Options options) : options_(std::move(options)), sampler_(options_.samples) {
  if (options_.controllers.empty()) options_.controllers.push_back(options_.controller);
  for (size_t c = 0; c < options_.controllers.size(); ++c) {
    controller_index_[options_.controllers[c]] = c;
  }
  attached_per_controller_.assign(options_.controllers.size(), 0);
}

Simulator::~Simulator() {
  {
    std::lock_guard lock(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

Status Simulator::setUp() {
  PW_ASSIGN_OR_RETURN(std::string ca, readFile(options_.ca_file));
  PW_ASSIGN_OR_RETURN(std::string cert, readFile(options_.cert_file));
  PW_ASSIGN_OR_RETURN(std::string key, readFile(options_.key_file));
  grpc::SslCredentialsOptions tls{
      .pem_root_certs = ca, .pem_private_key = key, .pem_cert_chain = cert};
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(tls);
  // options_.channels per controller: channel c * channels + i goes to controllers[c].
  for (int n = 0; n < options_.channels * static_cast<int>(options_.controllers.size()); ++n) {
    const std::string& target = options_.controllers[size_t(n / options_.channels)];
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride(options_.server_name);
    // A private subchannel pool and a distinct argument: each channel its own TCP connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("postwarden.fleetsim.channel", n);
    // The channel's own reconnection stays short, so the agents' backoff is what is measured:
    // a real agent opens a fresh channel per attempt, while a shared channel still in its
    // reconnect backoff fails new streams at once. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC
    // uses it as the connect timeout, and a TLS handshake on a busy controller can take longer than
    // a short one.)
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    channels_.push_back(grpc::CreateCustomChannel(target, credentials, args));
    stubs_.push_back(v1::AgentService::NewStub(channels_.back()));
  }
  for (int i = 0; i < options_.agents; ++i) {
    auto agent = std::make_unique<Agent>();
    agent->index = i;
    long number = options_.id_offset + i;
    agent->id = "sim-" + std::to_string(number);
    agent->site = "sim" + std::to_string(number % 10);
    // The agent's `controllers:` list, rotated so the fleet starts spread over the replicas.
    std::vector<std::string> list;
    for (size_t c = 0; c < options_.controllers.size(); ++c) {
      list.push_back(options_.controllers[(size_t(i) + c) % options_.controllers.size()]);
    }
    agent->pacer.emplace(list.size(), options_.backoff_base, options_.backoff_cap, rng()());
    agent->rotation.emplace(std::move(list));
    agents_.push_back(std::move(agent));
  }
  return OkStatus();
}

size_t Simulator::controllerOf(const Agent& agent) const {
  return controller_index_.at(agent.rotation->current());
}

v1::AgentService::Stub& Simulator::stubFor(const Agent& agent) {
  const size_t channels = static_cast<size_t>(options_.channels);
  return *stubs_[controllerOf(agent) * channels + size_t(agent.index) % channels];
}

void Simulator::schedule(Clock::time_point at, int agent, uint64_t generation, EventKind kind) {
  bool earliest;
  {
    std::lock_guard lock(timer_mu_);
    earliest = events_.empty() || at < events_.top().at;
    events_.push({at, agent, generation, kind});
  }
  if (earliest) timer_cv_.notify_one();
}

void Simulator::timerLoop() {
  std::vector<Event> due;
  std::unique_lock lock(timer_mu_);
  while (!timer_stop_) {
    if (events_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    Clock::time_point now = Clock::now();
    if (events_.top().at > now) {
      timer_cv_.wait_until(lock, events_.top().at);
      continue;
    }
    while (!events_.empty() && events_.top().at <= now && due.size() < 4096) {
      due.push_back(events_.top());
      events_.pop();
    }
    lock.unlock();
    for (const Event& event : due) fire(event);
    due.clear();
    lock.lock();
  }
}

void Simulator::fire(const Event& event) {
  Agent& agent = *agents_[event.agent];
  switch (event.kind) {
    case EventKind::kConnect:
      connect(agent);
      return;
    case EventKind::kHeartbeat:
      // Keep the agent's phase: the next one is due one interval after this one was.
      if (sendHeartbeat(agent, event.generation) && !stopping_)
        schedule(event.at + options_.heartbeat, event.agent, event.generation,
                 EventKind::kHeartbeat);
      return;
    case EventKind::kDrift:
      if (sendDrift(agent, event.generation) && !stopping_)
        schedule(Clock::now() + nextDriftDelay(), event.agent, event.generation, EventKind::kDrift);
      return;
    case EventKind::kJobDone:
      finishJob(agent, event.generation);
      return;
    case EventKind::kSoakReport:
      sendSoakReport(agent, event.generation);
      return;
  }
}

void Simulator::connect(Agent& agent) {
  AgentStream* stream;
  {
    std::lock_guard lock(agent.mu);
    if (agent.stream != nullptr || stopping_) return;
    stream = new AgentStream(*this, agent, ++agent.generation);
    agent.stream = stream;
    agent.attached = false;
    agent.connect_started = Clock::now();
    agent.accepted_at.reset();
    live_streams_.fetch_add(1);
    stream->prepareLocked();
  }
  connect_attempts_.fetch_add(1);
  {
    std::lock_guard lock(stats_mu_);
    if (episode_started_) {
      episode_attempt_s_.push_back(millisBetween(*episode_started_, Clock::now()) / 1000.0);
    }
  }
  stream->start();
}

bool Simulator::sendHeartbeat(Agent& agent, uint64_t generation) {
  std::lock_guard lock(agent.mu);
  if (agent.generation != generation || !agent.attached || agent.stream == nullptr) return false;
  v1::AgentMessage message;
  *message.mutable_heartbeat()->mutable_sent_at() = toTimestamp(std::chrono::system_clock::now());
  return agent.stream->enqueueLocked(std::move(message));
}

bool Simulator::sendDrift(Agent& agent, uint64_t generation) {
  std::lock_guard lock(agent.mu);
  if (agent.generation != generation || !agent.attached || agent.stream == nullptr) return false;
  const google::protobuf::Timestamp now = toTimestamp(std::chrono::system_clock::now());
  v1::AgentMessage message;
  message.set_seq(++agent.next_seq);
  message.set_seq_epoch(seq_base_);
  v1::DriftEvent* drift = message.mutable_drift();
  drift->set_baseline_name("fleetsim");
  drift->set_baseline_digest("000000000000");
  drift->set_source(v1::DRIFT_SOURCE_CONFIG);
  v1::ParameterState* p = drift->add_parameters();
  p->set_file("main.cf");
  p->set_parameter("smtpd_tls_security_level");
  p->set_expected("may");
  p->set_actual("none");
  *drift->mutable_changed_at() = now;
  *drift->mutable_detected_at() = now;
  agent.pending.push_back({message.seq(), Clock::now(), false, message});
  reports_sent_.fetch_add(1);
  return agent.stream->enqueueLocked(std::move(message));
}

std::chrono::milliseconds Simulator::nextDriftDelay() {
  double mean = static_cast<double>(options_.drift_every.count());
  double delay = std::exponential_distribution<double>(1.0 / mean)(rng());
  return std::chrono::milliseconds(static_cast<int64_t>(delay) + 1);
}

v1::StateReport Simulator::stateReportLocked(const Agent& agent) const {
  v1::StateReport report;
  report.set_baseline_name(agent.baseline_name);
  report.set_baseline_digest(agent.baseline_version);
  report.set_mode(v1::BASELINE_MODE_ENFORCE);
  report.set_compliance(v1::COMPLIANCE_COMPLIANT);
  *report.mutable_observed_at() = toTimestamp(std::chrono::system_clock::now());
  return report;
}

void Simulator::sendDurableLocked(Agent& agent, v1::StateReport report, int job_record,
                                  bool baseline) {
  v1::AgentMessage message;
  message.set_seq(++agent.next_seq);
  message.set_seq_epoch(seq_base_);
  *message.mutable_state() = std::move(report);
  agent.pending.push_back({message.seq(), Clock::now(), false, message, job_record, baseline});
  reports_sent_.fetch_add(1);
  if (agent.attached && agent.stream != nullptr) agent.stream->enqueueLocked(std::move(message));
}

// As the agent daemon: an assignment without a job is adopted at once (enforce); a job's change
// takes the simulated apply time; the same job id again is answered with its result.
void Simulator::onAssignment(Agent& agent, const v1::Assignment& assignment) {
  Clock::time_point now = Clock::now();
  std::lock_guard lock(agent.mu);
  if (!assignment.has_job()) {
    if (assignment.baseline_digest() == agent.baseline_version) return;
    agent.baseline_name = assignment.baseline_name();
    agent.baseline_version = assignment.baseline_digest();
    v1::StateReport report = stateReportLocked(agent);
    report.set_outcome(v1::OUTCOME_REPAIRED);
    sendDurableLocked(agent, std::move(report), -1, true);
    return;
  }
  const v1::RolloutJob& job = assignment.job();
  if (job.job_id() == agent.job_id) {
    if (agent.job_result) {
      v1::StateReport again = *agent.job_result;
      *again.mutable_observed_at() = toTimestamp(std::chrono::system_clock::now());
      sendDurableLocked(agent, std::move(again), -1, false);
    }
    return;
  }
  agent.job_id = job.job_id();
  agent.job_assignment = assignment;
  agent.job_result.reset();
  const uint64_t serial = ++agent.job_serial;
  {
    std::lock_guard jobs_lock(jobs_mu_);
    JobRecord record{
        .agent = agent.index, .job_id = job.job_id(), .rollback = job.rollback(), .received = now};
    if (!job.rollback()) {
      record.failed =
          change_jobs_++ >= options_.job_failure_skip && uniform(0, 1) < options_.job_failure_rate;
    }
    agent.job_record = static_cast<int>(jobs_.size());
    jobs_.push_back(std::move(record));
  }
  const double apply_ms = static_cast<double>(options_.job_apply.count()) * uniform(0.5, 1.5);
  schedule(now + std::chrono::microseconds(static_cast<int64_t>(apply_ms * 1000)), agent.index,
           serial, EventKind::kJobDone);
}

void Simulator::finishJob(Agent& agent, uint64_t serial) {
  Clock::time_point now = Clock::now();
  std::lock_guard lock(agent.mu);
  if (serial != agent.job_serial || agent.job_record < 0) return;
  bool failed;
  {
    std::lock_guard jobs_lock(jobs_mu_);
    JobRecord& record = jobs_[static_cast<size_t>(agent.job_record)];
    failed = record.failed;
    record.result_sent = now;
  }
  const v1::Assignment& a = agent.job_assignment;
  if (!failed) {
    agent.baseline_name = a.baseline_name();
    agent.baseline_version = a.baseline_digest();
  }
  v1::StateReport report = stateReportLocked(agent);
  report.set_job_id(agent.job_id);
  report.set_outcome(failed ? v1::OUTCOME_ROLLED_BACK : v1::OUTCOME_REPAIRED);
  if (failed) report.set_detail("fleetsim: injected failure, the change was rolled back");
  agent.job_result = report;
  sendDurableLocked(agent, std::move(report), agent.job_record, false);
  const auto soak = std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(a.job().soak()));
  if (failed || a.job().rollback() || soak.count() <= 0) return;
  agent.soak_end = now + soak;
  schedule(std::min(now + options_.check_interval, agent.soak_end), agent.index, serial,
           EventKind::kSoakReport);
}

// While a job soaks: health figures every check interval and once more when the soak ends.
void Simulator::sendSoakReport(Agent& agent, uint64_t serial) {
  Clock::time_point now = Clock::now();
  std::lock_guard lock(agent.mu);
  if (serial != agent.job_serial) return;
  v1::StateReport report = stateReportLocked(agent);
  report.set_job_id(agent.job_id);
  v1::HealthFigures* health = report.mutable_health();
  health->set_log_readable(true);
  sendDurableLocked(agent, std::move(report), -1, false);
  if (now >= agent.soak_end || stopping_) return;
  schedule(std::min(now + options_.check_interval, agent.soak_end), agent.index, serial,
           EventKind::kSoakReport);
}

bool Simulator::allConnected() {
  std::lock_guard lock(stats_mu_);
  return all_connected_at_.has_value();
}

int Simulator::agentsAckedOn(const std::string& version) {
  int count = 0;
  for (auto& agent : agents_) {
    std::lock_guard lock(agent->mu);
    if (agent->acked_version == version) ++count;
  }
  return count;
}

std::vector<JobRecord> Simulator::jobRecords() {
  std::lock_guard lock(jobs_mu_);
  return jobs_;
}

void Simulator::onAccepted(Agent& agent, uint64_t generation) {
  Clock::time_point now = Clock::now();
  std::lock_guard lock(agent.mu);
  if (agent.generation == generation && !agent.accepted_at) agent.accepted_at = now;
}

void Simulator::onAck(Agent& agent, uint64_t generation, uint64_t acked_seq) {
  Clock::time_point now = Clock::now();
  bool attached_now = false;
  bool first_ever = false;
  double connect_ms = 0;
  Clock::time_point started;
  size_t controller = 0;
  std::vector<std::pair<Clock::time_point, double>> latencies;
  uint64_t acked = 0;
  {
    std::lock_guard lock(agent.mu);
    if (agent.generation != generation || agent.stream == nullptr) return;
    while (!agent.pending.empty() && agent.pending.front().seq <= acked_seq) {
      const PendingReport& report = agent.pending.front();
      if (!report.redelivered) latencies.emplace_back(report.sent, millisBetween(report.sent, now));
      if (report.baseline) agent.acked_version = report.message.state().baseline_digest();
      if (report.job_record >= 0) {
        std::lock_guard jobs_lock(jobs_mu_);
        JobRecord& job = jobs_[static_cast<size_t>(report.job_record)];
        if (!job.result_acked) job.result_acked = now;
      }
      agent.pending.pop_front();
      ++acked;
    }
    if (!agent.attached) {  // the hello's ack: what the controller already has
      attached_now = true;
      agent.attached = true;
      agent.legacy_failures = 0;
      first_ever = !agent.ever_attached;
      agent.ever_attached = true;
      connect_ms = millisBetween(agent.connect_started, now);
      // The controller's initial metadata (sent on admission; with the ack by controllers
      // before admission control) marks when it let the stream in.
      started = agent.accepted_at.value_or(now);
      controller = controllerOf(agent);
      for (PendingReport& report : agent.pending) {  // as a real agent's outbox would
        report.redelivered = true;
        report.sent = now;
        agent.stream->enqueueLocked(report.message);
        reports_redelivered_.fetch_add(1);
      }
    }
  }
  reports_acked_.fetch_add(acked);
  {
    std::lock_guard lock(stats_mu_);
    durable_ms_.insert(durable_ms_.end(), latencies.begin(), latencies.end());
    if (first_ever) connect_ms_.push_back(connect_ms);
    if (attached_now) connectedChanged(+1, controller, now, started);
  }
  if (attached_now && !stopping_) {
    auto heartbeat_in =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::milli>(
            uniform(0, static_cast<double>(options_.heartbeat.count()))));
    schedule(now + heartbeat_in, agent.index, generation, EventKind::kHeartbeat);
    if (options_.drift_every.count() > 0) {
      schedule(now + nextDriftDelay(), agent.index, generation, EventKind::kDrift);
    }
  }
}

void Simulator::onStreamDone(Agent& agent, AgentStream* stream, const grpc::Status& status,
                             std::optional<std::chrono::milliseconds> retry_after) {
  Clock::time_point now = Clock::now();
  bool current = false;
  bool was_attached = false;
  size_t controller = 0;
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard lock(agent.mu);
    if (agent.stream == stream) {
      current = true;
      agent.stream = nullptr;
      was_attached = agent.attached;
      agent.attached = false;
      controller = controllerOf(agent);
      // As ControllerLink::run: the next replica unless shed with a retry hint (a store-down
      // hint comes UNAVAILABLE and moves on), and the pacer's wait.
      const bool unavailable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
      agent.rotation->ended(retry_after.has_value() && !unavailable);
      if (options_.legacy_backoff) {
        // Before the hint: uniform(0, min(cap, base * 2^n)), n counting failures since the ack.
        double ceiling = static_cast<double>(options_.backoff_base.count()) *
                         std::pow(2.0, std::min(agent.legacy_failures++, 30));
        ceiling = std::min(ceiling, static_cast<double>(options_.backoff_cap.count()));
        delay = std::chrono::milliseconds(static_cast<int64_t>(uniform(0, ceiling)));
      } else {
        delay = agent.pacer
                    ->afterSession({.lived = now - agent.connect_started > kLivedSession,
                                    .unavailable = unavailable,
                                    .retry_after = retry_after})
                    .delay;
      }
    }
  }
  if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) refused_.fetch_add(1);
  if (!stopping_) {
    std::lock_guard lock(stats_mu_);
    if (episode_started_ && status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      episode_shed_s_.push_back(millisBetween(*episode_started_, now) / 1000.0);
    }
    std::string code = codeName(status.error_code());
    ++errors_[code];
    std::map<std::string, uint64_t>& messages = error_text_[code];
    auto it = messages.find(status.error_message());
    if (it != messages.end()) {
      ++it->second;
    } else if (messages.size() < 5) {
      messages.emplace(status.error_message(), 1);
    }
    if (was_attached) {
      ++streams_dropped_;
      connectedChanged(-1, controller, now);
    } else {
      ++connect_failures_;
    }
  }
  if (current && !stopping_) {
    schedule(now + delay, agent.index, 0, EventKind::kConnect);
  }
  live_streams_.fetch_sub(1);
}

void Simulator::connectedChanged(int delta, size_t controller, Clock::time_point now,
                                 Clock::time_point started) {
  if (delta < 0 && all_connected_at_ && !first_disconnect_) {
    // The steady hold ends here: what it measured is taken before this stream counts.
    first_disconnect_ = now;
    heartbeats_at_disconnect_ = heartbeats_sent_.load();
    reports_at_disconnect_ = reports_sent_.load();
    attached_at_disconnect_ = attached_per_controller_;
  }
  connected_ += delta;
  attached_per_controller_[controller] += delta;
  max_connected_ = std::max(max_connected_, connected_);
  if (delta < 0 && all_connected_at_) {
    if (!episode_started_) {
      episode_started_ = now;
      episode_disconnected_ = 0;
      episode_attempts_base_ = connect_attempts_.load();
      episode_refused_base_ = refused_.load();
      episode_back_s_.clear();
      episode_started_s_.clear();
      episode_attempt_s_.clear();
      episode_shed_s_.clear();
    }
    ++episode_disconnected_;
  }
  if (delta > 0 && episode_started_) {
    episode_back_s_.push_back(millisBetween(*episode_started_, now) / 1000.0);
    episode_started_s_.push_back(millisBetween(*episode_started_, started) / 1000.0);
  }
  if (delta > 0 && connected_ == options_.agents) {
    if (!all_connected_at_) all_connected_at_ = now;
    if (episode_started_) {
      episodes_.push_back(
          {.seconds = millisBetween(*episode_started_, now) / 1000.0,
           .disconnected = episode_disconnected_,
           .attempts = static_cast<int64_t>(connect_attempts_.load() - episode_attempts_base_),
           .refused = static_cast<int64_t>(refused_.load() - episode_refused_base_),
           .first_back_s = *std::min_element(episode_back_s_.begin(), episode_back_s_.end()),
           .rate_100ms = rateOf(episode_started_s_, 0.1),
           .rate_1s = rateOf(episode_started_s_, 1.0),
           .acked_100ms = rateOf(episode_back_s_, 0.1),
           .started_per_100ms = histogramOf(episode_started_s_, 0.1),
           .back_per_100ms = histogramOf(episode_back_s_, 0.1),
           .attempts_per_100ms = histogramOf(episode_attempt_s_, 0.1),
           .shed_per_100ms = histogramOf(episode_shed_s_, 0.1)});
      episode_started_.reset();
    }
  }
}

void Simulator::cancelAll() {
  for (auto& agent : agents_) {
    std::lock_guard lock(agent->mu);
    if (agent->stream != nullptr) agent->stream->cancel();
  }
}

Summary Simulator::run() {
  started_ = Clock::now();
  auto unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  // Seqs start above anything an earlier run of the same agent ids stored, and each run is its
  // own outbox epoch (the controller refuses a jump of more than 2^32 within one epoch).
  seq_base_ = static_cast<uint64_t>(unix_us);
  for (auto& agent : agents_) agent->next_seq = seq_base_;
  for (int i = 0; i < options_.agents; ++i) {
    auto offset = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(i / options_.ramp_per_second));
    schedule(started_ + offset, i, 0, EventKind::kConnect);
  }
  timer_ = std::thread([this] { timerLoop(); });
  std::thread driver;
  if (driver_ != nullptr) driver = std::thread([this] { driver_->run(*this); });

  Summary summary;
  summary.options = options_;
  std::optional<Clock::time_point> hold_start;
  uint64_t heartbeats_at_hold = 0;
  uint64_t reports_at_hold = 0;
  bool ready_written = false;
  auto next_sample = started_;
  auto next_progress = started_ + options_.progress;
  uint64_t last_heartbeats = 0;
  uint64_t last_reports = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    Clock::time_point now = Clock::now();
    int connected;
    size_t episodes;
    std::optional<Clock::time_point> all_at;
    {
      std::lock_guard lock(stats_mu_);
      connected = connected_;
      episodes = episodes_.size();
      all_at = all_connected_at_;
    }
    double elapsed = millisBetween(started_, now) / 1000.0;
    if (now >= next_sample) {
      summary.timeline.emplace_back(elapsed, connected);
      sampler_.sample(elapsed);
      next_sample += std::chrono::seconds(1);
    }
    // The hold starts --settle after all are connected (the ramp-up's backlog drained).
    if (!hold_start && ((all_at && now >= *all_at + options_.settle) ||
                        now >= started_ + options_.connect_timeout)) {
      hold_start = now;
      heartbeats_at_hold = heartbeats_sent_.load();
      reports_at_hold = reports_sent_.load();
      if (all_at) {
        std::cerr << "fleetsim: all " << options_.agents << " agents connected after "
                  << millisBetween(started_, *all_at) / 1000.0 << " s" << std::endl;
      } else {
        std::cerr << "fleetsim: only " << connected << " of " << options_.agents
                  << " agents connected after --connect-timeout; holding anyway" << std::endl;
      }
    }
    if (all_at && !ready_written && !options_.ready_file.empty()) {
      std::ofstream(options_.ready_file) << "ready\n";
      ready_written = true;
    }
    if (options_.progress.count() > 0 && now >= next_progress) {
      double window = options_.progress.count() / 1000.0;
      uint64_t heartbeats = heartbeats_sent_.load();
      uint64_t reports = reports_sent_.load();
      uint64_t errors = 0;
      {
        std::lock_guard lock(stats_mu_);
        for (const auto& [code, count] : errors_) errors += count;
      }
      std::cerr << "fleetsim: " << static_cast<int>(elapsed) << "s connected " << connected << "/"
                << options_.agents << ", heartbeats " << (heartbeats - last_heartbeats) / window
                << "/s, reports " << (reports - last_reports) / window << "/s (acked "
                << reports_acked_.load() << "/" << reports << "), attempts "
                << connect_attempts_.load() << ", stream errors " << errors << std::endl;
      last_heartbeats = heartbeats;
      last_reports = reports;
      next_progress += options_.progress;
    }
    if (options_.reconnects > 0 && episodes >= static_cast<size_t>(options_.reconnects)) break;
    if (driver_ != nullptr) {
      if (driver_->finished()) break;
    } else if (hold_start && now >= *hold_start + options_.duration) {
      break;
    }
    if (stop_requested_) {
      std::cerr << "fleetsim: stop requested" << std::endl;
      if (driver_ != nullptr) driver_->requestStop();
      break;
    }
  }
  if (driver.joinable()) driver.join();

  Clock::time_point end = Clock::now();
  sampler_.sample(millisBetween(started_, end) / 1000.0);
  // The hold ends at the first disconnect of the connected fleet, if there was one.
  Clock::time_point hold_end = end;
  uint64_t heartbeats_at_end = heartbeats_sent_.load();
  uint64_t reports_at_end = reports_sent_.load();
  {
    std::lock_guard lock(stats_mu_);
    summary.connected_per_controller = attached_per_controller_;
    if (first_disconnect_ && hold_start) {
      hold_end = std::max(*first_disconnect_, *hold_start);
      heartbeats_at_end = heartbeats_at_disconnect_;
      reports_at_end = reports_at_disconnect_;
      summary.connected_per_controller = attached_at_disconnect_;
    }
  }
  if (hold_start) {
    summary.hold_seconds = millisBetween(*hold_start, hold_end) / 1000.0;
    if (summary.hold_seconds > 0) {
      summary.heartbeats_per_second =
          (heartbeats_at_end - heartbeats_at_hold) / summary.hold_seconds;
      summary.reports_per_second = (reports_at_end - reports_at_hold) / summary.hold_seconds;
    }
    const double from_s = millisBetween(started_, *hold_start) / 1000.0;
    const double to_s = millisBetween(started_, hold_end) / 1000.0;
    summary.processes_hold = sampler_.figures(from_s, to_s);
    if (hold_end < end) {
      summary.processes_after = sampler_.figures(to_s, millisBetween(started_, end) / 1000.0);
    }
  }
  {
    std::lock_guard lock(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  timer_.join();
  {
    std::lock_guard lock(stats_mu_);
    summary.connected_at_end = connected_;
  }
  stopping_ = true;
  cancelAll();
  for (int i = 0; i < 200 && live_streams_.load() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (live_streams_.load() > 0) {
    std::cerr << "fleetsim: " << live_streams_.load() << " streams still open at exit" << std::endl;
  }

  std::lock_guard lock(stats_mu_);
  if (all_connected_at_) {
    summary.ramp_up_seconds = millisBetween(started_, *all_connected_at_) / 1000.0;
  }
  summary.connect_ms = distributionOf(connect_ms_);
  summary.max_connected = max_connected_;
  summary.heartbeats_sent = heartbeats_sent_.load();
  summary.reports_sent = reports_sent_.load();
  summary.reports_acked = reports_acked_.load();
  summary.reports_redelivered = reports_redelivered_.load();
  for (auto& agent : agents_) {
    std::lock_guard agent_lock(agent->mu);
    summary.reports_unacked += agent->pending.size();
  }
  std::vector<double> all_ms;
  std::vector<double> hold_ms;
  for (const auto& [sent, ms] : durable_ms_) {
    all_ms.push_back(ms);
    if (hold_start && sent >= *hold_start && sent < hold_end) hold_ms.push_back(ms);
  }
  summary.durable_ms = distributionOf(std::move(all_ms));
  summary.durable_hold_ms = distributionOf(std::move(hold_ms));
  summary.connect_attempts = connect_attempts_.load();
  summary.connect_failures = connect_failures_;
  summary.streams_dropped = streams_dropped_;
  summary.errors = errors_;
  summary.error_text = error_text_;
  summary.reconnects = episodes_;
  return summary;
}

}  // namespace postwarden::fleetsim
