#include "common/os/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

namespace postwarden::os {
namespace {

// The pid the holder wrote, or "unknown" (the file can be empty for a moment between the
// holder's truncate and write, or hold garbage if someone edited it).
std::string holderPid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid;
  for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pid += buffer[i];
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<FileLock> FileLock::acquire(const std::string& path) {
  const std::string context = "locking '" + path + "'";
  // O_NOFOLLOW: the state directory is ours; a symlink there is not.
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return ErrnoToStatus(errno, context);
  FileLock lock(path, fd);  // closes fd on every error path below

  int rc;
  do {
    rc = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) {
      return UnavailableError("another postwarden-agent (pid " + holderPid(fd) + ") holds " + path);
    }
    return ErrnoToStatus(errno, context);
  }

  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0) return ErrnoToStatus(errno, context + ": truncating");
  ssize_t written;
  do {
    written = ::pwrite(fd, pid.data(), pid.size(), 0);
  } while (written < 0 && errno == EINTR);
  if (written < 0) return ErrnoToStatus(errno, context + ": writing pid");
  if (static_cast<std::size_t>(written) != pid.size()) {
    return ErrnoToStatus(ENOSPC, context + ": writing pid");
  }
  return lock;
}

FileLock::FileLock(FileLock&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileLock::~FileLock() { release(); }

void FileLock::release() {
  if (fd_ < 0) return;
  // Closing the last descriptor of the open file description releases the flock; the
  // explicit LOCK_UN also releases it if a fork()ed child still shares the description.
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  fd_ = -1;
}

}  // namespace postwarden::os
