#include "agent/applier/backups.h"

#include <algorithm>
#include <ctime>

#include "agent/applier/journal.h"
#include "agent/applier/needs_human.h"

namespace postwarden::agent::applier {

std::string backupsDir(const std::string& state_dir) { return state_dir + "/backups"; }

std::optional<std::chrono::system_clock::time_point> backupTime(const std::string& id) {
  // 20260105T101500Z-4242
  if (id.size() < 18 || id[8] != 'T' || id[15] != 'Z' || id[16] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14}) {
    if (id[i] < '0' || id[i] > '9') return std::nullopt;
  }
  if (id.find_first_not_of("0123456789", 17) != std::string::npos) return std::nullopt;
  auto number = [&](size_t at, size_t n) { return std::stoi(id.substr(at, n)); };
  std::tm utc{};
  utc.tm_year = number(0, 4) - 1900;
  utc.tm_mon = number(4, 2) - 1;
  utc.tm_mday = number(6, 2);
  utc.tm_hour = number(9, 2);
  utc.tm_min = number(11, 2);
  utc.tm_sec = number(13, 2);
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

Result<std::vector<BackupInfo>> listBackups(os::FileSystem& fs, const std::string& state_dir) {
  const std::string dir = backupsDir(state_dir);
  Result<std::vector<std::string>> names = fs.listDirectory(dir);
  if (!names.ok()) {
    if (names.status().code() == StatusCode::kNotFound) return std::vector<BackupInfo>{};
    return names.status();
  }
  std::vector<BackupInfo> backups;
  for (const std::string& name : *names) {
    std::optional<std::chrono::system_clock::time_point> taken = backupTime(name);
    if (!taken) continue;
    BackupInfo info{.id = name, .dir = dir + "/" + name, .taken_at = taken, .files = {}};
    if (Result<std::vector<std::string>> files = fs.listDirectory(info.dir); files.ok()) {
      info.files = *files;
    }
    backups.push_back(std::move(info));
  }
  // Ids start with the UTC time: their order is the order of the changes (pid breaks ties).
  std::sort(backups.begin(), backups.end(),
            [](const BackupInfo& a, const BackupInfo& b) { return a.id > b.id; });
  return backups;
}

Result<std::vector<std::string>> pruneBackups(os::FileSystem& fs, const std::string& state_dir,
                                              int keep) {
  PW_ASSIGN_OR_RETURN(std::vector<BackupInfo> backups, listBackups(fs, state_dir));
  std::string in_flight;
  if (Result<std::optional<JournalEntry>> entry = Journal(fs, journalPath(state_dir)).load();
      !entry.ok() || entry->has_value()) {
    // An unreadable journal may name any backup: keep them all.
    if (!entry.ok()) return std::vector<std::string>{};
    in_flight = (*entry)->backup_dir;
  }
  std::vector<std::string> removed;
  Status first_error;
  for (size_t i = static_cast<size_t>(std::max(keep, 1)); i < backups.size(); ++i) {
    const BackupInfo& backup = backups[i];
    if (backup.dir == in_flight) continue;
    Status status;
    for (const std::string& file : backup.files) {
      if (status.ok()) status = fs.remove(backup.dir + "/" + file);
    }
    if (status.ok()) status = fs.removeDirectory(backup.dir);
    if (status.ok()) {
      removed.push_back(backup.id);
    } else if (first_error.ok()) {
      first_error = status.withContext("pruning backup " + backup.id);
    }
  }
  if (!first_error.ok()) return first_error;
  return removed;
}

}  // namespace postwarden::agent::applier
