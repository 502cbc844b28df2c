// The mail log since a rollout job's change: the lines Postfix appended after a remembered
// mark (inode and offset), counted by what they say about the service. Rotation: a file with
// another inode than the mark's, or shorter than the mark's offset, is a new file and is
// counted from its start (what the rotated-away file got after the mark is not counted).
// countLine/countLines and startOffset are pure; LogFiles is the thin seam to the file
// (PosixLogFiles reads through open/fstat/pread: the os::FileSystem seam has no inodes and no
// reads from an offset).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/os/command_runner.h"
#include "common/status.h"

namespace postwarden::agent::health {

struct LogMark {
  uint64_t inode = 0;
  uint64_t offset = 0;
  friend bool operator==(const LogMark&, const LogMark&) = default;
};

struct LogCounts {
  int64_t lines = 0;      // complete lines counted
  int64_t fatal = 0;      // "fatal:" and "panic:" lines
  int64_t tls = 0;        // smtpd: "SSL_accept error", "TLS library problem", "lost connection
                          // after STARTTLS" (one failed handshake may log two such lines)
  int64_t sasl = 0;       // "SASL ... authentication failed"
  int64_t throttled = 0;  // "bad command startup -- throttling"
  // For gates against the same period before the change (before_period.h):
  int64_t connections = 0;  // smtpd: "connect from" (inbound SMTP sessions)
  int64_t delivered = 0;    // delivery agents: "status=sent"
  // countSince: every line since the mark was counted (no rotation since, within kMaxLogRead).
  bool whole = true;
  friend bool operator==(const LogCounts&, const LogCounts&) = default;
};

void countLine(std::string_view line, LogCounts& counts);
// Every complete line of `text` (a last line without its newline is still being written and
// is left for the next read).
LogCounts countLines(std::string_view text);

// Where to start reading a file with `inode` and `size`, given the mark taken at the change.
uint64_t startOffset(const LogMark& mark, uint64_t inode, uint64_t size);

struct LogSlice {
  LogMark end;         // the file's inode and size as read
  uint64_t start = 0;  // where the bytes begin (startOffset)
  std::string bytes;   // from start, at most the limit asked for
};

class LogFiles {
 public:
  virtual ~LogFiles() = default;
  // The file's inode and its current end. NotFound, PermissionDenied.
  virtual Result<LogMark> end(const std::string& path) = 0;
  // The bytes after `mark` (see startOffset), at most `max_bytes`.
  virtual Result<LogSlice> readSince(const std::string& path, const LogMark& mark,
                                     uint64_t max_bytes) = 0;
  // The last `max_bytes` (at most) before `mark` of the file the mark was taken of;
  // FailedPrecondition when the file at `path` is another one now (rotated).
  virtual Result<LogSlice> readBefore(const std::string& path, const LogMark& mark,
                                      uint64_t max_bytes) = 0;
};

class PosixLogFiles final : public LogFiles {
 public:
  Result<LogMark> end(const std::string& path) override;
  Result<LogSlice> readSince(const std::string& path, const LogMark& mark,
                             uint64_t max_bytes) override;
  Result<LogSlice> readBefore(const std::string& path, const LogMark& mark,
                              uint64_t max_bytes) override;
};

// At most this much of the log is read per health report (a log that grew more since the
// change is counted over its first 64 MiB after the mark).
inline constexpr uint64_t kMaxLogRead = 64ull << 20;

// Counts the lines after `mark` in `path` (`whole` false when the file was rotated since or
// more than kMaxLogRead was appended).
Result<LogCounts> countSince(LogFiles& files, const std::string& path, const LogMark& mark);

// The mail log to read: `configured` (agent.yaml mail_log) when set; else Postfix's
// maillog_file (`postconf -c config_dir -h maillog_file`) when it is set; else
// /var/log/mail.log (syslog's, as on Debian).
std::string mailLogPath(os::CommandRunner& commands, const std::string& config_dir,
                        const std::optional<std::string>& configured,
                        std::chrono::milliseconds timeout);

}  // namespace postwarden::agent::health
