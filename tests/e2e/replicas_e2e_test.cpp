// End-to-end: two controller replicas on one real PostgreSQL (a private server,
// tests/fakes/postgres_server.h), sharing one CA, and a real agent daemon configured with both
// addresses. An assignment made on the replica the agent is not connected to reaches it
// (LISTEN/NOTIFY); the replica it is connected to, which also leads the rollout engine, is
// killed with -9: the agent reconnects to the other, which takes over the lead, and what the
// agent reported meanwhile drains there exactly once (the outbox's sequence numbers against the
// store's rows). Skipped, saying why, where PostgreSQL or Postfix is absent.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tests/e2e/e2e_paths.h"
#include "tests/e2e/fleet_support.h"
#include "tests/e2e/replica_support.h"
#include "tests/fakes/postgres_server.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kAgentId[] = "replica.test";
constexpr char kDrift[] = "smtpd_tls_auth_only is no (baseline: yes)";

class ReplicasE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = fakes::PostgresServer::unavailableReason(); !why.empty()) {
      GTEST_SKIP() << "skipped: " << why;
    }
    ASSERT_TRUE(requirePostfix());
    char pattern[] = "/tmp/postwarden-replicas-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto server = fakes::PostgresServer::start();
    ASSERT_TRUE(server.ok()) << server.status().message();
    postgres_ = std::move(server).value();
    const std::vector<std::string> serve = {"--store", "postgres:" + postgres_->conninfo(), "-v"};
    auto a = Controller::start(dir_ + "/a", serve);
    ASSERT_TRUE(a.ok()) << a.status().message();
    a_ = std::move(a).value();
    auto b = Controller::startReplica(dir_ + "/b", *a_, serve);
    ASSERT_TRUE(b.ok()) << b.status().message();
    b_ = std::move(b).value();
  }

  void TearDown() override {
    if (HasFailure()) {
      if (a_) std::cerr << "--- replica a log ---\n" << a_->log();
      if (b_) std::cerr << "--- replica b log ---\n" << b_->log();
      if (agent_) std::cerr << "--- agent log ---\n" << agent_->log();
    }
    agent_.reset();
    a_.reset();
    b_.reset();
    postgres_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  int historyCount(Controller& c, const std::string& kind, const std::string& needle) {
    return testing::historyCount(c, kAgentId, kind, needle);
  }

  bool connectedTo(Controller& c) {
    Result<v1::AgentSummary> s = c.agent(kAgentId);
    return s.ok() && s->connected();
  }

  bool compliant(Controller& c) {
    Result<v1::AgentSummary> s = c.agent(kAgentId);
    return s.ok() && s->compliance() == v1::COMPLIANCE_COMPLIANT;
  }

  std::string dir_;
  std::unique_ptr<fakes::PostgresServer> postgres_;
  std::unique_ptr<Controller> a_, b_;
  std::unique_ptr<FleetAgent> agent_;
};

TEST_F(ReplicasE2eTest, AChangeOnOneReplicaReachesAnAgentOfTheOtherWhichSurvivesItsReplica) {
  // A started first: it leads the rollout engine.
  ASSERT_TRUE(eventually([&] { return a_->log().find("now leads") != std::string::npos; },
                         std::chrono::seconds(10)))
      << a_->log();
  EXPECT_EQ(b_->log().find("now leads"), std::string::npos);

  // The agent knows both and connects to the first it lists: A.
  Result<std::string> token = b_->createToken({{"site", "ha1"}});
  ASSERT_TRUE(token.ok()) << token.status().message();
  auto agent = FleetAgent::enrollAndStart(*a_, *token,
                                          {.id = kAgentId,
                                           .labels = {{"role", "mx"}},
                                           .heartbeat_interval = "2s",
                                           .controllers = {a_->address(), b_->address()}});
  ASSERT_TRUE(agent.ok()) << agent.status().message();
  agent_ = std::move(agent).value();
  ASSERT_TRUE(eventually([&] { return connectedTo(*a_); }));
  EXPECT_FALSE(connectedTo(*b_));

  // Pushed and assigned on B; the agent, connected to A, gets it without reconnecting.
  std::string out;
  ASSERT_EQ(b_->ctl({"baseline", "push", kHardening}, &out), 0) << out;
  const size_t at = out.find("smtp-auth-hardening@");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string ref = out.substr(at, std::string("smtp-auth-hardening@").size() + 12);
  const auto assigned = Clock::now();
  ASSERT_EQ(
      b_->ctl({"baseline", "assign", ref, "--selector", "site=ha1", "--mode", "enforce"}, &out), 0)
      << out;
  ASSERT_TRUE(eventually([&] { return compliant(*b_); })) << agent_->log();
  std::cout << "[ figures  ] assignment on B -> agent on A compliant: " << secondsSince(assigned)
            << " s\n";
  EXPECT_TRUE(connectedTo(*a_));

  // A dies while the agent's stream is on it; a hand edit is reported meanwhile.
  a_->kill9();
  const auto killed = Clock::now();
  ASSERT_TRUE(agent_->sandbox().postconf({"smtpd_tls_auth_only=no"}).ok());
  ASSERT_TRUE(eventually([&] { return connectedTo(*b_); }, std::chrono::seconds(30)));
  std::cout << "[ figures  ] agent reconnected to B " << secondsSince(killed) << " s after kill\n";
  ASSERT_TRUE(eventually([&] { return b_->log().find("now leads") != std::string::npos; },
                         std::chrono::seconds(15)));
  std::cout << "[ figures  ] B leads " << secondsSince(killed) << " s after kill (at most)\n";
  ASSERT_TRUE(eventually([&] { return historyCount(*b_, "drift", kDrift) == 1 && compliant(*b_); }))
      << agent_->log();

  // Nothing lost, nothing stored twice (the store's key).
  ASSERT_NO_FATAL_FAILURE(expectOutboxStoredOnce(*agent_, postgres_->conninfo()));
  EXPECT_EQ(historyCount(*b_, "drift", kDrift), 1);
}

}  // namespace
}  // namespace postwarden::testing
