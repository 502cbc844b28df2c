// The mTLS channel: certificate files checked before any call, the channel arguments, and
// real handshakes against an in-process gRPC server that requires and verifies client
// certificates (loopback only).
#include "controller/ctl/channel.h"

#include <gmock/gmock.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "controller/ctl/ctl.h"
#include "tests/unit/controller/ctl/test_pki.h"

namespace postwarden::controller::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace ::postwarden::controller::ctl::testing;

Result<std::string> fromMap(const std::map<std::string, std::string>& files,
                            const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) return NotFoundError("reading '" + path + "': No such file or directory");
  return it->second;
}

FileReader mapReader(std::map<std::string, std::string> files) {
  return [files](const std::string& path, size_t) { return fromMap(files, path); };
}

ConnectionSettings settings() { return {"127.0.0.1:1", "", "/ca.crt", "/op.crt", "/op.key"}; }

TEST(PostwardenctlChannelTest, ReadsTheThreeFiles) {
  Result<TlsMaterial> material = readTlsMaterial(
      settings(),
      mapReader({{"/ca.crt", kCaPem}, {"/op.crt", kAliceCertPem}, {"/op.key", kAliceKeyPem}}));
  ASSERT_TRUE(material.ok()) << material.status().toString();
  EXPECT_EQ(material->ca_pem, kCaPem);
  EXPECT_EQ(material->cert_pem, kAliceCertPem);
  EXPECT_EQ(material->key_pem, kAliceKeyPem);
}

TEST(PostwardenctlChannelTest, NamesTheMissingOrWrongFile) {
  Result<TlsMaterial> no_key =
      readTlsMaterial(settings(), mapReader({{"/ca.crt", kCaPem}, {"/op.crt", kAliceCertPem}}));
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.status().message(), "key file: reading '/op.key': No such file or directory");
  Result<TlsMaterial> empty_ca = readTlsMaterial(
      settings(),
      mapReader({{"/ca.crt", ""}, {"/op.crt", kAliceCertPem}, {"/op.key", kAliceKeyPem}}));
  ASSERT_FALSE(empty_ca.ok());
  EXPECT_EQ(empty_ca.status().message(),
            "CA file '/ca.crt': no PEM block (-----BEGIN CERTIFICATE-----) found");
  Result<TlsMaterial> swapped = readTlsMaterial(
      settings(),
      mapReader({{"/ca.crt", kCaPem}, {"/op.crt", kAliceKeyPem}, {"/op.key", kAliceCertPem}}));
  ASSERT_FALSE(swapped.ok());
  EXPECT_THAT(swapped.status().message(), StartsWith("certificate file '/op.crt': no PEM block"));
}

// The value of one channel argument, as set on `args`.
std::optional<std::string> argument(grpc::ChannelArguments& args, const char* key) {
  grpc_channel_args c_args;
  args.SetChannelArgs(&c_args);
  for (size_t i = 0; i < c_args.num_args; ++i) {
    const grpc_arg& arg = c_args.args[i];
    if (std::string(arg.key) != key) continue;
    if (arg.type == GRPC_ARG_INTEGER) return std::to_string(arg.value.integer);
    if (arg.type == GRPC_ARG_STRING) return std::string(arg.value.string);
  }
  return std::nullopt;
}

TEST(PostwardenctlChannelTest, ArgumentsLimitAndNameOverride) {
  ConnectionSettings s = settings();
  grpc::ChannelArguments plain = channelArguments(s);
  EXPECT_EQ(argument(plain, GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH), "67108864");
  EXPECT_FALSE(argument(plain, GRPC_SSL_TARGET_NAME_OVERRIDE_ARG).has_value());
  s.controller_name = "postwarden-controller";
  grpc::ChannelArguments named = channelArguments(s);
  EXPECT_EQ(argument(named, GRPC_SSL_TARGET_NAME_OVERRIDE_ARG), "postwarden-controller");
}

// A controller stand-in: ListAgents answers one agent named after the caller's certificate.
class FakeOperatorService final : public v1::OperatorService::Service {
 public:
  grpc::Status ListAgents(grpc::ServerContext* context, const v1::ListAgentsRequest*,
                          v1::ListAgentsResponse* reply) override {
    std::string caller;
    for (const auto& name : context->auth_context()->FindPropertyValues("x509_common_name")) {
      caller.assign(name.data(), name.size());
    }
    v1::AgentSummary* agent = reply->add_agents();
    agent->set_id("seen-by-" + caller);
    agent->set_connected(true);
    return grpc::Status::OK;
  }
  // What a controller whose database is down answers (controller/store/postgres_db.cpp).
  grpc::Status ListDrift(grpc::ServerContext*, const v1::ListDriftRequest*,
                         v1::ListDriftResponse*) override {
    return {grpc::StatusCode::UNAVAILABLE,
            "postgresql: cannot connect: connection to server at \"127.0.0.1\", port 5432 "
            "failed: Connection refused; the controller's database is unreachable: retry in a "
            "few seconds (the controller reconnects by itself)"};
  }
};

class PostwardenctlTlsChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::SslServerCredentialsOptions options(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = kCaPem;
    options.pem_key_cert_pairs.push_back({kServerKeyPem, kServerCertPem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(options), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_);
    ASSERT_GT(port_, 0);

    std::string pattern = (std::filesystem::temp_directory_path() / "ctl_tls_XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    write("ca.crt", kCaPem);
    write("other-ca.crt", kOtherCaPem);
    write("alice.crt", kAliceCertPem);
    write("alice.key", kAliceKeyPem);
    write("mallory.crt", kMalloryCertPem);
    write("mallory.key", kMalloryKeyPem);
    // What `postwarden-controller operator add alice --out DIR` writes.
    write("postwardenctl.yaml", "controller: 127.0.0.1:" + std::to_string(port_) +
                                    "\ncontroller_name: postwarden-controller\n"
                                    "ca_file: ca.crt\ncert_file: alice.crt\nkey_file: alice.key\n");
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    std::filesystem::remove_all(dir_);
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }

  int run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    std::vector<std::string> full = {"--config", dir_ + "/postwardenctl.yaml", "--timeout", "5"};
    full.insert(full.end(), args.begin(), args.end());
    Environment env{
        .out = out_,
        .err = err_,
        .getenv = [](const char*) -> std::optional<std::string> { return std::nullopt; },
        .now_unix_ms = [] { return int64_t{1714564800000}; },
        .read_file = readLocalFile,
        .connect = tlsStubFactory(readLocalFile)};
    return ctl::run(full, env);
  }

  FakeOperatorService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::string dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(PostwardenctlTlsChannelTest, OperatorConfigFileConnects) {
  EXPECT_EQ(run({"agents"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "ID             HOSTNAME  LABELS  BASELINE  MODE  COMPLIANCE  LAST-SEEN\n"
            "seen-by-alice  -         -       -         -     unknown     connected\n");
}

TEST_F(PostwardenctlTlsChannelTest, ServerNameMustMatchTheCertificate) {
  // The certificate carries DNS:postwarden-controller only.
  EXPECT_EQ(run({"--controller-name", "wrong-name", "agents"}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("postwardenctl: error: listing agents: UNAVAILABLE: "));
  EXPECT_THAT(err_.str(), HasSubstr("postwardenctl: hint: the controller is down"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(PostwardenctlTlsChannelTest, OnlyTheControllerCaIsTrusted) {
  EXPECT_EQ(run({"--ca", dir_ + "/other-ca.crt", "agents"}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("postwardenctl: error: listing agents: UNAVAILABLE: "));
  EXPECT_THAT(err_.str(), HasSubstr("postwardenctl: hint: the controller is down"));
}

// gRPC's own wording for a connection that never came up, from a real channel: the
// "unreachable" hint. (Pins rpc_error.cpp's prefixes to the gRPC in use.)
TEST_F(PostwardenctlTlsChannelTest, AClosedPortGetsTheUnreachableHint) {
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  EXPECT_EQ(run({"agents"}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("postwardenctl: error: listing agents: UNAVAILABLE: "));
  EXPECT_THAT(err_.str(), HasSubstr("postwardenctl: hint: the controller is down or unreachable"));
}

// The controller itself answered UNAVAILABLE (its database is down): a hint that says so,
// not one that blames the address or the CA file.
TEST_F(PostwardenctlTlsChannelTest, AnUnavailableTheControllerSentGetsTheRetryHint) {
  EXPECT_EQ(run({"drift"}), kExitError);
  EXPECT_THAT(err_.str(), StartsWith("postwardenctl: error: listing drift: UNAVAILABLE: "
                                     "postgresql: cannot connect"));
  EXPECT_THAT(err_.str(),
              HasSubstr("postwardenctl: hint: the controller answered but cannot serve this now"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("controller is down")));
}

TEST_F(PostwardenctlTlsChannelTest, ForeignClientCertificateIsRefused) {
  EXPECT_EQ(run({"--cert", dir_ + "/mallory.crt", "--key", dir_ + "/mallory.key", "agents"}),
            kExitError);
  EXPECT_THAT(err_.str(), StartsWith("postwardenctl: error: listing agents: "));
  EXPECT_EQ(out_.str(), "");
}

}  // namespace
}  // namespace postwarden::controller::ctl
