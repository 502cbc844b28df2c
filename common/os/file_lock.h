// FileLock: one postwarden-agent per host. An exclusive flock(2) on a lock file in the state
// directory, held for the object's lifetime. The kernel drops the lock when the holder's
// last descriptor closes, including when the holder dies, so a crashed agent's lock is
// reclaimed by the next one without any stale-lock heuristics. The holder's pid is written
// into the file for messages only; the lock itself never depends on it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/status.h"

namespace postwarden::os {

class FileLock {
 public:
  // Creates `path` (mode 0644) if needed and takes the lock without waiting.
  // Errors: Unavailable "another postwarden-agent (pid N) holds PATH" when the lock is held,
  // by another process or by another FileLock of this one (retrying later can succeed);
  // the codes of ErrnoToStatus for open/flock/write failures (NotFound for a missing
  // directory, PermissionDenied, ...). The descriptor is close-on-exec, so children started
  // by CommandRunner do not hold the lock. The lock file is never removed: unlinking it
  // would let two agents lock two different inodes.
  static Result<FileLock> acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  // Releases the lock (a moved-from FileLock holds nothing).
  ~FileLock();

  const std::string& path() const { return path_; }

 private:
  FileLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  void release();

  std::string path_;
  int fd_ = -1;
};

}  // namespace postwarden::os
