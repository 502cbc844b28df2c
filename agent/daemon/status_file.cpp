#include "agent/daemon/status_file.h"

#include <charconv>

namespace postwarden::agent::daemon {

std::string daemonStatusPath(const std::string& state_dir) { return state_dir + "/daemon.status"; }
std::string linkStatusPath(const std::string& state_dir) { return state_dir + "/link.status"; }

std::string renderStatusFields(const StatusFields& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    std::string line = value;
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out += key + "=" + line + "\n";
  }
  return out;
}

StatusFields parseStatusFields(std::string_view text) {
  StatusFields fields;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    fields[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return fields;
}

Status writeStatusFile(os::FileSystem& fs, const std::string& path, const StatusFields& fields) {
  return fs.writeAtomic(path, renderStatusFields(fields), {.mode = 0644});
}

Result<StatusFields> readStatusFile(os::FileSystem& fs, const std::string& path) {
  Result<std::string> text = fs.readFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return StatusFields{};
    return text.status();
  }
  return parseStatusFields(*text);
}

std::string unixMsText(std::chrono::system_clock::time_point t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

int64_t unixMsOf(const StatusFields& fields, const std::string& key) {
  auto it = fields.find(key);
  if (it == fields.end()) return 0;
  int64_t value = 0;
  auto [end, error] =
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  return error == std::errc() && end == it->second.data() + it->second.size() ? value : 0;
}

void LinkStatusRecorder::note(bool connected, const std::string& error, bool revoked,
                              std::chrono::system_clock::time_point at) {
  std::lock_guard lock(mutex_);
  const std::string when = unixMsText(at);
  fields_["connected"] = connected ? "yes" : "no";
  fields_["revoked"] = revoked ? "yes" : "no";
  fields_["updated_unix_ms"] = when;
  if (connected) fields_["last_connected_unix_ms"] = when;
  if (!error.empty()) {
    fields_["last_error"] = error;
    fields_["last_error_unix_ms"] = when;
  }
  // Best effort: a status file that cannot be written must not disturb the link.
  (void)writeStatusFile(fs_, path_, fields_);
}

}  // namespace postwarden::agent::daemon
