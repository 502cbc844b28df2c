// fleetsim --rollout: drives one rollout across the simulated fleet through the operator API
// and measures it. Before the agents connect it pushes two versions of a small baseline and
// assigns the first to every agent; once every agent reports running it, it plans and creates
// a rollout to the second (waves, max_failures and soak from the options, `anytime: true`),
// follows the audit log's tail until the rollout completed, halted or rolled back, and then
// works out per wave: hosts, time from the first job received to the last result stored,
// and the controller's CPU and RSS meanwhile (sampled from /proc/PID every second); and for
// the error budget: how many failures the halt counted and how many hosts were dispatched
// after it (from the audit log).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/fleetsim/options.h"
#include "bench/fleetsim/simulator.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::fleetsim {

struct WaveFigures {
  std::string description;
  int hosts = 0;
  int jobs = 0;              // change jobs the wave's hosts received
  int failed = 0;            // injected failures among them
  int results = 0;           // results the controller acked
  double start_s = 0;        // first job received, seconds after the rollout was created
  double all_results_s = 0;  // first job received until the last result was acked
  double cpu_percent = -1;   // controller, over that span (% of one core); -1: not sampled
  double rss_max_mib = -1;
  // The wave's soak: from its last result to the next wave's first job (or the end), when
  // only health reports and heartbeats arrive.
  double soak_s = 0;
  double soak_cpu_percent = -1;
};

struct RolloutFigures {
  std::string error;  // set when the run could not be completed
  std::string id;
  int hosts = 0;
  double setup_s = 0;    // all agents connected until all report the first version
  double create_ms = 0;  // the CreateRollout call
  std::string end;       // the last rollout-level audit action: complete, halt, abort
  std::string end_detail;
  double end_s = 0;  // created until `end`
  std::vector<WaveFigures> waves;
  int change_jobs = 0, rollback_jobs = 0, injected_failures = 0;
  // Error budget (when halted): failures the halt counted, the budget, and the hosts
  // dispatched after the halt (audit) and change jobs received after it (agents).
  std::string halt_detail;
  int dispatched_after_halt = -1;
  int jobs_received_after_halt = -1;
  double rss_before_mib = -1, rss_max_mib = -1;
  double cpu_before_percent = -1;  // the 3 s before the rollout was created
  double cpu_whole_percent = -1;   // created until `end`
};

class RolloutDriver {
 public:
  explicit RolloutDriver(const Options& options) : options_(options) {}

  // Opens the operator channel, pushes the two baseline versions and assigns the first.
  Status setUp();
  // On a thread of its own, started by Simulator::run; finished() once it is done.
  void run(Simulator& simulator);
  bool finished() const { return finished_; }
  void requestStop() { stop_ = true; }
  const RolloutFigures& figures() const { return figures_; }

 private:
  struct Sample {
    Clock::time_point at;
    double cpu_s;
    double rss_mib;
  };
  Status drive(Simulator& simulator);
  Status waitForFirstVersion(Simulator& simulator);
  Result<std::map<std::string, int>> plan(const std::string& spec);
  Status follow(Simulator& simulator, Clock::time_point created);
  Result<v1::AuditResponse> auditTail();
  void sample();
  void figuresFromJobs(Simulator& simulator, const std::map<std::string, int>& wave_of,
                       Clock::time_point created, Clock::time_point end);
  void budgetFromAudit(Simulator& simulator, Clock::time_point created);
  std::string specText() const;
  // CPU % over [from, to] and the largest RSS in it, from the samples.
  std::pair<double, double> controllerDuring(Clock::time_point from, Clock::time_point to) const;
  grpc::ClientContext* context(grpc::ClientContext& ctx) const;

  const Options& options_;
  std::unique_ptr<v1::OperatorService::Stub> stub_;
  std::string v1_, v2_;
  std::vector<std::string> wave_names_;
  std::vector<Sample> samples_;
  std::optional<Clock::time_point> halt_at_;  // when the driver saw the halt in the audit log
  int64_t halt_audit_id_ = 0;
  int64_t halt_at_ms_ = 0;
  int64_t tail_since_ms_ = -1;  // the newest audit row seen (-1: none yet)
  RolloutFigures figures_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
};

std::string renderRolloutText(const RolloutFigures& figures);

}  // namespace postwarden::fleetsim
