#include "agent/health/mail_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace postwarden::agent::health {
namespace {

bool has(std::string_view line, std::string_view word) {
  return line.find(word) != std::string_view::npos;
}

Status errnoStatus(const std::string& what, int error) {
  const std::string message = what + ": " + std::strerror(error);
  if (error == ENOENT) return NotFoundError(message);
  if (error == EACCES || error == EPERM) return PermissionDeniedError(message);
  return InternalError(message);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

void countLine(std::string_view line, LogCounts& counts) {
  ++counts.lines;
  if (has(line, "fatal: ") || has(line, "panic: ")) ++counts.fatal;
  if (has(line, "bad command startup -- throttling")) ++counts.throttled;
  if (has(line, " status=sent ")) ++counts.delivered;
  // smtpd's own lines: "postfix/smtpd[..]", "postfix/submission/smtpd[..]"; the smtp client's
  // TLS problems with other servers say nothing about this host's listeners.
  if (has(line, "/smtpd[")) {
    if (has(line, "]: connect from ")) ++counts.connections;
    if (has(line, "SSL_accept error") || has(line, "TLS library problem") ||
        has(line, "lost connection after STARTTLS")) {
      ++counts.tls;
    }
    const size_t sasl = line.find("SASL ");
    if (sasl != std::string_view::npos &&
        line.find("authentication failed", sasl) != std::string_view::npos) {
      ++counts.sasl;
    }
  }
}

LogCounts countLines(std::string_view text) {
  LogCounts counts;
  while (true) {
    const size_t eol = text.find('\n');
    if (eol == std::string_view::npos) break;
    countLine(text.substr(0, eol), counts);
    text.remove_prefix(eol + 1);
  }
  return counts;
}

uint64_t startOffset(const LogMark& mark, uint64_t inode, uint64_t size) {
  if (inode != mark.inode || size < mark.offset) return 0;
  return mark.offset;
}

Result<LogMark> PosixLogFiles::end(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errnoStatus("stat " + path, errno);
  return LogMark{.inode = static_cast<uint64_t>(st.st_ino),
                 .offset = static_cast<uint64_t>(st.st_size)};
}

namespace {

// Reads [start, start + want) of the open file into slice.bytes (fewer if it was truncated).
Status readRange(int fd, const std::string& path, uint64_t start, uint64_t want, LogSlice& slice) {
  slice.start = start;
  slice.bytes.resize(want);
  uint64_t got = 0;
  while (got < want) {
    const ssize_t n =
        ::pread(fd, slice.bytes.data() + got, want - got, static_cast<off_t>(start + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("read " + path, errno);
    }
    if (n == 0) break;  // truncated while reading
    got += static_cast<uint64_t>(n);
  }
  slice.bytes.resize(got);
  return OkStatus();
}

// Opens `path` as a regular file; `slice.end` gets its inode and size.
Result<int> openLog(const std::string& path, LogSlice& slice) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return errnoStatus("open " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    return errnoStatus("fstat " + path, error);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(path + " is not a regular file");
  }
  slice.end = {.inode = static_cast<uint64_t>(st.st_ino),
               .offset = static_cast<uint64_t>(st.st_size)};
  return fd;
}

}  // namespace

Result<LogSlice> PosixLogFiles::readSince(const std::string& path, const LogMark& mark,
                                          uint64_t max_bytes) {
  LogSlice slice;
  PW_ASSIGN_OR_RETURN(int raw, openLog(path, slice));
  Fd fd(raw);
  const uint64_t start = startOffset(mark, slice.end.inode, slice.end.offset);
  PW_RETURN_IF_ERROR(
      readRange(fd.get(), path, start, std::min(slice.end.offset - start, max_bytes), slice));
  return slice;
}

Result<LogSlice> PosixLogFiles::readBefore(const std::string& path, const LogMark& mark,
                                           uint64_t max_bytes) {
  LogSlice slice;
  PW_ASSIGN_OR_RETURN(int raw, openLog(path, slice));
  Fd fd(raw);
  if (slice.end.inode != mark.inode || slice.end.offset < mark.offset) {
    return FailedPreconditionError(path + " was rotated or truncated since the mark");
  }
  const uint64_t start = mark.offset - std::min(mark.offset, max_bytes);
  PW_RETURN_IF_ERROR(readRange(fd.get(), path, start, mark.offset - start, slice));
  return slice;
}

Result<LogCounts> countSince(LogFiles& files, const std::string& path, const LogMark& mark) {
  PW_ASSIGN_OR_RETURN(LogSlice slice, files.readSince(path, mark, kMaxLogRead));
  LogCounts counts = countLines(slice.bytes);
  counts.whole = slice.start == mark.offset && slice.end.inode == mark.inode &&
                 slice.start + slice.bytes.size() == slice.end.offset;
  return counts;
}

std::string mailLogPath(os::CommandRunner& commands, const std::string& config_dir,
                        const std::optional<std::string>& configured,
                        std::chrono::milliseconds timeout) {
  if (configured && !configured->empty()) return *configured;
  Result<os::CommandResult> result = commands.run(
      {.argv = {"postconf", "-c", config_dir, "-h", "maillog_file"}, .timeout = timeout});
  if (result.ok() && result->exit_code == 0) {
    std::string value = result->stdout_data.substr(0, result->stdout_data.find('\n'));
    while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
    if (!value.empty()) return value;
  }
  return "/var/log/mail.log";
}

}  // namespace postwarden::agent::health
