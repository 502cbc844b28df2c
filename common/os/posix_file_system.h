// PosixFileSystem: FileSystem over plain POSIX calls (open/write/fsync/rename/...), no
// exceptions. writeAtomic follows leveldb's temp-sync-rename: a reader of `path` sees the old
// bytes or the new ones, never a mix, and after OK the new bytes survive a power loss.
// Every error is a Status whose message names the path; errno maps through ErrnoToStatus.
// Thread-safe: it holds no state, so concurrent calls are as safe as the calls they make.
#pragma once

#include <string>
#include <vector>

#include "common/os/file_system.h"

namespace postwarden::os {

class PosixFileSystem final : public FileSystem {
 public:
  PosixFileSystem() = default;

  // Reads the whole file, following symlinks.
  Result<std::string> readFile(const std::string& path) override;

  // Writes ".<base>.pw-tmp-<pid>-<nonce>" next to `path` (O_EXCL, so never someone else's
  // file), with the mode and owner of the file being replaced unless `options` say
  // otherwise, fsyncs it, renames it over `path` and fsyncs the directory. A symlink at
  // `path` is kept: its final target (links to links followed; relative targets relative to
  // the link's directory) is replaced the same way, the temp file in the target's directory,
  // keeping the target's mode and owner. A link whose target is missing is NotFound and
  // nothing is written.
  // On any error before the rename the temp file is removed and `path` is untouched. The only
  // error after the rename is a failed directory fsync: DataLoss satisfying isNotDurable()
  // (whatever the errno), since `path` already has the new bytes but they may not survive a
  // power loss.
  // Errors: NotFound (missing directory, or a file where a directory is expected),
  // PermissionDenied, ResourceExhausted (ENOSPC, EDQUOT), DataLoss (EIO), InvalidArgument
  // (`path` names a directory or has no file name).
  Status writeAtomic(const std::string& path, const std::string& bytes,
                     const WriteOptions& options = {}) override;

  // Follows symlinks. NotFound, PermissionDenied.
  Result<FileInfo> stat(const std::string& path) override;

  // Walks `path` component by component as the kernel does (lstat, readlink, ".." after
  // resolving), recording every lookup; at most 40 links (InvalidArgument beyond).
  // NotFound, PermissionDenied.
  Result<ResolvedPath> resolvePath(const std::string& path) override;

  // rename(2): atomic, same file system only (EXDEV maps to Unknown).
  Status rename(const std::string& from, const std::string& to) override;

  // unlink(2); OK when `path` does not exist. InvalidArgument for a directory.
  Status remove(const std::string& path) override;
  Status removeDirectory(const std::string& path) override;

  // mkdir -p. New directories get exactly `mode` (the umask is undone with chmod); existing
  // ones are left as they are. NotFound when a component exists and is not a directory.
  Status createDirectories(const std::string& path, mode_t mode = 0755) override;

  // Entry names without "." and "..", sorted bytewise.
  Result<std::vector<std::string>> listDirectory(const std::string& path) override;

  // utimensat(2) with both the access and the modification time set to `when`, following
  // symlinks. NotFound, PermissionDenied.
  Status setModified(const std::string& path, std::chrono::system_clock::time_point when) override;
};

}  // namespace postwarden::os
