// The backups a change leaves in STATE/backups/<id>/ (the exact previous main.cf and
// master.cf, written by Transaction before its swap; the id is "<UTC time>-<pid>"), listed
// newest first, and their retention: pruneBackups() keeps the newest `keep` and never removes
// the newest one (the last known-good bytes before the latest change) nor the one the journal
// names (the change in flight). Only directories whose name is a backup id are touched.
// Not thread-safe; callers hold the state directory's lock.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::applier {

inline constexpr int kDefaultBackupKeep = 20;

struct BackupInfo {
  std::string id;                                                 // "20260105T101500Z-4242"
  std::string dir;                                                // STATE/backups/<id>
  std::optional<std::chrono::system_clock::time_point> taken_at;  // from the id
  std::vector<std::string> files;  // names in it: main.cf, master.cf, journal.cleared
};

std::string backupsDir(const std::string& state_dir);

// "YYYYMMDDTHHMMSSZ-PID": the time, or nullopt when `id` is not a backup id. Pure.
std::optional<std::chrono::system_clock::time_point> backupTime(const std::string& id);

// Every backup, newest first. Empty when there is no backups directory.
Result<std::vector<BackupInfo>> listBackups(os::FileSystem& fs, const std::string& state_dir);

// Removes the oldest backups beyond the newest `keep` (at least 1 is kept), sparing the
// journal's backup directory. Returns the ids removed. A backup that cannot be removed is an
// error after the others were tried.
Result<std::vector<std::string>> pruneBackups(os::FileSystem& fs, const std::string& state_dir,
                                              int keep);

}  // namespace postwarden::agent::applier
