// InMemoryFileSystem: a FileSystem held in a map, for unit tests. It keeps POSIX's shape
// where tests rely on it (absolute paths, parents must exist, writeAtomic goes through a
// temp file named like PosixFileSystem's) and injects faults like leveldb's SpecialEnv:
// a failing rename, failing writes (ENOSPC, EIO), a "crash" between write and rename, and a
// directory fsync that fails after the rename (new bytes in place, not durable).
// Every call is recorded for assertions. Thread-safe (one mutex); "/" always exists.
#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/os/clock.h"
#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::fakes {

class InMemoryFileSystem final : public os::FileSystem {
 public:
  // New files get owner/group 0 and modified times from `clock` if given, else the epoch.
  // The clock is borrowed and must outlive this object.
  InMemoryFileSystem();
  explicit InMemoryFileSystem(const os::Clock& clock);

  // FileSystem. Paths must be absolute ("/a/b"; a trailing '/' is ignored, "." and ".." are
  // not interpreted): others give InvalidArgument. Codes follow PosixFileSystem: NotFound for
  // a missing parent or a file where a directory is expected, InvalidArgument for a
  // directory where a file is expected.
  Result<std::string> readFile(const std::string& path) override;
  // Step by step: fault checks, temp file ".<base>.pw-tmp-<pid>-<n>" created beside `path`,
  // then renamed over it. Mode/owner/group as PosixFileSystem (keep the replaced file's).
  Status writeAtomic(const std::string& path, const std::string& bytes,
                     const os::WriteOptions& options = {}) override;
  Result<os::FileInfo> stat(const std::string& path) override;
  // No symlinks: `path` is its own target; every ancestor is one lookup. Recorded as
  // "resolvePath <path>" (the lookups are not recorded as stat calls).
  Result<os::ResolvedPath> resolvePath(const std::string& path) override;
  // A directory moves with everything below it, but never replaces an existing path.
  Status rename(const std::string& from, const std::string& to) override;
  Status remove(const std::string& path) override;
  Status removeDirectory(const std::string& path) override;
  Status createDirectories(const std::string& path, mode_t mode = 0755) override;
  Result<std::vector<std::string>> listDirectory(const std::string& path) override;
  Status setModified(const std::string& path, std::chrono::system_clock::time_point when) override;

  // --- Test setup. These are not recorded and ignore fault switches.
  // Creates or replaces a file, creating missing parent directories (mode 0755).
  void addFile(const std::string& path, std::string bytes, mode_t mode = 0644, uid_t owner = 0,
               gid_t group = 0);
  void addDirectory(const std::string& path, mode_t mode = 0755);

  // --- Inspection.
  // The bytes of a regular file, or nullopt (missing, or a directory).
  std::optional<std::string> contents(const std::string& path) const;
  bool exists(const std::string& path) const;
  // Every path (files and directories, "/" excluded), sorted.
  std::vector<std::string> allPaths() const;
  // One line per FileSystem call, in order: "<method> <path>" ("rename <from> <to>"),
  // e.g. "writeAtomic /etc/postfix/main.cf". Failed calls are recorded too.
  std::vector<std::string> operations() const;
  void clearOperations();

  // --- Faults.
  // The next rename, either a rename() call or the rename step of writeAtomic, fails with
  // `status` and changes nothing (writeAtomic also removes its temp file). One-shot;
  // OkStatus() cancels a pending failure.
  void failNextRename(Status status);
  // Every writeAtomic from now on fails with `status` before touching anything, like a full
  // (ResourceExhausted) or broken (DataLoss) disk, until called again with OkStatus().
  void failWritesWith(Status status);
  // The next writeAtomic "crashes" after writing its temp file but before the rename: the
  // temp file stays (with the new bytes), `path` keeps its old bytes, and the call returns
  // `crash_status`. A test should treat the component under test as dead at that point and
  // build a fresh one over the same file system, as after a restart. One-shot;
  // `crash_status` must not be OK.
  void crashAfterNextWrite(Status crash_status = AbortedError("simulated crash after write"));
  // The next writeAtomic (of `path` only, when given) renames its new bytes into place and
  // then fails as a directory fsync would: the error satisfies os::isNotDurable() and carries
  // `cause`. One-shot; OkStatus() cancels a pending failure.
  void failSyncAfterNextRename(Status cause = DataLossError("Input/output error"),
                               std::string path = "");

 private:
  struct Node {
    os::FileInfo info;
    std::string bytes;
  };

  std::chrono::system_clock::time_point nowLocked() const;
  void recordLocked(std::string operation);
  // Requires mutex_. InvalidArgument for a relative path; NotFound for a missing parent,
  // or one that is a file.
  Status checkParentLocked(const std::string& path) const;
  void addDirectoriesLocked(const std::string& path, mode_t mode);

  const os::Clock* clock_ = nullptr;
  mutable std::mutex mutex_;
  std::map<std::string, Node> nodes_;  // normalized absolute path -> node
  std::vector<std::string> operations_;
  std::optional<Status> next_rename_failure_;
  Status write_failure_;
  std::optional<Status> crash_after_next_write_;
  std::optional<Status> sync_failure_after_rename_;
  std::string sync_failure_path_;  // normalized; empty: any path
  std::uint64_t temp_counter_ = 0;
};

}  // namespace postwarden::fakes
