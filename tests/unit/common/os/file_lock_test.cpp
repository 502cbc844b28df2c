#include "common/os/file_lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using ::testing::HasSubstr;

std::string readRaw(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A child process that holds the lock at `path` until it is told to exit (or killed).
class LockHolderProcess {
 public:
  explicit LockHolderProcess(const std::string& path) {
    int ready[2];
    int control[2];
    PW_CHECK(::pipe(ready) == 0 && ::pipe(control) == 0);
    pid_ = ::fork();
    PW_CHECK(pid_ >= 0);
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(control[1]);
      Result<FileLock> lock = FileLock::acquire(path);
      const char answer = lock.ok() ? 'y' : 'n';
      (void)!::write(ready[1], &answer, 1);
      char ignored;
      (void)!::read(control[0], &ignored, 1);  // returns when the parent closes its end
      ::_exit(0);                              // no destructors: the kernel drops the lock
    }
    ::close(ready[1]);
    ::close(control[0]);
    control_ = control[1];
    char answer = 'n';
    locked_ = ::read(ready[0], &answer, 1) == 1 && answer == 'y';
    ::close(ready[0]);
  }
  ~LockHolderProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (control_ >= 0) ::close(control_);
  }

  pid_t pid() const { return pid_; }
  bool locked() const { return locked_; }

  // Lets the child run to _exit and reaps it.
  void exitNormally() {
    ::close(std::exchange(control_, -1));
    ::waitpid(std::exchange(pid_, -1), nullptr, 0);
  }
  void killAndReap() {
    ::kill(pid_, SIGKILL);
    ::waitpid(std::exchange(pid_, -1), nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
  int control_ = -1;
  bool locked_ = false;
};

TEST(FileLockTest, AcquireWritesHolderPid) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");

  Result<FileLock> lock = FileLock::acquire(path);

  ASSERT_TRUE(lock.ok()) << lock.status().toString();
  EXPECT_EQ(lock->path(), path);
  EXPECT_EQ(readRaw(path), std::to_string(::getpid()) + "\n");
}

TEST(FileLockTest, SecondAcquireInSameProcessIsUnavailable) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  Result<FileLock> first = FileLock::acquire(path);
  ASSERT_TRUE(first.ok());

  Result<FileLock> second = FileLock::acquire(path);

  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("another postwarden-agent (pid " +
                                                   std::to_string(::getpid()) + ") holds " + path));
}

TEST(FileLockTest, DestructionReleasesTheLock) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  { ASSERT_TRUE(FileLock::acquire(path).ok()); }

  EXPECT_TRUE(FileLock::acquire(path).ok());
}

TEST(FileLockTest, MoveKeepsTheLockHeld) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  Result<FileLock> lock = FileLock::acquire(path);
  ASSERT_TRUE(lock.ok());

  FileLock moved = std::move(lock).value();
  EXPECT_EQ(FileLock::acquire(path).status().code(), StatusCode::kUnavailable);

  FileLock assigned = std::move(moved);
  EXPECT_EQ(FileLock::acquire(path).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(assigned.path(), path);
}

TEST(FileLockTest, LockHeldByAnotherProcessNamesItsPid) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  LockHolderProcess holder(path);
  ASSERT_TRUE(holder.locked());

  Result<FileLock> lock = FileLock::acquire(path);

  EXPECT_EQ(lock.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(lock.status().message(),
              HasSubstr("(pid " + std::to_string(holder.pid()) + ") holds " + path));
}

TEST(FileLockTest, LockIsReclaimedAfterHolderExits) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  LockHolderProcess holder(path);
  ASSERT_TRUE(holder.locked());
  ASSERT_EQ(FileLock::acquire(path).status().code(), StatusCode::kUnavailable);

  holder.exitNormally();

  Result<FileLock> lock = FileLock::acquire(path);
  ASSERT_TRUE(lock.ok()) << lock.status().toString();
  EXPECT_EQ(readRaw(path), std::to_string(::getpid()) + "\n");
}

TEST(FileLockTest, LockIsReclaimedAfterHolderIsKilled) {
  TempDir dir;
  const std::string path = dir.file("agent.lock");
  LockHolderProcess holder(path);
  ASSERT_TRUE(holder.locked());

  holder.killAndReap();

  EXPECT_TRUE(FileLock::acquire(path).ok());
}

TEST(FileLockTest, MissingDirectoryIsNotFound) {
  TempDir dir;

  EXPECT_EQ(FileLock::acquire(dir.file("no-such-dir/agent.lock")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace postwarden::os
