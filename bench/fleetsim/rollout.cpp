// Over 400 lines: fleetsim's rollout driver and what it measures per wave; a benchmark
// tool.
#include "bench/fleetsim/rollout.h"

#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench/fleetsim/process_sampler.h"

namespace postwarden::fleetsim {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kBaselineName[] = "fleetsim";

std::string baselineText(const std::string& label, const std::string& helo) {
  return std::string("name: ") + kBaselineName + "\nversion: \"" + label +
         "\"\ndescription: fleetsim's rollout baseline\nmain.cf:\n  set:\n"
         "    smtpd_helo_required: \"" +
         helo + "\"\n";
}

Status statusOf(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return OkStatus();
  return Status(static_cast<StatusCode>(status.error_code()), what + ": " + status.error_message());
}

double secondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU time in seconds and VmRSS in MiB of `pid` (process_sampler.h); false when unreadable.
bool readProc(int pid, double& cpu_s, double& rss_mib) {
  ProcessReading reading = readProcesses({pid}, 0);
  if (!reading.alive) return false;
  cpu_s = static_cast<double>(reading.cpu_ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
  rss_mib = reading.rss_mib;
  return true;
}

}  // namespace

grpc::ClientContext* RolloutDriver::context(grpc::ClientContext& ctx) const {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  return &ctx;
}

Status RolloutDriver::setUp() {
  PW_ASSIGN_OR_RETURN(std::string ca, readFile(options_.ca_file));
  PW_ASSIGN_OR_RETURN(std::string cert, readFile(options_.operator_cert));
  PW_ASSIGN_OR_RETURN(std::string key, readFile(options_.operator_key));
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(options_.server_name);
  args.SetMaxReceiveMessageSize(256 << 20);
  stub_ = v1::OperatorService::NewStub(grpc::CreateCustomChannel(
      options_.controller,
      grpc::SslCredentials({.pem_root_certs = ca, .pem_private_key = key, .pem_cert_chain = cert}),
      args));
  for (auto [label, helo, out] : {std::tuple{"1", "no", &v1_}, {"2", "yes", &v2_}}) {
    v1::PushBaselineRequest request;
    request.set_content(baselineText(label, helo));
    request.set_file_name(std::string("fleetsim-") + label + ".yaml");
    v1::PushBaselineResponse response;
    grpc::ClientContext ctx;
    PW_RETURN_IF_ERROR(
        statusOf(stub_->PushBaseline(context(ctx), request, &response), "push baseline"));
    *out = response.baseline().digest();
  }
  v1::AssignBaselineRequest assign;
  assign.set_name(kBaselineName);
  assign.set_digest(v1_);
  assign.set_mode(v1::BASELINE_MODE_ENFORCE);
  assign.set_allow_no_match(true);
  v1::AssignBaselineResponse assigned;
  grpc::ClientContext ctx;
  return statusOf(stub_->AssignBaseline(context(ctx), assign, &assigned), "assign baseline");
}

std::string RolloutDriver::specText() const {
  return std::string("name: fleetsim\nbaseline: ") + kBaselineName + "@" + v2_ +
         "\nanytime: true\nsoak: " + std::to_string(options_.soak.count()) +
         "ms\nwaves: " + options_.rollout_waves + "\nmax_failures: \"" + options_.max_failures +
         "\"\n" +
         (options_.max_in_flight.empty() ? ""
                                         : "max_in_flight: \"" + options_.max_in_flight + "\"\n") +
         "health:\n  report_interval: " + std::to_string(options_.check_interval.count()) +
         "ms\n  missed_reports: 3\n";
}

void RolloutDriver::sample() {
  if (options_.controller_pid <= 0) return;
  Sample s{.at = Clock::now()};
  if (readProc(options_.controller_pid, s.cpu_s, s.rss_mib)) samples_.push_back(s);
}

std::pair<double, double> RolloutDriver::controllerDuring(Clock::time_point from,
                                                          Clock::time_point to) const {
  const Sample* first = nullptr;
  const Sample* last = nullptr;
  double rss = -1;
  for (const Sample& s : samples_) {
    if (s.at <= from) first = &s;  // the last sample at or before `from`
    if (s.at >= from && s.at <= to + std::chrono::seconds(1)) rss = std::max(rss, s.rss_mib);
    if (s.at >= to && last == nullptr) last = &s;  // the first at or after `to`
  }
  if (first == nullptr && !samples_.empty()) first = &samples_.front();
  if (last == nullptr && !samples_.empty()) last = &samples_.back();
  if (first == nullptr || last == nullptr || last->at <= first->at) return {-1, rss};
  return {100 * (last->cpu_s - first->cpu_s) / secondsBetween(first->at, last->at), rss};
}

void RolloutDriver::run(Simulator& simulator) {
  Status status = drive(simulator);
  if (!status.ok()) figures_.error = status.message();
  finished_ = true;
}

Status RolloutDriver::waitForFirstVersion(Simulator& simulator) {
  while (!simulator.allConnected()) {
    if (stop_) return AbortedError("stopped before all agents connected");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const Clock::time_point connected = Clock::now();
  std::cerr << "fleetsim: waiting for every agent to report " << kBaselineName << "@" << v1_
            << std::endl;
  while (simulator.agentsAckedOn(v1_) < simulator.agentCount()) {
    if (stop_) return AbortedError("stopped before every agent ran the first version");
    if (Clock::now() - connected > options_.connect_timeout) {
      return DeadlineExceededError(std::to_string(simulator.agentsAckedOn(v1_)) + " of " +
                                   std::to_string(simulator.agentCount()) +
                                   " agents reported the first version within --connect-timeout");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  figures_.setup_s = secondsBetween(connected, Clock::now());
  return OkStatus();
}

// The hosts of each wave, from PlanRollout (GetRollout's record of a large fleet is bigger
// than the controller's 4 MiB message limit).
Result<std::map<std::string, int>> RolloutDriver::plan(const std::string& spec) {
  v1::RolloutSpecRequest request;
  request.set_spec_yaml(spec);
  request.set_file_name("fleetsim-rollout.yaml");
  v1::RolloutPlan planned;
  grpc::ClientContext ctx;
  PW_RETURN_IF_ERROR(statusOf(stub_->PlanRollout(context(ctx), request, &planned), "plan"));
  std::map<std::string, int> wave_of;
  for (int w = 0; w < planned.waves_size(); ++w) {
    wave_names_.push_back(planned.waves(w).description());
    for (const std::string& host : planned.waves(w).hosts()) wave_of[host] = w;
  }
  return wave_of;
}

Status RolloutDriver::drive(Simulator& simulator) {
  PW_RETURN_IF_ERROR(waitForFirstVersion(simulator));
  const std::string spec = specText();
  PW_ASSIGN_OR_RETURN(auto wave_of, plan(spec));
  figures_.hosts = static_cast<int>(wave_of.size());
  for (int i = 0; i < 3; ++i) {  // the controller at rest before the rollout
    sample();
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!samples_.empty()) {
    figures_.rss_before_mib = samples_.back().rss_mib;
    const Sample& first = samples_.front();
    const Sample& last = samples_.back();
    if (last.at > first.at) {
      figures_.cpu_before_percent =
          100 * (last.cpu_s - first.cpu_s) / secondsBetween(first.at, last.at);
    }
  }
  v1::RolloutSpecRequest request;
  request.set_spec_yaml(spec);
  request.set_file_name("fleetsim-rollout.yaml");
  v1::RolloutRecord record;
  grpc::ClientContext ctx;
  const Clock::time_point created = Clock::now();
  PW_RETURN_IF_ERROR(statusOf(stub_->CreateRollout(context(ctx), request, &record), "create"));
  figures_.create_ms = secondsBetween(created, Clock::now()) * 1000;
  figures_.id = record.id();
  std::cerr << "fleetsim: rollout " << record.id() << " created: " << wave_of.size() << " hosts in "
            << wave_names_.size() << " waves" << std::endl;
  Status followed = follow(simulator, created);
  const Clock::time_point end =
      created + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(figures_.end_s > 0 ? figures_.end_s : 0));
  figuresFromJobs(simulator, wave_of, created, end);
  if (halt_at_) budgetFromAudit(simulator, created);
  return followed;
}

// The audit log's newest rows. A full page may have cut off older rows of the same steps (a
// halt is followed by its hosts' roll_back rows): then every row since the newest one seen
// before (the controller refuses a reply over 4 MiB, as for a 45,000-host dispatch step;
// a halt never shares a step with dispatches).
Result<v1::AuditResponse> RolloutDriver::auditTail() {
  constexpr int kPage = 2000;
  v1::AuditRequest request;
  request.set_rollout_id(figures_.id);
  request.set_limit(kPage);
  v1::AuditResponse tail;
  grpc::ClientContext ctx;
  PW_RETURN_IF_ERROR(statusOf(stub_->Audit(context(ctx), request, &tail), "audit"));
  if (tail.events_size() < kPage || tail_since_ms_ < 0) return tail;
  request.set_limit(1000000);
  *request.mutable_since() = TimeUtil::MillisecondsToTimestamp(tail_since_ms_);
  v1::AuditResponse all;
  grpc::ClientContext all_ctx;
  if (!stub_->Audit(context(all_ctx), request, &all).ok()) return tail;
  return all;
}

// Reads the audit log's newest rows every second until a rollout-level end appears, then
// waits for the results of the jobs still in flight.
Status RolloutDriver::follow(Simulator& simulator, Clock::time_point created) {
  int64_t last_id = 0;
  std::optional<Clock::time_point> ended;
  while (!stop_) {
    sample();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (Clock::now() - created > options_.rollout_timeout) {
      return DeadlineExceededError("the rollout did not end within --rollout-timeout");
    }
    if (ended) {
      bool in_flight = false;
      for (const JobRecord& job : simulator.jobRecords()) in_flight |= !job.result_acked;
      if (!in_flight || Clock::now() - *ended > std::chrono::seconds(60)) break;
      continue;
    }
    Result<v1::AuditResponse> tail = auditTail();
    if (!tail.ok()) {
      std::cerr << "fleetsim: " << tail.status().message() << std::endl;
      continue;
    }
    for (const v1::AuditEvent& event : tail->events()) {
      if (event.id() <= last_id) continue;
      last_id = event.id();
      tail_since_ms_ = TimeUtil::TimestampToMilliseconds(event.at());
      const std::string& a = event.action();
      if (a == "start_wave" || a == "halt" || a == "complete" || a == "abort" ||
          a == "start_rollback") {
        std::cerr << "fleetsim: " << secondsBetween(created, Clock::now()) << "s " << a << " "
                  << event.detail() << std::endl;
      }
      if (a == "halt" && !halt_at_) {
        halt_at_ = Clock::now();
        halt_audit_id_ = event.id();
        halt_at_ms_ = TimeUtil::TimestampToMilliseconds(event.at());
        figures_.halt_detail = event.detail();
      }
      if (a == "halt" || a == "complete" || a == "abort") {
        figures_.end = a;
        figures_.end_detail = event.detail();
        figures_.end_s = secondsBetween(created, Clock::now());
        ended = Clock::now();
      }
    }
  }
  auto [cpu, rss] = controllerDuring(created, Clock::now());
  figures_.cpu_whole_percent = cpu;
  figures_.rss_max_mib = rss;
  return OkStatus();
}

void RolloutDriver::figuresFromJobs(Simulator& simulator, const std::map<std::string, int>& wave_of,
                                    Clock::time_point created, Clock::time_point end) {
  struct Span {
    std::optional<Clock::time_point> first, last;
  };
  figures_.waves.assign(wave_names_.size(), WaveFigures{});
  std::vector<Span> spans(wave_names_.size());
  for (size_t w = 0; w < wave_names_.size(); ++w) figures_.waves[w].description = wave_names_[w];
  for (const auto& [host, w] : wave_of) ++figures_.waves[size_t(w)].hosts;
  for (const JobRecord& job : simulator.jobRecords()) {
    if (job.rollback) {
      ++figures_.rollback_jobs;
      continue;
    }
    ++figures_.change_jobs;
    figures_.injected_failures += job.failed ? 1 : 0;
    auto it = wave_of.find(simulator.agentId(job.agent));
    if (it == wave_of.end()) continue;
    WaveFigures& wave = figures_.waves[size_t(it->second)];
    Span& span = spans[size_t(it->second)];
    ++wave.jobs;
    wave.failed += job.failed ? 1 : 0;
    if (!span.first || job.received < *span.first) span.first = job.received;
    if (job.result_acked) {
      ++wave.results;
      if (!span.last || *job.result_acked > *span.last) span.last = *job.result_acked;
    }
  }
  for (size_t w = 0; w < spans.size(); ++w) {
    if (!spans[w].first || !spans[w].last) continue;
    WaveFigures& wave = figures_.waves[w];
    wave.start_s = secondsBetween(created, *spans[w].first);
    wave.all_results_s = secondsBetween(*spans[w].first, *spans[w].last);
    std::tie(wave.cpu_percent, wave.rss_max_mib) =
        controllerDuring(*spans[w].first, *spans[w].last);
    Clock::time_point soak_end = end;
    if (w + 1 < spans.size() && spans[w + 1].first) soak_end = *spans[w + 1].first;
    if (soak_end > *spans[w].last) {
      wave.soak_s = secondsBetween(*spans[w].last, soak_end);
      wave.soak_cpu_percent = controllerDuring(*spans[w].last, soak_end).first;
    }
  }
}

// Hosts dispatched after the halt, by the audit log (rows at or after the halt's millisecond,
// with a higher id), and change jobs the agents received after it (by the wall clock).
void RolloutDriver::budgetFromAudit(Simulator& simulator, Clock::time_point created) {
  v1::AuditRequest request;
  request.set_rollout_id(figures_.id);
  *request.mutable_since() = TimeUtil::MillisecondsToTimestamp(halt_at_ms_);
  request.set_limit(1000000);
  v1::AuditResponse rows;
  grpc::ClientContext ctx;
  grpc::Status status = stub_->Audit(context(ctx), request, &rows);
  if (status.ok()) {
    figures_.dispatched_after_halt = 0;
    for (const v1::AuditEvent& event : rows.events()) {
      if (event.id() > halt_audit_id_ && event.action() == "dispatch") {
        ++figures_.dispatched_after_halt;
      }
    }
  } else {
    std::cerr << "fleetsim: audit after the halt: " << status.error_message() << std::endl;
  }
  // The steady clock of the halt's wall-clock millisecond.
  const auto wall_now = std::chrono::system_clock::now();
  const Clock::time_point steady_now = Clock::now();
  const auto halt_wall =
      std::chrono::system_clock::time_point(std::chrono::milliseconds(halt_at_ms_));
  const Clock::time_point halt_steady =
      steady_now - std::chrono::duration_cast<Clock::duration>(wall_now - halt_wall);
  figures_.jobs_received_after_halt = 0;
  for (const JobRecord& job : simulator.jobRecords()) {
    if (!job.rollback && job.received > halt_steady + std::chrono::milliseconds(1)) {
      ++figures_.jobs_received_after_halt;
    }
  }
  (void)created;
}

std::string renderRolloutText(const RolloutFigures& f) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "rollout " << f.id << ": " << f.hosts << " hosts\n";
  if (!f.error.empty()) out << "  error: " << f.error << "\n";
  out << "  setup: every agent on the first version " << f.setup_s << " s after all connected\n";
  out << "  create: " << f.create_ms << " ms\n";
  out << "  ended: " << (f.end.empty() ? "(not seen)" : f.end) << " after " << f.end_s << " s"
      << (f.end_detail.empty() ? "" : ": " + f.end_detail) << "\n";
  out << "  jobs: " << f.change_jobs << " changes (" << f.injected_failures
      << " injected failures), " << f.rollback_jobs << " rollbacks\n";
  out << "  controller: RSS before " << f.rss_before_mib << " MiB, max " << f.rss_max_mib
      << " MiB; CPU " << f.cpu_before_percent << " % of one core in the 3 s before, "
      << f.cpu_whole_percent << " % from create to end\n";
  for (size_t w = 0; w < f.waves.size(); ++w) {
    const WaveFigures& wave = f.waves[w];
    out << "  wave " << w + 1 << " (" << wave.description << "): " << wave.hosts << " hosts, "
        << wave.jobs << " jobs, " << wave.failed << " failed, " << wave.results
        << " results stored";
    if (wave.jobs == 0) {
      out << "\n";
      continue;
    }
    out << "; first job at +" << wave.start_s << " s, all results in " << wave.all_results_s
        << " s later; controller CPU " << wave.cpu_percent << " %, RSS max " << wave.rss_max_mib
        << " MiB; then soaking " << wave.soak_s << " s at controller CPU " << wave.soak_cpu_percent
        << " %\n";
  }
  if (!f.halt_detail.empty()) {
    out << "  halt: " << f.halt_detail
        << "\n  dispatched after the halt (audit): " << f.dispatched_after_halt
        << "; change jobs received after it (agents): " << f.jobs_received_after_halt << "\n";
  }
  return out.str();
}

}  // namespace postwarden::fleetsim
