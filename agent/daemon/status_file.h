// What the agent daemon last saw, kept in its state directory for `postwarden-agent status`,
// which reads it without gRPC and whether or not the daemon runs:
//   STATE/daemon.status  written by the daemon's loop after each wake: pid, agent id,
//                        controller, assigned baseline and mode, compliance, last report
//   STATE/link.status    written by the link's thread when the link changes: connected,
//                        last connected, last error, revoked
// Each file is "key=value" lines (values on one line), replaced atomically (writeAtomic:
// temp file, rename; 0644), so a reader sees the old or the new file, never half of one.
// Keys a reader does not know are ignored; missing keys read as empty.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::daemon {

using StatusFields = std::map<std::string, std::string>;

std::string daemonStatusPath(const std::string& state_dir);
std::string linkStatusPath(const std::string& state_dir);

// "key=value\n" lines, sorted by key; line breaks in a value become spaces. Pure.
std::string renderStatusFields(const StatusFields& fields);
// The inverse; lines without '=' are skipped. Pure.
StatusFields parseStatusFields(std::string_view text);

Status writeStatusFile(os::FileSystem& fs, const std::string& path, const StatusFields& fields);
// Empty when the file does not exist (the daemon never ran with this state directory).
Result<StatusFields> readStatusFile(os::FileSystem& fs, const std::string& path);

// Unix milliseconds as text, and back (0 when empty or not a number).
std::string unixMsText(std::chrono::system_clock::time_point t);
int64_t unixMsOf(const StatusFields& fields, const std::string& key);

// The link's half, kept across events (the last connection survives the errors after it).
// Keys: connected (yes/no), last_connected_unix_ms, last_error, last_error_unix_ms, revoked
// (yes/no), updated_unix_ms. Thread-safe.
class LinkStatusRecorder {
 public:
  LinkStatusRecorder(os::FileSystem& fs, std::string state_dir)
      : fs_(fs), path_(linkStatusPath(state_dir)) {}
  void note(bool connected, const std::string& error, bool revoked,
            std::chrono::system_clock::time_point at);

 private:
  os::FileSystem& fs_;
  const std::string path_;
  std::mutex mutex_;
  StatusFields fields_;
};

}  // namespace postwarden::agent::daemon
