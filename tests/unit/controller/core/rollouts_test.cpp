// Rollouts on a fleet over a real SqliteStore (mkdtemp), stepped by hand with a fake time:
// what is dispatched when, what is stored before it is sent, and that a restarted controller
// resumes from the store without a new job; what happens when another controller saves a
// rollout between one's read and its save (InterleavedRolloutStore).
#include "controller/core/rollouts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/core/rollout_metrics.h"
#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::controller::core {
namespace {

using os::TempDir;  // tests/unit/common/os/temp_dir.h
using ::testing::HasSubstr;

class RecordingSession : public AgentSession {
 public:
  void send(v1::ControllerMessage message) override {
    std::lock_guard lock(mu_);
    if (message.has_assignment()) assignments_.push_back(message.assignment());
  }
  void close(Status) override {}
  std::vector<v1::Assignment> assignments() const {
    std::lock_guard lock(mu_);
    return assignments_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<v1::Assignment> assignments_;
};

// The SqliteStore's rollout side with a hook run just before a save reaches the store (the
// next `times` saves): what another controller stores between this one's read and its write.
class InterleavedRolloutStore : public store::RolloutStore {
 public:
  explicit InterleavedRolloutStore(store::RolloutStore& inner) : inner_(inner) {}
  void beforeSaves(int times, std::function<void()> hook) {
    times_ = times;
    hook_ = std::move(hook);
  }

  Status createRollout(const store::RolloutRow& row,
                       std::span<const store::AuditRow> audit) override {
    return inner_.createRollout(row, audit);
  }
  Status saveRollout(const store::RolloutRow& row, std::span<const store::PinRow> pins,
                     std::span<const store::AuditRow> audit) override {
    if (times_ > 0) {
      --times_;
      hook_();
    }
    return inner_.saveRollout(row, pins, audit);
  }
  Status addAudit(const store::AuditRow& row) override { return inner_.addAudit(row); }
  Result<store::RolloutRow> getRollout(const std::string& id) override {
    return inner_.getRollout(id);
  }
  Result<std::vector<store::RolloutRow>> listRollouts(bool active_only) override {
    return inner_.listRollouts(active_only);
  }
  Result<std::vector<store::PinRow>> listPins() override { return inner_.listPins(); }
  Result<std::vector<store::AuditRow>> audit(const std::string& rollout_id, store::UnixMs since,
                                             int limit) override {
    return inner_.audit(rollout_id, since, limit);
  }

 private:
  store::RolloutStore& inner_;
  int times_ = 0;
  std::function<void()> hook_;
};

constexpr char kV1[] = "v1aaaaaaaaaa";
constexpr char kV2[] = "v2bbbbbbbbbb";

const std::string kSpec = R"(name: harden
baseline: hardening@v2bbbbbbbbbb
anytime: true
waves:
  - canary: 1
    soak: 1m
  - percent: 100
    soak: 1m
health:
  report_interval: 1m
  missed_reports: 3
  max_deferred_growth: 2
)";

class RolloutsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<store::SqliteStore>> opened =
        store::SqliteStore::open(dir_.file("controller.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(*opened);
    for (const char* version : {kV1, kV2}) {
      ASSERT_TRUE(store_
                      ->putBaseline({.name = "hardening",
                                     .version = version,
                                     .content = std::string("name: hardening # ") + version})
                      .ok());
    }
    fleet_ = std::make_unique<Fleet>(*store_);
    ASSERT_TRUE(fleet_->start().ok());
    rollouts_ = newRollouts();
    interleaved_ = std::make_unique<InterleavedRolloutStore>(*store_);
  }

  std::unique_ptr<Rollouts> newRollouts() {
    return std::make_unique<Rollouts>(*store_, *store_, *fleet_,
                                      RolloutsOptions{.now = [this] { return now_; }});
  }

  // A second controller over the same database whose saves go through `interleaved_`.
  std::unique_ptr<Rollouts> interleavedRollouts() {
    return std::make_unique<Rollouts>(*store_, *interleaved_, *fleet_,
                                      RolloutsOptions{.now = [this] { return now_; }});
  }
  v1::RolloutHost host(const std::string& rollout, const std::string& id) {
    Result<v1::RolloutRecord> record = rollouts_->get(rollout);
    EXPECT_TRUE(record.ok()) << record.status().toString();
    if (record.ok()) {
      for (const v1::RolloutHost& h : record->hosts()) {
        if (h.id() == id) return h;
      }
    }
    ADD_FAILURE() << "no host " << id << " in " << rollout;
    return {};
  }

  // An agent that runs `version` (empty: none) and was heard of now.
  void addAgent(const std::string& id, const std::string& version) {
    ASSERT_TRUE(store_->registerSimulatedAgent(id, ms()).ok());
    if (!version.empty()) report(id, version, "", v1::OUTCOME_UNSPECIFIED);
  }

  // A state report of `id` as the agent sends it, stored and heard of now.
  void report(const std::string& id, const std::string& version, const std::string& job,
              v1::Outcome outcome, int64_t deferred_growth = 0) {
    v1::HealthFigures health;
    health.set_deferred_growth(deferred_growth);
    report(id, version, job, outcome, health);
  }
  void report(const std::string& id, const std::string& version, const std::string& job,
              v1::Outcome outcome, const v1::HealthFigures& health) {
    v1::StateReport state;
    state.set_baseline_name("hardening");
    state.set_baseline_digest(version);
    state.set_job_id(job);
    state.set_outcome(outcome);
    *state.mutable_health() = health;
    store::ReportWrite write{.agent_id = id,
                             .seq = ++seq_[id],
                             .kind = "state",
                             .body = state.SerializeAsString(),
                             .received_at = ms()};
    write.state = store::ReportWrite::State{.baseline_name = "hardening",
                                            .baseline_version = version,
                                            .mode = store::Mode::kEnforce,
                                            .compliance = store::Compliance::kCompliant,
                                            .serialized = state.SerializeAsString()};
    if (!job.empty() && outcome != v1::OUTCOME_UNSPECIFIED) {
      write.state->job_state = write.state->serialized;  // as report_mapping.cpp does
    }
    write.history = {.agent_id = id, .at = ms(), .kind = "state", .summary = "test"};
    ASSERT_TRUE(store_->recordReports(std::span(&write, 1)).ok());
    touch(id);
  }
  // mx1 and mx2 on v1; the rollout of kSpec has changed mx1, the canary, which soaks since
  // 5 s.
  void soakCanary() {
    for (const char* id : {"mx1", "mx2"}) addAgent(id, kV1);
    ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
    rollouts_->stepAll();
    now_ += absl::Seconds(5);
    report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED);
    rollouts_->stepAll();
    now_ += absl::Seconds(5);
  }
  void touch(const std::string& id) {
    std::pair<std::string, store::UnixMs> seen{id, ms()};
    ASSERT_TRUE(store_->touchAgents(std::span(&seen, 1)).ok());
  }

  store::UnixMs ms() const { return absl::ToUnixMillis(now_); }

  std::map<std::string, std::string> jobs() {  // agent -> job id of its pin
    std::map<std::string, std::string> out;
    Result<std::vector<store::PinRow>> pins = store_->listPins();
    if (!pins.ok()) {
      ADD_FAILURE() << pins.status().toString();
      return out;
    }
    for (const store::PinRow& pin : *pins) {
      v1::RolloutJob job;
      EXPECT_TRUE(job.ParseFromString(pin.job));
      out[pin.agent_id] =
          pin.baseline_version + (job.rollback() ? " rollback " : " ") + job.job_id();
    }
    return out;
  }
  std::vector<std::string> actions(const std::string& action) {
    std::vector<std::string> hosts;
    Result<std::vector<store::AuditRow>> audit = store_->audit("", 0, 1000);
    if (!audit.ok()) {
      ADD_FAILURE() << audit.status().toString();
      return hosts;
    }
    for (const store::AuditRow& row : *audit) {
      if (row.action == action) hosts.push_back(row.host);
    }
    return hosts;
  }
  std::string jobOf(const std::string& host) {
    const std::string pin = jobs()[host];
    return pin.substr(pin.rfind(' ') + 1);
  }

  TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<Rollouts> rollouts_;
  std::unique_ptr<InterleavedRolloutStore> interleaved_;
  absl::Time now_ = absl::FromUnixSeconds(1'780'000'000);
  std::map<std::string, uint64_t> seq_;
};

// The loop's rest after a step: three times the step's CPU time, never below the step
// interval, never above the idle interval (a wave's dispatch must not stall the rollout).
TEST(RolloutLoopRestTest, IsThreeTimesTheStepsCpuWithinTheIntervals) {
  const RolloutsOptions options;  // 250 ms, 5 s, factor 3
  EXPECT_EQ(restAfterStep(absl::Milliseconds(10), options), absl::Milliseconds(250));
  EXPECT_EQ(restAfterStep(absl::Milliseconds(400), options), absl::Milliseconds(1200));
  EXPECT_EQ(restAfterStep(absl::Seconds(29), options), absl::Seconds(5));
}

TEST_F(RolloutsTest, HostsWithoutABaselineAreRefusedAtCreation) {
  addAgent("mx1", kV1);
  addAgent("mx2", "");
  Result<v1::RolloutRecord> created = rollouts_->create(kSpec, "r.yaml", "alice");
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(created.status().message(), HasSubstr("mx2"));
  EXPECT_TRUE(rollouts_->list()->empty());
}

TEST_F(RolloutsTest, ThePlanShowsWavesAndTheBaselineDiffAndCreatesNothing) {
  addAgent("mx1", kV1);
  addAgent("mx2", kV1);
  Result<v1::RolloutPlan> plan = rollouts_->plan(kSpec, "r.yaml");
  ASSERT_TRUE(plan.ok()) << plan.status().toString();
  ASSERT_EQ(plan->waves_size(), 2);
  EXPECT_THAT(plan->waves(0).hosts(), ::testing::ElementsAre("mx1"));
  EXPECT_THAT(plan->waves(1).hosts(), ::testing::ElementsAre("mx2"));
  ASSERT_EQ(plan->baseline_diffs_size(), 1);
  EXPECT_THAT(plan->baseline_diffs(0), HasSubstr("v1aaaaaaaaaa -> v2bbbbbbbbbb"));
  EXPECT_THAT(plan->baseline_diffs(0), HasSubstr("+name: hardening # v2bbbbbbbbbb"));
  EXPECT_TRUE(rollouts_->list()->empty());
}

TEST_F(RolloutsTest, TheCanaryGoesFirstAndTheRestOnlyAfterItsSoak) {
  for (const char* id : {"mx1", "mx2", "mx3"}) addAgent(id, kV1);
  RecordingSession session;
  ASSERT_TRUE(fleet_->attach("mx1", &session, v1::Hello(), /*simulated=*/true).ok());
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());

  rollouts_->stepAll();
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  ASSERT_EQ(jobs().size(), 1u);
  // Stored first, then sent: the connected canary got its job.
  ASSERT_EQ(session.assignments().size(), 1u);
  EXPECT_EQ(session.assignments()[0].baseline_digest(), kV2);
  EXPECT_EQ(session.assignments()[0].job().job_id(), jobOf("mx1"));

  now_ += absl::Seconds(10);
  report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED);
  rollouts_->stepAll();
  EXPECT_THAT(actions("start_soak"), ::testing::ElementsAre("mx1"));
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));  // wave 2 waits

  for (int i = 0; i < 3; ++i) {  // the soak: reports keep coming, health stays fine
    now_ += absl::Seconds(25);
    report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED);
    for (const char* id : {"mx2", "mx3"}) touch(id);
    rollouts_->stepAll();
  }
  EXPECT_THAT(actions("mark_done"), ::testing::ElementsAre("mx1"));
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1", "mx2", "mx3"));
  fleet_->detach("mx1", &session);
}

TEST_F(RolloutsTest, AHealthGateFailingAtTheCanaryRollsItBackAndStopsTheRest) {
  ASSERT_NO_FATAL_FAILURE(soakCanary());
  report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED, /*deferred_growth=*/3);
  rollouts_->stepAll();

  EXPECT_THAT(actions("mark_failed"), ::testing::ElementsAre("mx1"));
  EXPECT_THAT(jobs()["mx1"], ::testing::StartsWith("v1aaaaaaaaaa rollback "));
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  Result<v1::RolloutRecord> record = rollouts_->get("harden-1");
  ASSERT_TRUE(record.ok());
  EXPECT_THAT(record->hosts(0).failure(), HasSubstr("deferred growth 3 > 2"));

  now_ += absl::Seconds(5);
  report("mx1", kV1, jobOf("mx1"), v1::OUTCOME_REPAIRED);
  rollouts_->stepAll();
  EXPECT_THAT(actions("rolled_back"), ::testing::ElementsAre("mx1"));
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
}

// The traffic figures of HealthFigures reach the gates: SASL failures surge at the canary.
TEST_F(RolloutsTest, ASaslSurgeAgainstThePeriodBeforeFailsTheCanary) {
  ASSERT_NO_FATAL_FAILURE(soakCanary());
  v1::HealthFigures health;
  health.set_log_readable(true);
  health.set_before_known(true);
  health.set_sasl_failures(40);
  health.set_sasl_failures_before(2);
  health.set_connections(50);
  health.set_connections_before(50);
  report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED, health);
  rollouts_->stepAll();

  EXPECT_THAT(actions("mark_failed"), ::testing::ElementsAre("mx1"));
  Result<v1::RolloutRecord> record = rollouts_->get("harden-1");
  ASSERT_TRUE(record.ok());
  EXPECT_THAT(record->hosts(0).failure(),
              HasSubstr("SASL failures 40 > 10 (2 in the same period before the change +100%"));
}

TEST_F(RolloutsTest, ASummaryCountsPhasesAndListsOnlyHostsThatNeedAttention) {
  for (const char* id : {"mx1", "mx2", "mx3"}) addAgent(id, kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  rollouts_->stepAll();  // mx1, the canary, is dispatched

  Result<v1::RolloutRecord> full = rollouts_->get("harden-1");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->hosts_size(), 3);
  ASSERT_EQ(full->waves_size(), 2);
  EXPECT_EQ(full->waves(0).phase_counts().at("dispatched"), 1);  // in every reply
  EXPECT_EQ(full->waves(1).phase_counts().at("pending"), 2);

  Result<v1::RolloutRecord> summary = rollouts_->get("harden-1", /*summary=*/true);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->hosts_size(), 1);
  EXPECT_EQ(summary->hosts(0).id(), "mx1");
  EXPECT_EQ(summary->waves(1).phase_counts().at("pending"), 2);
}

TEST_F(RolloutsTest, ARestartedControllerResumesFromTheStoreWithoutANewJob) {
  for (const char* id : {"mx1", "mx2"}) addAgent(id, kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  rollouts_->stepAll();
  const std::string job = jobOf("mx1");

  rollouts_ = newRollouts();  // a new process over the same database
  now_ += absl::Seconds(5);
  rollouts_->stepAll();
  rollouts_->stepAll();
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  EXPECT_EQ(jobOf("mx1"), job);

  report("mx1", kV2, job, v1::OUTCOME_REPAIRED);
  rollouts_->stepAll();
  EXPECT_THAT(actions("start_soak"), ::testing::ElementsAre("mx1"));
}

TEST_F(RolloutsTest, TheCreatorCannotApproveAndAnApprovalStartsTheRollout) {
  addAgent("mx1", kV1);
  ASSERT_TRUE(rollouts_->create(kSpec + "approvals: 1\n", "r.yaml", "alice").ok());
  const std::string id = "harden-1";
  rollouts_->stepAll();
  EXPECT_TRUE(actions("dispatch").empty());

  Result<v1::RolloutRecord> own = rollouts_->approve(id, "alice");
  EXPECT_EQ(own.status().code(), StatusCode::kPermissionDenied);
  Result<v1::RolloutRecord> approved = rollouts_->approve(id, "bob");
  ASSERT_TRUE(approved.ok()) << approved.status().toString();
  rollouts_->stepAll();
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  EXPECT_EQ(actions("approve").size(), 1u);   // bob's action
  EXPECT_EQ(actions("approved").size(), 1u);  // the engine's: enough approvals
}

TEST_F(RolloutsTest, APauseIsStoredAndHoldsNewHostsUntilResumed) {
  for (const char* id : {"mx1", "mx2"}) addAgent(id, kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  Result<v1::RolloutRecord> paused = rollouts_->pause("harden-1", "bob");
  ASSERT_TRUE(paused.ok()) << paused.status().toString();
  EXPECT_EQ(paused->paused_by(), "bob");
  rollouts_ = newRollouts();  // the hold survives a restart
  rollouts_->stepAll();
  EXPECT_TRUE(actions("dispatch").empty());
  EXPECT_EQ(rollouts_->get("harden-1")->phase(), "paused");
  ASSERT_TRUE(rollouts_->resume("harden-1", "bob").ok());
  rollouts_->stepAll();
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  EXPECT_EQ(actions("pause").size(), 2u);  // bob's action and the engine's decision
  EXPECT_EQ(actions("resume").size(), 2u);
}

TEST_F(RolloutsTest, ARollbackOnDemandReturnsChangedHosts) {
  addAgent("mx1", kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  rollouts_->stepAll();
  report("mx1", kV2, jobOf("mx1"), v1::OUTCOME_REPAIRED);
  rollouts_->stepAll();
  Result<v1::RolloutRecord> rolled = rollouts_->rollback("harden-1", "carol", "pager");
  ASSERT_TRUE(rolled.ok()) << rolled.status().toString();
  EXPECT_EQ(rolled->phase(), "rolling_back");
  rollouts_->stepAll();
  EXPECT_THAT(jobs()["mx1"], ::testing::StartsWith("v1aaaaaaaaaa rollback "));
  Result<std::vector<store::AuditRow>> audit = rollouts_->audit("harden-1", 0, 0);
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const store::AuditRow& row : *audit) {
    found |= row.action == "request_rollback" && row.actor == "carol" && row.detail == "pager";
  }
  EXPECT_TRUE(found);
}

TEST_F(RolloutsTest, AStepRacedByAnotherSaveStoresAndSendsNothingAndStepsAgainFromTheStore) {
  for (const char* id : {"mx1", "mx2"}) addAgent(id, kV1);
  RecordingSession session;
  ASSERT_TRUE(fleet_->attach("mx1", &session, v1::Hello(), /*simulated=*/true).ok());
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  std::unique_ptr<Rollouts> leader = interleavedRollouts();
  // The leader's step would dispatch the canary; an operator's pause on another replica is
  // stored between its read and its save.
  interleaved_->beforeSaves(1, [&] { ASSERT_TRUE(rollouts_->pause("harden-1", "bob").ok()); });
  leader->stepAll();
  EXPECT_TRUE(actions("dispatch").empty());
  EXPECT_TRUE(jobs().empty());
  EXPECT_TRUE(session.assignments().empty());
  EXPECT_EQ(rollouts_->get("harden-1")->paused_by(), "bob");
  EXPECT_EQ(host("harden-1", "mx1").phase(), "pending");

  leader->stepAll();  // decided again on the stored record: the pause holds
  EXPECT_TRUE(actions("dispatch").empty());
  EXPECT_EQ(actions("pause").size(), 2u);  // bob's and the engine's, stored this time
  ASSERT_TRUE(rollouts_->resume("harden-1", "bob").ok());
  leader->stepAll();
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  ASSERT_EQ(session.assignments().size(), 1u);
  EXPECT_EQ(session.assignments()[0].job().job_id(), jobOf("mx1"));
  fleet_->detach("mx1", &session);
}

TEST_F(RolloutsTest, AnOperatorCallRacedByAStepIsDecidedAgainAndKeepsTheStep) {
  for (const char* id : {"mx1", "mx2"}) addAgent(id, kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  std::unique_ptr<Rollouts> serving = interleavedRollouts();
  // The leader dispatches the canary between the pause's read and its save.
  interleaved_->beforeSaves(1, [&] { rollouts_->stepAll(); });
  Result<v1::RolloutRecord> paused = serving->pause("harden-1", "bob");
  ASSERT_TRUE(paused.ok()) << paused.status().toString();
  EXPECT_EQ(paused->paused_by(), "bob");
  EXPECT_EQ(host("harden-1", "mx1").phase(), "dispatched");  // the step was not overwritten
  EXPECT_THAT(actions("dispatch"), ::testing::ElementsAre("mx1"));
  EXPECT_EQ(jobs().size(), 1u);
  EXPECT_EQ(actions("pause").size(), 1u);  // bob's, stored once
}

TEST_F(RolloutsTest, AnApprovalOfARolloutRolledBackMeanwhileIsRefused) {
  addAgent("mx1", kV1);
  ASSERT_TRUE(rollouts_->create(kSpec + "approvals: 1\n", "r.yaml", "alice").ok());
  std::unique_ptr<Rollouts> serving = interleavedRollouts();
  interleaved_->beforeSaves(
      1, [&] { ASSERT_TRUE(rollouts_->rollback("harden-1", "carol", "pager").ok()); });
  Result<v1::RolloutRecord> approved = serving->approve("harden-1", "bob");
  EXPECT_EQ(approved.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(approved.status().message(), HasSubstr("rolling_back: nothing to approve"));
  EXPECT_TRUE(actions("approve").empty());
  EXPECT_EQ(rollouts_->get("harden-1")->phase(), "rolling_back");
}

TEST_F(RolloutsTest, AnOperatorCallRacedAtEveryAttemptAnswersAbortedAndStoresNothing) {
  addAgent("mx1", kV1);
  ASSERT_TRUE(rollouts_->create(kSpec, "r.yaml", "alice").ok());
  std::unique_ptr<Rollouts> serving = interleavedRollouts();
  int raced = 0;
  interleaved_->beforeSaves(Rollouts::kOperatorAttempts, [&] {
    ++raced;  // another controller saves the rollout again (its revision goes up)
    Result<store::RolloutRow> row = store_->getRollout("harden-1");
    ASSERT_TRUE(row.ok());
    ASSERT_TRUE(store_->saveRollout(*row, {}, {}).ok());
  });
  Result<v1::RolloutRecord> paused = serving->pause("harden-1", "bob");
  EXPECT_EQ(paused.status().code(), StatusCode::kAborted);
  EXPECT_THAT(paused.status().message(), HasSubstr("during each of 3 attempts"));
  EXPECT_THAT(paused.status().message(),
              HasSubstr("rollout 'harden-1' changed since it was read (revision 3, now 4); read "
                        "it again"));
  EXPECT_EQ(raced, Rollouts::kOperatorAttempts);
  EXPECT_TRUE(actions("pause").empty());
  EXPECT_TRUE(rollouts_->get("harden-1")->paused_by().empty());
}

TEST(RolloutMetricsTest, CountsRolloutsByPhaseAndHostsOfActiveOnesOnly) {
  v1::RolloutRecord running;
  running.set_phase("running");
  running.add_hosts()->set_phase("soaking");
  running.add_hosts()->set_phase("pending");
  v1::RolloutRecord done;
  done.set_phase("completed");
  done.add_hosts()->set_phase("done");
  const std::vector<metrics::FamilySnapshot> families = rolloutFamilies({running, done});
  ASSERT_EQ(families.size(), 2u);
  auto value = [&](size_t family, const std::string& phase) {
    for (const metrics::Sample& s : families[family].samples) {
      if (s.labels.front().second == phase) return s.value;
    }
    return -1.0;
  };
  EXPECT_EQ(families[0].samples.size(), 7u);  // every phase, zeros included
  EXPECT_EQ(value(0, "running"), 1);
  EXPECT_EQ(value(0, "completed"), 1);
  EXPECT_EQ(value(0, "halted"), 0);
  EXPECT_EQ(value(1, "soaking"), 1);
  EXPECT_EQ(value(1, "pending"), 1);
  EXPECT_EQ(value(1, "done"), 0);  // the completed rollout's host is not counted
}

}  // namespace
}  // namespace postwarden::controller::core
