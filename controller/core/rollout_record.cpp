#include "controller/core/rollout_record.h"

#include <google/protobuf/util/time_util.h>

#include <utility>

namespace postwarden::controller::core {
namespace {

using google::protobuf::util::TimeUtil;
using rollout::HostPhase;
using rollout::RolloutPhase;
using rollout::WaveStatus;

absl::Time timeOf(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}
google::protobuf::Duration duration(absl::Duration d) {
  return TimeUtil::NanosecondsToDuration(absl::ToInt64Nanoseconds(d));
}

// The enum value whose word is `text`; values are 0..`count`-1.
template <typename Enum>
Result<Enum> fromWord(const std::string& text, int count) {
  for (int i = 0; i < count; ++i) {
    if (rollout::toString(static_cast<Enum>(i)) == text) return static_cast<Enum>(i);
  }
  return DataLossError("unknown word '" + text + "' in a stored rollout");
}

// The host's `since` is InfinitePast until its first phase change: stored as unset.
void setSince(absl::Time since, v1::RolloutHost& out) {
  if (since != absl::InfinitePast()) *out.mutable_since() = toTimestamp(since);
}

}  // namespace

google::protobuf::Timestamp toTimestamp(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

bool isActive(RolloutPhase phase) {
  return phase != RolloutPhase::kCompleted && phase != RolloutPhase::kAborted;
}

v1::RolloutRecord newRolloutRecord(const rollout::RolloutState& state,
                                   const rollout::WavePlan& plan, const std::string& spec_yaml,
                                   const std::string& spec_file, absl::Time now) {
  v1::RolloutRecord record;
  record.set_id(state.id);
  record.set_creator(state.creator);
  record.set_spec_yaml(spec_yaml);
  record.set_spec_file(spec_file);
  record.set_spec_digest(state.spec_digest);
  record.set_baseline_name(state.spec.baseline.name);
  record.set_target_digest(state.spec.baseline.version);
  *record.mutable_created_at() = toTimestamp(now);
  for (const rollout::PlannedWave& wave : plan.waves) {
    v1::RolloutWave* w = record.add_waves();
    w->set_description(wave.description);
    w->set_canary(wave.canary);
    *w->mutable_soak() = duration(wave.soak);
  }
  updateRecord(state, now, absl::InfiniteFuture(), record);
  return record;
}

void updateRecord(const rollout::RolloutState& state, absl::Time now, absl::Time wake_at,
                  v1::RolloutRecord& record) {
  record.set_phase(std::string(rollout::toString(state.phase)));
  record.clear_reasons();
  for (const std::string& reason : state.reasons) record.add_reasons(reason);
  for (size_t i = 0; i < state.waves.size() && i < size_t(record.waves_size()); ++i) {
    record.mutable_waves(int(i))->set_status(std::string(rollout::toString(state.waves[i])));
  }
  record.set_current_wave(static_cast<uint32_t>(state.current_wave));
  record.set_paused_by(state.paused_by);
  record.clear_hosts();
  for (const rollout::HostProgress& h : state.hosts) {
    v1::RolloutHost* out = record.add_hosts();
    out->set_id(h.id);
    out->mutable_labels()->insert(h.labels.begin(), h.labels.end());
    out->set_wave(h.wave);
    out->set_phase(std::string(rollout::toString(h.phase)));
    out->set_previous_digest(h.previous_version);
    out->set_restart_required(h.restart_required);
    out->set_attempt(h.attempt);
    out->set_job_id(h.job_id);
    setSince(h.since, *out);
    out->set_failure(h.failure);
    out->set_needs_rollback(h.needs_rollback);
    out->set_rollback_failed(h.rollback_failed);
  }
  // Approvals only grow; the record keeps when each was given.
  for (size_t i = size_t(record.approvals_size()); i < state.approvals.size(); ++i) {
    v1::RolloutApproval* a = record.add_approvals();
    a->set_approver(state.approvals[i].approver);
    a->set_target_digest(state.approvals[i].target_version);
    a->set_spec_digest(state.approvals[i].spec_digest);
    *a->mutable_at() = toTimestamp(now);
  }
  *record.mutable_updated_at() = toTimestamp(now);
  if (wake_at == absl::InfiniteFuture()) {
    record.clear_wake_at();
  } else {
    *record.mutable_wake_at() = toTimestamp(wake_at);
  }
}

Result<rollout::RolloutState> rolloutStateOf(const v1::RolloutRecord& record) {
  Result<rollout::RolloutSpec> spec =
      rollout::parseRolloutSpec(record.spec_yaml(), record.spec_file());
  if (!spec.ok()) {
    return DataLossError("stored spec of rollout '" + record.id() +
                         "' no longer parses: " + spec.status().message());
  }
  rollout::RolloutState state{.id = record.id(),
                              .creator = record.creator(),
                              .spec_digest = record.spec_digest(),
                              .spec = *std::move(spec)};
  state.spec.baseline.version = record.target_digest();
  PW_ASSIGN_OR_RETURN(state.phase, fromWord<RolloutPhase>(record.phase(), 7));
  state.reasons.assign(record.reasons().begin(), record.reasons().end());
  for (const v1::RolloutWave& w : record.waves()) {
    PW_ASSIGN_OR_RETURN(WaveStatus status, fromWord<WaveStatus>(w.status(), 3));
    state.waves.push_back(status);
    state.wave_soaks.push_back(absl::Nanoseconds(TimeUtil::DurationToNanoseconds(w.soak())));
    state.canary_waves.push_back(w.canary());
  }
  state.current_wave = record.current_wave();
  state.paused_by = record.paused_by();
  for (const v1::RolloutHost& h : record.hosts()) {
    rollout::HostProgress p{.id = h.id(),
                            .labels = {h.labels().begin(), h.labels().end()},
                            .wave = h.wave(),
                            .previous_version = h.previous_digest(),
                            .restart_required = h.restart_required(),
                            .attempt = h.attempt(),
                            .job_id = h.job_id(),
                            .since = h.has_since() ? timeOf(h.since()) : absl::InfinitePast(),
                            .failure = h.failure(),
                            .needs_rollback = h.needs_rollback(),
                            .rollback_failed = h.rollback_failed()};
    PW_ASSIGN_OR_RETURN(p.phase, fromWord<HostPhase>(h.phase(), 7));
    state.hosts.push_back(std::move(p));
  }
  for (const v1::RolloutApproval& a : record.approvals()) {
    state.approvals.push_back(rollout::Approval{.approver = a.approver(),
                                                .target_version = a.target_digest(),
                                                .spec_digest = a.spec_digest()});
  }
  return state;
}

}  // namespace postwarden::controller::core
