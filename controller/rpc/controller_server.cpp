#include "controller/rpc/controller_server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include "common/logging.h"
#include "controller/core/fleet.h"
#include "controller/core/fleet_metrics.h"
#include "controller/core/leadership.h"
#include "controller/core/replica_sync.h"
#include "controller/core/rollout_metrics.h"
#include "controller/core/rollouts.h"
#include "controller/rpc/agent_service.h"
#include "controller/rpc/call_metrics.h"
#include "controller/rpc/enrollment_service.h"
#include "controller/rpc/operator_service.h"

namespace postwarden::controller::rpc {

struct ControllerServer::Impl {
  RpcMetrics rpc_metrics;  // before the services and servers that count into it
  std::optional<credentials::Authority> authority;
  // Replicas (a store that is also a Coordination): the lease the rollout loop needs, and
  // the listener for other replicas' changes. Null on SQLite: alone, always leading.
  std::unique_ptr<store::Lease> lease;
  std::unique_ptr<core::Leadership> leadership;
  std::unique_ptr<core::Fleet> fleet;
  std::unique_ptr<core::Rollouts> rollouts;         // null: the store keeps no rollouts
  std::unique_ptr<store::ChangeListener> listener;  // after what its thread calls into
  std::unique_ptr<AgentServiceImpl> agent_service;
  std::unique_ptr<OperatorServiceImpl> operator_service;
  std::unique_ptr<EnrollmentServiceImpl> enrollment_service;
  std::unique_ptr<grpc::Server> main_server;
  std::unique_ptr<grpc::Server> enroll_server;
  int port = 0;
  int enroll_port = 0;
  bool stopped = false;
};

namespace {

// The lease whose holder runs the rollout engine ("pwlead" as an integer).
constexpr int64_t kRolloutLeaseKey = 0x70776c656164;

void commonOptions(grpc::ServerBuilder& builder, const ServerOptions& options,
                   const RpcMetrics& metrics) {
  if (options.metrics) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(callCounterFactory(metrics));
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_reply_bytes);
  // Dead agents (a cut cable sends no FIN) are noticed by keepalive pings.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

}  // namespace

Result<std::string> nextPortAddress(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("address needs a port: " + address);
  int port = 0;
  try {
    port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return InvalidArgumentError("bad port in " + address);
  }
  if (port < 0 || port > 65534) return InvalidArgumentError("bad port in " + address);
  return address.substr(0, colon + 1) + std::to_string(port == 0 ? 0 : port + 1);
}

Result<std::unique_ptr<ControllerServer>> ControllerServer::start(
    const os::Env& env, const credentials::DataDirPaths& paths, credentials::Authority authority,
    store::Store& store, const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->authority.emplace(std::move(authority));
  PW_ASSIGN_OR_RETURN(std::string server_cert, env.fs.readFile(paths.server_cert()));
  PW_ASSIGN_OR_RETURN(std::string server_key, env.fs.readFile(paths.server_key()));
  os::Clock& clock = env.clock;
  core::FleetMetrics fleet_metrics;
  if (options.metrics) {
    impl->rpc_metrics = RpcMetrics::registerIn(*options.metrics);
    fleet_metrics = core::registerFleetMetrics(*options.metrics);
  }
  const RpcMetrics* rpc_metrics = options.metrics ? &impl->rpc_metrics : nullptr;
  auto* coordination = dynamic_cast<store::Coordination*>(&store);
  auto* rollout_store = dynamic_cast<store::RolloutStore*>(&store);
  std::function<Status(const std::string&, const v1::Command&)> relay;
  if (coordination != nullptr) {
    impl->lease = coordination->lease(kRolloutLeaseKey);
    relay = [coordination](const std::string& agent_id, const v1::Command& command) {
      return coordination->announce(core::commandAnnouncement(agent_id, command));
    };
  }
  impl->fleet = std::make_unique<core::Fleet>(
      store, core::FleetOptions{.now =
                                    [&clock] {
                                      return std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 clock.now().time_since_epoch())
                                          .count();
                                    },
                                .metrics = fleet_metrics,
                                .relay_command = relay});
  PW_RETURN_IF_ERROR(impl->fleet->start());
  Impl* raw = impl.get();
  impl->leadership = std::make_unique<core::Leadership>(
      impl->lease.get(), core::LeadershipOptions{.on_change = [raw](bool leader) {
        if (leader && raw->rollouts) raw->rollouts->wake();
      }});
  if (rollout_store != nullptr) {
    core::Leadership* leadership = impl->leadership.get();
    impl->rollouts = std::make_unique<core::Rollouts>(
        store, *rollout_store, *impl->fleet,
        core::RolloutsOptions{.now = [&clock] { return absl::FromChrono(clock.now()); },
                              .step_interval = absl::FromChrono(options.rollout_step),
                              .leads = [leadership] { return leadership->isLeader(); }});
    PW_RETURN_IF_ERROR(impl->rollouts->start());
  }
  // The server outlives neither its fleet nor the registry's scrapes (main stops the metrics
  // listener first).
  if (options.metrics) core::addFleetCollector(*options.metrics, *impl->fleet);
  if (options.metrics && impl->rollouts) {
    core::addRolloutCollector(*options.metrics, *impl->rollouts);
  }

  const credentials::Authority& ca = *impl->authority;
  auto issuer = [&ca, lifetime = options.agent_certificate_lifetime](const std::string& id,
                                                                     const std::string& csr) {
    return ca.issueAgent(id, csr, lifetime);
  };
  impl->agent_service = std::make_unique<AgentServiceImpl>(
      *impl->fleet, issuer,
      AgentServiceOptions{.simulator = options.simulator,
                          .admission = {.per_second = options.max_connects_per_second},
                          .metrics = rpc_metrics},
      env.clock);
  impl->operator_service =
      std::make_unique<OperatorServiceImpl>(*impl->fleet, impl->rollouts.get(), rpc_metrics);
  impl->enrollment_service = std::make_unique<EnrollmentServiceImpl>(
      *impl->fleet, ca, options.agent_certificate_lifetime, rpc_metrics);

  grpc::SslServerCredentialsOptions mtls(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  mtls.pem_root_certs = ca.caPem();
  mtls.pem_key_cert_pairs.push_back({server_key, server_cert});
  grpc::ServerBuilder main_builder;
  commonOptions(main_builder, options, impl->rpc_metrics);
  main_builder.AddListeningPort(options.listen, grpc::SslServerCredentials(mtls), &impl->port);
  main_builder.RegisterService(impl->agent_service.get());
  main_builder.RegisterService(impl->operator_service.get());
  impl->main_server = main_builder.BuildAndStart();
  if (!impl->main_server || impl->port == 0) {
    return UnavailableError("cannot listen on " + options.listen);
  }

  std::string enroll_listen = options.enroll_listen;
  if (enroll_listen.empty()) {
    PW_ASSIGN_OR_RETURN(enroll_listen, nextPortAddress(options.listen));
  }
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  tls.pem_key_cert_pairs.push_back({server_key, server_cert});
  grpc::ServerBuilder enroll_builder;
  commonOptions(enroll_builder, options, impl->rpc_metrics);
  enroll_builder.SetMaxReceiveMessageSize(64 << 10);  // a token and a CSR
  enroll_builder.AddListeningPort(enroll_listen, grpc::SslServerCredentials(tls),
                                  &impl->enroll_port);
  enroll_builder.RegisterService(impl->enrollment_service.get());
  impl->enroll_server = enroll_builder.BuildAndStart();
  if (!impl->enroll_server || impl->enroll_port == 0) {
    impl->main_server->Shutdown();
    return UnavailableError("cannot listen on " + enroll_listen + " (enrollment)");
  }
  // Last: their threads call into what is built above, and stop first in shutdown().
  impl->leadership->start();
  if (coordination != nullptr) {
    impl->listener = coordination->listen([raw, rollout_store](const std::string& payload) {
      core::onReplicaChange(payload, *raw->fleet, rollout_store, raw->rollouts.get());
    });
  }
  return std::unique_ptr<ControllerServer>(new ControllerServer(std::move(impl)));
}

ControllerServer::ControllerServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControllerServer::~ControllerServer() { shutdown(std::chrono::seconds(2)); }

int ControllerServer::port() const { return impl_->port; }
int ControllerServer::enrollPort() const { return impl_->enroll_port; }

void ControllerServer::shutdown(std::chrono::milliseconds grace) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  auto deadline = std::chrono::system_clock::now() + grace;
  impl_->enroll_server->Shutdown(deadline);
  impl_->main_server->Shutdown(deadline);
  impl_->listener.reset();
  impl_->leadership->stop();
  if (impl_->rollouts) impl_->rollouts->stop();
  impl_->fleet->stop();
}

}  // namespace postwarden::controller::rpc
