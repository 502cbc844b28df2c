#include "common/os/file_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>

namespace postwarden::os {
namespace {

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

}  // namespace

Result<std::unique_ptr<FileWatcher>> FileWatcher::open(const std::string& dir,
                                                       std::vector<std::string> names) {
  if (names.empty()) return InvalidArgumentError("file watcher needs at least one file name");
  for (const std::string& name : names) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      return InvalidArgumentError("file watcher: '" + name + "' is not a file name");
    }
  }
  const int inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) return ErrnoToStatus(errno, "inotify_init1");
  const int watch = ::inotify_add_watch(inotify_fd, dir.c_str(), kMask);
  if (watch < 0) {
    const int saved = errno;
    ::close(inotify_fd);
    // ENOSPC here means the per-user watch limit, not a full disk.
    if (saved == ENOSPC) {
      return ResourceExhaustedError("watching '" + dir +
                                    "': inotify watch limit reached (fs.inotify.max_user_watches)");
    }
    if (saved == ENOTDIR) return NotFoundError("watching '" + dir + "': not a directory");
    return ErrnoToStatus(saved, "watching '" + dir + "'");
  }
  const int event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd < 0) {
    const int saved = errno;
    ::close(inotify_fd);
    return ErrnoToStatus(saved, "eventfd");
  }
  return std::unique_ptr<FileWatcher>(
      new FileWatcher(dir, std::move(names), inotify_fd, event_fd, watch));
}

FileWatcher::FileWatcher(std::string dir, std::vector<std::string> names, int inotify_fd,
                         int event_fd, int watch)
    : dir_(std::move(dir)),
      names_(std::move(names)),
      inotify_fd_(inotify_fd),
      event_fd_(event_fd),
      watch_(watch) {}

FileWatcher::~FileWatcher() {
  // Closing the inotify descriptor removes its watch too.
  ::close(inotify_fd_);
  ::close(event_fd_);
}

void FileWatcher::wake() {
  const uint64_t one = 1;
  // Can only fail when the counter is about to overflow (then a wake is pending anyway) or
  // on EINTR before anything was written.
  while (::write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

Result<FileWatcher::Drained> FileWatcher::drainInotify() {
  // Aligned as inotify(7) asks; room for many events per read.
  alignas(struct inotify_event) char buffer[64 * (sizeof(struct inotify_event) + NAME_MAX + 1)];
  Drained result = Drained::kNothing;
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return ErrnoToStatus(errno, "reading inotify events for '" + dir_ + "'");
    }
    if (n == 0) break;
    for (ssize_t offset = 0; offset < n;) {
      struct inotify_event event;
      std::memcpy(&event, buffer + offset, sizeof(event));
      const char* name = buffer + offset + sizeof(struct inotify_event);
      offset += static_cast<ssize_t>(sizeof(struct inotify_event) + event.len);
      if (event.mask & IN_Q_OVERFLOW) {
        // Events were lost: anything may have changed.
        if (result == Drained::kNothing) result = Drained::kChanged;
        continue;
      }
      if (event.mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        result = Drained::kGone;
        continue;
      }
      if (event.wd != watch_ || event.len == 0) continue;
      const std::string file(name, ::strnlen(name, event.len));
      if (std::find(names_.begin(), names_.end(), file) != names_.end() &&
          result == Drained::kNothing) {
        result = Drained::kChanged;
      }
    }
  }
  return result;
}

Result<FileWatcher::Event> FileWatcher::wait(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + std::max(timeout, std::chrono::milliseconds(0));
  for (;;) {
    if (gone_) {
      return FailedPreconditionError("watched directory '" + dir_ +
                                     "' was deleted, moved or unmounted");
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    // Round up so that a wait never ends (as a timeout) before the deadline.
    const int poll_ms = static_cast<int>(std::clamp<int64_t>(left.count() + 1, 0, INT_MAX));
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, left.count() <= 0 ? 0 : poll_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "waiting for changes in '" + dir_ + "'");
    }
    Drained drained = Drained::kNothing;
    if (fds[0].revents & POLLIN) {
      PW_ASSIGN_OR_RETURN(drained, drainInotify());
    }
    if (drained == Drained::kGone) {
      gone_ = true;
      continue;
    }
    // A pending wake stays pending when a change is reported, so the next wait() returns
    // kWoken at once: a wake may mean "shut down", and must not be lost behind a change.
    if (drained == Drained::kChanged) return Event::kChanged;
    if (fds[1].revents & POLLIN) {
      uint64_t count = 0;
      while (::read(event_fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
      }
      return Event::kWoken;
    }
    if (ready == 0 && Clock::now() >= deadline) return Event::kTimeout;
    if (left.count() <= 0) return Event::kTimeout;
  }
}

}  // namespace postwarden::os
