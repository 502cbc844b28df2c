// End-to-end: maintenance-window rollouts on real processes. A controller (SQLite, mTLS),
// agent daemons each on its own isolated Postfix, postwardenctl, real time with short soaks:
// a good baseline goes canary -> rest (surviving a kill -9 of the controller mid-rollout), a
// baseline that passes the probe but defers every delivery is caught by the deferred-queue
// gate during the canary's soak and rolled back, a surge of SASL failures against the period
// before the change fails the canary, a closed window holds everything, and an approval is
// bound to another operator.
#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;

const std::string kBaseline = "smtp-auth-hardening";

// The hardening baseline with `extra` main.cf settings ("    name: value\n") and another label.
std::string hardeningWith(const std::string& extra, const std::string& label) {
  std::string text = readFileText(kHardening);
  const size_t set = text.find("\n  set:\n");
  text.insert(set + 8, extra);
  const size_t version = text.find("version: \"");
  text.replace(version, text.find('\n', version) - version, "version: \"" + label + "\"");
  return text;
}

// The 12-hex version `baseline push` printed for `name`.
std::string pushedVersion(const std::string& out, const std::string& name) {
  size_t at = out.find(name + "@");
  return at == std::string::npos ? "" : out.substr(at + name.size() + 1, 12);
}

// One message through the sandbox's SMTP listener to a local address (the sandbox discards
// it, or defers it when the discard transport is deferred). true when it was queued.
bool sendMail(int port, const std::string& hostname) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  timeval timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string transcript;
  auto reply = [&] {
    char buffer[4096];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) transcript.append(buffer, static_cast<size_t>(n));
    return n > 0;
  };
  auto say = [&](const std::string& line) {
    const std::string wire = line + "\r\n";
    return send(fd, wire.data(), wire.size(), MSG_NOSIGNAL) == ssize_t(wire.size()) && reply();
  };
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 && reply() &&
            say("HELO client.test") && say("MAIL FROM:<sender@client.test>") &&
            say("RCPT TO:<postmaster@" + hostname + ">") && say("DATA") &&
            say("Subject: rollout gate\r\n\r\nhello\r\n.");
  say("QUIT");
  close(fd);
  return ok && transcript.find("250 2.0.0 Ok: queued") != std::string::npos;
}

class RolloutE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-rollout-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_);
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
  }

  void TearDown() override {
    for (auto& a : agents_) a->stop();
    controller_->stop();
    if (HasFailure()) {
      std::cerr << "--- controller log ---\n" << controller_->log();
      for (auto& a : agents_) std::cerr << "--- agent " << a->id() << " log ---\n" << a->log();
    }
    agents_.clear();
    controller_.reset();
    fs::remove_all(dir_);
  }

  // Agents mx1..mxN on v1 of the hardening baseline, compliant.
  void startFleetOnV1(int count) {
    for (int i = 1; i <= count; ++i) {
      Result<std::string> token = controller_->createToken({{"role", "mx"}});
      ASSERT_TRUE(token.ok()) << token.status().message();
      Result<std::unique_ptr<FleetAgent>> agent = FleetAgent::enrollAndStart(
          *controller_, *token,
          {.id = "mx" + std::to_string(i), .check_interval = "5s", .heartbeat_interval = "1s"});
      ASSERT_TRUE(agent.ok()) << agent.status().message();
      agents_.push_back(std::move(agent).value());
    }
    std::string out;
    ASSERT_EQ(controller_->ctl({"baseline", "push", kHardening}, &out), 0) << out;
    v1_ = pushedVersion(out, kBaseline);
    ASSERT_EQ(
        controller_->ctl(
            {"baseline", "assign", kBaseline + "@" + v1_, "--mode", "enforce", "--yes"}, &out),
        0)
        << out;
    ASSERT_TRUE(eventually([&] {
      for (auto& a : agents_) {
        if (!runs(a->id(), v1_, v1::COMPLIANCE_COMPLIANT)) return false;
      }
      return true;
    })) << controller_->log();
  }

  std::string push(const std::string& content) {
    const std::string file = dir_ + "/baseline-" + std::to_string(++files_) + ".yaml";
    writeFileText(file, content);
    std::string out;
    EXPECT_EQ(controller_->ctl({"baseline", "push", file}, &out), 0) << out;
    return pushedVersion(out, kBaseline);
  }

  std::string specFile(const std::string& text) {
    const std::string file = dir_ + "/rollout-" + std::to_string(++files_) + ".yaml";
    writeFileText(file, text);
    return file;
  }

  bool runs(const std::string& id, const std::string& version, v1::Compliance compliance) {
    Result<v1::AgentSummary> a = controller_->agent(id);
    return a.ok() && a->baseline_digest() == version && a->compliance() == compliance;
  }

  // `rollout show ID --json`, parsed.
  v1::RolloutRecord show(const std::string& id) {
    std::string out;
    v1::RolloutRecord record;
    if (controller_->ctl({"rollout", "show", id, "--json"}, &out) == 0) {
      google::protobuf::util::JsonParseOptions options;
      EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(out, &record, options).ok()) << out;
    }
    return record;
  }
  bool phaseIs(const std::string& id, const std::string& phase) {
    return show(id).phase() == phase;
  }

  // The audit log of `id` as "action host" lines.
  std::vector<std::string> audit(const std::string& id) {
    auto stub = controller_->operatorStub();
    grpc::ClientContext context;
    v1::AuditRequest request;
    request.set_rollout_id(id);
    v1::AuditResponse response;
    EXPECT_TRUE(stub->Audit(&context, request, &response).ok());
    std::vector<std::string> lines;
    for (const v1::AuditEvent& e : response.events()) lines.push_back(e.action() + " " + e.host());
    return lines;
  }
  static int count(const std::vector<std::string>& lines, const std::string& line) {
    return static_cast<int>(std::count(lines.begin(), lines.end(), line));
  }
  static int indexOf(const std::vector<std::string>& lines, const std::string& line) {
    auto it = std::find(lines.begin(), lines.end(), line);
    return it == lines.end() ? -1 : static_cast<int>(it - lines.begin());
  }

  std::string create(const std::string& spec) {
    std::string out;
    EXPECT_EQ(controller_->ctl({"rollout", "create", "-f", specFile(spec), "--json"}, &out), 0)
        << out;
    v1::RolloutRecord record;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(out, &record).ok()) << out;
    return record.id();
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::vector<std::unique_ptr<FleetAgent>> agents_;
  std::string v1_;
  int files_ = 0;
};

constexpr char kHealth[] = R"(health:
  report_interval: 2s
  missed_reports: 5
  max_deferred_growth: 0
)";

TEST_F(RolloutE2eTest, AGoodBaselineGoesCanaryFirstThenTheRestAndSurvivesAControllerKill) {
  startFleetOnV1(3);
  const std::string v2 = push(hardeningWith("    smtpd_helo_required: yes\n", "3"));
  const std::string spec = "name: helo\nbaseline: " + kBaseline + "@" + v2 + R"(
windows: ["daily 00:00-24:00 UTC"]
waves:
  - canary: [mx1]
    soak: 6s
  - percent: 100
    soak: 3s
)" + kHealth;
  std::string out;
  ASSERT_EQ(controller_->ctl({"rollout", "plan", "-f", specFile(spec)}, &out), 0) << out;
  EXPECT_NE(out.find("canary [mx1]"), std::string::npos) << out;
  EXPECT_NE(out.find("+    smtpd_helo_required: yes"), std::string::npos) << out;

  const std::string id = create(spec);
  ASSERT_EQ(id, "helo-1");
  // The canary's soak has begun: kill -9 the controller and start it again.
  ASSERT_TRUE(eventually([&] { return count(audit(id), "start_soak mx1") == 1; }))
      << controller_->log();
  EXPECT_EQ(count(audit(id), "dispatch mx2"), 0);  // wave 2 waits for the soak
  controller_->kill9();
  ASSERT_TRUE(controller_->restart().ok());

  // `rollout show --watch` without a terminal: a line whenever something changed, and it ends
  // by itself (exit 0) once the rollout has completed.
  std::string watched;
  EXPECT_EQ(controller_->ctl({"rollout", "show", id, "--watch"}, &watched), 0) << watched;
  EXPECT_NE(watched.find("helo-1 running"), std::string::npos) << watched;
  EXPECT_NE(watched.find("helo-1 completed"), std::string::npos) << watched;
  EXPECT_EQ(watched.find("\033["), std::string::npos) << watched;  // no screen redraws
  ASSERT_TRUE(eventually([&] { return phaseIs(id, "completed"); }, std::chrono::seconds(90)))
      << controller_->log();
  for (auto& a : agents_) {
    EXPECT_TRUE(runs(a->id(), v2, v1::COMPLIANCE_COMPLIANT)) << a->id();
    EXPECT_NE(readFileText(a->sandbox().mainCfPath()).find("smtpd_helo_required = yes"),
              std::string::npos)
        << a->id();
  }
  const std::vector<std::string> events = audit(id);
  for (const char* host : {"mx1", "mx2", "mx3"}) {
    EXPECT_EQ(count(events, std::string("dispatch ") + host), 1) << host;  // no duplicate job
  }
  EXPECT_LT(indexOf(events, "mark_done mx1"), indexOf(events, "dispatch mx2"));
  EXPECT_EQ(count(events, "complete "), 1);
}

TEST_F(RolloutE2eTest, ABaselineThatDefersMailFailsTheCanarysSoakAndIsRolledBack) {
  startFleetOnV1(2);
  // Passes every probe (the probe sends no mail), but every delivery now waits in the queue.
  const std::string bad = push(hardeningWith("    defer_transports: discard\n", "3-bad"));
  const std::string id = create("name: defer\nbaseline: " + kBaseline + "@" + bad + R"(
anytime: true
waves:
  - canary: 1
    soak: 20s
  - percent: 100
)" + kHealth);
  ASSERT_TRUE(eventually([&] { return count(audit(id), "start_soak mx1") == 1; }))
      << controller_->log();
  FleetAgent& mx1 = *agents_[0];
  ASSERT_TRUE(sendMail(mx1.sandbox().port(), mx1.sandbox().hostname()));
  ASSERT_TRUE(sendMail(mx1.sandbox().port(), mx1.sandbox().hostname()));

  ASSERT_TRUE(eventually([&] { return count(audit(id), "rolled_back mx1") == 1; },
                         std::chrono::seconds(60)))
      << [&] {
           std::string out;
           controller_->ctl({"agent", "show", "mx1"}, &out);
           return out;
         }();
  const v1::RolloutRecord record = show(id);
  EXPECT_EQ(record.phase(), "halted");
  ASSERT_EQ(record.hosts_size(), 2);
  EXPECT_NE(record.hosts(0).failure().find("deferred growth"), std::string::npos)
      << record.hosts(0).failure();
  EXPECT_EQ(record.hosts(1).phase(), "pending");  // never dispatched
  EXPECT_EQ(count(audit(id), "dispatch mx2"), 0);
  EXPECT_TRUE(eventually([&] { return runs("mx1", v1_, v1::COMPLIANCE_COMPLIANT); }));
  EXPECT_EQ(readFileText(mx1.sandbox().mainCfPath()).find("defer_transports"), std::string::npos);
}

// The traffic gates against the period before the change: SASL failures surge during the
// canary's soak (logged as Postfix's smtpd logs them, appended to the sandbox's maillog_file),
// and the canary fails, naming the figures, and is rolled back.
TEST_F(RolloutE2eTest, ASaslFailureSurgeDuringTheSoakFailsTheCanaryAgainstThePeriodBefore) {
  startFleetOnV1(2);
  // The period before the change is as long as the soak (12s below): let the log reach back
  // that far (Postfix logged its start before the fleet was ready).
  std::this_thread::sleep_for(std::chrono::seconds(12));
  const std::string v2 = push(hardeningWith("    smtpd_helo_required: yes\n", "3"));
  const std::string id = create("name: sasl\nbaseline: " + kBaseline + "@" + v2 + R"(
anytime: true
waves:
  - canary: 1
    soak: 12s
  - percent: 100
health:
  report_interval: 2s
  missed_reports: 5
  sasl_failure_floor: 5
)");
  ASSERT_TRUE(eventually([&] { return count(audit(id), "start_soak mx1") == 1; }))
      << controller_->log();
  FleetAgent& mx1 = *agents_[0];
  std::string lines;
  for (int i = 0; i < 8; ++i) {
    lines += absl::FormatTime(absl::RFC3339_full, absl::Now(), absl::UTCTimeZone()) + " " +
             mx1.sandbox().hostname() + " postfix/submission/smtpd[4242]: warning: " +
             "unknown[192.0.2.9]: SASL LOGIN authentication failed: authentication failure\n";
  }
  {
    std::ofstream log(mx1.sandbox().logFile(), std::ios::app | std::ios::binary);
    log << lines;
  }
  ASSERT_TRUE(eventually([&] { return count(audit(id), "rolled_back mx1") == 1; },
                         std::chrono::seconds(40)))
      << controller_->log();
  const v1::RolloutRecord record = show(id);
  EXPECT_EQ(record.phase(), "halted");
  ASSERT_GE(record.hosts_size(), 1);
  EXPECT_NE(record.hosts(0).failure().find(
                "SASL failures 8 > 5 (0 in the same period before the change +100%, at least 5)"),
            std::string::npos)
      << record.hosts(0).failure();
  EXPECT_EQ(count(audit(id), "dispatch mx2"), 0);
}

TEST_F(RolloutE2eTest, NothingStartsOutsideTheWindowAndAnApprovalMustComeFromSomeoneElse) {
  startFleetOnV1(1);
  const std::string v2 = push(hardeningWith("    smtpd_helo_required: yes\n", "3"));
  // A one-hour window that opened an hour ago closed (or wraps to) well before now + 1h.
  const absl::CivilHour now = absl::ToCivilHour(absl::Now(), absl::UTCTimeZone());
  const int start = static_cast<int>((now.hour() + 2) % 24);
  char window[64];
  snprintf(window, sizeof window, "daily %02d:00-%02d:00 UTC", start,
           (start + 1) % 24 == 0 ? 24 : start + 1);
  const std::string id =
      create("name: later\nbaseline: " + kBaseline + "@" + v2 + "\nwindows: [\"" + window +
             "\"]\napprovals: 1\n" + "waves:\n  - percent: 100\n");
  // The creator (admin) cannot approve; bob, an approver, can.
  std::string out;
  EXPECT_NE(controller_->ctl({"rollout", "approve", id}, &out), 0);
  ASSERT_TRUE(controller_->addOperator("bob", "approver").ok());
  {
    auto stub = controller_->operatorStub("bob");
    grpc::ClientContext context;
    v1::RolloutRequest request;
    request.set_id(id);
    v1::RolloutRecord record;
    grpc::Status approved = stub->ApproveRollout(&context, request, &record);
    ASSERT_TRUE(approved.ok()) << approved.error_message();
  }
  ASSERT_TRUE(eventually([&] { return phaseIs(id, "paused"); })) << controller_->log();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(count(audit(id), "dispatch mx1"), 0);
  EXPECT_TRUE(runs("mx1", v1_, v1::COMPLIANCE_COMPLIANT));
  const std::vector<std::string> events = audit(id);
  EXPECT_EQ(count(events, "approve "), 1);
  EXPECT_EQ(count(events, "approved "), 1);
  // Operator actions outside rollouts are in the audit log too, with the certificate's name.
  auto stub = controller_->operatorStub();
  grpc::ClientContext context;
  v1::AuditResponse all;
  ASSERT_TRUE(stub->Audit(&context, v1::AuditRequest(), &all).ok());
  int assigned = 0;
  for (const v1::AuditEvent& e : all.events()) {
    assigned += e.action() == "assign a baseline" && e.actor() == "admin" && e.detail() == "ok";
  }
  EXPECT_EQ(assigned, 1);
}

}  // namespace
}  // namespace postwarden::testing
