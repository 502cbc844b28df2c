// End-to-end: who gets in and what garbage does, on a real controller process. Real gRPC
// clients built here (no Postfix sandbox: identities are enrolled directly with a key and CSR
// made by the test) present refused certificates, tokens and identities, and send malformed,
// oversized and unknown input. Each case asserts the exact gRPC status, the controller's log
// line for the refusal where the controller logs one, and that nothing was written; the
// bad-input cases also check that another agent stays connected and served throughout.
#include <arpa/inet.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "common/pki/pki.h"
#include "common/proto_time.h"
#include "tests/e2e/fleet_support.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::system_clock;

// A valid baseline (the agents' own loader accepts it).
constexpr char kBaseline[] =
    "name: sec-test\nversion: \"1\"\nmain.cf:\n  set:\n    smtpd_tls_auth_only: yes\n";

// A client identity: key and certificate (PEM).
struct Identity {
  std::string key_pem;
  std::string cert_pem;
};

std::chrono::system_clock::time_point deadlineIn(std::chrono::milliseconds d) {
  return Clock::now() + d;
}

// A client side of AgentService.Connect. A reader thread collects what the controller sends
// and the final status; writes come from the test (or a heartbeat thread), serialized.
class AgentStreamClient {
 public:
  explicit AgentStreamClient(std::shared_ptr<grpc::Channel> channel,
                             std::optional<milliseconds> deadline = std::nullopt)
      : stub_(v1::AgentService::NewStub(std::move(channel))) {
    if (deadline) context_.set_deadline(deadlineIn(*deadline));
    stream_ = stub_->Connect(&context_);
    reader_ = std::thread([this] { readLoop(); });
  }

  ~AgentStreamClient() {
    context_.TryCancel();
    reader_.join();
  }

  bool send(const v1::AgentMessage& message) {
    std::lock_guard lock(write_mutex_);
    if (finished_writes_) return false;
    return stream_->Write(message);
  }

  bool sendHello(const std::string& hostname, std::map<std::string, std::string> labels = {}) {
    v1::AgentMessage m;
    v1::Hello* hello = m.mutable_hello();
    hello->set_agent_version("sec-test");
    hello->set_postfix_version("3.7.11");
    hello->set_hostname(hostname);
    hello->mutable_labels()->insert(labels.begin(), labels.end());
    return send(m);
  }

  bool sendHeartbeat() {
    v1::AgentMessage m;
    *m.mutable_heartbeat()->mutable_sent_at() = timestampFromUnixMs(
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count());
    return send(m);
  }

  // The final status once the stream ended within `timeout`.
  std::optional<grpc::Status> waitFinished(milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return status_.has_value(); });
    return status_;
  }

  bool finished() {
    std::lock_guard lock(mutex_);
    return status_.has_value();
  }

  // True once an Ack with acked_seq == seq arrived (the `nth` one with that seq, from 1).
  bool waitAck(uint64_t seq, int nth = 1, milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return acksLocked(seq) >= nth; });
  }

  int acks(uint64_t seq) {
    std::lock_guard lock(mutex_);
    return acksLocked(seq);
  }

 private:
  int acksLocked(uint64_t seq) const {
    int n = 0;
    for (const v1::ControllerMessage& m : messages_) {
      if (m.has_ack() && m.ack().acked_seq() == seq) ++n;
    }
    return n;
  }

  void readLoop() {
    v1::ControllerMessage message;
    while (stream_->Read(&message)) {
      std::lock_guard lock(mutex_);
      messages_.push_back(message);
      cv_.notify_all();
    }
    grpc::Status status;
    {
      std::lock_guard lock(write_mutex_);
      finished_writes_ = true;
      status = stream_->Finish();
    }
    std::lock_guard lock(mutex_);
    status_ = status;
    cv_.notify_all();
  }

  std::unique_ptr<v1::AgentService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>> stream_;
  std::mutex write_mutex_;
  bool finished_writes_ = false;  // guarded by write_mutex_
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<v1::ControllerMessage> messages_;
  std::optional<grpc::Status> status_;
  std::thread reader_;
};

v1::AgentMessage stateReport(uint64_t seq, v1::Compliance compliance,
                             const std::string& detail = "") {
  v1::AgentMessage m;
  m.set_seq(seq);
  v1::StateReport* state = m.mutable_state();
  state->set_baseline_name("sec-test");
  state->set_baseline_digest("0123456789ab");
  state->set_mode(v1::BASELINE_MODE_DETECT);
  state->set_compliance(compliance);
  state->set_outcome(v1::OUTCOME_KEPT);
  state->set_detail(detail);
  *state->mutable_observed_at() = timestampFromUnixMs(
      std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count());
  if (compliance == v1::COMPLIANCE_DRIFTED) {
    v1::ParameterState* p = state->add_parameters();
    p->set_file("main.cf");
    p->set_parameter("smtpd_tls_auth_only");
    p->set_expected("yes");
    p->set_actual("no");
  }
  return m;
}

std::string describe(const grpc::Status& s) {
  return std::to_string(s.error_code()) + " " + s.error_message();
}

// The agent's record, compared field by field; `volatile_fields` leaves out what heartbeats and
// connections change.
bool sameAgent(const v1::GetAgentResponse& a, const v1::GetAgentResponse& b, std::string* diff,
               bool volatile_fields = false) {
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(diff);
  if (volatile_fields) {
    const google::protobuf::Descriptor* d = v1::AgentSummary::descriptor();
    differencer.IgnoreField(d->FindFieldByName("last_seen"));
    differencer.IgnoreField(d->FindFieldByName("connected"));
  }
  return differencer.Compare(a, b);
}

// Writes `data` to a fresh TCP connection to 127.0.0.1:port, reads whatever comes back for a
// moment and closes. Errors (the peer closing early) are expected and ignored.
void sendRaw(int port, const std::string& data) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval timeout{.tv_sec = 1, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  char buffer[4096];
  while (recv(fd, buffer, sizeof buffer, 0) > 0) {
  }
  close(fd);
}

class FleetSecurityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/postwarden-fleetsec-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Result<std::unique_ptr<Controller>> controller = Controller::start(dir_);
    ASSERT_TRUE(controller.ok()) << controller.status().message();
    controller_ = std::move(controller).value();
    admin_ = controller_->operatorStub();
  }

  void TearDown() override {
    if (HasFailure() && controller_) std::cerr << "--- controller log ---\n" << controller_->log();
    admin_.reset();
    controller_.reset();
    fs::remove_all(dir_);
  }

  std::string caPem() { return readFileText(controller_->caFile()); }

  pki::KeyAndCertificate controllerCa() {
    return {.certificate_pem = readFileText(controller_->dataDir() + "/ca.crt"),
            .private_key_pem = readFileText(controller_->dataDir() + "/ca.key")};
  }

  Identity adminIdentity() {
    return {.key_pem = readFileText(dir_ + "/admin/admin.key"),
            .cert_pem = readFileText(dir_ + "/admin/admin.crt")};
  }

  static std::shared_ptr<grpc::Channel> channel(const std::string& address,
                                                const std::string& root_pem,
                                                const std::optional<Identity>& identity) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = root_pem;
    if (identity) {
      ssl.pem_private_key = identity->key_pem;
      ssl.pem_cert_chain = identity->cert_pem;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
  }

  // The mutual-TLS listener, with `identity` as client certificate (none: no certificate).
  std::shared_ptr<grpc::Channel> mainChannel(const std::optional<Identity>& identity) {
    return channel(controller_->address(), caPem(), identity);
  }

  std::shared_ptr<grpc::Channel> enrollChannel() {
    return channel("127.0.0.1:" + std::to_string(controller_->enrollPort()), caPem(), std::nullopt);
  }

  // EnrollmentService.Enroll for `id` with a fresh key; the identity when it succeeded.
  grpc::Status enroll(const std::string& id, const std::string& token,
                      Identity* identity = nullptr) {
    Result<std::string> key = pki::generatePrivateKey();
    EXPECT_TRUE(key.ok());
    Result<std::string> csr = pki::createCsr(*key, id);
    EXPECT_TRUE(csr.ok());
    auto stub = v1::EnrollmentService::NewStub(enrollChannel());
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    v1::EnrollRequest request;
    request.set_token(token);
    request.set_csr_pem(*csr);
    v1::EnrollResponse response;
    grpc::Status status = stub->Enroll(&context, request, &response);
    if (status.ok() && identity)
      *identity = {.key_pem = *key, .cert_pem = response.certificate_pem()};
    return status;
  }

  std::string token(int uses = 1, int64_t ttl_seconds = 3600) {
    Result<std::string> t = controller_->createToken({{"site", "sec1"}}, uses, ttl_seconds);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return t.ok() ? *t : "";
  }

  // Enrolls `id` with a fresh one-use token; fails the test when that does not work.
  Identity enrolled(const std::string& id) {
    Identity identity;
    grpc::Status status = enroll(id, token(), &identity);
    EXPECT_TRUE(status.ok()) << id << ": " << describe(status);
    return identity;
  }

  // An agent certificate for `id` signed by the controller CA, valid as given.
  Identity mint(const pki::KeyAndCertificate& ca, const std::string& id, const std::string& unit,
                Clock::time_point not_before, Clock::time_point not_after) {
    Result<pki::KeyAndCertificate> issued = pki::issueWithNewKey(ca, {.common_name = id,
                                                                      .organizational_unit = unit,
                                                                      .usage = pki::Usage::kClient,
                                                                      .not_before = not_before,
                                                                      .not_after = not_after});
    EXPECT_TRUE(issued.ok()) << issued.status().message();
    return {.key_pem = issued->private_key_pem, .cert_pem = issued->certificate_pem};
  }

  grpc::Status listAgents(v1::OperatorService::Stub& stub, v1::ListAgentsResponse* out = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    v1::ListAgentsResponse response;
    grpc::Status status = stub.ListAgents(&context, {}, &response);
    if (out) *out = response;
    return status;
  }

  std::set<std::string> agentIds() {
    v1::ListAgentsResponse response;
    grpc::Status status = listAgents(*admin_, &response);
    EXPECT_TRUE(status.ok()) << describe(status);
    std::set<std::string> ids;
    for (const v1::AgentSummary& a : response.agents()) ids.insert(a.id());
    return ids;
  }

  bool connected(const std::string& id) {
    v1::ListAgentsResponse response;
    if (!listAgents(*admin_, &response).ok()) return false;
    for (const v1::AgentSummary& a : response.agents()) {
      if (a.id() == id) return a.connected();
    }
    return false;
  }

  v1::GetAgentResponse getAgent(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    v1::GetAgentRequest request;
    request.set_id(id);
    v1::GetAgentResponse response;
    grpc::Status status = admin_->GetAgent(&context, request, &response);
    EXPECT_TRUE(status.ok()) << id << ": " << describe(status);
    return response;
  }

  int historyCount(const std::string& id, const std::string& kind) {
    int n = 0;
    v1::GetAgentResponse agent = getAgent(id);
    for (const v1::HistoryEntry& e : agent.history()) n += e.kind() == kind;
    return n;
  }

  v1::ListDriftResponse listDrift() {
    grpc::ClientContext context;
    v1::ListDriftResponse response;
    EXPECT_TRUE(admin_->ListDrift(&context, {}, &response).ok());
    return response;
  }

  v1::ListBaselinesResponse listBaselines() {
    grpc::ClientContext context;
    v1::ListBaselinesResponse response;
    EXPECT_TRUE(admin_->ListBaselines(&context, {}, &response).ok());
    return response;
  }

  v1::ListTokensResponse listTokens() {
    grpc::ClientContext context;
    v1::ListTokensResponse response;
    EXPECT_TRUE(admin_->ListTokens(&context, {}, &response).ok());
    return response;
  }

  // Expects the log to gain a line containing every one of `needles` (lines are checked one by
  // one, so the parts must be on the same line).
  bool logHasLine(const std::vector<std::string>& needles) {
    return eventually(
        [&] {
          std::istringstream in(controller_->log());
          for (std::string line; std::getline(in, line);) {
            bool all = true;
            for (const std::string& n : needles) all = all && line.find(n) != std::string::npos;
            if (all) return true;
          }
          return false;
        },
        seconds(3));
  }

  // A stream of `identity` that said hello and got the controller's first ack.
  std::unique_ptr<AgentStreamClient> helloStream(
      const Identity& identity, const std::string& hostname, uint64_t expected_ack = 0,
      const std::map<std::string, std::string>& labels = {}) {
    auto stream = std::make_unique<AgentStreamClient>(mainChannel(identity));
    EXPECT_TRUE(stream->sendHello(hostname, labels));
    EXPECT_TRUE(stream->waitAck(expected_ack)) << hostname << " got no ack after hello";
    return stream;
  }

  // A stream that the controller refuses before or on its first message; its final status.
  grpc::Status refusedStream(const std::optional<Identity>& identity) {
    AgentStreamClient stream(mainChannel(identity), seconds(10));
    stream.sendHello("refused.test");
    std::optional<grpc::Status> status = stream.waitFinished();
    EXPECT_TRUE(status.has_value()) << "the stream was not refused";
    return status.value_or(grpc::Status::OK);
  }

  std::string dir_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<v1::OperatorService::Stub> admin_;
};

// 1-3: no certificate, another CA's certificate, an expired certificate of the right CA: the
// TLS handshake fails, nothing reaches the services, and the controller keeps serving.
TEST_F(FleetSecurityE2eTest, HandshakeRefusesMissingForeignAndExpiredCertificates) {
  enrolled("a.test");
  v1::GetAgentResponse before = getAgent("a.test");
  std::set<std::string> ids = agentIds();
  const Clock::time_point now = Clock::now();

  Result<pki::KeyAndCertificate> other_ca = pki::createAuthority(
      "Postwarden controller CA", now - std::chrono::hours(1), now + std::chrono::hours(24));
  ASSERT_TRUE(other_ca.ok()) << other_ca.status().message();
  // Everything about these certificates is right except who signed it or when it expired.
  const std::vector<std::pair<std::string, std::optional<Identity>>> refused = {
      {"no certificate", std::nullopt},
      {"admin certificate of another CA",
       mint(*other_ca, "admin", "operator:admin", now - std::chrono::hours(1),
            now + std::chrono::hours(1))},
      {"agent certificate of another CA",
       mint(*other_ca, "a.test", "agent", now - std::chrono::hours(1),
            now + std::chrono::hours(1))},
      {"expired agent certificate",
       mint(controllerCa(), "a.test", "agent", now - std::chrono::hours(48),
            now - std::chrono::hours(24))},
      {"not yet valid agent certificate",
       mint(controllerCa(), "a.test", "agent", now + std::chrono::hours(24),
            now + std::chrono::hours(48))},
  };
  for (const auto& [what, identity] : refused) {
    SCOPED_TRACE(what);
    auto stub = v1::OperatorService::NewStub(mainChannel(identity));
    grpc::Status status = listAgents(*stub);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << describe(status);
    status = refusedStream(identity);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << describe(status);
    // Still serving.
    EXPECT_TRUE(listAgents(*admin_).ok());
  }
  // gRPC logs the failed handshakes; the services never saw a call.
  EXPECT_TRUE(logHasLine({"Handshake failed"})) << controller_->log();
  EXPECT_EQ(controller_->log().find("refused"), std::string::npos) << controller_->log();
  EXPECT_EQ(agentIds(), ids);
  std::string diff;
  EXPECT_TRUE(sameAgent(before, getAgent("a.test"), &diff)) << diff;
}

// 4: revocation ends the open stream, refuses new streams, renewal and re-enrollment.
TEST_F(FleetSecurityE2eTest, RevokedAgentIsCutOffAndCannotComeBack) {
  Identity a = enrolled("revoked.test");
  auto stream = helloStream(a, "revoked.test");
  ASSERT_TRUE(eventually([&] { return connected("revoked.test"); }));
  v1::GetAgentResponse before = getAgent("revoked.test");

  grpc::ClientContext context;
  v1::AgentRequest request;
  request.set_id("revoked.test");
  v1::Empty empty;
  ASSERT_TRUE(admin_->RevokeAgent(&context, request, &empty).ok());
  auto revoked_at = std::chrono::steady_clock::now();

  std::optional<grpc::Status> ended = stream->waitFinished(seconds(3));
  ASSERT_TRUE(ended.has_value()) << "the open stream of a revoked agent stays open";
  EXPECT_EQ(ended->error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(*ended);
  EXPECT_LT(std::chrono::steady_clock::now() - revoked_at, seconds(2));
  // A report on the dead stream goes nowhere.
  EXPECT_FALSE(stream->send(stateReport(1, v1::COMPLIANCE_COMPLIANT)));

  grpc::Status status = refusedStream(a);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused stream from", "revoked.test is revoked"}));

  {
    auto stub = v1::AgentService::NewStub(mainChannel(a));
    grpc::ClientContext renew_context;
    renew_context.set_deadline(deadlineIn(seconds(10)));
    v1::RenewRequest renew;
    Result<std::string> key = pki::generatePrivateKey();
    ASSERT_TRUE(key.ok());
    renew.set_csr_pem(*pki::createCsr(*key, "revoked.test"));
    v1::RenewResponse renewed;
    status = stub->Renew(&renew_context, renew, &renewed);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
    EXPECT_TRUE(renewed.certificate_pem().empty());
    EXPECT_TRUE(logHasLine({"refused renewal from", "revoked.test is revoked"}));
  }

  status = enroll("revoked.test", token());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << describe(status);
  EXPECT_TRUE(logHasLine({"refused enrollment from", "revoked and can never enroll again"}));

  // Approval cannot undo revocation either.
  grpc::ClientContext approve_context;
  status = admin_->ApproveAgent(&approve_context, request, &empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(status);

  v1::GetAgentResponse after = getAgent("revoked.test");
  EXPECT_TRUE(after.agent().revoked());
  EXPECT_FALSE(after.agent().connected());
  ASSERT_EQ(after.history_size(), before.history_size() + 1);
  EXPECT_EQ(after.history(0).kind(), "revoked");
  for (int i = 0; i < before.history_size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before.history(i),
                                                                   after.history(i + 1)));
  }
  EXPECT_EQ(after.agent().compliance(), v1::COMPLIANCE_UNSPECIFIED);
}

// 5: bootstrap tokens: used up, expired, revoked, malformed, wrong secret; an identity that is
// already enrolled needs an approval, which is good for one re-enrollment.
TEST_F(FleetSecurityE2eTest, EnrollmentRefusesSpentExpiredRevokedAndForgedTokens) {
  std::string once = token(1);
  ASSERT_TRUE(enroll("first.test", once).ok());
  std::set<std::string> ids = agentIds();

  grpc::Status status = enroll("second.test", once);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused enrollment from", "is used up"}));

  std::string short_lived = token(5, 1);
  std::this_thread::sleep_for(milliseconds(1500));
  status = enroll("late.test", short_lived);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused enrollment from", "has expired"}));

  v1::CreateTokenResponse created;
  {
    grpc::ClientContext context;
    v1::CreateTokenRequest request;
    request.set_uses(5);
    *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(3600);
    ASSERT_TRUE(admin_->CreateToken(&context, request, &created).ok());
    grpc::ClientContext revoke_context;
    v1::RevokeTokenRequest revoke;
    revoke.set_id(created.info().id());
    v1::Empty empty;
    ASSERT_TRUE(admin_->RevokeToken(&revoke_context, revoke, &empty).ok());
  }
  status = enroll("withdrawn.test", created.token());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused enrollment from", "is revoked"}));

  std::string good = token(5);
  v1::ListTokensResponse tokens_before = listTokens();
  const std::string forged = good.substr(0, good.rfind('.') + 1) + std::string(64, '0');
  for (const std::string& bad :
       {std::string("garbage"), std::string("pwt.tk12.short"), good + "0", forged, std::string()}) {
    SCOPED_TRACE("token '" + bad + "'");
    status = enroll("forged.test", bad);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(status);
  }
  EXPECT_TRUE(logHasLine({"refused enrollment from", "malformed enrollment token"}));
  EXPECT_TRUE(logHasLine({"refused enrollment from", "invalid bootstrap token"}));
  // The secret is never logged, not even the one the attacker guessed.
  EXPECT_EQ(controller_->log().find(good.substr(good.rfind('.') + 1)), std::string::npos);
  EXPECT_EQ(controller_->log().find(std::string(64, '0')), std::string::npos);

  // An existing identity with an ordinary token: refused, the token is not spent.
  status = enroll("first.test", good);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << describe(status);
  EXPECT_TRUE(logHasLine({"refused enrollment from", "not approved for re-enrollment"}));

  // Identities that are no host name, and a request over the enrollment listener's 64 KiB.
  for (const char* id : {"Upper.test", "under_score.test", "-lead.test", "a/b"}) {
    SCOPED_TRACE(id);
    status = enroll(id, good);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
  }
  EXPECT_TRUE(logHasLine({"refused enrollment from", "is not a lowercase host name"}));
  status = enroll("big.test", good + std::string(100 << 10, 'a'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << describe(status);

  // Nothing written by any refusal: no agent, no token use.
  EXPECT_EQ(agentIds(), ids);
  v1::ListTokensResponse tokens_after = listTokens();
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(tokens_before, tokens_after)) << diff;
  EXPECT_EQ(historyCount("first.test", "enrolled"), 1);

  // After an approval the identity re-enrolls exactly once.
  grpc::ClientContext approve_context;
  v1::AgentRequest request;
  request.set_id("first.test");
  v1::Empty empty;
  ASSERT_TRUE(admin_->ApproveAgent(&approve_context, request, &empty).ok());
  Identity renewed;
  status = enroll("first.test", good, &renewed);
  EXPECT_TRUE(status.ok()) << describe(status);
  Result<pki::CertificateInfo> issued = pki::inspectCertificate(renewed.cert_pem);
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(issued->common_name, "first.test");
  EXPECT_EQ(issued->organizational_unit, "agent");
  status = enroll("first.test", good);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << describe(status);
  EXPECT_EQ(historyCount("first.test", "enrolled"), 2);
  EXPECT_EQ(agentIds(), ids);
}

// 6: identity comes from the certificate: agent A cannot write B's record, whatever its hello
// and reports say, and cannot get a certificate for B.
TEST_F(FleetSecurityE2eTest, AnAgentCannotSpeakForAnother) {
  Identity a = enrolled("a.test");
  enrolled("b.test");
  v1::GetAgentResponse b_before = getAgent("b.test");

  // The hello names B's host and tries to move A into another site.
  auto stream = helloStream(a, "b.test", 0, {{"site", "elsewhere"}, {"role", "mx"}});
  ASSERT_TRUE(stream->send(stateReport(1, v1::COMPLIANCE_DRIFTED, "claims to be b.test")));
  ASSERT_TRUE(stream->waitAck(1));

  v1::GetAgentResponse a_after = getAgent("a.test");
  EXPECT_EQ(a_after.agent().hostname(), "b.test");  // what A said, on A's record
  EXPECT_EQ(a_after.agent().compliance(), v1::COMPLIANCE_DRIFTED);
  EXPECT_EQ(a_after.detail(), "claims to be b.test");
  EXPECT_TRUE(a_after.agent().connected());
  // The token's labels win over the agent's own.
  EXPECT_EQ(a_after.agent().labels().at("site"), "sec1");
  EXPECT_EQ(a_after.agent().labels().at("role"), "mx");
  v1::ListDriftResponse drift = listDrift();
  ASSERT_EQ(drift.drift_size(), 1);
  EXPECT_EQ(drift.drift(0).agent_id(), "a.test");

  // A renewal naming B is refused.
  auto stub = v1::AgentService::NewStub(mainChannel(a));
  grpc::ClientContext context;
  context.set_deadline(deadlineIn(seconds(10)));
  v1::RenewRequest renew;
  Result<std::string> key = pki::generatePrivateKey();
  ASSERT_TRUE(key.ok());
  renew.set_csr_pem(*pki::createCsr(*key, "b.test"));
  v1::RenewResponse renewed;
  grpc::Status status = stub->Renew(&context, renew, &renewed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(renewed.certificate_pem().empty());
  EXPECT_TRUE(logHasLine({"renewal of a.test refused", "names b.test"}));

  std::string diff;
  EXPECT_TRUE(sameAgent(b_before, getAgent("b.test"), &diff)) << diff;
  EXPECT_FALSE(getAgent("b.test").agent().connected());
}

// 7, 8: roles; an agent is not an operator and an operator not an agent; the enrollment
// listener serves nothing else.
TEST_F(FleetSecurityE2eTest, RolesAndPeerKindsAreEnforced) {
  Identity agent = enrolled("role.test");
  ASSERT_TRUE(controller_->addOperator("viewer1", "viewer").ok());
  auto viewer = controller_->operatorStub("viewer1");
  {
    grpc::ClientContext context;
    v1::PushBaselineRequest push;
    push.set_content(kBaseline);
    v1::PushBaselineResponse pushed;
    ASSERT_TRUE(admin_->PushBaseline(&context, push, &pushed).ok());
  }
  v1::GetAgentResponse before = getAgent("role.test");
  v1::ListTokensResponse tokens_before = listTokens();
  v1::ListBaselinesResponse baselines_before = listBaselines();

  v1::ListAgentsResponse listed;
  grpc::Status status = listAgents(*viewer, &listed);
  EXPECT_TRUE(status.ok()) << describe(status);
  EXPECT_EQ(listed.agents_size(), 1);

  {
    grpc::ClientContext context;
    v1::CreateTokenRequest request;
    request.set_uses(1);
    *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(60);
    v1::CreateTokenResponse response;
    status = viewer->CreateToken(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
    EXPECT_TRUE(response.token().empty());
    EXPECT_TRUE(logHasLine({"refused 'create a token' from operator viewer1", "role viewer"}));
  }
  {
    grpc::ClientContext context;
    v1::AssignBaselineRequest request;
    request.set_name("sec-test");
    request.set_digest(baselines_before.baselines(0).digest());
    request.set_mode(v1::BASELINE_MODE_ENFORCE);
    v1::AssignBaselineResponse response;
    status = viewer->AssignBaseline(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
    EXPECT_TRUE(logHasLine({"refused 'assign a baseline' from operator viewer1"}));
  }
  {
    grpc::ClientContext context;
    v1::AgentRequest request;
    request.set_id("role.test");
    v1::Empty empty;
    status = viewer->RevokeAgent(&context, request, &empty);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
    EXPECT_TRUE(logHasLine({"refused 'revoke an agent' from operator viewer1"}));
  }
  // An agent certificate on OperatorService: not an operator, even for reading.
  auto as_operator = v1::OperatorService::NewStub(mainChannel(agent));
  status = listAgents(*as_operator);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused 'list agents' from agent role.test", "only operators"}));
  {
    grpc::ClientContext context;
    v1::AgentRequest request;
    request.set_id("role.test");
    v1::Empty empty;
    status = as_operator->ApproveAgent(&context, request, &empty);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  }
  // An operator certificate on AgentService: not an agent.
  status = refusedStream(adminIdentity());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused stream from", "operator admin", "is not an agent"}));
  // A certificate of the right CA with an OU the controller never issues.
  status = refusedStream(mint(controllerCa(), "role.test", "agents", Clock::now() - seconds(60),
                              Clock::now() + std::chrono::hours(1)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused stream from", "unknown kind (OU 'agents')"}));

  // The fleet simulator's certificate, on a controller that does not allow the simulator.
  status = refusedStream(mint(controllerCa(), "sim-1", "simulator", Clock::now() - seconds(60),
                              Clock::now() + std::chrono::hours(1)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  EXPECT_TRUE(logHasLine({"refused stream from", "simulator certificates are not accepted"}));
  // An operator certificate with a role that does not exist.
  {
    auto stub = v1::OperatorService::NewStub(
        mainChannel(mint(controllerCa(), "root", "operator:root", Clock::now() - seconds(60),
                         Clock::now() + std::chrono::hours(1))));
    status = listAgents(*stub);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << describe(status);
    EXPECT_TRUE(logHasLine({"refused 'list agents' from", "unknown role 'root'"}));
  }
  // A certificate of the right CA for an agent that never enrolled: no record appears.
  {
    AgentStreamClient ghost(
        mainChannel(mint(controllerCa(), "ghost.test", "agent", Clock::now() - seconds(60),
                         Clock::now() + std::chrono::hours(1))),
        seconds(10));
    ghost.sendHello("ghost.test");
    std::optional<grpc::Status> ended = ghost.waitFinished();
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(ended->error_code(), grpc::StatusCode::NOT_FOUND) << describe(*ended);
    EXPECT_TRUE(logHasLine({"closing stream of agent ghost.test", "not found"}));
    EXPECT_EQ(agentIds(), std::set<std::string>{"role.test"});
  }

  // The enrollment listener serves EnrollmentService only.
  auto on_enroll_port = v1::OperatorService::NewStub(enrollChannel());
  status = listAgents(*on_enroll_port);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << describe(status);
  {
    auto agent_on_enroll_port = v1::AgentService::NewStub(enrollChannel());
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    v1::RenewRequest renew;
    v1::RenewResponse renewed;
    status = agent_on_enroll_port->Renew(&context, renew, &renewed);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << describe(status);
  }

  std::string diff;
  EXPECT_TRUE(sameAgent(before, getAgent("role.test"), &diff)) << diff;
  EXPECT_FALSE(getAgent("role.test").agent().revoked());
  EXPECT_EQ(listTokens().tokens_size(), tokens_before.tokens_size());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(baselines_before, listBaselines()));
}

// 9-12: malformed, unknown, oversized and garbage input is refused one by one while a
// well-behaved agent stays connected and served.
TEST_F(FleetSecurityE2eTest, BadInputIsRefusedAndTheControllerKeepsServingOthers) {
  Identity good = enrolled("good.test");
  Identity bad = enrolled("bad.test");
  auto good_stream = helloStream(good, "good.test");
  std::atomic<bool> stop_heartbeats = false;
  std::thread heartbeats([&] {
    while (!stop_heartbeats) {
      good_stream->sendHeartbeat();
      std::this_thread::sleep_for(milliseconds(200));
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      thread.join();
    }
  } joiner{stop_heartbeats, heartbeats};
  ASSERT_TRUE(eventually([&] { return connected("good.test"); }));
  // bad.test has said hello once (its versions are recorded); what follows must change nothing.
  helloStream(bad, "bad.test").reset();
  ASSERT_TRUE(eventually([&] { return !connected("bad.test"); }));
  v1::GetAgentResponse bad_before = getAgent("bad.test");
  v1::ListDriftResponse drift_before = listDrift();

  auto expectNothingStored = [&](const std::string& what) {
    SCOPED_TRACE(what);
    std::string diff;
    EXPECT_TRUE(sameAgent(bad_before, getAgent("bad.test"), &diff, true)) << diff;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(drift_before, listDrift()));
    EXPECT_FALSE(good_stream->finished());
  };

  // 9. Protocol violations.
  {
    AgentStreamClient stream(mainChannel(bad), seconds(10));
    ASSERT_TRUE(stream.sendHeartbeat());
    std::optional<grpc::Status> status = stream.waitFinished();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(*status);
    EXPECT_TRUE(logHasLine({"closing stream of agent bad.test", "hello must come first"}));
  }
  {
    AgentStreamClient stream(mainChannel(bad), seconds(10));
    ASSERT_TRUE(stream.send(stateReport(1, v1::COMPLIANCE_COMPLIANT)));
    std::optional<grpc::Status> status = stream.waitFinished();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(*status);
  }
  expectNothingStored("report before hello");
  struct Case {
    std::string what;
    v1::AgentMessage message;
    std::string logged;
  };
  v1::AgentMessage second_hello;
  second_hello.mutable_hello()->set_hostname("bad.test");
  std::vector<Case> cases = {
      {"no body", v1::AgentMessage(), "message without a known body"},
      {"seq 0", stateReport(0, v1::COMPLIANCE_COMPLIANT), "a durable report needs a seq"},
      {"unknown compliance", stateReport(1, static_cast<v1::Compliance>(99)),
       "unknown compliance, mode or outcome"},
      {"unknown mode", stateReport(1, v1::COMPLIANCE_COMPLIANT),
       "unknown compliance, mode or outcome"},
      {"unknown drift source", v1::AgentMessage(), "drift event with an unknown source"},
  };
  cases[3].message.mutable_state()->set_mode(static_cast<v1::BaselineMode>(42));
  cases[4].message.set_seq(1);
  cases[4].message.mutable_drift()->set_source(static_cast<v1::DriftSource>(7));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    // Each on a new stream that said hello; the hello's ack says nothing was stored (0).
    auto stream = helloStream(bad, "bad.test", 0);
    ASSERT_TRUE(stream->send(c.message));
    std::optional<grpc::Status> status = stream->waitFinished();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(*status);
    EXPECT_TRUE(logHasLine({"closing stream of agent bad.test", c.logged}));
    EXPECT_EQ(stream->acks(1), 0);
    expectNothingStored(c.what);
  }
  {
    auto stream = helloStream(bad, "bad.test", 0);
    ASSERT_TRUE(stream->send(second_hello));
    std::optional<grpc::Status> status = stream->waitFinished();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(*status);
    EXPECT_TRUE(logHasLine({"closing stream of agent bad.test", "second hello"}));
  }

  // A seq the store cannot hold (above INT64_MAX) must be refused like seq 0, not queued: today
  // it is queued, the writer's store call fails ("not stored"), no ack ever comes and the
  // agent would redeliver it forever on an open stream.
  {
    auto stream = helloStream(bad, "bad.test", 0);
    ASSERT_TRUE(stream->send(stateReport(uint64_t{1} << 63, v1::COMPLIANCE_COMPLIANT)));
    std::optional<grpc::Status> status = stream->waitFinished(seconds(3));
    EXPECT_TRUE(status.has_value())
        << "a report with seq 2^63 is neither refused nor acked: the stream stays open";
    if (status) {
      EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(*status);
      EXPECT_TRUE(logHasLine({"closing stream of agent bad.test", "out of range"}));
    }
    EXPECT_EQ(stream->acks(uint64_t{1} << 63), 0);
    expectNothingStored("seq 2^63");
  }

  // 10. A message over the 4 MiB limit.
  {
    auto stream = helloStream(bad, "bad.test", 0);
    stream->send(stateReport(1, v1::COMPLIANCE_FAILING, std::string(5 << 20, 'x')));
    std::optional<grpc::Status> status = stream->waitFinished();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << describe(*status);
    EXPECT_EQ(stream->acks(1), 0);
    expectNothingStored("oversized report");
  }

  // 11. Garbage on both listeners: random bytes, then plain HTTP/1.1.
  {
    std::mt19937 random(12345);
    std::string noise(64 << 10, '\0');
    for (char& c : noise) c = static_cast<char>(random());
    const std::string http =
        "GET /postwarden.v1.OperatorService/ListAgents HTTP/1.1\r\nHost: localhost\r\n"
        "Connection: close\r\n\r\n";
    for (int port : {controller_->port(), controller_->enrollPort()}) {
      sendRaw(port, noise);
      sendRaw(port, http);
      // A TLS ClientHello-looking prefix followed by junk.
      sendRaw(port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + noise);
    }
    EXPECT_TRUE(listAgents(*admin_).ok());
    Identity probe;
    EXPECT_TRUE(enroll("after-garbage.test", token(), &probe).ok());
    expectNothingStored("garbage");
  }

  // 12. Operator input: oversized and broken baselines, labels with control characters.
  {
    v1::ListBaselinesResponse baselines_before = listBaselines();
    v1::ListTokensResponse tokens_before = listTokens();
    std::string huge = std::string(kBaseline) + "# " + std::string(2 << 20, 'x') + "\n";
    const std::vector<std::pair<std::string, std::string>> baselines = {
        {"2 MiB baseline", huge},
        {"YAML syntax error", "name: broken\nmain.cf: {set: [unclosed\n  : :\n"},
        {"not a mapping", "- just\n- a list\n"},
        {"binary", std::string("\0\xff\xfe name: x", 11)},
    };
    for (const auto& [what, content] : baselines) {
      SCOPED_TRACE(what);
      grpc::ClientContext context;
      v1::PushBaselineRequest request;
      request.set_content(content);
      v1::PushBaselineResponse response;
      grpc::Status status = admin_->PushBaseline(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
      EXPECT_FALSE(response.has_baseline());
    }
    EXPECT_TRUE(logHasLine({"push a baseline by operator admin", "larger than 1 MiB"}));
    EXPECT_TRUE(logHasLine({"push a baseline by operator admin", "baseline refused"}));
    EXPECT_TRUE(
        google::protobuf::util::MessageDifferencer::Equals(baselines_before, listBaselines()));

    const std::vector<std::pair<std::string, std::string>> labels = {
        {"site", "fra1\nrole: admin"}, {"site\r\n", "fra1"}, {"site", std::string("a\0b", 3)},
        {"site", "\x1b[31mred"},       {"", "empty-key"},    {"site", std::string(64, 'a')},
    };
    for (const auto& [key, value] : labels) {
      SCOPED_TRACE("label " + key + "=" + value);
      grpc::ClientContext context;
      v1::CreateTokenRequest request;
      (*request.mutable_labels())[key] = value;
      request.set_uses(1);
      *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(60);
      v1::CreateTokenResponse response;
      grpc::Status status = admin_->CreateToken(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
      EXPECT_TRUE(response.token().empty());
    }
    EXPECT_TRUE(logHasLine({"create a token by operator admin", "labels are key=value"}));
    {
      grpc::ClientContext context;
      v1::AssignBaselineRequest request;
      request.set_name("sec-test");
      request.set_digest("0000");
      (*request.mutable_selector())["site\n"] = "x";
      request.set_mode(v1::BASELINE_MODE_ENFORCE);
      v1::AssignBaselineResponse response;
      grpc::Status status = admin_->AssignBaseline(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
    }
    v1::ListTokensResponse tokens_after = listTokens();
    EXPECT_EQ(tokens_after.tokens_size(), tokens_before.tokens_size());
    {
      // The identity a token is bound to is an agent id; one with a newline is no host name.
      grpc::ClientContext context;
      v1::CreateTokenRequest request;
      request.set_bound_agent_id("mx1.test\nforged log line");
      request.set_uses(1);
      *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(60);
      v1::CreateTokenResponse response;
      grpc::Status status = admin_->CreateToken(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << "CreateToken accepts a bound_agent_id that is not a valid agent id: "
          << describe(status);
    }
  }

  // The good agent was served throughout: still connected, and its report is acked and stored.
  expectNothingStored("at the end");
  EXPECT_TRUE(connected("good.test"));
  ASSERT_TRUE(good_stream->send(stateReport(1, v1::COMPLIANCE_COMPLIANT)));
  EXPECT_TRUE(good_stream->waitAck(1));
  EXPECT_TRUE(eventually(
      [&] { return getAgent("good.test").agent().compliance() == v1::COMPLIANCE_COMPLIANT; }));
  EXPECT_FALSE(good_stream->finished());
  // And bad.test may still report properly: its seq 1 was never taken by a refused report.
  auto stream = helloStream(bad, "bad.test", 0);
  ASSERT_TRUE(stream->send(stateReport(1, v1::COMPLIANCE_COMPLIANT)));
  EXPECT_TRUE(stream->waitAck(1));
}

// What an agent says about itself (host name, versions, labels) ends up in the store, in
// postwardenctl's tables, in selectors and in the controller's debug log ("agent X connected
// (HOSTNAME, ...)"). The agent's own config refuses control characters for exactly that reason
// (docs/agent-config.md), and operator labels are checked (CreateToken); the controller must
// check the hello too, or a compromised agent can forge table rows and log lines.
TEST_F(FleetSecurityE2eTest, HelloWithControlCharactersIsRefused) {
  Identity agent = enrolled("liar.test");
  v1::AgentMessage clean;
  clean.mutable_hello()->set_agent_version("1.0");
  clean.mutable_hello()->set_postfix_version("3.7");
  clean.mutable_hello()->set_hostname("liar.test");
  (*clean.mutable_hello()->mutable_labels())["role"] = "mx";
  {
    AgentStreamClient stream(mainChannel(agent), seconds(10));
    ASSERT_TRUE(stream.send(clean));
    ASSERT_TRUE(stream.waitAck(0));
  }
  v1::GetAgentResponse before = getAgent("liar.test");
  std::vector<std::pair<std::string, v1::AgentMessage>> hellos(3, {"", clean});
  hellos[0].first = "hostname with a line break";
  hellos[0].second.mutable_hello()->set_hostname("liar.test\nvictim.test");
  hellos[1].first = "version with control characters";
  hellos[1].second.mutable_hello()->set_postfix_version("3.7\r\x1b[2K");
  hellos[2].first = "label with a line break";
  (*hellos[2].second.mutable_hello()->mutable_labels())["role\n"] = "mx";
  for (const auto& [what, hello] : hellos) {
    SCOPED_TRACE(what);
    AgentStreamClient stream(mainChannel(agent), seconds(10));
    ASSERT_TRUE(stream.send(hello));
    ASSERT_TRUE(eventually([&] { return stream.finished() || stream.acks(0) > 0; }, seconds(5)));
    EXPECT_EQ(stream.acks(0), 0) << "the hello was accepted";
    std::optional<grpc::Status> status = stream.waitFinished(milliseconds(500));
    if (status) {
      EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(*status);
    }
  }
  std::string diff;
  EXPECT_TRUE(sameAgent(before, getAgent("liar.test"), &diff, true)) << diff;
}

// 13: an acked report survives kill -9; its redelivery after the restart is acked again but not
// stored twice.
TEST_F(FleetSecurityE2eTest, AckedReportSurvivesKill9AndRedeliveryIsNotStoredTwice) {
  Identity agent = enrolled("durable.test");
  Identity gone = enrolled("gone.test");
  {
    grpc::ClientContext context;
    v1::AgentRequest request;
    request.set_id("gone.test");
    v1::Empty empty;
    ASSERT_TRUE(admin_->RevokeAgent(&context, request, &empty).ok());
  }
  {
    auto stream = helloStream(agent, "durable.test");
    ASSERT_TRUE(stream->send(stateReport(1, v1::COMPLIANCE_DRIFTED, "before the crash")));
    ASSERT_TRUE(stream->waitAck(1));
    controller_->kill9();
    std::optional<grpc::Status> ended = stream->waitFinished();
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(ended->error_code(), grpc::StatusCode::UNAVAILABLE) << describe(*ended);
  }
  ASSERT_TRUE(controller_->restart().ok()) << controller_->log();
  admin_ = controller_->operatorStub();

  v1::GetAgentResponse after = getAgent("durable.test");
  EXPECT_EQ(after.agent().compliance(), v1::COMPLIANCE_DRIFTED);
  EXPECT_EQ(after.detail(), "before the crash");
  EXPECT_EQ(after.agent().drifted_parameters(), 1);
  ASSERT_EQ(listDrift().drift_size(), 1);
  // Revocation survives the crash too.
  grpc::Status refused = refusedStream(gone);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(refused);
  const int states = historyCount("durable.test", "state");
  EXPECT_EQ(states, 1);

  // The hello's ack says what is stored; a redelivery of seq 1 is acked and dropped.
  auto stream = helloStream(agent, "durable.test", 1);
  ASSERT_TRUE(stream->send(stateReport(1, v1::COMPLIANCE_COMPLIANT, "redelivered")));
  EXPECT_TRUE(stream->waitAck(1, 2));
  EXPECT_EQ(historyCount("durable.test", "state"), states);
  after = getAgent("durable.test");
  EXPECT_EQ(after.agent().compliance(), v1::COMPLIANCE_DRIFTED);
  EXPECT_EQ(after.detail(), "before the crash");
  // The next seq is stored.
  ASSERT_TRUE(stream->send(stateReport(2, v1::COMPLIANCE_COMPLIANT, "repaired")));
  EXPECT_TRUE(stream->waitAck(2));
  EXPECT_EQ(historyCount("durable.test", "state"), states + 1);
  EXPECT_EQ(getAgent("durable.test").agent().compliance(), v1::COMPLIANCE_COMPLIANT);
  EXPECT_EQ(listDrift().drift_size(), 0);
}

// ---------------------------------------------------------------------------------------
// Findings of the fault/abuse run: baselines, CSRs, the simulator identity.

// Runs `sql` on the controller's database behind its back (WAL: the controller keeps running).
void rawSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

grpc::Status pushBaseline(v1::OperatorService::Stub& stub, const std::string& content,
                          const std::string& file_name = "",
                          v1::PushBaselineResponse* out = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(deadlineIn(seconds(10)));
  v1::PushBaselineRequest request;
  request.set_content(content);
  request.set_file_name(file_name);
  v1::PushBaselineResponse response;
  grpc::Status status = stub.PushBaseline(&context, request, &response);
  if (out) *out = response;
  return status;
}

grpc::Status deleteBaseline(v1::OperatorService::Stub& stub, const std::string& name,
                            const std::string& version) {
  grpc::ClientContext context;
  context.set_deadline(deadlineIn(seconds(10)));
  v1::DeleteBaselineRequest request;
  request.set_name(name);
  request.set_digest(version);
  v1::DeleteBaselineResponse response;
  return stub.DeleteBaseline(&context, request, &response);
}

// 6: a label that is not UTF-8 was stored although the client showed an error, and from then
// on `baseline list` failed for everyone.
TEST_F(FleetSecurityE2eTest, BaselineTextThatIsNotUtf8IsRefusedAndABadStoredRowCannotBreakTheList) {
  const std::string bad =
      "name: badutf\nversion: \"\xff\xfe\"\nmain.cf:\n  set:\n    smtpd_tls_auth_only: yes\n";
  grpc::Status status = pushBaseline(*admin_, bad);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
  EXPECT_NE(status.error_message().find("not valid UTF-8"), std::string::npos) << describe(status);
  EXPECT_EQ(listBaselines().baselines_size(), 0);
  // Through postwardenctl too: refused (exit 1), and `baseline list` keeps working.
  const std::string file = dir_ + "/badutf.yaml";
  writeFileText(file, bad);
  std::string out;
  EXPECT_EQ(controller_->ctl({"baseline", "push", file}, &out), 1) << out;
  EXPECT_EQ(controller_->ctl({"baseline", "list"}, &out), 0) << out;

  // A row stored before the check existed: listed with U+FFFD, the others intact.
  ASSERT_TRUE(pushBaseline(*admin_, kBaseline).ok());
  rawSql(controller_->dataDir() + "/controller.db",
         "INSERT INTO baselines (name, version, label, content, pushed_at) VALUES "
         "('badutf', '0123456789ab', CAST(x'fffe' AS TEXT), 'name: badutf', 1)");
  v1::ListBaselinesResponse list = listBaselines();
  ASSERT_EQ(list.baselines_size(), 2);
  std::set<std::string> labels;
  for (const auto& b : list.baselines()) labels.insert(b.version());
  EXPECT_EQ(labels, (std::set<std::string>{"1", "\xef\xbf\xbd\xef\xbf\xbd"}));
  EXPECT_EQ(controller_->ctl({"baseline", "list"}, &out), 0) << out;
  EXPECT_TRUE(logHasLine({"baseline badutf@0123456789ab listed with U+FFFD"}));
  // And it can be deleted.
  EXPECT_EQ(controller_->ctl({"baseline", "delete", "badutf@0123456789ab"}, &out), 0) << out;
  EXPECT_EQ(listBaselines().baselines_size(), 1);
}

// 9: baselines every agent would refuse were stored by `baseline push`.
TEST_F(FleetSecurityE2eTest, PushRefusesWhatEveryAgentWouldRefuseAndStoresNothing) {
  const std::string head = "name: sec-test\nversion: \"2\"\nmain.cf:\n  set:\n";
  for (const std::string& setting :
       {std::string("    smtpd_tls_auth_only: \"yes\\nmynetworks = 0.0.0.0/0\"\n"),
        std::string("    smtpd_tls_auth_onyl: yes\n"),
        std::string("    smtpd_tls_security_level: mayy\n"),
        std::string("    smtpd_sasl_security_options: noanonymous, noplaintxt\n")}) {
    grpc::Status status = pushBaseline(*admin_, head + setting, "policies/bad.yaml");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << setting;
    EXPECT_EQ(status.error_message().rfind("baseline refused: policies/bad.yaml:5:", 0), 0u)
        << describe(status);
  }
  EXPECT_EQ(listBaselines().baselines_size(), 0);
  const std::string file = dir_ + "/typo.yaml";
  writeFileText(file, head + "    smtpd_tls_auth_onyl: yes\n");
  std::string out;
  EXPECT_EQ(controller_->ctl({"baseline", "push", file}, &out), 1) << out;
  EXPECT_EQ(listBaselines().baselines_size(), 0);
  EXPECT_TRUE(pushBaseline(*admin_, head + "    smtpd_tls_auth_only: yes\n").ok());
}

TEST_F(FleetSecurityE2eTest, BaselineDeleteIsForOperatorsAndRefusedWhileAssigned) {
  v1::PushBaselineResponse first;
  ASSERT_TRUE(pushBaseline(*admin_, kBaseline, "", &first).ok());
  const std::string version = first.baseline().digest();
  {
    grpc::ClientContext context;
    v1::AssignBaselineRequest request;
    request.set_name("sec-test");
    request.set_digest(version);
    request.set_mode(v1::BASELINE_MODE_DETECT);
    request.set_allow_no_match(true);  // no agent is enrolled in this test
    v1::AssignBaselineResponse response;
    ASSERT_TRUE(admin_->AssignBaseline(&context, request, &response).ok());
  }
  ASSERT_TRUE(controller_->addOperator("viewer1", "viewer").ok());
  auto viewer = controller_->operatorStub("viewer1");
  grpc::Status status = deleteBaseline(*viewer, "sec-test", version);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(status);
  status = deleteBaseline(*admin_, "sec-test", version);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << describe(status);
  EXPECT_EQ(listBaselines().baselines_size(), 1);
  status = deleteBaseline(*admin_, "sec-test", "ffffffffffff");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << describe(status);
  // Once another version is assigned to every agent, the first one can go.
  v1::PushBaselineResponse second;
  ASSERT_TRUE(pushBaseline(*admin_, std::string(kBaseline) + "# v2\n", "", &second).ok());
  std::string out;
  ASSERT_EQ(controller_->ctl({"baseline", "assign", "sec-test@" + second.baseline().digest(),
                              "--mode", "detect", "--yes", "--allow-no-match"},
                             &out),
            0)
      << out;
  EXPECT_EQ(controller_->ctl({"baseline", "delete", "sec-test@" + version.substr(0, 6)}, &out), 0)
      << out;
  EXPECT_NE(out.find("deleted baseline sec-test@" + version), std::string::npos) << out;
  ASSERT_EQ(listBaselines().baselines_size(), 1);
  EXPECT_EQ(listBaselines().baselines(0).digest(), second.baseline().digest());
}

// A CSR signed with a fresh key that asks for `extensions` (NID, OpenSSL config value).
std::string hostileCsr(const std::string& common_name,
                       const std::vector<std::pair<int, std::string>>& extensions) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_REQ* csr = X509_REQ_new();
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(csr), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_REQ_set_pubkey(csr, key);
  STACK_OF(X509_EXTENSION)* stack = sk_X509_EXTENSION_new_null();
  for (const auto& [nid, value] : extensions) {
    sk_X509_EXTENSION_push(stack, X509V3_EXT_conf_nid(nullptr, nullptr, nid, value.c_str()));
  }
  if (!extensions.empty()) X509_REQ_add_extensions(csr, stack);
  sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
  X509_REQ_sign(csr, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_REQ(bio, csr);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_REQ_free(csr);
  EVP_PKEY_free(key);
  return pem;
}

// 8 and 11: CSRs asking for a CA, extra names or a wildcard, malformed CSRs and the
// simulator's names are refused with INVALID_ARGUMENT and a reason; none spends the token.
TEST_F(FleetSecurityE2eTest, HostileMalformedAndSimulatorNamedEnrollmentsAreRefused) {
  const std::string one_use = token(1);
  auto stub = v1::EnrollmentService::NewStub(enrollChannel());
  auto enrollWith = [&](const std::string& csr_pem) {
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    v1::EnrollRequest request;
    request.set_token(one_use);
    request.set_csr_pem(csr_pem);
    v1::EnrollResponse response;
    return stub->Enroll(&context, request, &response);
  };
  struct Case {
    std::string csr;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {hostileCsr("evil.test", {{NID_basic_constraints, "critical,CA:TRUE"}}),
       "hostile certificate request: asks for a CA certificate"},
      {hostileCsr("evil.test", {{NID_subject_alt_name, "DNS:evil.test,DNS:localhost"}}),
       "hostile certificate request: asks for the extra name 'DNS:localhost'"},
      {hostileCsr("*.test", {}), "hostile certificate request: asks for a wildcard name"},
      {hostileCsr("evil.test", {{NID_subject_alt_name, "DNS:*.test"}}),
       "asks for a wildcard name 'DNS:*.test'"},
      {hostileCsr("sim-0001", {}), "reserved for the fleet simulator"},
      {"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
       "certificate request"},
      {std::string("\x30\x82\x01\x0a\xff\xfe garbage", 16), "certificate request"},
  };
  for (const Case& c : cases) {
    grpc::Status status = enrollWith(c.csr);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << describe(status);
    EXPECT_NE(status.error_message().find(c.reason), std::string::npos) << describe(status);
  }
  EXPECT_TRUE(logHasLine({"error", "refused enrollment", "hostile certificate request"}));
  EXPECT_EQ(agentIds(), std::set<std::string>{});
  // The token was never spent.
  EXPECT_TRUE(enroll("fine.test", one_use).ok());
}

// 11: with --allow-simulator, the simulator certificate could act as a real agent that happens
// to be named sim-*.
TEST_F(FleetSecurityE2eTest, TheSimulatorCannotSpeakForAnAgentEnrolledForReal) {
  ASSERT_EQ(controller_->stop(), 0);
  fs::create_directories(dir_ + "/sim");
  Result<std::unique_ptr<Controller>> sim_controller =
      Controller::start(dir_ + "/sim", {"--allow-simulator"});
  ASSERT_TRUE(sim_controller.ok()) << sim_controller.status().message();
  Controller& controller = **sim_controller;
  // A real agent named sim-real, enrolled before enrollment refused such names.
  rawSql(controller.dataDir() + "/controller.db",
         "INSERT INTO agents (id, hostname, token_id, token_labels, agent_labels, labels, "
         "enrolled_at, last_seen) VALUES ('sim-real', 'sim-real', 'tok', '{}', '{}', '{}', 1, 1)");
  const pki::KeyAndCertificate ca{
      .certificate_pem = readFileText(controller.dataDir() + "/ca.crt"),
      .private_key_pem = readFileText(controller.dataDir() + "/ca.key")};
  Identity simulator = mint(ca, "fleetsim", "simulator", Clock::now() - seconds(60),
                            Clock::now() + std::chrono::hours(1));
  auto simChannel = [&] {
    return channel(controller.address(), readFileText(controller.caFile()), simulator);
  };
  auto streamAs = [&](const std::string& id) {
    auto stub = v1::AgentService::NewStub(simChannel());
    grpc::ClientContext context;
    context.set_deadline(deadlineIn(seconds(10)));
    context.AddMetadata("x-postwarden-sim-agent", id);
    auto stream = stub->Connect(&context);
    v1::AgentMessage hello;
    hello.mutable_hello()->set_hostname(id);
    hello.mutable_hello()->set_agent_version("fleetsim");
    stream->Write(hello);
    v1::ControllerMessage reply;
    if (!stream->Read(&reply)) return stream->Finish();  // refused: the controller's status
    context.TryCancel();
    (void)stream->Finish();
    return grpc::Status::OK;
  };
  grpc::Status refused = streamAs("sim-real");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED) << describe(refused);
  EXPECT_NE(refused.error_message().find("enrolled for real"), std::string::npos)
      << describe(refused);
  // Its own simulated agents still work.
  grpc::Status own = streamAs("sim-0001");
  EXPECT_TRUE(own.ok()) << describe(own);
  auto op = controller.operatorStub();
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(listAgents(*op, &agents).ok());
  for (const v1::AgentSummary& a : agents.agents()) {
    if (a.id() == "sim-real") {
      EXPECT_NE(a.agent_version(), "fleetsim");  // the hello was refused
    }
  }
}

}  // namespace
}  // namespace postwarden::testing
