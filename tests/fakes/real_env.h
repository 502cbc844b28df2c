// The real OS seams around a CommandRunner that a test scripts: for tests of code that takes an
// os::Env but whose only scripted collaborator is the command runner (files, /proc, the clock
// and locks stay real; tests use temp directories).
#pragma once

#include "common/os/env.h"

namespace postwarden::fakes {

inline os::Env realEnvWith(os::CommandRunner& commands) {
  // Stateless or thread-safe, so one of each serves every test.
  static os::PosixFileSystem fs;
  static os::SystemClock clock;
  static os::SystemRandom random;
  static os::ProcfsProcesses processes;
  static os::FlockLocks locks;
  static os::InotifyWatchers watchers;
  return {.fs = fs,
          .commands = commands,
          .clock = clock,
          .random = random,
          .processes = processes,
          .locks = locks,
          .watchers = watchers};
}

}  // namespace postwarden::fakes
