// AgentService on the mTLS listener: one bidirectional stream per agent (callback API: no
// thread per stream, so one controller holds tens of thousands of agents) and certificate
// renewal. The agent is the one its certificate names; a simulator certificate may speak for
// "sim-*" agents named in metadata, only as SimulatorOptions allow (simulator_access.h). New
// streams pass ConnectAdmission first: beyond its rate they are refused with RESOURCE_EXHAUSTED
// and trailing metadata "retry-after-ms", which agents honour (plus jitter) before retrying.
// A stream ended (or a hello refused) UNAVAILABLE because the store failed carries such a hint
// too (StoreOutageHints), so agents poll again within seconds instead of backing off.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>

#include "common/os/clock.h"
#include "common/pki/pki.h"
#include "controller/core/admission.h"
#include "controller/core/fleet.h"
#include "controller/core/store_outage_hint.h"
#include "controller/rpc/call_metrics.h"
#include "controller/rpc/simulator_access.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::rpc {

// Issues a client certificate for a CSR; shared by enrollment and renewal.
using CertificateIssuer =
    std::function<Result<std::string>(const std::string& agent_id, const std::string& csr_pem)>;

struct AgentServiceOptions {
  SimulatorOptions simulator;
  core::AdmissionOptions admission;     // new streams per second (Connect); Renew is not limited
  const RpcMetrics* metrics = nullptr;  // refusals counted here; null: not counted
};

class AgentServiceImpl final : public v1::AgentService::CallbackService {
 public:
  // `clock` (admission's time) is borrowed and must outlive the service.
  AgentServiceImpl(core::Fleet& fleet, CertificateIssuer issuer, AgentServiceOptions options,
                   const os::Clock& clock)
      : fleet_(fleet),
        issuer_(std::move(issuer)),
        options_(options),
        clock_(clock),
        admission_(options.admission, clock),
        store_outage_({.returns_per_second = options.admission.per_second}, clock,
                      std::random_device{}()) {}

  grpc::ServerBidiReactor<v1::AgentMessage, v1::ControllerMessage>* Connect(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Renew(grpc::CallbackServerContext* context,
                                  const v1::RenewRequest* request,
                                  v1::RenewResponse* response) override;

 private:
  struct Caller {
    std::string agent_id;
    bool simulated = false;
  };
  // The agent a call speaks for, or why it may not.
  Result<Caller> caller(const grpc::CallbackServerContext& context);

  core::Fleet& fleet_;
  CertificateIssuer issuer_;
  // Shed streams are counted and logged at most every 5 s, not one line each.
  void noteShed();

  AgentServiceOptions options_;
  const os::Clock& clock_;
  core::ConnectAdmission admission_;
  core::StoreOutageHints store_outage_;  // hints for streams ended because the store failed
  std::atomic<size_t> open_streams_{0};  // admitted streams not yet done
  std::mutex shed_mutex_;
  int64_t shed_since_log_ = 0;
  std::chrono::steady_clock::time_point shed_logged_at_{};
};

}  // namespace postwarden::controller::rpc
