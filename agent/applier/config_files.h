// The live main.cf and master.cf of one Postfix configuration directory, and the backups of
// their previous bytes in the agent's state directory. Writes go through
// FileSystem::writeAtomic, so each file is always whole: its old bytes or its new ones.
#pragma once

#include <string>
#include <vector>

#include "agent/os/clock.h"
#include "agent/os/file_system.h"
#include "agent/planner/planner.h"
#include "common/status.h"

namespace postwarden::agent::applier {

class ConfigFiles {
 public:
  // Borrowed collaborators must outlive this object.
  ConfigFiles(os::FileSystem& fs, std::string postfix_dir);

  std::string mainCfPath() const { return postfix_dir_ + "/main.cf"; }
  std::string masterCfPath() const { return postfix_dir_ + "/master.cf"; }

  // Current bytes of both files. NotFound/PermissionDenied with the path in the message.
  Result<planner::PostfixConfig> read() const;

  // Copies the exact previous bytes of both files into `backup_dir` (created, mode 0700)
  // and returns the paths written.
  Result<std::vector<std::string>> backup(const planner::PostfixConfig& bytes,
                                          const std::string& backup_dir) const;

  // Replaces the files with `after` where it differs from `before`, checking first that
  // nobody edited them since `before` was read (Aborted: re-plan, never overwrite blindly).
  // Mode and owner are kept. If the second file fails, the first is put back.
  // A write whose bytes reached the file but whose directory fsync failed counts as written:
  // when every write reached its file and one was not durable, the result is that
  // DataLoss error, which satisfies os::isNotDurable(): both files have the `after` bytes.
  // Any other error: both files have their `before` bytes, except Internal (the first file
  // could not be put back; it names the file to restore from the backup).
  Status swap(const planner::PostfixConfig& before, const planner::PostfixConfig& after) const;

 private:
  os::FileSystem& fs_;
  std::string postfix_dir_;
};

// "state_dir/backups/20261128T183000Z-<pid>": a fresh directory name per run.
std::string backupDirName(const std::string& state_dir, std::chrono::system_clock::time_point now,
                          long pid);

}  // namespace postwarden::agent::applier
