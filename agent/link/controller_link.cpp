#include "agent/link/controller_link.h"

#include "agent/link/backoff.h"
#include "agent/link/identity_files.h"
#include "common/logging.h"
#include "common/pki/pki.h"
#include "common/proto_time.h"

namespace postwarden::agent::link {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("agent.link"); }

// The controller ended the stream or refused it because this identity is revoked: final.
bool isRevocation(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
         status.error_message().find("revoked") != std::string::npos;
}

// The identity's validity, parsed once per certificate. renewIfDue runs after every heartbeat;
// parsing the X.509 there each time cost CPU and kept OpenSSL's ASN.1 code resident in an
// idle agent (docs/performance.md, "Agent daemon at idle"). Called on the link's thread only.
Result<pki::CertificateInfo> certificateInfo(const std::string& certificate_pem) {
  thread_local std::string parsed_pem;
  thread_local Result<pki::CertificateInfo> parsed = InvalidArgumentError("no certificate");
  if (certificate_pem != parsed_pem) {
    parsed = pki::inspectCertificate(certificate_pem);
    parsed_pem = certificate_pem;
  }
  return parsed;
}

}  // namespace

void ControllerLink::logRevoked(const AgentIdentity& identity) {
  Result<pki::CertificateInfo> info = pki::inspectCertificate(identity.certificate_pem);
  const std::string id = info.ok() ? info->common_name : "this agent";
  log()->error(
      "agent '{}' is revoked by controller {}: it refuses this identity for good, so the agent "
      "stops connecting (it checks {} again only when that file changes). A revoked id never "
      "enrolls again; to bring this host back under a new id, an operator runs 'postwardenctl "
      "token create --agent NEW_ID', then on this host 'postwarden-agent enroll --agent-id "
      "NEW_ID --token-file FILE' (and agent_id: NEW_ID in agent.yaml) and restarts the agent",
      id, options_.channel.address, identityPath(options_.state_dir));
}

void ControllerLink::noteLinkState(bool connected, const std::string& error, bool revoked) {
  if (!callbacks_.on_link_state) return;
  callbacks_.on_link_state(
      {.connected = connected, .error = error, .revoked = revoked, .at = env_.clock.now()});
}

ControllerLink::ControllerLink(const os::Env& env, Outbox& outbox, LinkOptions options,
                               LinkCallbacks callbacks)
    : env_(env),
      outbox_(outbox),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      rotation_(options_.addresses.empty() ? std::vector<std::string>{options_.channel.address}
                                           : options_.addresses) {}

ControllerLink::~ControllerLink() { stop(); }

void ControllerLink::start() {
  thread_ = std::thread([this] { run(); });
}

void ControllerLink::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    if (context_) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<uint64_t> ControllerLink::enqueue(v1::AgentMessage message) {
  message.set_seq(0);  // the outbox entry's seq is the one sent
  std::string kind = message.has_drift() ? "drift" : "state";
  std::unique_lock lock(mutex_);
  Result<uint64_t> seq = outbox_.append(kind, message.SerializeAsString());
  lock.unlock();
  wake_.notify_all();
  return seq;
}

void ControllerLink::acknowledge(uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (seq <= acked_ && seq != 0) return;
  acked_ = std::max(acked_, seq);
  Status status = outbox_.acknowledge(seq);
  if (!status.ok()) log()->warn("outbox: {}", status.message());
}

void ControllerLink::run() {
  ReconnectPacer pacer(rotation_.size(), options_.backoff_base, options_.backoff_cap,
                       env_.random.next());
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
    }
    Result<AgentIdentity> identity = loadIdentity(env_.fs, options_.state_dir);
    if (identity.ok() && identity->certificate_pem == revoked_certificate_) {
      // Revoked for good: no connection until the identity changes (a new enrollment).
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kRevokedRecheck, [&] { return stop_; });
      continue;
    }
    SessionEnd end;
    bool lived = false;
    if (!identity.ok()) {
      log()->error("{}", identity.status().message());
    } else {
      auto started = env_.clock.steadyNow();
      end = session(*identity);
      connected_ = false;
      lived = env_.clock.steadyNow() - started > kLivedSession;
    }
    const grpc::Status& status = end.status;
    const std::string address = rotation_.current();
    // Shed with a hint (admission): this address again. UNAVAILABLE with a hint (its store is
    // down): the next, which may still have its store.
    rotation_.ended(end.retry_after.has_value() &&
                    status.error_code() != grpc::StatusCode::UNAVAILABLE);
    if (identity.ok() && isRevocation(status)) {
      revoked_certificate_ = identity->certificate_pem;
      noteLinkState(false, "revoked: " + status.error_message(), /*revoked=*/true);
      logRevoked(*identity);
      continue;
    }
    if (!status.ok()) noteLinkState(false, status.error_message(), false);
    const ReconnectWait wait = pacer.afterSession(
        {.lived = lived,
         .unavailable = identity.ok() && status.error_code() == grpc::StatusCode::UNAVAILABLE,
         .retry_after = end.retry_after});
    std::unique_lock lock(mutex_);
    if (stop_) return;
    logReconnect(address, end, wait);
    wake_.wait_for(lock, wait.delay, [&] { return stop_; });
  }
}

void ControllerLink::logReconnect(const std::string& address, const SessionEnd& end,
                                  const ReconnectWait& wait) const {
  const grpc::Status& status = end.status;
  if (wait.reason == ReconnectReason::kHint) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {  // its store is down
      log()->info(
          "controller {} unavailable ({}); retry hint {} ms, every address tried, "
          "retrying {} in {} ms",
          address, status.error_message(), end.retry_after->count(), rotation_.current(),
          wait.delay.count());
      return;
    }
    log()->info("controller {} busy ({}); retry hint {} ms, retrying in {} ms", address,
                status.error_message(), end.retry_after->count(), wait.delay.count());
    return;
  }
  log()->warn("controller {} unreachable or stream ended ({}: {}); {} {} in {} ms", address,
              static_cast<int>(status.error_code()), status.error_message(),
              wait.reason == ReconnectReason::kNextAddress ? "trying the next address" : "retrying",
              rotation_.current(), wait.delay.count());
}

ControllerLink::SessionEnd ControllerLink::session(const AgentIdentity& identity) {
  ChannelOptions target = options_.channel;
  target.address = rotation_.current();
  std::shared_ptr<grpc::Channel> channel = makeChannel(target, identity);
  auto stub = v1::AgentService::NewStub(channel);
  grpc::ClientContext context;
  {
    std::lock_guard lock(mutex_);
    if (stop_) return {grpc::Status::CANCELLED};
    context_ = &context;
    acked_ = 0;
  }
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::ControllerMessage>> stream =
      stub->Connect(&context);
  v1::AgentMessage hello;
  *hello.mutable_hello() = callbacks_.hello();
  hello.mutable_hello()->set_seq_epoch(outbox_.epoch());
  bool ok = stream->Write(hello);

  std::atomic<bool> reader_done{false};
  std::thread reader([&] {
    v1::ControllerMessage message;
    while (stream->Read(&message)) {
      if (message.has_ack()) {
        if (!connected_) {
          log()->info("connected to controller {}", target.address);
          noteLinkState(true, "", false);
        }
        connected_ = true;
        // An ack of another outbox's reports (an older controller sends epoch 0) says nothing
        // about this one's.
        const uint64_t epoch = message.ack().acked_epoch();
        if (epoch == 0 || epoch == outbox_.epoch()) acknowledge(message.ack().acked_seq());
      } else if (message.has_assignment()) {
        callbacks_.on_assignment(message.assignment());
      } else if (message.has_command()) {
        callbacks_.on_command(message.command());
      }
    }
    reader_done = true;
    wake_.notify_all();
  });

  uint64_t sent = 0;  // highest seq written on this stream
  auto next_heartbeat = env_.clock.steadyNow() + options_.heartbeat_interval;
  while (ok) {
    std::vector<OutboxEntry> unsent;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_heartbeat,
                       [&] { return stop_ || reader_done || outbox_.lastSeq() > sent; });
      if (stop_ || reader_done) break;
      for (OutboxEntry& e : outbox_.pending()) {
        if (e.seq > sent) unsent.push_back(std::move(e));
      }
      // Entries dropped by the outbox's bound leave gaps; nothing left to send below lastSeq.
      if (unsent.empty()) sent = std::max(sent, outbox_.lastSeq());
    }
    for (const OutboxEntry& e : unsent) {
      v1::AgentMessage message;
      if (!message.ParseFromString(e.payload)) {
        log()->error("outbox entry {} unreadable; dropped", e.seq);
        acknowledge(e.seq);
        continue;
      }
      message.set_seq(e.seq);
      message.set_seq_epoch(outbox_.epoch());
      if (!(ok = stream->Write(message))) break;
      sent = e.seq;
    }
    if (ok && env_.clock.steadyNow() >= next_heartbeat) {
      v1::AgentMessage heartbeat;
      *heartbeat.mutable_heartbeat()->mutable_sent_at() = toTimestamp(env_.clock.now());
      ok = stream->Write(heartbeat);
      next_heartbeat = env_.clock.steadyNow() + options_.heartbeat_interval;
      renewIfDue(channel, identity);
    }
  }
  {
    std::unique_lock lock(mutex_);
    // A stream the controller ended (a refusal; a shed stream with its retry hint) has ended
    // for the reader too, or will in a moment: cancelling it would replace the controller's
    // status and trailers with CANCELLED. Otherwise (stop(), a stuck stream) cancel, which
    // unblocks the reader whatever the state of the stream.
    if (!stop_) wake_.wait_for(lock, std::chrono::seconds(1), [&] { return reader_done.load(); });
    if (!reader_done) context.TryCancel();
    context_ = nullptr;
  }
  reader.join();
  SessionEnd end{stream->Finish()};
  // The hint comes with a shed stream (RESOURCE_EXHAUSTED) or with a replica's store being
  // down (UNAVAILABLE; a connect failure has no trailers).
  if (end.status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
      end.status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    const auto& trailers = context.GetServerTrailingMetadata();
    auto it = trailers.find(kRetryAfterMsKey);
    if (it != trailers.end()) {
      end.retry_after = parseRetryAfterMs(std::string_view(it->second.data(), it->second.size()));
    }
  }
  return end;
}

void ControllerLink::renewIfDue(const std::shared_ptr<grpc::Channel>& channel,
                                const AgentIdentity& identity) {
  Result<pki::CertificateInfo> info = certificateInfo(identity.certificate_pem);
  if (!info.ok()) return;
  auto now = env_.clock.now();
  auto lifetime = info->not_after - info->not_before;
  if (info->not_after - now > lifetime / 3) return;
  Result<std::string> key = pki::generatePrivateKey();
  Result<std::string> csr = key.ok() ? pki::createCsr(*key, info->common_name) : key.status();
  if (!csr.ok()) return;
  auto stub = v1::AgentService::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(now + std::chrono::seconds(15));
  v1::RenewRequest request;
  request.set_csr_pem(*csr);
  v1::RenewResponse response;
  grpc::Status status = stub->Renew(&context, request, &response);
  Status saved =
      status.ok()
          ? saveIdentity(env_.fs, options_.state_dir,
                         {.certificate_pem = response.certificate_pem(), .private_key_pem = *key})
          : UnavailableError(status.error_message());
  if (saved.ok()) {
    log()->info("client certificate renewed");
  } else {
    log()->warn("certificate renewal failed: {}", saved.message());
  }
}

}  // namespace postwarden::agent::link
