#include "tests/e2e/fleet_support.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/proto_time.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;

const std::string kController = POSTWARDEN_CONTROLLER_PATH;
const std::string kAgent = POSTWARDEN_AGENT_PATH;
const std::string kCtl = POSTWARDEN_CTL_PATH;

std::vector<char*> cArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int runProgram(const std::vector<std::string>& argv, std::string* output) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    std::vector<char*> args = cArgv(argv);
    execv(args[0], args.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof buffer)) > 0) text.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<BackgroundProcess>> BackgroundProcess::start(
    const std::vector<std::string>& argv, const std::string& log_file) {
  int log = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return ErrnoToStatus(errno, log_file);
  pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return ErrnoToStatus(errno, "fork");
  }
  if (pid == 0) {
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    std::vector<char*> args = cArgv(argv);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log);
  return std::unique_ptr<BackgroundProcess>(new BackgroundProcess(pid, log_file));
}

BackgroundProcess::~BackgroundProcess() { stop(std::chrono::seconds(5)); }

bool BackgroundProcess::running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

int BackgroundProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return status_;
  kill(pid_, SIGTERM);
  if (!eventually([&] { return !running(); }, grace)) {
    kill(pid_, SIGKILL);
    eventually([&] { return !running(); }, std::chrono::seconds(5));
  }
  return status_;
}

void BackgroundProcess::kill9() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  eventually([&] { return !running(); }, std::chrono::seconds(5));
}

std::string BackgroundProcess::log() const { return readFileText(log_file_); }

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Controller>> Controller::start(const std::string& dir,
                                                      std::vector<std::string> serve_args) {
  std::unique_ptr<Controller> c(new Controller(dir));
  c->serve_args_ = std::move(serve_args);
  std::string output;
  if (runProgram({kController, "init", "--data-dir", c->data_dir_}, &output) != 0) {
    return InternalError("controller init failed: " + output);
  }
  PW_RETURN_IF_ERROR(c->serve("127.0.0.1:0", "127.0.0.1:0"));
  PW_RETURN_IF_ERROR(c->addOperator("admin", "admin").status());
  return c;
}

Controller::~Controller() {
  if (process_) process_->stop();
}

Status Controller::serve(const std::string& listen, const std::string& enroll_listen) {
  std::string port_file = dir_ + "/ports." + std::to_string(++generation_);
  std::vector<std::string> argv = {kController,   "serve",  "--data-dir",      data_dir_,
                                   "--listen",    listen,   "--enroll-listen", enroll_listen,
                                   "--port-file", port_file};
  argv.insert(argv.end(), serve_args_.begin(), serve_args_.end());
  PW_ASSIGN_OR_RETURN(process_, BackgroundProcess::start(argv, dir_ + "/controller.log"));
  if (!eventually([&] { return !readFileText(port_file).empty() || !process_->running(); },
                  std::chrono::seconds(20)) ||
      !process_->running()) {
    return InternalError("controller did not start:\n" + process_->log());
  }
  metrics_port_ = 0;  // a third field only with --metrics-listen
  std::istringstream(readFileText(port_file)) >> port_ >> enroll_port_ >> metrics_port_;
  return OkStatus();
}

Status Controller::restart() {
  process_->stop();
  return serve(address(), "127.0.0.1:" + std::to_string(enroll_port_));
}

void Controller::kill9() { process_->kill9(); }
int Controller::stop() { return process_->stop(); }
std::string Controller::log() const { return readFileText(dir_ + "/controller.log"); }

Result<std::string> Controller::addOperator(const std::string& name, const std::string& role) {
  std::string out = dir_ + "/" + name;
  std::string output;
  if (runProgram({kController, "operator", "add", name, "--role", role, "--data-dir", data_dir_,
                  "--out", out, "--controller", address()},
                 &output) != 0) {
    return InternalError("operator add failed: " + output);
  }
  // Reach the controller by address, check its certificate's name.
  std::string config = readFileText(out + "/postwardenctl.yaml");
  writeFileText(out + "/postwardenctl.yaml", config + "controller_name: localhost\n");
  return out;
}

std::unique_ptr<v1::OperatorService::Stub> Controller::operatorStub(const std::string& name) {
  std::string dir = dir_ + "/" + name;
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = readFileText(caFile());
  ssl.pem_private_key = readFileText(dir + "/" + name + ".key");
  ssl.pem_cert_chain = readFileText(dir + "/" + name + ".crt");
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::OperatorService::NewStub(
      grpc::CreateCustomChannel(address(), grpc::SslCredentials(ssl), args));
}

int Controller::ctl(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {kCtl, "--config", dir_ + "/admin/postwardenctl.yaml",
                                   "--controller", address()};
  argv.insert(argv.end(), args.begin(), args.end());
  return runProgram(argv, out);
}

Result<std::string> Controller::createToken(const std::map<std::string, std::string>& labels,
                                            int uses, int64_t ttl_seconds) {
  auto stub = operatorStub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::CreateTokenRequest request;
  request.mutable_labels()->insert(labels.begin(), labels.end());
  request.set_uses(uses);
  *request.mutable_ttl() = google::protobuf::util::TimeUtil::SecondsToDuration(ttl_seconds);
  v1::CreateTokenResponse response;
  grpc::Status status = stub->CreateToken(&context, request, &response);
  if (!status.ok()) return InternalError("CreateToken: " + status.error_message());
  return response.token();
}

Result<v1::AgentSummary> Controller::agent(const std::string& id) {
  auto stub = operatorStub();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetAgentRequest request;
  request.set_id(id);
  v1::GetAgentResponse response;
  grpc::Status status = stub->GetAgent(&context, request, &response);
  if (!status.ok()) return NotFoundError("GetAgent: " + status.error_message());
  return response.agent();
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<FleetAgent>> FleetAgent::enrollAndStart(Controller& controller,
                                                               const std::string& token,
                                                               const AgentOptions& options) {
  std::unique_ptr<FleetAgent> a(new FleetAgent());
  a->options_ = options;
  PW_ASSIGN_OR_RETURN(a->sandbox_, PostfixSandbox::start());
  a->state_dir_ = a->sandbox_->dir() + "/agent-state";
  a->config_file_ = a->sandbox_->dir() + "/agent.yaml";
  a->log_file_ = a->sandbox_->dir() + "/agent.log";
  std::string labels;
  for (const auto& [k, v] : options.labels) labels += (labels.empty() ? "" : ", ") + k + ": " + v;
  writeFileText(a->config_file_,
                "controller: " + controller.address() + "\ncontroller_name: localhost\nca_file: " +
                    controller.caFile() + "\nagent_id: " + options.id +
                    "\nstate_dir: " + a->state_dir_ + "\npostfix_dir: " + a->sandbox_->configDir() +
                    "\nprobe:\n  roles: {smtp: " + std::to_string(a->sandbox_->port()) +
                    "}\nlabels: {" + labels + "}\ncheck_interval: " + options.check_interval +
                    "\nheartbeat_interval: " + options.heartbeat_interval +
                    "\nverify_deadline: " + options.verify_deadline + "\n" +
                    (options.metrics_textfile.empty()
                         ? ""
                         : "metrics_textfile: " + options.metrics_textfile + "\n"));
  PW_RETURN_IF_ERROR(a->enroll(controller, token));
  PW_RETURN_IF_ERROR(a->restart());
  return a;
}

Status FleetAgent::enroll(Controller& controller, const std::string& token) {
  std::string output;
  if (runProgram({kAgent, "enroll", "--config", config_file_, "--enroll-address",
                  "127.0.0.1:" + std::to_string(controller.enrollPort()), "--token", token},
                 &output) != 0) {
    return InternalError("enroll failed: " + output);
  }
  return OkStatus();
}

Status FleetAgent::reinstall(Controller& controller, const std::string& token) {
  if (process_) process_->stop();
  process_.reset();
  std::error_code error;
  std::filesystem::remove_all(state_dir_, error);
  if (error) return InternalError("wiping " + state_dir_ + ": " + error.message());
  PW_RETURN_IF_ERROR(enroll(controller, token));
  return restart();
}

FleetAgent::~FleetAgent() {
  if (process_) process_->stop();
}

Status FleetAgent::restart() {
  if (process_) process_->stop();
  PW_ASSIGN_OR_RETURN(process_, BackgroundProcess::start(
                                    {kAgent, "run", "--config", config_file_, "-v"}, log_file_));
  return OkStatus();
}

int FleetAgent::stop() { return process_ ? process_->stop() : 0; }
void FleetAgent::kill9() {
  if (process_) process_->kill9();
}
std::string FleetAgent::log() const { return readFileText(log_file_); }

}  // namespace postwarden::testing
