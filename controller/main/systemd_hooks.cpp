#include "controller/main/systemd_hooks.h"

#include <grpcpp/grpcpp.h>

#include <cerrno>
#include <ctime>

#include "common/logging.h"
#include "common/systemd/notify.h"

namespace postwarden::controller {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.watchdog"); }

// Its certificate's name; also the agent id it asks for ("postwarden-controller" is no
// agent's: agent ids are host names, and none is enrolled under the controller's own name).
constexpr char kSelfCheckName[] = "postwarden-controller-self-check";
constexpr std::chrono::hours kIdentityLifetime{24};

}  // namespace

SelfCheck::SelfCheck(credentials::Authority authority, std::string target)
    : authority_(std::move(authority)), target_(std::move(target)) {}

void SelfCheck::renewIdentity() {
  Result<pki::KeyAndCertificate> issued = authority_.issueClient(
      kSelfCheckName, std::string(credentials::kOperatorUnitPrefix) + "viewer",
      std::chrono::duration_cast<std::chrono::seconds>(kIdentityLifetime));
  if (!issued.ok()) {
    log()->warn("self-check certificate not issued: {}", issued.status().message());
    return;
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = authority_.caPem();
  ssl.pem_private_key = issued->private_key_pem;
  ssl.pem_cert_chain = issued->certificate_pem;
  grpc::ChannelArguments args;
  // `init` puts localhost in every server certificate.
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  stub_ = v1::OperatorService::NewStub(
      grpc::CreateCustomChannel(target_, grpc::SslCredentials(ssl), args));
  renew_at_ = std::chrono::steady_clock::now() + kIdentityLifetime / 2;
}

bool SelfCheck::answers(std::chrono::milliseconds deadline) {
  if (!stub_ || std::chrono::steady_clock::now() >= renew_at_) renewIdentity();
  if (!stub_) return true;  // cannot check (logged): the watchdog stays on the main loop
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  context.set_wait_for_ready(true);  // a reconnect in progress is not a wedge; the deadline is
  v1::GetAgentRequest request;
  request.set_id(kSelfCheckName);
  v1::GetAgentResponse response;
  const grpc::Status status = stub_->GetAgent(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    log()->warn("self-check: no answer from {} within {} ms; not feeding the watchdog", target_,
                deadline.count());
    return false;
  }
  if (status.error_code() != grpc::StatusCode::NOT_FOUND && !status.ok() && !warned_) {
    warned_ = true;
    log()->warn(
        "self-check on {} answered '{}' (expected NOT_FOUND); the watchdog then only "
        "proves the listener answers",
        target_, status.error_message());
  }
  return true;
}

std::string selfCheckTarget(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]" || host == "::") host = "[::1]";
  return host + ":" + std::to_string(port);
}

void serveUntilStopped(const sigset_t& stop_signals, SelfCheck* self_check) {
  systemd::notifyReady();
  const std::optional<std::chrono::microseconds> timeout = systemd::watchdogTimeout();
  if (!timeout || self_check == nullptr) {
    int received = 0;
    sigwait(&stop_signals, &received);
  } else {
    const std::chrono::milliseconds every = systemd::watchdogFeedInterval(*timeout);
    const timespec wait{.tv_sec = static_cast<time_t>(every.count() / 1000),
                        .tv_nsec = static_cast<long>(every.count() % 1000) * 1000000};
    while (sigtimedwait(&stop_signals, nullptr, &wait) < 0) {
      if (errno != EAGAIN && errno != EINTR) break;
      if (errno == EAGAIN && self_check->answers(every)) systemd::notifyWatchdog();
    }
  }
  systemd::notifyStopping();
}

}  // namespace postwarden::controller
