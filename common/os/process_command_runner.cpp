// Over 400 lines on purpose: spawning, feeding stdin, draining stdout/stderr, the timeout and
// reaping are one state machine over one Asio context; apart, each would need the others'
// internals.
#include "common/os/process_command_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/filesystem/path.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async_pipe.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/search_path.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace postwarden::os {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Marks every descriptor >= 3 close-on-exec. Runs in the forked child, so only
// async-signal-safe calls. Marking instead of closing keeps Boost.Process's exec-error pipe
// (already close-on-exec) working, and dup2 onto 0-2 clears the flag for the stdio pipes.
void markDescriptorsCloseOnExec(int max_fd) {
#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
  // Kernels before 5.11: one fcntl per possible descriptor.
  for (int fd = 3; fd < max_fd; ++fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// "NAME=value" entries: the agent's environment with `extra` added or overriding.
std::vector<std::string> childEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const std::string name(text.substr(0, text.find('=')));
    if (extra.count(name) == 0) entries.emplace_back(text);
  }
  for (const auto& [name, value] : extra) entries.push_back(name + "=" + value);
  return entries;
}

// Boost.Process initializer: makes the child a clean, killable process group leader with
// the environment `envp`.
struct ChildSetup : bp::extend::handler {
  int max_fd = 1024;
  char** envp = nullptr;

  template <typename Executor>
  void on_setup(Executor& exec) const {
    exec.env = envp;
  }

  template <typename Executor>
  void on_exec_setup(Executor& /*exec*/) const {
    // Own process group, so a timeout can signal the whole tree (sh -c's children too).
    ::setpgid(0, 0);
    // The agent may block or ignore signals; ignored dispositions and the mask survive
    // execve, and a child that ignores SIGTERM or SIGPIPE misbehaves.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    markDescriptorsCloseOnExec(max_fd);
    // This handler runs after the stdio redirections: make sure 0-2 survive execve even if
    // a pipe end already had the number (dup2 onto itself keeps close-on-exec).
    for (int fd = 0; fd < 3; ++fd) ::fcntl(fd, F_SETFD, 0);
  }

  template <typename Executor>
  void on_success(Executor& exec) const {
    // Also from the parent: closes the race where we signal -pid before the child ran
    // setpgid. EACCES once the child has exec'd is expected and harmless.
    ::setpgid(exec.pid, exec.pid);
  }
};

int maxDescriptor() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 65536;
  return static_cast<int>(std::min<rlim_t>(limit.rlim_cur, INT_MAX));
}

// Blocks SIGPIPE in this thread while it writes to the child's stdin (a child that exits
// without reading would otherwise kill the agent) and discards a SIGPIPE raised meanwhile.
// The write then just fails with EPIPE.
class ScopedSigpipeBlock {
 public:
  ScopedSigpipeBlock() {
    ::sigemptyset(&sigpipe_);
    ::sigaddset(&sigpipe_, SIGPIPE);
    sigset_t pending;
    ::sigemptyset(&pending);
    was_pending_ = ::sigpending(&pending) == 0 && ::sigismember(&pending, SIGPIPE) == 1;
    ::pthread_sigmask(SIG_BLOCK, &sigpipe_, &old_mask_);
  }
  ScopedSigpipeBlock(const ScopedSigpipeBlock&) = delete;
  ScopedSigpipeBlock& operator=(const ScopedSigpipeBlock&) = delete;
  ~ScopedSigpipeBlock() {
    if (!was_pending_ && ::sigismember(&old_mask_, SIGPIPE) == 0) {
      const struct timespec zero {};
      while (::sigtimedwait(&sigpipe_, nullptr, &zero) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  sigset_t sigpipe_;
  sigset_t old_mask_;
  bool was_pending_ = false;
};

// Reads one output pipe to EOF into `data`, in 64 KiB steps.
class OutputReader {
 public:
  OutputReader(bp::async_pipe& pipe, std::size_t limit) : pipe_(pipe), limit_(limit) {}

  void start() {
    pipe_.async_read_some(asio::buffer(buffer_),
                          [this](const boost::system::error_code& error, std::size_t n) {
                            data_.append(buffer_.data(), n);
                            if (data_.size() > limit_) {
                              over_limit_ = true;
                              open_ = false;
                            } else if (error) {  // EOF, or the pipe was closed
                              open_ = false;
                            } else {
                              start();
                            }
                          });
  }

  bool open() const { return open_; }
  bool overLimit() const { return over_limit_; }
  std::string& data() { return data_; }

 private:
  bp::async_pipe& pipe_;
  std::size_t limit_;
  std::array<char, 64 * 1024> buffer_;
  std::string data_;
  bool open_ = true;
  bool over_limit_ = false;
};

// "a | b | c": the last `max_lines` non-empty lines, at most `max_chars` characters.
std::string tailLines(const std::string& text, int max_lines, std::size_t max_chars) {
  std::vector<std::string> lines;
  std::size_t end = text.size();
  while (end > 0 && static_cast<int>(lines.size()) < max_lines) {
    const std::size_t newline = text.rfind('\n', end - 1);
    const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
    if (end > begin) lines.push_back(text.substr(begin, end - begin));
    if (newline == std::string::npos) break;
    end = newline;
  }
  std::string out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!out.empty()) out += " | ";
    out += *it;
  }
  if (out.size() > max_chars) out = "..." + out.substr(out.size() - max_chars);
  return out;
}

std::string outputTail(const std::string& stdout_data, const std::string& stderr_data) {
  std::string message;
  const std::string out = tailLines(stdout_data, 5, 500);
  const std::string err = tailLines(stderr_data, 5, 500);
  if (!out.empty()) message += "; last stdout: '" + out + "'";
  if (!err.empty()) message += "; last stderr: '" + err + "'";
  if (message.empty()) message = "; no output";
  return message;
}

// The directories to look argv[0] up in: extra_env's PATH, else the agent's, else the
// default execvp(3) uses. An empty entry means the current directory.
std::vector<boost::filesystem::path> searchDirectories(const Command& command) {
  std::string value;
  if (auto path = command.extra_env.find("PATH"); path != command.extra_env.end()) {
    value = path->second;
  } else if (const char* agent_path = std::getenv("PATH"); agent_path != nullptr) {
    value = agent_path;
  } else {
    value = "/bin:/usr/bin";
  }
  std::vector<boost::filesystem::path> dirs;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t colon = value.find(':', start);
    if (colon == std::string::npos) colon = value.size();
    dirs.emplace_back(colon == start ? "." : value.substr(start, colon - start));
    start = colon + 1;
  }
  return dirs;
}

// Everything that can throw; run() turns any escaping exception into Internal.
Result<CommandResult> runChecked(const Command& command,
                                 const ProcessCommandRunnerOptions& options) {
  const std::string described = describeCommand(command.argv);
  const std::string context = "running '" + described + "'";

  std::string program = command.argv[0];
  if (program.find('/') == std::string::npos) {
    const boost::filesystem::path found = bp::search_path(program, searchDirectories(command));
    if (found.empty()) return NotFoundError(context + ": '" + program + "' not found in PATH");
    program = found.string();
  }
  std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());

  // Built by hand rather than with bp::environment, whose lookup in Boost 1.74 reads past
  // the end of shorter names (AddressSanitizer: heap-buffer-overflow in find()).
  std::vector<std::string> env_entries = childEnvironment(command.extra_env);
  std::vector<char*> envp;
  envp.reserve(env_entries.size() + 1);
  for (std::string& entry : env_entries) envp.push_back(entry.data());
  envp.push_back(nullptr);

  ScopedSigpipeBlock sigpipe_block;
  asio::io_context io;  // declared first: destroyed after everything that uses it
  bp::async_pipe stdin_pipe(io);
  bp::async_pipe stdout_pipe(io);
  bp::async_pipe stderr_pipe(io);
  // Boost creates the pipes without O_CLOEXEC; without this a child that another thread
  // starts right now would inherit our ends and hold our stdout open.
  for (bp::async_pipe* pipe : {&stdin_pipe, &stdout_pipe, &stderr_pipe}) {
    ::fcntl(pipe->native_source(), F_SETFD, FD_CLOEXEC);
    ::fcntl(pipe->native_sink(), F_SETFD, FD_CLOEXEC);
  }

  ChildSetup setup;
  setup.max_fd = maxDescriptor();
  setup.envp = envp.data();
  const steady_clock::time_point start = steady_clock::now();
  std::error_code launch_error;
  // ChildSetup goes last: Boost runs the initializers in order, and it must see the final
  // descriptors 0-2.
  bp::child child(bp::exe = program, bp::args = args, (bp::std_in < stdin_pipe),
                  (bp::std_out > stdout_pipe), (bp::std_err > stderr_pipe), launch_error, setup);
  if (launch_error || !child.valid()) {
    const int error = launch_error ? launch_error.value() : EINVAL;
    if (error == ENOENT || error == ENOTDIR) {
      return NotFoundError(context + ": '" + program + "' not found");
    }
    return InternalError(context + ": could not start it: " + std::strerror(error));
  }
  const pid_t pid = child.id();

  // stdin: feed it all, then close so the child sees EOF.
  if (command.stdin_data.empty()) {
    boost::system::error_code ignored;
    stdin_pipe.close(ignored);
  } else {
    asio::async_write(stdin_pipe, asio::buffer(command.stdin_data),
                      [&stdin_pipe](const boost::system::error_code&, std::size_t) {
                        // EPIPE (the child did not read it all) is the child's business.
                        boost::system::error_code ignored;
                        stdin_pipe.close(ignored);
                      });
  }

  OutputReader out(stdout_pipe, options.max_output_bytes);
  OutputReader err(stderr_pipe, options.max_output_bytes);
  out.start();
  err.start();

  // Exit detection: a pidfd becomes readable when the child exits (Linux >= 5.3); without
  // one, poll waitpid every 10 ms.
  bool exited = false;
  std::error_code wait_error;
  auto check_exited = [&] {
    if (!child.running(wait_error)) exited = true;
  };
  std::optional<asio::posix::stream_descriptor> exit_watch;
  asio::steady_timer exit_poll(io);
  std::function<void()> watch_exit;
#ifdef SYS_pidfd_open
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) exit_watch.emplace(io, pidfd);  // takes ownership of pidfd
#endif
  watch_exit = [&] {
    if (exit_watch) {
      exit_watch->async_wait(asio::posix::descriptor_base::wait_read,
                             [&](const boost::system::error_code&) {
                               check_exited();
                               if (!exited) watch_exit();
                             });
    } else {
      exit_poll.expires_after(milliseconds(10));
      exit_poll.async_wait([&](const boost::system::error_code&) {
        check_exited();
        if (!exited) watch_exit();
      });
    }
  };
  watch_exit();

  // Runs handlers until `done()` or `until`; false if `until` came first.
  auto run_until = [&](const std::function<bool()>& done,
                       std::optional<steady_clock::time_point> until) {
    while (!done()) {
      if (until && steady_clock::now() >= *until) return false;
      const std::size_t handled = until ? io.run_one_until(*until) : io.run_one();
      if (handled == 0 && io.stopped()) {
        // No handler left to wait for: nothing can change any more.
        io.restart();
        if (!done() && !until) return false;
      }
    }
    return true;
  };
  auto signal_group = [pid](int sig) {
    // Only called while the child is unreaped, so pid (and its group id) cannot have been
    // reused. Fall back to the child alone if setpgid failed everywhere.
    if (::kill(-pid, sig) != 0) ::kill(pid, sig);
  };
  auto over_limit = [&] { return out.overLimit() || err.overLimit(); };

  bool timed_out = false;
  run_until([&] { return exited || over_limit(); }, start + command.timeout);
  if (!exited) {
    if (over_limit()) {
      signal_group(SIGKILL);
    } else {
      timed_out = true;
      signal_group(SIGTERM);
      if (!run_until([&] { return exited; }, steady_clock::now() + options.kill_grace)) {
        signal_group(SIGKILL);
      }
    }
    // SIGKILL cannot be caught or ignored: this wait ends.
    run_until([&] { return exited; }, std::nullopt);
  }
  // The last output may still be in the pipes; a daemon the child started may hold them
  // open forever, hence the bound.
  run_until([&] { return !out.open() && !err.open(); }, steady_clock::now() + options.output_drain);

  CommandResult result;
  result.elapsed = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  result.stdout_data = std::move(out.data());
  result.stderr_data = std::move(err.data());

  if (!exited) {
    return InternalError(context + ": could not wait for pid " + std::to_string(pid));
  }
  const int status = child.native_exit_code();
  if (wait_error || (!WIFEXITED(status) && !WIFSIGNALED(status))) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN?).
    return InternalError(context + ": could not collect the exit status of pid " +
                         std::to_string(pid) +
                         (wait_error ? ": " + wait_error.message() : std::string()));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

  if (timed_out) {
    return DeadlineExceededError(
        "'" + described + "' timed out after " + std::to_string(command.timeout.count()) +
        "ms (SIGTERM, then SIGKILL after " + std::to_string(options.kill_grace.count()) + "ms)" +
        outputTail(result.stdout_data, result.stderr_data));
  }
  if (over_limit()) {
    return ResourceExhaustedError("'" + described + "' wrote more than " +
                                  std::to_string(options.max_output_bytes) + " bytes to " +
                                  (out.overLimit() ? "stdout" : "stderr") + " and was killed");
  }
  return result;
}

}  // namespace

ProcessCommandRunner::ProcessCommandRunner(ProcessCommandRunnerOptions options)
    : options_(options) {}

Result<CommandResult> ProcessCommandRunner::run(const Command& command) {
  if (command.argv.empty() || command.argv[0].empty()) {
    return InvalidArgumentError("running a command: empty argv");
  }
  for (const auto& [name, value] : command.extra_env) {
    if (name.empty() || name.find('=') != std::string::npos) {
      return InvalidArgumentError("running '" + describeCommand(command.argv) +
                                  "': bad environment variable name '" + name + "'");
    }
  }
  // Boost.Process and Boost.Asio report some failures (pipe(2), bad_alloc, ...) by throwing;
  // exceptions never cross this module's boundary.
  try {
    return runChecked(command, options_);
  } catch (const std::exception& e) {
    return InternalError("running '" + describeCommand(command.argv) + "': " + e.what());
  } catch (...) {
    return InternalError("running '" + describeCommand(command.argv) + "': unknown exception");
  }
}

}  // namespace postwarden::os
