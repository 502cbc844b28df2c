// The live main.cf and master.cf of one Postfix configuration directory, and the backups of
// their previous bytes in the agent's state directory. Writes go through
// FileSystem::writeAtomic, so each file is always whole: its old bytes or its new ones.
// A symlinked main.cf/master.cf stays a symlink (its target is replaced), and nothing is
// written while anyone but root could change a file, its link target or a directory on the
// way (os::nonRootWriters): Postfix runs as root on what they say.
#pragma once

#include <string>
#include <vector>

#include "agent/planner/planner.h"
#include "common/os/clock.h"
#include "common/os/file_system.h"
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

  // Every way a non-root user could change main.cf or master.cf (the file, the target of
  // its symlink, or a directory on the way), one line each, naming the file and the path:
  // "'/etc/postfix/main.cf' (symlink to '/srv/config/main.cf'): group or other writable:
  // '/srv/config/main.cf' (mode 0664)". Empty when only root can. Errors of resolvePath.
  Result<std::vector<std::string>> nonRootWriters() const;

  // OK when nonRootWriters() is empty, else FailedPrecondition with the findings, one per
  // line, saying that nothing was written.
  Status checkOnlyRootWrites() const;

  // Copies the exact previous bytes of both files into `backup_dir` (created, mode 0700)
  // and returns the paths written. Refuses first (checkOnlyRootWrites) when a non-root user
  // could change the live files: the transaction stops before its journal.
  Result<std::vector<std::string>> backup(const planner::PostfixConfig& bytes,
                                          const std::string& backup_dir) const;

  // Replaces the files with `after` where it differs from `before`, checking first that
  // nobody edited them since `before` was read (Aborted: re-plan, never overwrite blindly)
  // and that only root can change them (checkOnlyRootWrites: FailedPrecondition, nothing
  // written).
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
