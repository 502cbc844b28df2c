#include "controller/core/fleet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "common/check.h"
#include "controller/store/sqlite_store.h"
#include "tests/unit/common/os/temp_dir.h"
#include "tests/unit/controller/core/fake_agent_session.h"

namespace postwarden::controller::core {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using os::TempDir;  // tests/unit/common/os/temp_dir.h

// Polls `condition` every 10 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

// Forwards to a real store, and can hold the next getBaseline() call until the test resumes
// it: a way to stop a Fleet call at a known point and run another one meanwhile.
class PausingStore : public store::Store {
 public:
  explicit PausingStore(store::Store& inner) : inner_(inner) {}

  void pauseNextGetBaseline() {
    std::lock_guard lock(mu_);
    pause_next_ = true;
  }
  void pauseNextTouchAgents() {
    std::lock_guard lock(mu_);
    pause_next_touch_ = true;
  }
  // True once a paused call is held (within 5 s).
  bool waitUntilPaused() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return paused_; });
  }
  void resume() {
    std::lock_guard lock(mu_);
    resumed_ = true;
    cv_.notify_all();
  }

  Result<store::BaselineRecord> getBaseline(const std::string& name,
                                            const std::string& version) override {
    holdIf(pause_next_);
    return inner_.getBaseline(name, version);
  }

  Status createToken(const store::TokenRecord& t) override { return inner_.createToken(t); }
  Result<std::vector<store::TokenRecord>> listTokens() override { return inner_.listTokens(); }
  Status revokeToken(const std::string& id) override { return inner_.revokeToken(id); }
  Result<store::AgentRecord> enrollAgent(const store::EnrollmentRequest& r,
                                         const store::EnrollmentCheck& check) override {
    return inner_.enrollAgent(r, check);
  }
  Result<store::AgentRecord> getAgent(const std::string& id) override {
    return inner_.getAgent(id);
  }
  Result<std::vector<store::AgentRecord>> listAgents() override { return inner_.listAgents(); }
  Result<std::vector<store::AgentProgress>> listAgentProgress() override {
    return inner_.listAgentProgress();
  }
  Result<std::vector<std::string>> revokedAgents() override { return inner_.revokedAgents(); }
  Status revokeAgent(const std::string& id, store::UnixMs now) override {
    return inner_.revokeAgent(id, now);
  }
  Status approveReenrollment(const std::string& id, store::UnixMs now) override {
    return inner_.approveReenrollment(id, now);
  }
  Status recordHello(const std::string& id, const std::string& hostname,
                     const std::string& agent_version, const std::string& postfix_version,
                     const store::Labels& agent_labels, store::UnixMs now,
                     const store::LabelMerge& merge) override {
    return inner_.recordHello(id, hostname, agent_version, postfix_version, agent_labels, now,
                              merge);
  }
  Status registerSimulatedAgent(const std::string& id, store::UnixMs now) override {
    return inner_.registerSimulatedAgent(id, now);
  }
  Status touchAgents(std::span<const std::pair<std::string, store::UnixMs>> seen) override {
    holdIf(pause_next_touch_);
    return inner_.touchAgents(seen);
  }
  Result<std::vector<bool>> recordReports(std::span<const store::ReportWrite> writes) override {
    return inner_.recordReports(writes);
  }
  Result<std::vector<store::DriftRow>> listDrift() override { return inner_.listDrift(); }
  Result<std::vector<store::DriftRow>> agentDrift(const std::string& id) override {
    return inner_.agentDrift(id);
  }
  Result<std::vector<store::HistoryRow>> history(const std::string& id, int limit) override {
    return inner_.history(id, limit);
  }
  Status addHistory(const store::HistoryRow& row) override { return inner_.addHistory(row); }
  Result<bool> putBaseline(const store::BaselineRecord& b) override {
    return inner_.putBaseline(b);
  }
  Result<std::vector<store::BaselineRecord>> listBaselines() override {
    return inner_.listBaselines();
  }
  Result<std::string> deleteBaseline(const std::string& name, const std::string& version,
                                     const store::AssignmentsToDrop& drop) override {
    return inner_.deleteBaseline(name, version, drop);
  }
  Result<store::AssignmentRecord> addAssignment(const store::AssignmentRecord& a) override {
    return inner_.addAssignment(a);
  }
  Result<std::vector<store::AssignmentRecord>> listAssignments() override {
    return inner_.listAssignments();
  }
  Status removeAssignment(int64_t id) override { return inner_.removeAssignment(id); }

 private:
  // Holds this call (at most 5 s) until resume() when `flag` is set, and clears it.
  void holdIf(bool& flag) {
    std::unique_lock lock(mu_);
    if (!flag) return;
    flag = false;
    paused_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, 5s, [&] { return resumed_; });
  }

  store::Store& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pause_next_ = false;
  bool pause_next_touch_ = false;
  bool paused_ = false;
  bool resumed_ = false;
};

constexpr char kBaselineContent[] =
    "name: hardening\nversion: \"1\"\nmain_cf:\n  set:\n    smtpd_tls_auth_only: \"yes\"\n";

v1::AgentMessage stateReport(uint64_t seq, v1::Compliance compliance = v1::COMPLIANCE_COMPLIANT) {
  v1::AgentMessage m;
  m.set_seq(seq);
  v1::StateReport* s = m.mutable_state();
  s->set_baseline_name("hardening");
  s->set_baseline_digest("0123456789ab");
  s->set_mode(v1::BASELINE_MODE_ENFORCE);
  s->set_compliance(compliance);
  s->set_outcome(v1::OUTCOME_KEPT);
  return m;
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<store::SqliteStore>> opened =
        store::SqliteStore::open(dir_.file("controller.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().toString();
    store_ = std::move(*opened);
  }

  // The fake clock, heartbeats flushed every `heartbeat_flush`.
  FleetOptions fleetOptions(std::chrono::milliseconds heartbeat_flush = 100ms) {
    FleetOptions options;
    options.heartbeat_flush = heartbeat_flush;
    options.now = [this] { return clock_.load(); };
    return options;
  }

  std::unique_ptr<Fleet> startFleet() {
    auto fleet = std::make_unique<Fleet>(*store_, fleetOptions());
    Status started = fleet->start();
    EXPECT_TRUE(started.ok()) << started.toString();
    return fleet;
  }

  void registerAgent(const std::string& id) {
    ASSERT_TRUE(store_->registerSimulatedAgent(id, clock_.load()).ok());
  }

  static v1::Hello hello(const store::Labels& labels = {}) {
    v1::Hello h;
    h.set_hostname("host.example.org");
    h.set_agent_version("0.4.0");
    h.set_postfix_version("3.7.11");
    h.mutable_labels()->insert(labels.begin(), labels.end());
    return h;
  }

  void pushBaseline(const std::string& version, const std::string& content = kBaselineContent) {
    Result<bool> put = store_->putBaseline({.name = "hardening",
                                            .version = version,
                                            .label = "1",
                                            .content = content,
                                            .pushed_at = clock_.load()});
    ASSERT_TRUE(put.ok()) << put.status().toString();
  }

  store::AssignmentRecord assignment(const std::string& version, store::Labels selector,
                                     store::Mode mode = store::Mode::kEnforce) {
    return {.baseline_name = "hardening",
            .baseline_version = version,
            .selector = std::move(selector),
            .mode = mode,
            .created_at = clock_.load()};
  }

  int historyRows(const std::string& id, const std::string& kind) {
    Result<std::vector<store::HistoryRow>> rows = store_->history(id, 0);
    EXPECT_TRUE(rows.ok()) << rows.status().toString();
    if (!rows.ok()) return -1;
    return static_cast<int>(std::count_if(
        rows->begin(), rows->end(), [&](const store::HistoryRow& r) { return r.kind == kind; }));
  }

  TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  std::atomic<store::UnixMs> clock_{1'700'000'000'000};
};

// ---------------------------------------------------------------------------------------
// attach / detach

TEST_F(FleetTest, AttachAcksWhatIsStoredAndRecordsTheHello) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  Status attached = fleet->attach("mx1", &session, hello({{"role", "mx"}}));
  ASSERT_TRUE(attached.ok()) << attached.toString();
  EXPECT_TRUE(fleet->connected("mx1"));
  EXPECT_EQ(fleet->connectedCount(), 1u);
  // No assignment matches: only the ack of what is stored (nothing yet).
  EXPECT_THAT(session.acks(), ElementsAre(0u));
  EXPECT_THAT(session.assignments(), IsEmpty());
  EXPECT_EQ(session.messages().size(), 1u);
  EXPECT_FALSE(session.closedWith().has_value());

  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->hostname, "host.example.org");
  EXPECT_EQ(agent->agent_version, "0.4.0");
  EXPECT_EQ(agent->postfix_version, "3.7.11");
  EXPECT_EQ(agent->labels.at("role"), "mx");
}

TEST_F(FleetTest, AttachOfUnknownAgentFails) {
  FakeAgentSession session;
  auto fleet = startFleet();
  Status attached = fleet->attach("ghost", &session, hello());
  EXPECT_EQ(attached.code(), StatusCode::kNotFound) << attached.toString();
  EXPECT_FALSE(fleet->connected("ghost"));
  EXPECT_THAT(session.messages(), IsEmpty());
}

TEST_F(FleetTest, SimulatedAgentIsRegisteredOnItsFirstHello) {
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("sim-0001", &session, hello(), /*simulated=*/true).ok());
  EXPECT_TRUE(fleet->connected("sim-0001"));
  EXPECT_TRUE(store_->getAgent("sim-0001").ok());
  EXPECT_THAT(session.acks(), ElementsAre(0u));
}

TEST_F(FleetTest, AttachAcksTheLastStoredSeq) {
  registerAgent("mx1");
  {
    FakeAgentSession first;
    auto fleet = startFleet();
    ASSERT_TRUE(fleet->attach("mx1", &first, hello()).ok());
    ASSERT_TRUE(fleet->report("mx1", stateReport(5)).ok());
    ASSERT_TRUE(eventually([&] { return first.ackCount(5) == 1; }));
    fleet->detach("mx1", &first);
  }
  // A new controller process (same store): the agent may have missed the ack of 5.
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  EXPECT_THAT(session.acks(), ElementsAre(5u));
}

TEST_F(FleetTest, AttachSendsTheAssignmentLoadedAtStart) {
  pushBaseline("0123456789ab");
  ASSERT_TRUE(
      store_->addAssignment(assignment("0123456789ab", {{"role", "mx"}}, store::Mode::kDetect))
          .ok());
  registerAgent("mx1");
  registerAgent("sub1");
  FakeAgentSession mx1;
  FakeAgentSession sub1;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &mx1, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("sub1", &sub1, hello({{"role", "submission"}})).ok());

  std::vector<v1::ControllerMessage> messages = mx1.messages();
  ASSERT_EQ(messages.size(), 2u);
  ASSERT_TRUE(messages[0].has_ack()) << "the ack comes first";
  EXPECT_EQ(messages[0].ack().acked_seq(), 0u);
  ASSERT_TRUE(messages[1].has_assignment());
  const v1::Assignment& a = messages[1].assignment();
  EXPECT_EQ(a.baseline_name(), "hardening");
  EXPECT_EQ(a.baseline_digest(), "0123456789ab");
  EXPECT_EQ(a.content(), kBaselineContent);
  EXPECT_EQ(a.mode(), v1::BASELINE_MODE_DETECT);

  EXPECT_THAT(sub1.acks(), ElementsAre(0u));
  EXPECT_THAT(sub1.assignments(), IsEmpty());
}

TEST_F(FleetTest, AttachSendsTheNewestMatchingAssignment) {
  pushBaseline("aaaaaaaaaaaa", "name: hardening\nversion: \"1\"\n");
  pushBaseline("bbbbbbbbbbbb", "name: hardening\nversion: \"2\"\n");
  ASSERT_TRUE(store_->addAssignment(assignment("aaaaaaaaaaaa", {})).ok());
  ASSERT_TRUE(store_->addAssignment(assignment("bbbbbbbbbbbb", {{"role", "mx"}})).ok());
  registerAgent("mx1");
  registerAgent("relay1");
  FakeAgentSession mx1;
  FakeAgentSession relay1;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &mx1, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("relay1", &relay1, hello({{"role", "relay"}})).ok());
  ASSERT_EQ(mx1.assignments().size(), 1u);
  EXPECT_EQ(mx1.assignments()[0].baseline_digest(), "bbbbbbbbbbbb");
  EXPECT_EQ(mx1.assignments()[0].mode(), v1::BASELINE_MODE_ENFORCE);
  ASSERT_EQ(relay1.assignments().size(), 1u);
  EXPECT_EQ(relay1.assignments()[0].baseline_digest(), "aaaaaaaaaaaa");
}

TEST_F(FleetTest, SecondAttachSupersedesTheFirstSession) {
  registerAgent("mx1");
  FakeAgentSession first;
  FakeAgentSession second;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &first, hello()).ok());
  ASSERT_TRUE(fleet->attach("mx1", &second, hello()).ok());

  std::optional<Status> closed = first.closedWith();
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), StatusCode::kAborted) << closed->toString();
  EXPECT_FALSE(second.closedWith().has_value());
  EXPECT_THAT(second.acks(), ElementsAre(0u));
  EXPECT_EQ(fleet->connectedCount(), 1u);

  v1::Command command;
  command.set_kind(v1::Command::KIND_VERIFY_NOW);
  ASSERT_TRUE(fleet->command("mx1", command).ok());
  EXPECT_THAT(first.commands(), IsEmpty());
  ASSERT_EQ(second.commands().size(), 1u);
}

TEST_F(FleetTest, DetachOfTheOldSessionLeavesTheNewOne) {
  registerAgent("mx1");
  FakeAgentSession first;
  FakeAgentSession second;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &first, hello()).ok());
  ASSERT_TRUE(fleet->attach("mx1", &second, hello()).ok());
  // The superseded stream ends after the new one said hello.
  fleet->detach("mx1", &first);
  EXPECT_TRUE(fleet->connected("mx1"));

  v1::Command command;
  command.set_kind(v1::Command::KIND_APPLY_NOW);
  ASSERT_TRUE(fleet->command("mx1", command).ok());
  ASSERT_EQ(second.commands().size(), 1u);
  EXPECT_EQ(second.commands()[0].kind(), v1::Command::KIND_APPLY_NOW);

  fleet->detach("mx1", &second);
  EXPECT_FALSE(fleet->connected("mx1"));
  EXPECT_EQ(fleet->connectedCount(), 0u);
  EXPECT_EQ(fleet->command("mx1", command).code(), StatusCode::kUnavailable);
}

// ---------------------------------------------------------------------------------------
// durable reports

TEST_F(FleetTest, ReportIsStoredThenAcked) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  ASSERT_TRUE(fleet->report("mx1", stateReport(1, v1::COMPLIANCE_DRIFTED)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(1) == 1; })) << "no ack of seq 1 within 5 s";

  // Acked means durable: the store has it now.
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 1u);
  EXPECT_EQ(agent->compliance, store::Compliance::kDrifted);
  EXPECT_EQ(agent->mode, store::Mode::kEnforce);
  EXPECT_EQ(agent->baseline_name, "hardening");
  EXPECT_EQ(historyRows("mx1", "state"), 1);
  FleetStats stats = fleet->stats();
  EXPECT_EQ(stats.reports_stored, 1u);
  EXPECT_EQ(stats.reports_duplicate, 0u);
  EXPECT_GE(stats.batches, 1u);
}

TEST_F(FleetTest, DriftReportIsStoredThenAcked) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  v1::AgentMessage drift;
  drift.set_seq(3);
  drift.mutable_drift()->set_source(v1::DRIFT_SOURCE_CONFIG);
  v1::ParameterState* p = drift.mutable_drift()->add_parameters();
  p->set_file("main.cf");
  p->set_parameter("smtpd_tls_auth_only");
  p->set_expected("yes");
  p->set_actual("no");
  ASSERT_TRUE(fleet->report("mx1", drift).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(3) == 1; }));
  Result<std::vector<store::DriftRow>> rows = store_->agentDrift("mx1");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].parameter, "smtpd_tls_auth_only");
  EXPECT_EQ((*rows)[0].actual, "no");
  EXPECT_EQ(historyRows("mx1", "drift"), 1);
}

TEST_F(FleetTest, DuplicateSeqIsAckedAgainButStoredOnce) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  ASSERT_TRUE(fleet->report("mx1", stateReport(1)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(1) == 1; }));
  // The agent missed the ack and redelivers.
  ASSERT_TRUE(fleet->report("mx1", stateReport(1, v1::COMPLIANCE_FAILING)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(1) == 2; }))
      << "the redelivered report was not acked again";

  EXPECT_EQ(historyRows("mx1", "state"), 1);
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 1u);
  EXPECT_EQ(agent->compliance, store::Compliance::kCompliant) << "the duplicate changed the agent";
  FleetStats stats = fleet->stats();
  EXPECT_EQ(stats.reports_stored, 1u);
  EXPECT_EQ(stats.reports_duplicate, 1u);
}

TEST_F(FleetTest, ManyReportsAreAllAckedInOrderOfSeq) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  for (uint64_t seq = 1; seq <= 50; ++seq) {
    ASSERT_TRUE(fleet->report("mx1", stateReport(seq)).ok());
  }
  ASSERT_TRUE(eventually([&] { return session.ackCount(50) == 1; }));
  std::vector<uint64_t> acks = session.acks();
  ASSERT_EQ(acks.size(), 51u);  // the hello's ack of 0, then one per report
  EXPECT_TRUE(std::is_sorted(acks.begin(), acks.end()));
  EXPECT_EQ(fleet->stats().reports_stored, 50u);
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 50u);
}

TEST_F(FleetTest, MalformedReportIsRefusedAndNotQueued) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  EXPECT_EQ(fleet->report("mx1", stateReport(0)).code(), StatusCode::kInvalidArgument);
  v1::AgentMessage bad = stateReport(2);
  bad.mutable_state()->set_compliance(static_cast<v1::Compliance>(99));
  EXPECT_EQ(fleet->report("mx1", bad).code(), StatusCode::kInvalidArgument);
  // A good report after them is acked, and the bad ones were never stored.
  ASSERT_TRUE(fleet->report("mx1", stateReport(3)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(3) == 1; }));
  EXPECT_THAT(session.acks(), ElementsAre(0u, 3u));
  EXPECT_EQ(fleet->stats().reports_stored, 1u);
}

TEST_F(FleetTest, ReportOfAnUnknownAgentDoesNotHoldBackOthers) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  // Likely one batch: the unknown agent fails it, the fleet retries one by one.
  ASSERT_TRUE(fleet->report("deleted-agent", stateReport(1)).ok());
  ASSERT_TRUE(fleet->report("mx1", stateReport(1)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(1) == 1; }));
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 1u);
}

TEST_F(FleetTest, ReportOfADisconnectedAgentIsStoredWithoutAck) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  fleet->detach("mx1", &session);
  ASSERT_TRUE(fleet->report("mx1", stateReport(4)).ok());
  ASSERT_TRUE(eventually([&] { return fleet->stats().reports_stored == 1; }));
  EXPECT_THAT(session.acks(), ElementsAre(0u));
  // It learns on its next hello.
  FakeAgentSession again;
  ASSERT_TRUE(fleet->attach("mx1", &again, hello()).ok());
  EXPECT_THAT(again.acks(), ElementsAre(4u));
}

TEST_F(FleetTest, StopFlushesWhatIsQueued) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  for (uint64_t seq = 1; seq <= 20; ++seq) {
    ASSERT_TRUE(fleet->report("mx1", stateReport(seq)).ok());
  }
  fleet->stop();
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seq, 20u);
  EXPECT_EQ(session.ackCount(20), 1u);
  fleet->stop();  // idempotent
}

// ---------------------------------------------------------------------------------------
// heartbeats

TEST_F(FleetTest, HeartbeatsAreFlushedToTheStore) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  store::UnixMs later = clock_.load() + 60'000;
  clock_ = later;
  fleet->heartbeat("mx1");
  EXPECT_EQ(fleet->stats().heartbeats, 1u);
  ASSERT_TRUE(eventually(
      [&] {
        Result<store::AgentRecord> agent = store_->getAgent("mx1");
        return agent.ok() && agent->last_seen == later;
      },
      1500ms))
      << "last_seen not flushed within 1.5 s";
}

TEST_F(FleetTest, HeartbeatOfAnUnknownAgentIsHarmless) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  fleet->heartbeat("deleted-agent");
  clock_ = clock_.load() + 1000;
  fleet->heartbeat("mx1");
  store::UnixMs expected = clock_.load();
  ASSERT_TRUE(eventually(
      [&] {
        Result<store::AgentRecord> agent = store_->getAgent("mx1");
        return agent.ok() && agent->last_seen == expected;
      },
      1500ms));
}

TEST_F(FleetTest, ASlowHeartbeatFlushDoesNotDelayReports) {
  registerAgent("mx1");
  registerAgent("mx2");
  PausingStore pausing(*store_);
  Fleet fleet(pausing, fleetOptions(50ms));
  ASSERT_TRUE(fleet.start().ok());
  FakeAgentSession session;
  ASSERT_TRUE(fleet.attach("mx1", &session, hello()).ok());

  pausing.pauseNextTouchAgents();
  fleet.heartbeat("mx2");
  ASSERT_TRUE(pausing.waitUntilPaused()) << "the heartbeat flush never reached the store";
  // The flush is held in the store: a report must still become durable and be acked.
  ASSERT_TRUE(fleet.report("mx1", stateReport(1)).ok());
  const bool acked = eventually([&] { return session.ackCount(1) == 1; }, 2s);
  pausing.resume();
  EXPECT_TRUE(acked) << "the report waited for the heartbeat flush";
  EXPECT_LE(fleet.storedThrough(), clock_.load());
}

TEST_F(FleetTest, StopStoresTheLastHeartbeats) {
  registerAgent("mx1");
  Fleet fleet(*store_, fleetOptions(1h));  // only stop() flushes
  ASSERT_TRUE(fleet.start().ok());
  const store::UnixMs later = clock_.load() + 60'000;
  clock_ = later;
  fleet.heartbeat("mx1");
  fleet.stop();
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->last_seen, later);
}

// ---------------------------------------------------------------------------------------
// operators: revoke, assign, command

TEST_F(FleetTest, RevokeClosesTheStreamAndBlocksReattach) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  EXPECT_FALSE(fleet->isRevoked("mx1"));
  ASSERT_TRUE(fleet->revoke("mx1").ok());

  std::optional<Status> closed = session.closedWith();
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->code(), StatusCode::kPermissionDenied) << closed->toString();
  EXPECT_TRUE(fleet->isRevoked("mx1"));
  EXPECT_FALSE(fleet->connected("mx1"));
  v1::Command command;
  command.set_kind(v1::Command::KIND_APPLY_NOW);
  EXPECT_EQ(fleet->command("mx1", command).code(), StatusCode::kUnavailable);

  FakeAgentSession again;
  EXPECT_EQ(fleet->attach("mx1", &again, hello()).code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(fleet->connected("mx1"));
  EXPECT_THAT(again.messages(), IsEmpty());

  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_TRUE(agent->revoked);
}

TEST_F(FleetTest, RevocationSurvivesARestart) {
  registerAgent("mx1");
  {
    auto fleet = startFleet();
    ASSERT_TRUE(fleet->revoke("mx1").ok());
  }
  auto fleet = startFleet();
  EXPECT_TRUE(fleet->isRevoked("mx1"));
  FakeAgentSession session;
  EXPECT_EQ(fleet->attach("mx1", &session, hello()).code(), StatusCode::kPermissionDenied);
}

TEST_F(FleetTest, RevokeOfAnUnknownAgentIsNotFound) {
  auto fleet = startFleet();
  EXPECT_EQ(fleet->revoke("ghost").code(), StatusCode::kNotFound);
  EXPECT_FALSE(fleet->isRevoked("ghost"));
}

TEST_F(FleetTest, AssignPushesToMatchingConnectedAgentsOnly) {
  pushBaseline("0123456789ab");
  for (const char* id : {"mx1", "mx2", "mx3", "sub1"}) registerAgent(id);
  FakeAgentSession mx1, mx2, mx3, sub1;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &mx1, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("mx2", &mx2, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("mx3", &mx3, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("sub1", &sub1, hello({{"role", "submission"}})).ok());
  fleet->detach("mx2", &mx2);              // known and selected, but offline
  ASSERT_TRUE(fleet->revoke("mx3").ok());  // selected, but revoked

  Result<Fleet::Assigned> matched = fleet->assign(assignment("0123456789ab", {{"role", "mx"}}));
  ASSERT_TRUE(matched.ok()) << matched.status().toString();
  EXPECT_GT(matched->id, 0);
  EXPECT_EQ(matched->matched, 2) << "mx1 and mx2 match; mx3 is revoked";

  ASSERT_EQ(mx1.assignments().size(), 1u);
  EXPECT_EQ(mx1.assignments()[0].baseline_name(), "hardening");
  EXPECT_EQ(mx1.assignments()[0].baseline_digest(), "0123456789ab");
  EXPECT_EQ(mx1.assignments()[0].content(), kBaselineContent);
  EXPECT_EQ(mx1.assignments()[0].mode(), v1::BASELINE_MODE_ENFORCE);
  EXPECT_THAT(mx2.assignments(), IsEmpty());
  EXPECT_THAT(mx3.assignments(), IsEmpty());
  EXPECT_THAT(sub1.assignments(), IsEmpty());

  // mx2 gets it on its next hello.
  FakeAgentSession mx2_again;
  ASSERT_TRUE(fleet->attach("mx2", &mx2_again, hello({{"role", "mx"}})).ok());
  ASSERT_EQ(mx2_again.assignments().size(), 1u);
  EXPECT_EQ(mx2_again.assignments()[0].baseline_digest(), "0123456789ab");

  Result<std::vector<store::AssignmentRecord>> stored = store_->listAssignments();
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 1u);
}

TEST_F(FleetTest, AssignPushesOnlyWhereItBecomesEffective) {
  pushBaseline("aaaaaaaaaaaa", "name: hardening\nversion: \"1\"\n");
  pushBaseline("bbbbbbbbbbbb", "name: hardening\nversion: \"2\"\n");
  for (const char* id : {"mx1", "sub1"}) registerAgent(id);
  FakeAgentSession mx1, sub1;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &mx1, hello({{"role", "mx"}})).ok());
  ASSERT_TRUE(fleet->attach("sub1", &sub1, hello({{"role", "submission"}})).ok());

  Result<Fleet::Assigned> everyone = fleet->assign(assignment("aaaaaaaaaaaa", {}));
  ASSERT_TRUE(everyone.ok()) << everyone.status().toString();
  EXPECT_EQ(everyone->matched, 2);
  EXPECT_EQ(mx1.assignments().size(), 1u);
  EXPECT_EQ(sub1.assignments().size(), 1u);

  Result<Fleet::Assigned> detect =
      fleet->assign(assignment("bbbbbbbbbbbb", {{"role", "submission"}}, store::Mode::kDetect));
  ASSERT_TRUE(detect.ok()) << detect.status().toString();
  EXPECT_EQ(detect->matched, 1);
  EXPECT_GT(detect->id, everyone->id);
  EXPECT_EQ(mx1.assignments().size(), 1u) << "mx1's effective assignment did not change";
  ASSERT_EQ(sub1.assignments().size(), 2u);
  EXPECT_EQ(sub1.assignments()[1].baseline_digest(), "bbbbbbbbbbbb");
  EXPECT_EQ(sub1.assignments()[1].mode(), v1::BASELINE_MODE_DETECT);
}

// An assignment made while an agent is between "picked its assignment" and "registered its
// session" must still reach it: either attach sees the new assignment or assign sees the
// session. Here attach is held at its baseline read while assign runs.
TEST_F(FleetTest, AssignmentMadeWhileAnAgentAttachesIsNotLost) {
  pushBaseline("aaaaaaaaaaaa", "name: hardening\nversion: \"1\"\n");
  pushBaseline("bbbbbbbbbbbb", "name: hardening\nversion: \"2\"\n");
  ASSERT_TRUE(store_->addAssignment(assignment("aaaaaaaaaaaa", {})).ok());
  registerAgent("mx1");
  PausingStore pausing(*store_);
  FakeAgentSession session;
  Fleet fleet(pausing, fleetOptions());
  ASSERT_TRUE(fleet.start().ok());

  pausing.pauseNextGetBaseline();
  Status attached;
  std::thread attacher([&] { attached = fleet.attach("mx1", &session, hello()); });
  ASSERT_TRUE(pausing.waitUntilPaused()) << "attach never read the baseline";
  std::atomic<bool> assign_done{false};
  Result<Fleet::Assigned> matched = InternalError("not run");
  std::thread assigner([&] {
    matched = fleet.assign(assignment("bbbbbbbbbbbb", {}));
    assign_done = true;
  });
  // A fixed Fleet may make assign wait for attach; give it a moment either way.
  eventually([&] { return assign_done.load(); }, 300ms);
  pausing.resume();
  attacher.join();
  assigner.join();
  ASSERT_TRUE(attached.ok()) << attached.toString();
  ASSERT_TRUE(matched.ok()) << matched.status().toString();
  EXPECT_EQ(matched->matched, 1);

  std::vector<v1::Assignment> got = session.assignments();
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().baseline_digest(), "bbbbbbbbbbbb")
      << "the agent was left on the older assignment (" << got.size() << " pushed)";
}

TEST_F(FleetTest, AssignOfAnUnknownBaselineIsNotFound) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  Result<Fleet::Assigned> matched = fleet->assign(assignment("ffffffffffff", {}));
  ASSERT_FALSE(matched.ok());
  EXPECT_EQ(matched.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(session.assignments(), IsEmpty());
}

TEST_F(FleetTest, CommandReachesAConnectedAgent) {
  registerAgent("mx1");
  FakeAgentSession session;
  auto fleet = startFleet();
  v1::Command command;
  command.set_kind(v1::Command::KIND_VERIFY_NOW);
  Status offline = fleet->command("mx1", command);
  EXPECT_EQ(offline.code(), StatusCode::kUnavailable) << offline.toString();
  EXPECT_EQ(fleet->command("never-heard-of", command).code(), StatusCode::kUnavailable);

  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  ASSERT_TRUE(fleet->command("mx1", command).ok());
  ASSERT_EQ(session.commands().size(), 1u);
  EXPECT_EQ(session.commands()[0].kind(), v1::Command::KIND_VERIFY_NOW);
}

// ---------------------------------------------------------------------------------------
// sequence epochs

v1::AgentMessage epochReport(uint64_t epoch, uint64_t seq) {
  v1::AgentMessage m = stateReport(seq);
  m.set_seq_epoch(epoch);
  return m;
}

// A reinstalled agent (state directory wiped, approved, enrolled again) has a new outbox: its
// first reports number far below what the controller stored from the old install, and must
// be stored all the same.
TEST_F(FleetTest, AReinstalledAgentsNewEpochIsStoredNotTakenForRedeliveries) {
  registerAgent("mx1");
  auto fleet = startFleet();
  constexpr uint64_t kOld = 0x1111, kNew = 0x2222;
  {
    FakeAgentSession old_install;
    v1::Hello h = hello();
    h.set_seq_epoch(kOld);
    ASSERT_TRUE(fleet->attach("mx1", &old_install, h).ok());
    ASSERT_TRUE(fleet->report("mx1", epochReport(kOld, 1'700'000'000'000'000)).ok());
    ASSERT_TRUE(eventually([&] { return old_install.ackCount(1'700'000'000'000'000) == 1; }));
    fleet->detach("mx1", &old_install);
  }
  FakeAgentSession reinstalled;
  v1::Hello h = hello();
  h.set_seq_epoch(kNew);
  ASSERT_TRUE(fleet->attach("mx1", &reinstalled, h).ok());
  // Nothing of the new outbox is stored yet: the hello's ack says so, for its epoch.
  EXPECT_THAT(reinstalled.epochAcks(), ElementsAre(std::pair<uint64_t, uint64_t>{kNew, 0}));
  ASSERT_TRUE(fleet->report("mx1", epochReport(kNew, 1)).ok());
  ASSERT_TRUE(fleet->report("mx1", epochReport(kNew, 2)).ok());
  ASSERT_TRUE(eventually([&] { return reinstalled.ackCount(2) == 1; }));
  EXPECT_EQ(fleet->stats().reports_stored, 3u);
  EXPECT_EQ(fleet->stats().reports_duplicate, 0u);
  EXPECT_EQ(historyRows("mx1", "state"), 3);
  Result<store::AgentRecord> agent = store_->getAgent("mx1");
  ASSERT_TRUE(agent.ok());
  EXPECT_EQ(agent->seq_epoch, kNew);
  EXPECT_EQ(agent->last_seq, 2u);
}

TEST_F(FleetTest, AHelloOfTheSameEpochIsAckedWhatIsStored) {
  registerAgent("mx1");
  auto fleet = startFleet();
  FakeAgentSession first;
  v1::Hello h = hello();
  h.set_seq_epoch(9);
  ASSERT_TRUE(fleet->attach("mx1", &first, h).ok());
  ASSERT_TRUE(fleet->report("mx1", epochReport(9, 40)).ok());
  ASSERT_TRUE(eventually([&] { return first.ackCount(40) == 1; }));
  FakeAgentSession second;
  ASSERT_TRUE(fleet->attach("mx1", &second, h).ok());
  EXPECT_THAT(second.epochAcks(), ElementsAre(std::pair<uint64_t, uint64_t>{9, 40}));
}

// One report with a huge seq used to become last_seq, and every later report of the agent
// was dropped as a redelivery, for good.
TEST_F(FleetTest, AnAbsurdSeqJumpIsRefusedAndLaterReportsStillCount) {
  registerAgent("mx1");
  auto fleet = startFleet();
  FakeAgentSession session;
  v1::Hello h = hello();
  h.set_seq_epoch(5);
  ASSERT_TRUE(fleet->attach("mx1", &session, h).ok());
  ASSERT_TRUE(fleet->report("mx1", epochReport(5, 10)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(10) == 1; }));
  const uint64_t huge = 10 + (uint64_t{1} << 40);
  ASSERT_TRUE(fleet->report("mx1", epochReport(5, huge)).ok());  // refused when written
  ASSERT_TRUE(eventually([&] { return session.closedWith().has_value(); }));
  EXPECT_EQ(session.closedWith()->code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(session.ackCount(huge), 0u);
  EXPECT_FALSE(fleet->connected("mx1"));
  EXPECT_EQ(store_->getAgent("mx1")->last_seq, 10u);

  FakeAgentSession again;
  ASSERT_TRUE(fleet->attach("mx1", &again, h).ok());
  ASSERT_TRUE(fleet->report("mx1", epochReport(5, 11)).ok());
  ASSERT_TRUE(eventually([&] { return again.ackCount(11) == 1; }));
  EXPECT_EQ(store_->getAgent("mx1")->last_seq, 11u);
}

TEST_F(FleetTest, AReportWithTextThatIsNotUtf8IsRefusedBeforeItIsQueued) {
  registerAgent("mx1");
  auto fleet = startFleet();
  FakeAgentSession session;
  ASSERT_TRUE(fleet->attach("mx1", &session, hello()).ok());
  v1::AgentMessage bad = stateReport(3);
  bad.mutable_state()->set_detail("rolled back: \xff");
  Status refused = fleet->report("mx1", bad);
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("not valid UTF-8"));
  ASSERT_TRUE(fleet->report("mx1", stateReport(4)).ok());
  ASSERT_TRUE(eventually([&] { return session.ackCount(4) == 1; }));
  EXPECT_EQ(fleet->stats().reports_stored, 1u);
}

// ---------------------------------------------------------------------------------------
// baseline delete, simulator

TEST_F(FleetTest, DeletingABaselineIsRefusedWhileAssignedAndForgetsDeadAssignments) {
  pushBaseline("aaaa00000000");
  pushBaseline("bbbb00000000", std::string(kBaselineContent) + "# b\n");
  auto fleet = startFleet();
  ASSERT_TRUE(fleet->assign(assignment("aaaa00000000", {{"site", "fra"}})).ok());
  auto refused = fleet->deleteBaseline("hardening", "aaaa");
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(fleet->assign(assignment("bbbb00000000", {})).ok());
  auto deleted = fleet->deleteBaseline("hardening", "aaaa");
  ASSERT_TRUE(deleted.ok()) << deleted.status().toString();
  EXPECT_EQ(*deleted, "aaaa00000000");
  // An agent attaching now gets the live assignment, and nothing logs an unreadable baseline.
  registerAgent("mx1");
  FakeAgentSession session;
  ASSERT_TRUE(fleet->attach("mx1", &session, hello({{"site", "fra"}})).ok());
  ASSERT_EQ(session.assignments().size(), 1u);
  EXPECT_EQ(session.assignments()[0].baseline_digest(), "bbbb00000000");
}

TEST_F(FleetTest, TheSimulatorCannotAttachAsAnAgentEnrolledForReal) {
  ASSERT_TRUE(store_
                  ->createToken({.id = "t",
                                 .secret_sha256 = std::string(64, 'a'),
                                 .expires_at = clock_.load() + 60'000,
                                 .uses_left = 1})
                  .ok());
  auto fleet = startFleet();
  ASSERT_TRUE(fleet
                  ->enroll({.token_id = "t",
                            .secret_sha256 = std::string(64, 'a'),
                            .agent_id = "sim-real",
                            .hostname = "sim-real",
                            .now = clock_.load()})
                  .ok());
  FakeAgentSession session;
  Status attached = fleet->attach("sim-real", &session, hello(), /*simulated=*/true);
  EXPECT_EQ(attached.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(fleet->connected("sim-real"));
  EXPECT_THAT(session.messages(), IsEmpty());
  EXPECT_EQ(store_->getAgent("sim-real")->hostname, "sim-real");  // the hello was not recorded
}

}  // namespace
}  // namespace postwarden::controller::core
