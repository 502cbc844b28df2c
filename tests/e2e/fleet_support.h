// Real fleet processes for e2e tests: a postwarden-controller with its own data directory on
// free loopback ports, postwarden-agent daemons enrolled against it (each on its own
// PostfixSandbox), and an operator client speaking real gRPC over mutual TLS. Every process is
// started with fork/exec from an argv, its output kept in a log file, and stopped by pid in
// the destructor (SIGTERM, then SIGKILL), also when the test failed.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "postwarden/v1/fleet.grpc.pb.h"
#include "tests/e2e/postfix_sandbox.h"

namespace postwarden::testing {

// A child process with stdout and stderr appended to `log_file`.
class BackgroundProcess {
 public:
  static Result<std::unique_ptr<BackgroundProcess>> start(const std::vector<std::string>& argv,
                                                          const std::string& log_file);
  ~BackgroundProcess();  // stop()

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (or -signal).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  void kill9();
  std::string log() const;

 private:
  BackgroundProcess(pid_t pid, std::string log_file) : pid_(pid), log_file_(std::move(log_file)) {}
  pid_t pid_;
  std::string log_file_;
  int status_ = 0;
  bool reaped_ = false;
};

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

class Controller {
 public:
  // init + serve on 127.0.0.1 with free ports (and `serve_args`, e.g. --agent-cert-ttl), and
  // an admin operator certificate.
  static Result<std::unique_ptr<Controller>> start(const std::string& dir,
                                                   std::vector<std::string> serve_args = {});
  // Another replica of `first` (serve_args name the shared store: --store postgres:...): its
  // data directory gets copies of first's CA and server certificate and key, as an operator
  // distributes them (docs/fleet.md "Scaling out"); no init of its own.
  static Result<std::unique_ptr<Controller>> startReplica(const std::string& dir,
                                                          const Controller& first,
                                                          std::vector<std::string> serve_args);
  ~Controller();

  Status restart();  // on the same ports
  void kill9();
  int stop();

  int port() const { return port_; }
  int enrollPort() const { return enroll_port_; }
  // With serve_args --metrics-listen: the port it serves /metrics on (else 0).
  int metricsPort() const { return metrics_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& dataDir() const { return data_dir_; }
  std::string caFile() const { return data_dir_ + "/ca.crt"; }
  std::string log() const;

  // An operator's files (NAME.crt, NAME.key, ca.crt, postwardenctl.yaml) in dir()/NAME.
  Result<std::string> addOperator(const std::string& name, const std::string& role);
  // A stub for OperatorService with the admin's (or `name`'s) certificate.
  std::unique_ptr<v1::OperatorService::Stub> operatorStub(const std::string& name = "admin");
  // Runs postwardenctl as admin with `args`; returns exit code, stdout in `out`.
  int ctl(const std::vector<std::string>& args, std::string* out = nullptr);

  Result<std::string> createToken(const std::map<std::string, std::string>& labels, int uses = 1,
                                  int64_t ttl_seconds = 3600);
  Result<v1::AgentSummary> agent(const std::string& id);

 private:
  explicit Controller(std::string dir) : dir_(std::move(dir)), data_dir_(dir_ + "/data") {}
  Status serve(const std::string& listen, const std::string& enroll_listen);

  std::string dir_;
  std::string data_dir_;
  int port_ = 0;
  int enroll_port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<BackgroundProcess> process_;
  int generation_ = 0;
  std::vector<std::string> serve_args_;
};

struct AgentOptions {
  std::string id;
  std::map<std::string, std::string> labels;
  std::string check_interval = "30s";
  std::string heartbeat_interval = "5s";
  std::string verify_deadline = "20s";
  std::string metrics_textfile;  // agent.yaml's metrics_textfile; empty: none
  // agent.yaml's controllers (replicas, HOST:PORT, tried in turn); empty: `controller:` the
  // enrolling controller.
  std::vector<std::string> controllers;
};

// An agent daemon on its own Postfix sandbox.
class FleetAgent {
 public:
  static Result<std::unique_ptr<FleetAgent>> enrollAndStart(Controller& controller,
                                                            const std::string& token,
                                                            const AgentOptions& options);
  ~FleetAgent();

  PostfixSandbox& sandbox() { return *sandbox_; }
  const std::string& id() const { return options_.id; }
  const std::string& stateDir() const { return state_dir_; }
  std::string identityFile() const { return state_dir_ + "/agent.pem"; }
  Status restart();
  int stop();
  void kill9();
  std::string log() const;
  // A reinstall on the same host: stops the daemon, wipes its state directory (identity,
  // outbox, cached baseline), enrolls again with `token` (the controller must allow it: an
  // approved re-enrollment or a token bound to this id) and starts the daemon.
  Status reinstall(Controller& controller, const std::string& token);

 private:
  FleetAgent() = default;
  Status enroll(Controller& controller, const std::string& token);
  std::unique_ptr<PostfixSandbox> sandbox_;
  AgentOptions options_;
  std::string state_dir_;
  std::string config_file_;
  std::string log_file_;
  std::unique_ptr<BackgroundProcess> process_;
};

// Runs a program to completion (argv, no shell); exit code and combined output.
int runProgram(const std::vector<std::string>& argv, std::string* output = nullptr);

}  // namespace postwarden::testing
