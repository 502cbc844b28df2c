// Env: every way Postwarden touches the operating system, as one bundle of seams (like
// leveldb's Env, split by role so a test fakes only what it uses): files, commands, clocks
// and sleeping, randomness, processes (/proc, own pid), advisory file locks and file
// watching. The agent's commands, its daemon and the controller take an Env; each binary's
// main builds the real one (SystemEnv) once. Logic below the composition roots calls none of
// these system facilities directly.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/os/clock.h"
#include "common/os/command_runner.h"
#include "common/os/file_lock.h"
#include "common/os/file_system.h"
#include "common/os/file_watcher.h"
#include "common/os/logging_command_runner.h"
#include "common/os/posix_file_system.h"
#include "common/os/process_command_runner.h"
#include "common/os/processes.h"
#include "common/os/random.h"

namespace postwarden::os {

// Advisory locks on files (one transaction per host at a time).
class Locks {
 public:
  virtual ~Locks() = default;
  virtual Result<FileLock> acquire(const std::string& path) = 0;
};

// Watching a directory for changes of some of its files.
class Watchers {
 public:
  virtual ~Watchers() = default;
  virtual Result<std::unique_ptr<FileWatcher>> watch(const std::string& dir,
                                                     std::vector<std::string> names) = 0;
};

struct Env {
  FileSystem& fs;
  CommandRunner& commands;
  Clock& clock;
  Random& random;
  Processes& processes;
  Locks& locks;
  Watchers& watchers;
};

class FlockLocks final : public Locks {
 public:
  Result<FileLock> acquire(const std::string& path) override { return FileLock::acquire(path); }
};

class InotifyWatchers final : public Watchers {
 public:
  Result<std::unique_ptr<FileWatcher>> watch(const std::string& dir,
                                             std::vector<std::string> names) override {
    return FileWatcher::open(dir, std::move(names));
  }
};

// The real seams, owned; commands are logged at debug level (LoggingCommandRunner).
class SystemEnv {
 public:
  SystemEnv() : commands_(process_runner_) {}
  SystemEnv(const SystemEnv&) = delete;
  SystemEnv& operator=(const SystemEnv&) = delete;

  Env env() {
    return {.fs = fs_,
            .commands = commands_,
            .clock = clock_,
            .random = random_,
            .processes = processes_,
            .locks = locks_,
            .watchers = watchers_};
  }

 private:
  PosixFileSystem fs_;
  ProcessCommandRunner process_runner_;
  LoggingCommandRunner commands_;
  SystemClock clock_;
  SystemRandom random_;
  ProcfsProcesses processes_;
  FlockLocks locks_;
  InotifyWatchers watchers_;
};

}  // namespace postwarden::os
