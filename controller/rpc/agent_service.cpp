#include "controller/rpc/agent_service.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "common/logging.h"
#include "controller/core/report_mapping.h"
#include "controller/rpc/identity.h"
#include "controller/rpc/status_mapping.h"

namespace postwarden::controller::rpc {

using core::AdmissionDecision;
using core::AgentSession;
using core::checkHello;
using core::Fleet;
using core::kRetryAfterMsKey;
using core::StoreOutageHints;

namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.agents"); }

// One agent's stream. Reads one message at a time; writes are queued and sent one at a time
// (gRPC allows one outstanding write). Deletes itself when gRPC is done with it.
class AgentStream final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>,
                          public AgentSession {
 public:
  // `context`, `outage` and `open_streams` are the service's and outlive the stream.
  AgentStream(Fleet& fleet, std::string agent_id, bool simulated,
              grpc::CallbackServerContext* context, StoreOutageHints& outage,
              std::atomic<size_t>& open_streams)
      : fleet_(fleet),
        agent_id_(std::move(agent_id)),
        simulated_(simulated),
        peer_(context->peer()),
        context_(context),
        outage_(outage),
        open_streams_(open_streams) {
    open_streams_.fetch_add(1, std::memory_order_relaxed);
    // Admitted: say so at once (empty initial metadata) rather than with the hello's ack, so
    // an agent or fleetsim sees when admission let it in apart from how long the hello's store
    // write takes. gRPC sends the metadata once, whichever of this and a write comes first.
    StartSendInitialMetadata();
    StartRead(&incoming_);
  }

  void send(v1::ControllerMessage message) override {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    outgoing_.push_back(std::move(message));
    if (outgoing_.size() == 1) StartWrite(&outgoing_.front());
  }

  void close(Status status) override {
    std::lock_guard lock(mutex_);
    // UNAVAILABLE from the Fleet is its store failing (a hello or a report batch not stored):
    // say when to poll again, so the agent neither hammers a store-less replica nor backs off
    // for up to a minute and comes back that late once the store is up. The agent still
    // tries its other addresses first (ReconnectPacer), in case only this replica is cut off.
    if (status.code() == StatusCode::kUnavailable && !finished_) {
      const auto hint = outage_.retryAfter(open_streams_.load(std::memory_order_relaxed));
      context_->AddTrailingMetadata(kRetryAfterMsKey, std::to_string(hint.count()));
    }
    finishLocked(toGrpc(status));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the agent closed its side, or the connection broke
      close(OkStatus());
      return;
    }
    Status status = handle(incoming_);
    if (!status.ok()) {
      log()->warn("closing stream of agent {} ({}): {}", agent_id_, peer_, status.message());
      close(status);
      return;
    }
    StartRead(&incoming_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    if (!outgoing_.empty()) outgoing_.pop_front();
    if (finish_status_) {  // finishLocked() waited for this write
      Finish(*std::exchange(finish_status_, std::nullopt));
      return;
    }
    if (!ok) {
      finishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    if (!outgoing_.empty() && !finished_) StartWrite(&outgoing_.front());
  }

  void OnCancel() override {}

  void OnDone() override {
    if (hello_seen_) fleet_.detach(agent_id_, this);
    open_streams_.fetch_sub(1, std::memory_order_relaxed);
    delete this;
  }

 private:
  Status handle(const v1::AgentMessage& message) {
    if (fleet_.isRevoked(agent_id_)) return PermissionDeniedError("agent revoked");
    switch (message.body_case()) {
      case v1::AgentMessage::kHello:
        if (hello_seen_) return FailedPreconditionError("second hello on one stream");
        PW_RETURN_IF_ERROR(checkHello(message.hello()));
        hello_seen_ = true;
        PW_RETURN_IF_ERROR(fleet_.attach(agent_id_, this, message.hello(), simulated_));
        outage_.storeAnswered();  // the hello was stored: the store is back
        return OkStatus();
      case v1::AgentMessage::kHeartbeat:
        if (!hello_seen_) return FailedPreconditionError("hello must come first");
        fleet_.heartbeat(agent_id_);
        return OkStatus();
      case v1::AgentMessage::kState:
      case v1::AgentMessage::kDrift:
        if (!hello_seen_) return FailedPreconditionError("hello must come first");
        return fleet_.report(agent_id_, message);
      case v1::AgentMessage::BODY_NOT_SET:
        break;
    }
    return InvalidArgumentError("message without a known body");
  }

  void finishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    // Queued writes are dropped: the agent redelivers anything unacknowledged. A write in
    // flight completes first; Finish then follows in OnWriteDone.
    if (outgoing_.empty()) {
      Finish(std::move(status));
    } else {
      outgoing_.erase(outgoing_.begin() + 1, outgoing_.end());
      finish_status_ = std::move(status);
    }
  }

  Fleet& fleet_;
  const std::string agent_id_;
  const bool simulated_;
  const std::string peer_;
  grpc::CallbackServerContext* const context_;
  StoreOutageHints& outage_;
  std::atomic<size_t>& open_streams_;
  v1::AgentMessage incoming_;
  bool hello_seen_ = false;  // touched only by the (serialized) read callbacks and OnDone
  std::mutex mutex_;
  std::deque<v1::ControllerMessage> outgoing_;  // front() is being written
  bool finished_ = false;
  std::optional<grpc::Status> finish_status_;
};

// Refuses a stream before it starts.
class RefusedStream final
    : public grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

Result<AgentServiceImpl::Caller> AgentServiceImpl::caller(
    const grpc::CallbackServerContext& context) {
  PW_ASSIGN_OR_RETURN(Peer peer, authenticate(context));
  if (peer.kind == PeerKind::kSimulator) {
    PW_ASSIGN_OR_RETURN(std::string id, simulatedAgent(options_.simulator, context));
    return Caller{.agent_id = std::move(id), .simulated = true};
  }
  if (peer.kind != PeerKind::kAgent) {
    return PermissionDeniedError(peer.describe() + " is not an agent");
  }
  if (fleet_.isRevoked(peer.id)) return PermissionDeniedError("agent " + peer.id + " is revoked");
  return Caller{.agent_id = peer.id};
}

grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* AgentServiceImpl::Connect(
    grpc::CallbackServerContext* context) {
  Result<Caller> who = caller(*context);
  if (!who.ok()) {
    log()->warn("refused stream from {}: {}", context->peer(), who.status().message());
    RpcMetrics::refuse(options_.metrics, who.status());
    return new RefusedStream(toGrpc(who.status()));
  }
  // After authentication, so that callers refused anyway take no token.
  AdmissionDecision admission = admission_.admit();
  if (!admission.admitted) {
    noteShed();
    RpcMetrics::refuse(options_.metrics, "rate_limited");
    context->AddTrailingMetadata(kRetryAfterMsKey, std::to_string(admission.retry_after.count()));
    return new RefusedStream(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "controller busy: too many new agent streams (see retry-after-ms)"));
  }
  return new AgentStream(fleet_, who->agent_id, who->simulated, context, store_outage_,
                         open_streams_);
}

void AgentServiceImpl::noteShed() {
  // Not one line per stream: in a reconnect storm thousands are shed per second by design
  // (the agents log their retries).
  const auto now = clock_.steadyNow();
  std::lock_guard lock(shed_mutex_);
  ++shed_since_log_;
  if (now - shed_logged_at_ < std::chrono::seconds(5)) return;
  log()->info("shed {} new agent streams (limit {}/s); they retry after the hinted wait",
              shed_since_log_, admission_.perSecond());
  shed_since_log_ = 0;
  shed_logged_at_ = now;
}

grpc::ServerUnaryReactor* AgentServiceImpl::Renew(grpc::CallbackServerContext* context,
                                                  const v1::RenewRequest* request,
                                                  v1::RenewResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Result<Caller> who = caller(*context);
  if (who.ok() && who->simulated) who = PermissionDeniedError("simulated agents do not renew");
  if (!who.ok()) {
    log()->warn("refused renewal from {}: {}", context->peer(), who.status().message());
    RpcMetrics::refuse(options_.metrics, who.status());
    reactor->Finish(toGrpc(who.status()));
    return reactor;
  }
  const std::string* id = &who->agent_id;
  Result<pki::CsrInfo> csr = pki::parseCsr(request->csr_pem());
  Status status = csr.status();
  if (status.ok() && csr->common_name != *id) {
    status = PermissionDeniedError("the request names " + csr->common_name + ", not " + *id);
  }
  if (status.ok()) {
    Result<std::string> certificate = issuer_(*id, request->csr_pem());
    status = certificate.status();
    if (status.ok()) response->set_certificate_pem(*certificate);
  }
  if (!status.ok()) log()->warn("renewal of {} refused: {}", *id, status.message());
  reactor->Finish(toGrpc(status));
  return reactor;
}

}  // namespace postwarden::controller::rpc
