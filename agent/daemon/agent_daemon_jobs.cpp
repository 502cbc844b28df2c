// AgentDaemon's rollout jobs (agent_daemon.h; the rules are jobs.h's): taking a job (its
// window by the agent's own clock, the same job id once), what a change job records for a later
// rollback, the soak's health figures and reports, and the job record in the state directory.
#include <absl/time/clock.h>
#include <absl/time/time.h>

#include <algorithm>
#include <set>

#include "agent/daemon/agent_daemon.h"  // the class whose members these are
#include "agent/health/before_period.h"
#include "agent/health/postqueue.h"
#include "agent/link/controller_link.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline_loader.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"
#include "common/logging.h"
#include "common/proto_time.h"

namespace postwarden::agent::daemon {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("agent.daemon"); }

constexpr char kJobFile[] = "/job.state";

}  // namespace
namespace {

bool validJobId(const std::string& id) {
  return id.size() <= 256 && std::all_of(id.begin(), id.end(), [](char c) {
           return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
         });
}

// The traffic of a period as long as the soak just before `since` (the change), for the
// soak's comparisons; unknown (nothing compared) when the log does not reach back that far.
health::BeforePeriod beforeTheChange(health::LogFiles& files, const std::string& path,
                                     const health::LogMark& mark,
                                     std::chrono::system_clock::time_point since,
                                     const v1::RolloutJob& job) {
  const absl::Duration soak =
      absl::Seconds(job.soak().seconds()) + absl::Nanoseconds(job.soak().nanos());
  if (soak <= absl::ZeroDuration()) return {};
  // Traditional syslog lines carry the local wall clock: read in this host's zone.
  Result<health::BeforePeriod> before = health::readBeforePeriod(
      files, path, mark, absl::FromChrono(since), soak, absl::LocalTimeZone());
  if (!before.ok()) {
    log()->warn("mail log {} before the change unreadable: {}", path, before.status().message());
    return {};
  }
  if (!before->known) {
    log()->info("mail log {} does not reach back {} before the change: traffic not compared", path,
                absl::FormatDuration(soak));
  }
  return std::move(before).value();
}

}  // namespace

bool AgentDaemon::soaking() const { return job_ && job_->soak_end_ms != 0 && !job_->soak_done; }

void AgentDaemon::loadJobRecord() {
  Result<std::string> bytes = env_.os.fs.readFile(config_.state_dir + kJobFile);
  if (!bytes.ok()) {
    if (bytes.status().code() != StatusCode::kNotFound) {
      log()->warn("last rollout job unreadable: {}", bytes.status().message());
    }
    return;
  }
  Result<JobRecord> record = decodeJobRecord(*bytes);
  if (!record.ok()) {
    log()->warn("last rollout job ignored: {}", record.status().message());
    return;
  }
  job_ = std::move(record).value();
  if (soaking()) log()->info("rollout job '{}' still soaking", job_->job_id);
}

void AgentDaemon::saveJobRecord() {
  Status saved =
      env_.os.fs.writeAtomic(config_.state_dir + kJobFile, encodeJobRecord(*job_), {.mode = 0600});
  if (!saved.ok()) log()->error("rollout job not saved: {}", saved.message());
}

bool AgentDaemon::needsRestart(const v1::Assignment& assignment) {
  Result<policy::Baseline> baseline = policy::loadBaseline(
      assignment.content(), assignment.baseline_name() + "@" + assignment.baseline_digest());
  if (!baseline.ok()) return false;  // refused on adoption: nothing is written
  Result<planner::PostfixConfig> config = run_.readConfig();
  if (!config.ok()) return true;
  Result<run::Planned> planned = run_.plan(*baseline, *config);
  if (!planned.ok()) return true;
  return planned->plan.applyMode() == params::ApplyMode::kRestart;
}

// The state as last reported (what the agent runs now), for a report about a job that did not
// change it.
v1::StateReport AgentDaemon::currentState() {
  v1::StateReport state;
  if (last_state_) {
    state = *last_state_;
  } else if (assignment_) {
    state.set_baseline_name(assignment_->baseline_name());
    state.set_baseline_digest(assignment_->baseline_digest());
    state.set_compliance(static_cast<v1::Compliance>(compliance_.load()));
  }
  if (assignment_) {
    state.set_mode(assignment_->mode() == v1::BASELINE_MODE_DETECT ? v1::BASELINE_MODE_DETECT
                                                                   : v1::BASELINE_MODE_ENFORCE);
  } else {
    state.set_mode(v1::BASELINE_MODE_ENFORCE);  // a report must name a mode; nothing assigned
  }
  state.clear_outcome();
  state.clear_detail();
  state.clear_job_id();
  state.clear_health();
  return state;
}

void AgentDaemon::takeJob(const v1::Assignment& assignment) {
  const v1::RolloutJob& job = assignment.job();
  const std::string target = assignment.baseline_name() + "@" + assignment.baseline_digest();
  auto send = [this](v1::StateReport state) {
    *state.mutable_observed_at() = toTimestamp(env_.os.clock.now());
    v1::AgentMessage message;
    *message.mutable_state() = std::move(state);
    Result<uint64_t> seq = link_->enqueue(std::move(message));
    if (!seq.ok()) log()->error("job report not stored: {}", seq.status().message());
  };
  if (!validJobId(job.job_id())) {
    v1::StateReport state = currentState();
    state.set_outcome(v1::OUTCOME_REFUSED);
    state.set_detail("rollout job id refused: at most 256 printable characters without spaces");
    log()->warn("rollout job for {} refused: bad job id", target);
    send(std::move(state));
    return;
  }
  if (job_ && job_->job_id == job.job_id()) {
    // One job, however often it is sent (a controller restart, a replay): its report again.
    v1::StateReport state;
    if (!state.ParseFromString(job_->report)) state = currentState();
    state.set_job_id(job.job_id());
    log()->info("rollout job '{}' seen before: its report sent again", job.job_id());
    send(std::move(state));
    return;
  }
  JobTerms terms{.rollback = job.rollback(), .anytime = job.anytime()};
  terms.windows.assign(job.windows().begin(), job.windows().end());
  const bool restart =
      terms.windows.empty() && terms.anytime && !terms.rollback && needsRestart(assignment);
  const auto now = env_.os.clock.now();
  JobVerdict verdict = mayStartJob(terms, restart, now);
  if (!verdict.start) {
    // Nothing adopted: the cached assignment and what the agent enforces stay as they were.
    log()->warn("rollout job '{}' ({}) not started: {}", job.job_id(), target, verdict.why);
    v1::StateReport state = currentState();
    state.set_outcome(v1::OUTCOME_OUTSIDE_WINDOW);
    state.set_job_id(job.job_id());
    state.set_detail(verdict.why);
    send(std::move(state));
    return;
  }
  log()->info("rollout job '{}' starts: {}", job.job_id(), target);
  // What the soak's figures count from, read before the change.
  JobRecord record{.job_id = job.job_id()};
  Result<health::QueueCounts> queues =
      health::readQueues(env_.os.commands, config_.postfix_dir, config_.command_timeout);
  if (queues.ok()) {
    record.deferred_known = true;
    record.deferred_at_change = queues->deferred;
  } else {
    log()->warn("queues at the change unknown: {}", queues.status().message());
  }
  record.log_path = health::mailLogPath(env_.os.commands, config_.postfix_dir, config_.mail_log,
                                        config_.command_timeout);
  Result<health::LogMark> mark = log_files_.end(record.log_path);
  if (mark.ok()) {
    record.log_known = true;
    record.log_offset = mark->offset;
    record.log_inode = mark->inode;
    record.before = beforeTheChange(log_files_, record.log_path, *mark, now, job);
  }  // else: counted from the start of the file that appears (or log_readable = false)
  record.rollout_id = job.rollout_id();
  if (!job.rollback()) {
    record.prior = priorValues(assignment);
  } else if (job_ && job_->rollout_id == job.rollout_id()) {
    record.prior = job_->prior;  // what the change found, for restorePriorValues()
  }
  running_job_ = std::move(record);
  adopt(assignment);  // the check reports the job's result through report()
  JobRecord done = std::move(*running_job_);
  running_job_.reset();
  if (done.report.empty()) {
    v1::StateReport state = currentState();
    state.set_job_id(done.job_id);
    done.report = state.SerializeAsString();
    send(std::move(state));
  }
  v1::StateReport result;
  result.ParseFromString(done.report);
  const bool changed_or_kept =
      result.outcome() == v1::OUTCOME_REPAIRED || result.outcome() == v1::OUTCOME_KEPT;
  const int64_t soak_ms = job.soak().seconds() * 1000 + job.soak().nanos() / 1000000;
  if (changed_or_kept && soak_ms > 0) {
    done.soak_start_ms = toUnixMs(now);
    done.soak_end_ms = done.soak_start_ms + soak_ms;
  }
  job_ = std::move(done);
  saveJobRecord();
}

std::vector<PriorValue> AgentDaemon::priorValues(const v1::Assignment& assignment) {
  Result<policy::Baseline> baseline = policy::loadBaseline(assignment.content(), "job baseline");
  Result<planner::PostfixConfig> live = run_.readConfig();
  if (!baseline.ok() || !live.ok()) return {};  // the change itself reports the problem
  const postfix::MainCfDocument main_cf = postfix::MainCfDocument::parse(live->main_cf);
  const postfix::MasterCfDocument master_cf = postfix::MasterCfDocument::parse(live->master_cf);
  std::vector<PriorValue> prior;
  auto remember = [&](const std::string& name, const std::optional<postfix::ServiceKey>& key) {
    const std::string service = key ? key->toString() : "";
    for (const PriorValue& p : prior) {
      if (p.name == name && p.service == service) return;  // alternatives name it again
    }
    prior.push_back({.name = name,
                     .value = key ? master_cf.option(*key, name) : main_cf.get(name),
                     .service = service});
  };
  for (const policy::Setting& s : baseline->main_cf_set) remember(s.name, std::nullopt);
  for (const policy::Removal& r : baseline->main_cf_remove) remember(r.name, std::nullopt);
  for (const policy::ServiceOverride& o : baseline->master_cf) {
    Result<std::vector<postfix::ServiceKey>> targets =
        planner::overrideTargets(main_cf, master_cf, o, planOptions());
    if (!targets.ok()) continue;
    for (const postfix::ServiceKey& key : *targets) {
      for (const policy::Setting& s : o.options) remember(s.name, key);
      for (const policy::Removal& r : o.remove_options) remember(r.name, key);
    }
  }
  return prior;
}

void AgentDaemon::restorePriorValues(const v1::RolloutJob& job, policy::Baseline& baseline) {
  const JobRecord* record = running_job_ ? &*running_job_ : job_ ? &*job_ : nullptr;
  if (record == nullptr || record->rollout_id != job.rollout_id()) return;
  // The "-o" overrides the version returned to governs, on the entries they reach now.
  std::set<std::pair<std::string, std::string>> governed_options;  // (service, name)
  if (Result<planner::PostfixConfig> live = run_.readConfig(); live.ok()) {
    const auto main_cf = postfix::MainCfDocument::parse(live->main_cf);
    const auto master_cf = postfix::MasterCfDocument::parse(live->master_cf);
    for (const policy::ServiceOverride& o : baseline.master_cf) {
      Result<std::vector<postfix::ServiceKey>> targets =
          planner::overrideTargets(main_cf, master_cf, o, planOptions());
      if (!targets.ok()) continue;
      for (const postfix::ServiceKey& key : *targets) {
        for (const policy::Setting& s : o.options)
          governed_options.insert({key.toString(), s.name});
        for (const policy::Removal& r : o.remove_options) {
          governed_options.insert({key.toString(), r.name});
        }
      }
    }
  }
  auto governed = [&](const PriorValue& p) {
    if (!p.service.empty()) return governed_options.contains({p.service, p.name});
    return std::any_of(baseline.main_cf_set.begin(), baseline.main_cf_set.end(),
                       [&](const policy::Setting& s) { return s.name == p.name; }) ||
           std::any_of(baseline.main_cf_remove.begin(), baseline.main_cf_remove.end(),
                       [&](const policy::Removal& r) { return r.name == p.name; });
  };
  const std::string restored = addPriorValues(record->prior, governed, baseline);
  if (!restored.empty()) {
    log()->info("rollback job '{}' also restores what the rolled-back version set: {}",
                job.job_id(), restored);
  }
}

v1::HealthFigures AgentDaemon::healthFigures(std::string& problem) {
  v1::HealthFigures figures;
  figures.mutable_since()->set_seconds(job_->soak_start_ms / 1000);
  figures.mutable_since()->set_nanos(static_cast<int32_t>(job_->soak_start_ms % 1000) * 1000000);
  Result<health::QueueCounts> queues =
      health::readQueues(env_.os.commands, config_.postfix_dir, config_.command_timeout);
  if (queues.ok()) {
    figures.set_deferred_queue(queues->deferred);
    figures.set_active_queue(queues->active);
    if (job_->deferred_known) {
      figures.set_deferred_growth(queues->deferred - job_->deferred_at_change);
    }
  } else {
    problem = "queues unreadable: " + queues.status().message();
  }
  Result<health::LogCounts> counts = health::countSince(
      log_files_, job_->log_path, {.inode = job_->log_inode, .offset = job_->log_offset});
  if (counts.ok()) {
    figures.set_log_readable(true);
    figures.set_fatal_lines(counts->fatal);
    figures.set_tls_failures(counts->tls);
    figures.set_sasl_failures(counts->sasl);
    figures.set_throttled(counts->throttled);
    figures.set_connections(counts->connections);
    figures.set_deliveries(counts->delivered);
    // The same length of time just before the change as the soak has run so far.
    const int64_t now_ms = std::min(toUnixMs(env_.os.clock.now()), job_->soak_end_ms);
    const health::TrafficCounts before = health::countWithin(
        job_->before, absl::Milliseconds(std::max<int64_t>(0, now_ms - job_->soak_start_ms)));
    figures.set_connections_before(before.connections);
    figures.set_deliveries_before(before.deliveries);
    figures.set_sasl_failures_before(before.sasl);
    // A log rotated during the soak (or read only in part) undercounts the soak: no comparison.
    figures.set_before_known(job_->before.known && counts->whole);
  } else {
    log()->warn("mail log {} unreadable: {}", job_->log_path, counts.status().message());
  }
  return figures;
}

void AgentDaemon::soakTick() {
  if (!job_) return;
  const auto now = env_.os.clock.now();
  const SoakStep step = soakStep(*job_, now, timing_.check_interval);
  if (step == SoakStep::kNothing) return;
  std::string problem;
  v1::StateReport state = currentState();
  state.set_job_id(job_->job_id);
  *state.mutable_health() = healthFigures(problem);
  if (!problem.empty()) state.set_detail("health: " + problem);
  job_->last_health_ms = toUnixMs(now);
  if (step == SoakStep::kFinal) {
    job_->soak_done = true;
    log()->info("rollout job '{}': soak over", job_->job_id);
  }
  saveJobRecord();
  report(std::move(state), /*force=*/true);
}

}  // namespace postwarden::agent::daemon
