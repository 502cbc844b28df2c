// FileSystem: the agent's only door to files. Paths are plain strings. writeAtomic never
// leaves a partial file at `path`: readers see the old bytes or the new ones, never a mix.
// Implementations: PosixFileSystem (real), InMemoryFileSystem (tests/fakes, with faults).
// One writeAtomic error is not "nothing written": isNotDurable() tells it apart.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden::os {

struct FileInfo {
  bool is_directory = false;
  bool is_symlink = false;  // only in ResolvedPath::lookups (lstat); stat() follows links
  mode_t mode = 0;          // permission bits only (07777)
  uid_t owner = 0;
  gid_t group = 0;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point modified;
};

struct WriteOptions {
  // Permission bits and ownership of the new file. Unset: keep those of the file being
  // replaced, or 0644 and the caller's ids for a new file.
  std::optional<mode_t> mode;
  std::optional<uid_t> owner;
  std::optional<gid_t> group;
};

// One name looked up while a path is resolved: the directory it is looked up in (absolute,
// no symlink in it) and the entry found there, not followed (a symlink has is_symlink).
struct PathLookup {
  std::string directory;
  FileInfo directory_info;
  std::string entry;  // directory + "/" + name
  FileInfo entry_info;
};

// A path resolved the way the kernel resolves it: every symlink, at every level, followed.
// `lookups` are all the names looked up on the way, in order, so a caller can tell who
// could redirect the path (see path_trust.h).
struct ResolvedPath {
  std::string target;  // absolute, no symlink in it
  FileInfo target_info;
  std::vector<PathLookup> lookups;
};

// The FileSystem::resolvePath of an implementation without symlinks: `path` (absolute) is
// its own target, and each of its ancestors is looked up with fs.stat().
class FileSystem;
Result<ResolvedPath> resolvePathWithoutSymlinks(FileSystem& fs, const std::string& path);

// writeAtomic's only error after its rename: `path` already has the new bytes, but the
// directory fsync failed, so they may not survive a power loss. Callers that must know whether
// anything was written ("new bytes in place" vs "nothing written") ask isNotDurable().
// The code is always DataLoss and the message carries kNotDurableMarker (context added with
// Status::withContext keeps it).
inline constexpr std::string_view kNotDurableMarker = "new bytes in place but not yet durable";

inline Status notDurableError(std::string_view context, std::string_view cause) {
  return DataLossError(std::string(context) + ": " + std::string(cause) + " (" +
                       std::string(kNotDurableMarker) + ")");
}

inline bool isNotDurable(const Status& status) {
  return status.code() == StatusCode::kDataLoss &&
         status.message().find(kNotDurableMarker) != std::string::npos;
}

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Whole file. NotFound, PermissionDenied, DataLoss (EIO), InvalidArgument (a directory).
  virtual Result<std::string> readFile(const std::string& path) = 0;

  // Replaces `path` with `bytes` crash-safely: a temp file in the same directory, write,
  // fsync, rename over `path`, fsync the directory. A symlink at `path` is kept: its final
  // target (every level followed) is replaced instead, the temp file beside it. On any error
  // before the rename the temp file is removed and `path` is untouched: ResourceExhausted
  // (ENOSPC), DataLoss (EIO), PermissionDenied. A failed directory fsync after the rename is
  // the one exception: `path` has the new bytes and the error satisfies isNotDurable().
  virtual Status writeAtomic(const std::string& path, const std::string& bytes,
                             const WriteOptions& options = {}) = 0;

  // NotFound when `path` does not exist.
  virtual Result<FileInfo> stat(const std::string& path) = 0;

  virtual Status rename(const std::string& from, const std::string& to) = 0;

  // Removes a file; OK if it does not exist.
  virtual Status remove(const std::string& path) = 0;

  // Removes an empty directory; OK if it does not exist. FailedPrecondition when it is not
  // empty. The default says Unimplemented, for implementations that never need it.
  virtual Status removeDirectory(const std::string& path) {
    return Status(StatusCode::kUnimplemented, "removing directory " + path + ": not supported");
  }

  // mkdir -p with the given mode for new directories.
  virtual Status createDirectories(const std::string& path, mode_t mode = 0755) = 0;

  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> listDirectory(const std::string& path) = 0;

  // Sets the modification (and access) time of an existing file.
  virtual Status setModified(const std::string& path,
                             std::chrono::system_clock::time_point when) = 0;

  // Resolves `path` (which must exist) following every symlink, recording each lookup.
  // NotFound, PermissionDenied, InvalidArgument (a loop of links, ELOOP). The default is
  // resolvePathWithoutSymlinks, for implementations that have none.
  virtual Result<ResolvedPath> resolvePath(const std::string& path) {
    return resolvePathWithoutSymlinks(*this, path);
  }
};

}  // namespace postwarden::os
