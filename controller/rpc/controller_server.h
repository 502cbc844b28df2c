// The running controller: the fleet over a Store it is handed (the composition root,
// controller/main, builds the store: SQLite or PostgreSQL) and two gRPC servers. On a store
// that is also a Coordination (PostgreSQL), several replicas share it: the rollout engine
// steps on the one holding the lease (core/leadership.h), and every replica listens for the
// others' changes (core/replica_sync.h).
//   main listener:       mutual TLS; client certificate required and verified against the
//                        controller CA (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY,
//                        the only mode this code can build); AgentService + OperatorService.
//   enrollment listener: server TLS; EnrollmentService only (new agents have no certificate).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/metrics/registry.h"
#include "common/os/env.h"
#include "controller/core/admission.h"
#include "controller/credentials/authority.h"
#include "controller/rpc/simulator_access.h"
#include "controller/store/store.h"

namespace postwarden::controller::rpc {

struct ServerOptions {
  std::string listen = "127.0.0.1:7443";  // port 0: any free port (tests)
  std::string enroll_listen;              // empty: the listen host, port + 1
  SimulatorOptions simulator;             // bench/fleetsim's certificate: refused by default
  // New agent streams admitted per second (ConnectAdmission); 0: no limit.
  double max_connects_per_second = core::kDefaultMaxConnectsPerSecond;
  std::chrono::seconds agent_certificate_lifetime{24 * 3600};
  int max_message_bytes = 4 << 20;  // what agents and operators may send
  // What the controller may answer: an operator's reply grows with the fleet (a rollout
  // record of 50,000 hosts is about 5.5 MB; postwardenctl accepts as much).
  int max_reply_bytes = 64 << 20;
  std::chrono::milliseconds rollout_step{250};  // how often active rollouts step
  // Where the fleet and the transport count for /metrics (controller/metrics serves it);
  // null: nothing counted. Borrowed; must outlive the server.
  metrics::Registry* metrics = nullptr;
};

class ControllerServer {
 public:
  // Loads the server certificate from `paths`, starts the fleet over `store` and listens,
  // issuing agent certificates with `authority`. `store` is borrowed and must outlive the
  // server. Rollouts run when the store also is a RolloutStore (both backends are); otherwise
  // the rollout calls answer FAILED_PRECONDITION.
  static Result<std::unique_ptr<ControllerServer>> start(const os::Env& env,
                                                         const credentials::DataDirPaths& paths,
                                                         credentials::Authority authority,
                                                         store::Store& store,
                                                         const ServerOptions& options);
  ~ControllerServer();

  int port() const;        // the main listener's port
  int enrollPort() const;  // the enrollment listener's port
  // Stops accepting, ends the streams (agents reconnect elsewhere or later), flushes what
  // the writer holds. Idempotent.
  void shutdown(std::chrono::milliseconds grace);

  struct Impl;

 private:
  explicit ControllerServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// "host:port" with port + 1.
Result<std::string> nextPortAddress(const std::string& address);

}  // namespace postwarden::controller::rpc
