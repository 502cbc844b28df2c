// FileWatcher: wakes a waiting thread when a watched file in a directory (main.cf, master.cf)
// changes, or when another thread asks. It watches the directory with inotify, not the files:
// editors and our own writeAtomic replace a file by renaming a new inode over it, which a
// watch on the old inode would never report. An eventfd lets another thread interrupt wait().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::os {

class FileWatcher {
 public:
  enum class Event { kChanged, kWoken, kTimeout };

  // Watches `dir` for files named in `names` (plain names, no '/') being written, created,
  // deleted, renamed to or from, or changing attributes. Errors: InvalidArgument (empty
  // names, or a name with '/'), NotFound (no such directory), PermissionDenied,
  // ResourceExhausted (the inotify limits).
  static Result<std::unique_ptr<FileWatcher>> open(const std::string& dir,
                                                   std::vector<std::string> names);

  ~FileWatcher();  // closes both descriptors
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Blocks until a watched file changes (kChanged), wake() was called (kWoken), or `timeout`
  // passes (kTimeout); a negative timeout counts as 0. All pending inotify events are
  // drained, so a burst of events (write, then rename) is one kChanged. A change seen together
  // with a wake reports kChanged and leaves the wake pending for the next call (several wakes
  // before a wait() are one kWoken). Events on other files in the
  // directory are consumed and do not end the wait. FailedPrecondition once the directory
  // itself was deleted, moved or unmounted (every later call too). An overflow of the
  // kernel's event queue reports kChanged, since anything may have changed. EINTR is retried.
  // Call from one thread at a time.
  Result<Event> wait(std::chrono::milliseconds timeout);

  // Makes the current or the next wait() return kWoken. Thread-safe, async-signal-safe.
  void wake();

 private:
  FileWatcher(std::string dir, std::vector<std::string> names, int inotify_fd, int event_fd,
              int watch);

  enum class Drained { kNothing, kChanged, kGone };
  // Reads every pending inotify event without blocking.
  Result<Drained> drainInotify();

  const std::string dir_;
  const std::vector<std::string> names_;
  const int inotify_fd_;
  const int event_fd_;
  const int watch_;
  bool gone_ = false;
};

}  // namespace postwarden::os
