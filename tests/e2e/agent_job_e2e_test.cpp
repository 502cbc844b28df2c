// e2e: a real agent daemon on its own Postfix sandbox takes rollout jobs (issue 9, the agent's
// side). The agent is enrolled by a real controller, which is then replaced on its port by a
// scripted controller in this test (the same server certificate, mutual TLS): it sends
// assignments with RolloutJobs and records every report. Checked: a job outside its windows
// by the agent's own clock is refused with OUTCOME_OUTSIDE_WINDOW and nothing adopted; a job
// inside its window is applied and reported with its job id; while it soaks, health reports
// come every check interval with the figures Postfix really shows (a message that defers
// grows the deferred queue); the soak ends; the same job id again is answered with its report
// and runs nothing.
#include <absl/time/clock.h>
#include <absl/time/time.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "common/os/process_command_runner.h"
#include "common/proto_time.h"
#include "common/sha256.h"
#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A controller that only speaks AgentService.Connect: it records what the agent sends, acks
// durable reports, and sends what the test tells it to the connected agent.
class ScriptedController final : public v1::AgentService::Service {
 public:
  grpc::Status Connect(
      grpc::ServerContext* /*context*/,
      grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream) override {
    {
      std::lock_guard lock(mutex_);
      stream_ = stream;
    }
    v1::AgentMessage message;
    while (stream->Read(&message)) {
      {
        std::lock_guard lock(mutex_);
        received_.push_back(message);
      }
      if (message.seq() != 0) {
        v1::ControllerMessage ack;
        ack.mutable_ack()->set_acked_seq(message.seq());
        ack.mutable_ack()->set_acked_epoch(message.seq_epoch());
        std::lock_guard write(write_mutex_);
        stream->Write(ack);
      }
    }
    std::lock_guard lock(mutex_);
    stream_ = nullptr;
    return grpc::Status::OK;
  }
  grpc::Status Renew(grpc::ServerContext*, const v1::RenewRequest*, v1::RenewResponse*) override {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "scripted controller renews nothing");
  }

  bool connected() {
    std::lock_guard lock(mutex_);
    return stream_ != nullptr;
  }
  bool send(const v1::ControllerMessage& message) {
    std::lock_guard lock(mutex_);
    if (!stream_) return false;
    std::lock_guard write(write_mutex_);
    return stream_->Write(message);
  }
  std::vector<v1::StateReport> states() {
    std::lock_guard lock(mutex_);
    std::vector<v1::StateReport> out;
    for (const v1::AgentMessage& m : received_) {
      if (m.has_state()) out.push_back(m.state());
    }
    return out;
  }
  std::vector<v1::StateReport> statesOf(const std::string& job_id) {
    std::vector<v1::StateReport> out;
    for (v1::StateReport& s : states()) {
      if (s.job_id() == job_id) out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::mutex write_mutex_;
  grpc::ServerReaderWriter<v1::ControllerMessage, v1::AgentMessage>* stream_ = nullptr;
  std::vector<v1::AgentMessage> received_;
};

v1::ControllerMessage assignment(const std::string& content, const std::string& job_id,
                                 const std::vector<std::string>& windows,
                                 std::chrono::seconds soak) {
  v1::ControllerMessage message;
  v1::Assignment* a = message.mutable_assignment();
  a->set_baseline_name("smtp-auth-hardening");
  a->set_baseline_digest(sha256Hex(content).substr(0, 12));
  a->set_content(content);
  a->set_mode(v1::BASELINE_MODE_ENFORCE);
  v1::RolloutJob* job = a->mutable_job();
  job->set_job_id(job_id);
  job->set_rollout_id("ro-e2e");
  for (const std::string& w : windows) job->add_windows(w);
  job->mutable_soak()->set_seconds(soak.count());
  return message;
}

// A weekly UTC window that is surely closed now: tomorrow's whole day.
std::string closedWindow() {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  const int tomorrow = (static_cast<int>(absl::GetWeekday(today)) + 1) % 7;
  return std::string(kDays[tomorrow]) + " 00:00-24:00 UTC";
}

class AgentJobE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-agentjob-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_);
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
    Result<std::string> token = controller_->createToken({});
    ASSERT_TRUE(token.ok()) << token.status().message();
    Result<std::unique_ptr<FleetAgent>> agent = FleetAgent::enrollAndStart(
        *controller_, *token, {.id = "job.test", .check_interval = "2s"});
    ASSERT_TRUE(agent.ok()) << agent.status().message();
    agent_ = std::move(agent).value();
    // Up and connected (its signal handlers in place), then the real controller steps aside
    // and the scripted one takes its port and certificate.
    ASSERT_TRUE(eventually([&] {
      Result<v1::AgentSummary> summary = controller_->agent("job.test");
      return summary.ok() && summary->connected();
    })) << agent_->log();
    EXPECT_EQ(agent_->stop(), 0) << agent_->log();
    EXPECT_EQ(controller_->stop(), 0) << controller_->log();
    grpc::SslServerCredentialsOptions mtls(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    mtls.pem_root_certs = readFileText(controller_->caFile());
    mtls.pem_key_cert_pairs.push_back({readFileText(controller_->dataDir() + "/server.key"),
                                       readFileText(controller_->dataDir() + "/server.crt")});
    grpc::ServerBuilder builder;
    builder.AddListeningPort(controller_->address(), grpc::SslServerCredentials(mtls));
    builder.RegisterService(&scripted_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_TRUE(agent_->restart().ok());
    ASSERT_TRUE(eventually([&] { return scripted_.connected(); }, 30s)) << agent_->log();
  }

  void TearDown() override {
    if (agent_) {
      EXPECT_EQ(agent_->stop(), 0) << agent_->log();
    }
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 2s);
    if (HasFailure() && agent_) std::cerr << "--- agent log ---\n" << agent_->log();
    agent_.reset();
    controller_.reset();
    fs::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<FleetAgent> agent_;
  ScriptedController scripted_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(AgentJobE2eTest, OutsideItsWindowNothingIsAdoptedAndTheReportSaysWhy) {
  const std::string content = readFileText(kHardening);
  const std::string main_cf_before = readFileText(agent_->sandbox().mainCfPath());
  const std::string window = closedWindow();
  ASSERT_TRUE(scripted_.send(assignment(content, "job-closed", {window}, 0s)));
  ASSERT_TRUE(eventually([&] { return !scripted_.statesOf("job-closed").empty(); }, 20s));
  const v1::StateReport report = scripted_.statesOf("job-closed").front();
  EXPECT_EQ(report.outcome(), v1::OUTCOME_OUTSIDE_WINDOW);
  EXPECT_EQ(report.detail().rfind(
                "outside its maintenance window " + window + " by its own clock at 20", 0),
            0u)
      << report.detail();
  EXPECT_EQ(report.baseline_digest(), "") << "the report names what the agent runs: nothing";
  // Nothing adopted: no cached assignment, main.cf untouched, and no state about the baseline.
  std::this_thread::sleep_for(3s);  // a check interval and more
  EXPECT_FALSE(fs::exists(agent_->stateDir() + "/assignment.pb"));
  EXPECT_EQ(readFileText(agent_->sandbox().mainCfPath()), main_cf_before);
  for (const v1::StateReport& s : scripted_.states()) {
    EXPECT_NE(s.baseline_name(), "smtp-auth-hardening") << s.ShortDebugString();
  }
}

TEST_F(AgentJobE2eTest, InsideItsWindowTheJobRunsSoaksWithRealFiguresAndIsOneJob) {
  // Deliveries from this host defer from now on (relayed to a loopback port nobody serves).
  PostfixSandbox& sandbox = agent_->sandbox();
  const int closed_port = freeLoopbackPort();
  ASSERT_NE(closed_port, 0);
  ASSERT_TRUE(sandbox
                  .postconf({"default_transport=smtp",
                             "relayhost=[127.0.0.1]:" + std::to_string(closed_port)})
                  .ok());
  ASSERT_TRUE(sandbox.reload().ok());

  const std::string content = readFileText(kHardening);
  const auto sent_at = std::chrono::system_clock::now();
  ASSERT_TRUE(scripted_.send(assignment(content, "job-open", {"daily 00:00-24:00 UTC"}, 10s)));
  ASSERT_TRUE(eventually([&] { return !scripted_.statesOf("job-open").empty(); }, 60s))
      << agent_->log();
  const v1::StateReport result = scripted_.statesOf("job-open").front();
  EXPECT_EQ(result.outcome(), v1::OUTCOME_REPAIRED) << result.ShortDebugString();
  EXPECT_EQ(result.compliance(), v1::COMPLIANCE_COMPLIANT);
  EXPECT_EQ(result.baseline_digest(), sha256Hex(content).substr(0, 12));
  EXPECT_FALSE(result.has_health());
  EXPECT_TRUE(fs::exists(agent_->stateDir() + "/assignment.pb"));

  // A message that defers, during the soak.
  os::ProcessCommandRunner runner;
  Result<os::CommandResult> sent =
      runner.run({.argv = {internal::findProgram("sendmail"), "-f", "sender@postwarden.test",
                           "someone@remote.example"},
                  .timeout = 30s,
                  .extra_env = {{"MAIL_CONFIG", sandbox.configDir()}},
                  .stdin_data = "Subject: soak\n\nThis one defers.\n"});
  ASSERT_TRUE(sent.ok()) << sent.status().message();
  ASSERT_EQ(sent->exit_code, 0) << sent->stderr_data;

  auto healthReports = [&] {
    std::vector<v1::StateReport> out;
    for (v1::StateReport& s : scripted_.statesOf("job-open")) {
      if (s.has_health()) out.push_back(std::move(s));
    }
    return out;
  };
  // The soak lasts 10 s from the change: reports every 2 s, then a final one.
  ASSERT_TRUE(eventually(
      [&] {
        std::vector<v1::StateReport> h = healthReports();
        return !h.empty() && unixMs(h.back().observed_at()) >=
                                 std::chrono::duration_cast<std::chrono::milliseconds>(
                                     (sent_at + 10s).time_since_epoch())
                                     .count();
      },
      40s))
      << agent_->log();
  std::this_thread::sleep_for(5s);  // the soak is over: no more health reports
  const std::vector<v1::StateReport> health = healthReports();
  EXPECT_GE(health.size(), 4u) << "every 2 s over 10 s, and the final one";
  EXPECT_LE(health.size(), 7u);
  bool grew = false;
  for (const v1::StateReport& h : health) {
    EXPECT_TRUE(h.health().log_readable()) << h.ShortDebugString();
    EXPECT_GE(
        h.health().since().seconds(),
        std::chrono::duration_cast<std::chrono::seconds>(sent_at.time_since_epoch()).count() - 1);
    EXPECT_EQ(h.health().fatal_lines(), 0) << h.ShortDebugString();
    EXPECT_EQ(h.outcome(), v1::OUTCOME_UNSPECIFIED);
    EXPECT_EQ(h.baseline_digest(), result.baseline_digest());
    if (h.health().deferred_growth() == 1 && h.health().deferred_queue() == 1) grew = true;
  }
  EXPECT_TRUE(grew) << "the deferred message shows in the figures";
  std::cout << "health reports: " << health.size()
            << ", last: " << health.back().health().ShortDebugString() << "\n";
  EXPECT_EQ(health.back().health().deferred_growth(), 1) << health.back().ShortDebugString();

  // The same job again: its report, and no second transaction.
  const size_t before = scripted_.statesOf("job-open").size();
  ASSERT_TRUE(scripted_.send(assignment(content, "job-open", {"daily 00:00-24:00 UTC"}, 10s)));
  ASSERT_TRUE(eventually([&] { return scripted_.statesOf("job-open").size() == before + 1; }, 20s));
  const v1::StateReport again = scripted_.statesOf("job-open").back();
  EXPECT_EQ(again.outcome(), v1::OUTCOME_REPAIRED);
  EXPECT_EQ(again.baseline_digest(), result.baseline_digest());
  EXPECT_NE(agent_->log().find("rollout job 'job-open' seen before"), std::string::npos)
      << agent_->log();
}

TEST_F(AgentJobE2eTest, ARestartedDaemonContinuesTheSoakAndKnowsTheJob) {
  const std::string content = readFileText(kHardening);
  ASSERT_TRUE(scripted_.send(assignment(content, "job-restart", {"daily 00:00-24:00 UTC"}, 12s)));
  ASSERT_TRUE(eventually([&] { return !scripted_.statesOf("job-restart").empty(); }, 60s))
      << agent_->log();
  const v1::StateReport result = scripted_.statesOf("job-restart").front();
  ASSERT_EQ(result.outcome(), v1::OUTCOME_REPAIRED) << result.ShortDebugString();

  ASSERT_TRUE(agent_->restart().ok());
  const size_t before_restart = scripted_.statesOf("job-restart").size();
  auto health = [&](size_t from) {
    std::vector<v1::StateReport> out;
    std::vector<v1::StateReport> all = scripted_.statesOf("job-restart");
    for (size_t i = from; i < all.size(); ++i) {
      if (all[i].has_health()) out.push_back(all[i]);
    }
    return out;
  };
  // Health reports go on after the restart, counted from the same change, until the end.
  ASSERT_TRUE(eventually([&] { return health(before_restart).size() >= 2; }, 40s)) << agent_->log();
  const std::vector<v1::StateReport> first = health(0);
  ASSERT_FALSE(first.empty());
  for (const v1::StateReport& h : health(before_restart)) {
    EXPECT_EQ(h.health().since().seconds(), first.front().health().since().seconds());
    EXPECT_TRUE(h.health().log_readable());
  }
  std::this_thread::sleep_for(14s);  // past the soak's end
  const size_t after_end = health(0).size();
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(health(0).size(), after_end) << "no health report after the soak";
  EXPECT_NE(agent_->log().find("rollout job 'job-restart' still soaking"), std::string::npos);

  // The job is known after the restart: sent again, it is answered, not run.
  const size_t known = scripted_.statesOf("job-restart").size();
  ASSERT_TRUE(scripted_.send(assignment(content, "job-restart", {"daily 00:00-24:00 UTC"}, 12s)));
  ASSERT_TRUE(eventually([&] { return scripted_.statesOf("job-restart").size() > known; }, 20s));
  EXPECT_EQ(scripted_.statesOf("job-restart").back().outcome(), v1::OUTCOME_REPAIRED);
  EXPECT_FALSE(scripted_.statesOf("job-restart").back().has_health());
}

}  // namespace
}  // namespace postwarden::testing
