// `rollout show --watch`: the per-wave counts, the terminal drawing with its progress bars,
// the line per change without a terminal, and the loop (runCommand against a mock stub with
// an injected sleep) that ends when the rollout has settled.
#include "controller/ctl/render_rollouts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "controller/ctl/commands.h"
#include "tests/unit/controller/ctl/mock_operator_stub.h"

namespace postwarden::controller::ctl {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using testing::MockOperatorServiceStub;
using ::testing::Not;

constexpr int64_t kNow = 1714564800000;

// wave 1 (canary, 2 hosts) and wave 2 (4 hosts), hosts in the given phases.
v1::RolloutRecord record(const std::string& phase, const std::vector<std::string>& wave1,
                         const std::vector<std::string>& wave2, int current_wave = 1) {
  v1::RolloutRecord r;
  r.set_id("tls-1");
  r.set_baseline_name("tls");
  r.set_target_digest("abc123");
  r.set_phase(phase);
  r.set_current_wave(static_cast<uint32_t>(current_wave));
  v1::RolloutWave* w1 = r.add_waves();
  w1->set_description("canary 2");
  w1->set_status(current_wave > 0 ? "passed" : "running");
  v1::RolloutWave* w2 = r.add_waves();
  w2->set_description("percent 100");
  w2->set_status(phase == "completed" ? "passed" : current_wave == 1 ? "running" : "waiting");
  int n = 0;
  for (const auto& [wave, phases] : {std::pair{0, wave1}, {1, wave2}}) {
    for (const std::string& p : phases) {
      v1::RolloutHost* h = r.add_hosts();
      h->set_id("mx" + std::to_string(++n));
      h->set_wave(wave);
      h->set_phase(p);
    }
  }
  return r;
}

TEST(RolloutProgressTest, CountsEachWavesHostsByPhase) {
  const auto waves = waveProgress(
      record("running", {"done", "done"}, {"pending", "dispatched", "soaking", "rolled_back"}));
  ASSERT_EQ(waves.size(), 2u);
  EXPECT_EQ(waves[0].done, 2);
  EXPECT_EQ(waves[0].total, 2);
  // A pending host of the running wave of a running rollout starts at the next step.
  EXPECT_EQ(waves[1].in_window, 1);
  EXPECT_EQ(waves[1].pending, 0);
  EXPECT_EQ(waves[1].changing, 1);
  EXPECT_EQ(waves[1].soaking, 1);
  EXPECT_EQ(waves[1].rolled_back, 1);
  EXPECT_EQ(waves[1].total, 4);
}

TEST(RolloutProgressTest, ASummaryIsCountedFromThePhaseCountsNotItsFewHosts) {
  v1::RolloutRecord r = record("running", {}, {"dispatched"});
  (*r.mutable_waves(0)->mutable_phase_counts())["done"] = 2;
  auto& counts = *r.mutable_waves(1)->mutable_phase_counts();
  counts["pending"] = 3000;
  counts["dispatched"] = 1;
  counts["done"] = 46999;
  const auto waves = waveProgress(r);
  EXPECT_EQ(waves[0].done, 2);
  EXPECT_EQ(waves[1].in_window, 3000);
  EXPECT_EQ(waves[1].changing, 1);
  EXPECT_EQ(waves[1].done, 46999);
  EXPECT_EQ(waves[1].total, 50000);
}

TEST(RolloutProgressTest, PendingHostsOfAPausedRolloutWaitForTheirWindow) {
  const auto waves = waveProgress(record("paused", {"done", "done"}, {"pending", "pending"}));
  EXPECT_EQ(waves[1].pending, 2);
  EXPECT_EQ(waves[1].in_window, 0);
}

TEST(RolloutProgressTest, DrawsABarPerWaveForATerminal) {
  const std::string text = renderRolloutProgress(
      record("running", {"done", "done"}, {"done", "failed", "soaking", "dispatched"}),
      {kNow, false}, 80);
  EXPECT_THAT(text, HasSubstr("rollout tls-1: tls@abc123  running"));
  EXPECT_THAT(text, HasSubstr("wave 1 canary 2  passed"));
  // Wave 2: 1 of 4 done ('#'), 1 failed ('x'), 2 still going ('-'), 2 of 4 settled.
  const size_t wave2 = text.find("wave 2 percent 100");
  ASSERT_NE(wave2, std::string::npos);
  const std::string bar =
      text.substr(text.find('[', wave2), text.find(']', wave2) - text.find('[', wave2) + 1);
  const size_t cells = bar.size() - 2;
  EXPECT_EQ(std::count(bar.begin(), bar.end(), '#'), static_cast<long>(cells / 4));
  EXPECT_EQ(std::count(bar.begin(), bar.end(), 'x'), static_cast<long>(cells / 4));
  EXPECT_THAT(text, HasSubstr("] 2/4"));
  EXPECT_THAT(text, HasSubstr("pending 0, in window 0, changing 1, soaking 1, done 1, failed "
                              "1, rolled back 0"));
}

TEST(RolloutProgressTest, TheLineSaysPhaseWaveAndCountsAndTheJsonTheSame) {
  const v1::RolloutRecord r = record("halted", {"done", "failed"}, {}, 0);
  EXPECT_EQ(rolloutProgressLine(r),
            "tls-1 halted wave 1/2; wave 1 running: pending 0, in window 0, changing 0, soaking 0, "
            "done 1, failed 1, rolled back 0; wave 2 waiting: pending 0, in window 0, changing "
            "0, soaking 0, done 0, failed 0, rolled back 0\n");
  EXPECT_THAT(rolloutProgressJson(r),
              HasSubstr("{\"description\":\"canary 2\",\"status\":\"running\",\"pending\":0,"
                        "\"in_window\":0,\"changing\":0,\"soaking\":0,\"done\":1,\"failed\":1,"
                        "\"rolled_back\":0,\"total\":2}"));
}

TEST(RolloutProgressTest, SettledWhenCompletedAbortedOrHaltedWithNothingInFlight) {
  EXPECT_TRUE(rolloutSettled(record("completed", {"done"}, {"done"})));
  EXPECT_TRUE(rolloutSettled(record("aborted", {"rolled_back"}, {})));
  EXPECT_TRUE(rolloutSettled(record("halted", {"failed"}, {"pending"})));
  EXPECT_FALSE(rolloutSettled(record("halted", {"failed"}, {"dispatched"})));
  EXPECT_FALSE(rolloutSettled(record("halted", {"rolling_back"}, {})));
  EXPECT_FALSE(rolloutSettled(record("running", {"done"}, {"soaking"})));
}

class WatchTest : public ::testing::Test {
 protected:
  int watch(bool terminal, bool json) {
    CommandContext ctx{.out = out_,
                       .err = err_,
                       .json = json,
                       .now_unix_ms = [] { return kNow; },
                       .terminal = terminal,
                       .sleep = [this](std::chrono::milliseconds) { ++sleeps_; }};
    RolloutCommand command{.action = RolloutCommand::Action::kShow, .id = "tls-1", .watch = true};
    return runCommand(Command(command), stub_, ctx);
  }
  // The replies of successive GetRollout calls.
  void replies(std::vector<v1::RolloutRecord> records) {
    auto shared = std::make_shared<std::vector<v1::RolloutRecord>>(std::move(records));
    auto next = std::make_shared<size_t>(0);
    EXPECT_CALL(stub_, GetRollout(_, _, _))
        .Times(static_cast<int>(shared->size()))
        .WillRepeatedly([shared, next](grpc::ClientContext*, const v1::RolloutRequest& request,
                                       v1::RolloutRecord* out) {
          EXPECT_EQ(request.id(), "tls-1");
          EXPECT_TRUE(request.summary());  // --watch asks for the waves' counts, not every host
          *out = (*shared)[(*next)++];
          return grpc::Status::OK;
        });
  }

  std::ostringstream out_, err_;
  int sleeps_ = 0;
  MockOperatorServiceStub stub_;
};

TEST_F(WatchTest, WithoutATerminalPrintsALinePerChangeUntilCompleted) {
  const v1::RolloutRecord soaking = record("running", {"soaking", "soaking"}, {"pending"}, 0);
  replies({soaking, soaking, record("running", {"done", "done"}, {"dispatched"}),
           record("completed", {"done", "done"}, {"done"})});
  EXPECT_EQ(watch(false, false), kExitOk);
  const std::string text = out_.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3) << text;  // the repeat is not printed
  EXPECT_THAT(text, HasSubstr("tls-1 completed"));
  EXPECT_THAT(text, Not(HasSubstr("\033[")));
  EXPECT_EQ(sleeps_, 3);
}

TEST_F(WatchTest, AHaltedRolloutEndsTheWatchWithExitTwoAndJsonLines) {
  replies({record("halted", {"failed", "done"}, {"pending"}, 0)});
  EXPECT_EQ(watch(false, true), kExitUnhealthy);
  EXPECT_THAT(out_.str(), HasSubstr("{\"id\":\"tls-1\",\"phase\":\"halted\""));
  EXPECT_EQ(sleeps_, 0);
}

TEST_F(WatchTest, OnATerminalRedrawsTheScreenEachSecond) {
  replies({record("running", {"done", "done"}, {"soaking"}),
           record("completed", {"done", "done"}, {"done"})});
  EXPECT_EQ(watch(true, false), kExitOk);
  const std::string text = out_.str();
  size_t clears = 0;
  for (size_t at = text.find("\033[H\033[2J"); at != std::string::npos;
       at = text.find("\033[H\033[2J", at + 1)) {
    ++clears;
  }
  EXPECT_EQ(clears, 2u);
  EXPECT_THAT(text, HasSubstr("wave 2 percent 100"));
}

TEST_F(WatchTest, AFailedCallEndsTheWatchWithTheError) {
  EXPECT_CALL(stub_, GetRollout(_, _, _))
      .WillOnce(::testing::Return(grpc::Status(grpc::StatusCode::NOT_FOUND, "no rollout 'tls-1'")));
  EXPECT_EQ(watch(false, false), kExitError);
  EXPECT_THAT(err_.str(), HasSubstr("no rollout 'tls-1'"));
}

}  // namespace
}  // namespace postwarden::controller::ctl
