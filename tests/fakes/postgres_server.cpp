#include "tests/fakes/postgres_server.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

namespace postwarden::fakes {
namespace {

constexpr char kUser[] = "postwarden";  // the cluster's superuser

// Who runs initdb and postgres: ourselves, or under root a system user.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

Result<RunAs> runAs() {
  if (::geteuid() != 0) return RunAs{};
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = ::getpwnam(name); pw != nullptr) {
      return RunAs{.switch_user = true, .uid = pw->pw_uid, .gid = pw->pw_gid};
    }
  }
  return FailedPreconditionError(
      "running as root, and neither user 'postgres' nor 'nobody' "
      "exists to run PostgreSQL as");
}

std::string tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Forks and execs `argv` as `who` in `cwd`, stdout and stderr appended to `log`. In the child
// only async-signal-safe calls.
Result<pid_t> spawn(const std::vector<std::string>& argv, const RunAs& who, const std::string& cwd,
                    const std::string& log, bool die_with_parent) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    if (who.switch_user) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) {
        ::_exit(126);
      }
    }
    // After setuid, which clears it: the server must not outlive a crashed test.
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(125);
    }
    if (::chdir(cwd.c_str()) != 0) ::_exit(124);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit; its exit status, or nullopt when it still runs.
std::optional<int> waitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void removeDir(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace

std::string PostgresServer::binDir() {
  const char* env = std::getenv("POSTWARDEN_PG_BINDIR");
  return env != nullptr && *env != '\0' ? env : "/usr/lib/postgresql/15/bin";
}

std::string PostgresServer::unavailableReason() {
  for (const char* tool : {"initdb", "postgres"}) {
    std::string path = binDir() + "/" + tool;
    if (::access(path.c_str(), X_OK) != 0) {
      return "PostgreSQL's '" + path +
             "' is not installed (Debian: apt-get install postgresql-15, or set "
             "POSTWARDEN_PG_BINDIR)";
    }
  }
  Result<RunAs> who = runAs();
  if (!who.ok()) return who.status().message();
  return "";
}

Result<std::unique_ptr<PostgresServer>> PostgresServer::start(
    const PostgresServerOptions& options) {
  if (std::string why = unavailableReason(); !why.empty()) return FailedPreconditionError(why);
  PW_ASSIGN_OR_RETURN(RunAs who, runAs());
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/postwarden-pg-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) return ErrnoToStatus(errno, "mkdtemp " + pattern);
  const std::string dir = buffer.data();
  if (who.switch_user && ::chown(dir.c_str(), who.uid, who.gid) != 0) {
    Status error = ErrnoToStatus(errno, "chown " + dir);
    removeDir(dir);
    return error;
  }
  const std::string data = dir + "/data";
  const std::string log = dir + "/server.log";

  // initdb: C locale and UTF-8, so text compares bytewise; no fsync of the new cluster.
  Result<pid_t> initdb = spawn({binDir() + "/initdb", "-D", data, "-U", kUser, "--auth=trust",
                                "--encoding=UTF8", "--locale=C", "--no-sync"},
                               who, dir, log, /*die_with_parent=*/true);
  if (!initdb.ok()) {
    removeDir(dir);
    return initdb.status();
  }
  std::optional<int> done = waitFor(*initdb, std::chrono::seconds(120));
  if (!done.has_value()) {
    ::kill(*initdb, SIGKILL);
    ::waitpid(*initdb, nullptr, 0);
  }
  if (!done.has_value() || !WIFEXITED(*done) || WEXITSTATUS(*done) != 0) {
    std::string why = tail(log);
    removeDir(dir);
    return InternalError("initdb failed: " + why);
  }

  std::unique_ptr<PostgresServer> running(new PostgresServer(dir, -1));
  running->fsync_ = options.fsync;
  PW_RETURN_IF_ERROR(running->launch());
  return running;
}

Status PostgresServer::launch() {
  PW_ASSIGN_OR_RETURN(RunAs who, runAs());
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/server.log";
  PW_ASSIGN_OR_RETURN(
      pid_, spawn({binDir() + "/postgres", "-D", data, "-k", dir_, "-c", "listen_addresses=", "-c",
                   std::string("fsync=") + (fsync_ ? "on" : "off"), "-c", "max_connections=60",
                   "-c", "shared_buffers=32MB"},
                  who, dir_, log, /*die_with_parent=*/true));
  // postmaster.pid's 8th line says "ready" once it accepts connections.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    std::ifstream pidfile(data + "/postmaster.pid");
    std::string line;
    int n = 0;
    bool ready = false;
    while (std::getline(pidfile, line)) {
      if (++n == 8 && line.rfind("ready", 0) == 0) ready = true;
    }
    if (ready) return OkStatus();
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return InternalError("postgres exited while starting: " + tail(log));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceededError("postgres did not become ready in 60 s: " + tail(log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status PostgresServer::stop() {
  if (pid_ <= 0) return OkStatus();
  PW_ASSIGN_OR_RETURN(RunAs who, runAs());
  // pg_ctl's fast mode, as an operator stops it: clients disconnected, a clean shutdown.
  PW_ASSIGN_OR_RETURN(pid_t ctl, spawn({binDir() + "/pg_ctl", "stop", "-D", dir_ + "/data", "-m",
                                        "fast", "-w", "-t", "30"},
                                       who, dir_, dir_ + "/server.log", /*die_with_parent=*/true));
  std::optional<int> ctl_done = waitFor(ctl, std::chrono::seconds(40));
  if (!ctl_done.has_value()) {
    ::kill(ctl, SIGKILL);
    ::waitpid(ctl, nullptr, 0);
  }
  if (!waitFor(pid_, std::chrono::seconds(10)).has_value()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return InternalError("pg_ctl stop -m fast did not stop postgres: " +
                         tail(dir_ + "/server.log"));
  }
  pid_ = -1;
  return OkStatus();
}

Status PostgresServer::resume() {
  if (pid_ > 0) return FailedPreconditionError("postgres is running already");
  return launch();
}

PostgresServer::~PostgresServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown: disconnects clients, no waiting for them
    if (!waitFor(pid_, std::chrono::seconds(10)).has_value()) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  removeDir(dir_);
}

std::string PostgresServer::conninfo(const std::string& dbname) const {
  return "host=" + dir_ + " port=5432 user=" + kUser + " dbname=" + dbname;
}

}  // namespace postwarden::fakes
