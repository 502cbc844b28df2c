#include "tests/e2e/postfix_sandbox.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace postwarden::testing {

std::string readFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int freeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

os::CommandResult runProgram(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                             const std::map<std::string, std::string>& env, std::string* output) {
  os::ProcessCommandRunner runner;
  Result<os::CommandResult> result =
      runner.run({.argv = argv, .timeout = timeout, .extra_env = env});
  EXPECT_TRUE(result.ok()) << result.status().toString();
  if (!result.ok()) return {};
  if (output != nullptr) *output = result->stdout_data + result->stderr_data;
  return *result;
}

void writeFileText(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kScript = POSTWARDEN_SOURCE_DIR "/script/postfix-sandbox";
// create makes an RSA key; start waits up to 15 s for the banner inside the script.
constexpr milliseconds kCreateTimeout{60000};
constexpr milliseconds kStartTimeout{30000};
constexpr milliseconds kStopTimeout{30000};
constexpr int kStartAttempts = 3;

// Closes a file descriptor when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Why this host cannot run sandboxes, or "" when it can.
std::string hostProblem() {
  std::string problems;
  if (::geteuid() != 0) {
    problems += "e2e tests must run as root (CI does): a Postfix master runs as root. ";
  }
  std::string missing;
  for (const char* tool : {"postfix", "postconf", "saslpasswd2", "openssl"}) {
    if (internal::findProgram(tool).empty()) missing += " '" + std::string(tool) + "'";
  }
  if (!missing.empty()) {
    problems += "missing" + missing +
                "; install the e2e dependencies with script/bootstrap (Debian packages postfix, "
                "sasl2-bin, libsasl2-modules, openssl, iproute2). ";
  }
  if (::access(std::string(kScript).c_str(), X_OK) != 0) {
    problems += "'" + std::string(kScript) + "' is missing or not executable. ";
  }
  return problems;
}

std::string tempBase() {
  const char* tmpdir = std::getenv("TMPDIR");
  return (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
}

// Runs a program to completion; a non-zero exit becomes Internal with its stderr.
Result<os::CommandResult> runChecked(os::CommandRunner& runner, std::vector<std::string> argv,
                                     milliseconds timeout) {
  const std::string what = os::describeCommand(argv);
  os::Command command;
  command.argv = std::move(argv);
  command.timeout = timeout;
  Result<os::CommandResult> out = runner.run(command);
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) {
    return InternalError("'" + what + "' exited with " + std::to_string(out->exit_code) + ": " +
                         out->stderr_data);
  }
  return out;
}

// Runs script/postfix-sandbox with `args`.
Result<os::CommandResult> runScript(os::CommandRunner& runner, const std::vector<std::string>& args,
                                    milliseconds timeout) {
  std::vector<std::string> argv{std::string(kScript)};
  argv.insert(argv.end(), args.begin(), args.end());
  return runChecked(runner, std::move(argv), timeout);
}

// Reads one SMTP reply (all lines up to "NNN text") from `fd`, appending raw bytes to `buffer`
// and returning the reply's lines. Lines are CRLF-terminated; the last has a space (or nothing)
// after the code.
Result<std::vector<std::string>> readReply(int fd, std::string& buffer,
                                           Clock::time_point deadline) {
  std::vector<std::string> lines;
  while (true) {
    size_t eol;
    while ((eol = buffer.find("\r\n")) != std::string::npos) {
      std::string line = buffer.substr(0, eol);
      buffer.erase(0, eol + 2);
      if (line.size() < 3 || !std::isdigit(static_cast<unsigned char>(line[0])) ||
          !std::isdigit(static_cast<unsigned char>(line[1])) ||
          !std::isdigit(static_cast<unsigned char>(line[2]))) {
        return InternalError("not an SMTP reply line: '" + line + "'");
      }
      lines.push_back(line);
      if (line.size() == 3 || line[3] == ' ') return lines;
    }
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, remainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoToStatus(errno, "poll");
    if (ready == 0) return DeadlineExceededError("no complete SMTP reply in time");
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return UnavailableError(std::string("recv: ") + std::strerror(errno));
    if (n == 0) return UnavailableError("connection closed before the reply was complete");
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

Status sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return UnavailableError(std::string("send: ") + std::strerror(errno));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

std::string joinLines(const std::vector<std::string>& lines) {
  std::string joined;
  for (const std::string& line : lines) {
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  return joined;
}

}  // namespace

namespace internal {

// Looks a program up the way the sandbox script does: PATH, then the sbin directories a
// non-login root shell may lack.
std::string findProgram(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

bool processAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content;
  if (!stat || !std::getline(stat, content)) return false;
  // "pid (comm) S ...": the state follows the last ')', since comm may contain one.
  size_t paren = content.rfind(')');
  if (paren == std::string::npos || paren + 2 >= content.size()) return false;
  return content[paren + 2] != 'Z';
}

}  // namespace internal

::testing::AssertionResult requirePostfix() {
  std::string problem = hostProblem();
  if (problem.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "this host cannot run the Postfix e2e tests: " << problem;
}

PostfixSandbox::PostfixSandbox(std::string dir) : dir_(std::move(dir)) {}

Result<std::unique_ptr<PostfixSandbox>> PostfixSandbox::start() {
  if (std::string problem = hostProblem(); !problem.empty()) {
    return FailedPreconditionError(problem);
  }
  Status last_error;
  for (int attempt = 1; attempt <= kStartAttempts; ++attempt) {
    std::string dir = tempBase() + "/pw-e2e-XXXXXX";
    if (::mkdtemp(dir.data()) == nullptr) {
      return ErrnoToStatus(errno, "mkdtemp under '" + tempBase() + "'");
    }
    os::ProcessCommandRunner runner;
    Result<os::CommandResult> created = runScript(runner, {"create", dir}, kCreateTimeout);
    if (!created.ok()) {
      // No sandbox.env, or an incomplete one: the directory is ours (mkdtemp), remove it.
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
      return created.status();
    }
    // From here on the destructor owns cleanup, including on the error paths below.
    std::unique_ptr<PostfixSandbox> sandbox(new PostfixSandbox(dir));
    PW_RETURN_IF_ERROR(sandbox->loadEnv());
    Result<os::CommandResult> started = runScript(sandbox->runner_, {"start", dir}, kStartTimeout);
    if (started.ok()) return sandbox;
    last_error = started.status();
    // Another process may have bound the port between create and start; try a new one.
    if (last_error.message().find("in use") == std::string::npos) return last_error;
  }
  return last_error.withContext("starting a sandbox, " + std::to_string(kStartAttempts) +
                                " ports tried");
}

PostfixSandbox::~PostfixSandbox() {
  Result<os::CommandResult> destroyed = runScript(runner_, {"destroy", dir_}, kStopTimeout);
  if (!destroyed.ok()) {
    ADD_FAILURE() << "destroying the Postfix sandbox in '" << dir_
                  << "' failed; it may still run: " << destroyed.status().toString();
  }
}

Status PostfixSandbox::loadEnv() {
  std::ifstream env(dir_ + "/sandbox.env");
  if (!env) return InternalError("cannot read '" + dir_ + "/sandbox.env'");
  std::string line;
  while (std::getline(env, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "PORT") {
      port_ = std::atoi(value.c_str());
    } else if (key == "CONFIG_DIR") {
      config_dir_ = value;
    } else if (key == "QUEUE_DIR") {
      queue_dir_ = value;
    } else if (key == "CERT_FILE") {
      cert_file_ = value;
    } else if (key == "KEY_FILE") {
      key_file_ = value;
    } else if (key == "LOG_FILE") {
      log_file_ = value;
    } else if (key == "SASL_USER") {
      sasl_user_ = value;
    } else if (key == "SASL_PASSWORD") {
      sasl_password_ = value;
    } else if (key == "HOSTNAME") {
      hostname_ = value;
    }
  }
  if (port_ <= 0 || config_dir_.empty() || queue_dir_.empty() || log_file_.empty()) {
    return InternalError("'" + dir_ + "/sandbox.env' is incomplete");
  }
  return OkStatus();
}

Status PostfixSandbox::postconf(const std::vector<std::string>& assignments) {
  std::vector<std::string> argv{internal::findProgram("postconf"), "-c", config_dir_, "-e"};
  argv.insert(argv.end(), assignments.begin(), assignments.end());
  return runChecked(runner_, std::move(argv), kStopTimeout).status();
}

Status PostfixSandbox::reload() {
  return runScript(runner_, {"reload", dir_}, kStopTimeout).status();
}

Status PostfixSandbox::stop() { return runScript(runner_, {"stop", dir_}, kStopTimeout).status(); }

Status PostfixSandbox::restart() {
  return runScript(runner_, {"start", dir_}, kStartTimeout).status();
}

Result<pid_t> PostfixSandbox::masterPid() const {
  std::ifstream pid_file(queue_dir_ + "/pid/master.pid");
  long pid = 0;
  if (!pid_file || !(pid_file >> pid) || pid <= 0) {
    return NotFoundError("no master pid file in '" + queue_dir_ + "/pid'");
  }
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  if (!internal::processAlive(static_cast<pid_t>(pid)) || !std::getline(comm, name) ||
      name != "master") {
    return NotFoundError("master pid " + std::to_string(pid) + " is not running");
  }
  return static_cast<pid_t>(pid);
}

Result<std::string> PostfixSandbox::tryEhlo(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return ErrnoToStatus(errno, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return UnavailableError("connect 127.0.0.1:" + std::to_string(port_) + ": " +
                            std::strerror(errno));
  }
  std::string buffer;
  PW_ASSIGN_OR_RETURN(std::vector<std::string> banner, readReply(sock.get(), buffer, deadline));
  if (banner.front().rfind("220", 0) != 0) {
    return InternalError("unexpected banner: " + joinLines(banner));
  }
  PW_RETURN_IF_ERROR(sendAll(sock.get(), "EHLO client." + hostname_ + "\r\n"));
  PW_ASSIGN_OR_RETURN(std::vector<std::string> reply, readReply(sock.get(), buffer, deadline));
  // A polite QUIT; its reply does not matter.
  (void)sendAll(sock.get(), "QUIT\r\n");
  (void)readReply(sock.get(), buffer, deadline);
  return joinLines(reply);
}

std::string PostfixSandbox::ehlo() {
  Result<std::string> reply = tryEhlo();
  if (!reply.ok()) {
    ADD_FAILURE() << "EHLO to the sandbox on 127.0.0.1:" << port_
                  << " failed: " << reply.status().toString() << "\nmaillog:\n"
                  << readLog();
    return "";
  }
  return *reply;
}

std::string PostfixSandbox::readLog() const {
  std::ifstream log(log_file_);
  std::stringstream content;
  content << log.rdbuf();
  return content.str();
}

::testing::AssertionResult PostfixSandbox::logEventuallyContains(const std::string& needle,
                                                                 milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    std::string log = readLog();
    if (log.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
    if (Clock::now() >= deadline) {
      return ::testing::AssertionFailure() << "'" << needle << "' not in " << log_file_ << " after "
                                           << timeout.count() << " ms:\n"
                                           << log;
    }
    ::poll(nullptr, 0, 20);  // a poll interval, not a wait for the event itself
  }
}

void PostfixSandboxFixture::SetUp() {
  ASSERT_TRUE(requirePostfix());
  Result<std::unique_ptr<PostfixSandbox>> sandbox = PostfixSandbox::start();
  ASSERT_TRUE(sandbox.ok()) << sandbox.status().toString();
  sandbox_ = std::move(sandbox).value();
}

void PostfixSandboxFixture::TearDown() { sandbox_.reset(); }

}  // namespace postwarden::testing
