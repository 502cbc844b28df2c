#include "common/os/file_watcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/os/posix_file_system.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using Event = FileWatcher::Event;
using std::chrono::milliseconds;

// Long enough that a real event is never mistaken for a timeout, even on a loaded machine.
constexpr milliseconds kEventWait{5000};
// Short: how long the tests wait for events that must not come.
constexpr milliseconds kQuiet{150};

class FileWatcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<FileWatcher> open() {
    Result<std::unique_ptr<FileWatcher>> watcher =
        FileWatcher::open(temp_.path(), {"main.cf", "master.cf"});
    EXPECT_TRUE(watcher.ok()) << watcher.status().toString();
    return watcher.ok() ? std::move(watcher).value() : nullptr;
  }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(temp_.file(name)) << bytes;
  }
  static Event waitFor(FileWatcher& watcher, milliseconds timeout) {
    Result<Event> event = watcher.wait(timeout);
    EXPECT_TRUE(event.ok()) << event.status().toString();
    return event.ok() ? *event : Event::kTimeout;
  }

  os::TempDir temp_;
};

TEST_F(FileWatcherTest, TimesOutWhenNothingHappens) {
  auto watcher = open();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(waitFor(*watcher, milliseconds(100)), Event::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(100));
  EXPECT_EQ(waitFor(*watcher, milliseconds(0)), Event::kTimeout);
  EXPECT_EQ(waitFor(*watcher, milliseconds(-5)), Event::kTimeout);
}

TEST_F(FileWatcherTest, WritingAWatchedFileIsOneChange) {
  auto watcher = open();
  write("main.cf", "myhostname = a\n");  // create, modify, close-write: one change
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
  EXPECT_EQ(waitFor(*watcher, kQuiet), Event::kTimeout);
  write("main.cf", "myhostname = b\n");
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
}

TEST_F(FileWatcherTest, RenamingOverAWatchedFileIsAChange) {
  write("master.cf", "old\n");
  auto watcher = open();
  os::PosixFileSystem fs;
  ASSERT_TRUE(fs.writeAtomic(temp_.file("master.cf"), "new\n").ok());  // temp + rename
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
  EXPECT_EQ(waitFor(*watcher, kQuiet), Event::kTimeout);

  write("staged", "x");
  ASSERT_EQ(std::rename(temp_.file("staged").c_str(), temp_.file("main.cf").c_str()), 0);
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
}

TEST_F(FileWatcherTest, DeletingRenamingAwayAndChmodAreChanges) {
  write("main.cf", "x\n");
  write("master.cf", "y\n");
  auto watcher = open();
  ASSERT_EQ(::chmod(temp_.file("main.cf").c_str(), 0600), 0);
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
  ASSERT_EQ(std::rename(temp_.file("main.cf").c_str(), temp_.file("main.cf.bak").c_str()), 0);
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
  std::filesystem::remove(temp_.file("master.cf"));
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
}

TEST_F(FileWatcherTest, UnrelatedFilesDoNotEndTheWait) {
  auto watcher = open();
  write("main.cf.proto", "x\n");
  write("other", "y\n");
  std::filesystem::remove(temp_.file("other"));
  std::filesystem::create_directory(temp_.file("subdir"));
  EXPECT_EQ(waitFor(*watcher, milliseconds(300)), Event::kTimeout);
}

TEST_F(FileWatcherTest, ChangesInsideASubdirectoryAreNotWatched) {
  std::filesystem::create_directory(temp_.file("sub"));
  auto watcher = open();
  std::ofstream(temp_.file("sub/main.cf")) << "x";
  EXPECT_EQ(waitFor(*watcher, kQuiet), Event::kTimeout);
}

TEST_F(FileWatcherTest, WakeFromAnotherThread) {
  auto watcher = open();
  std::thread waker([&] {
    std::this_thread::sleep_for(milliseconds(50));
    watcher->wake();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(waitFor(*watcher, milliseconds(10000)), Event::kWoken);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  waker.join();
  // Consumed: the next wait times out.
  EXPECT_EQ(waitFor(*watcher, milliseconds(50)), Event::kTimeout);
}

TEST_F(FileWatcherTest, WakeBeforeWaitIsNotLostAndSeveralWakesAreOne) {
  auto watcher = open();
  watcher->wake();
  watcher->wake();
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kWoken);
  EXPECT_EQ(waitFor(*watcher, milliseconds(50)), Event::kTimeout);
}

TEST_F(FileWatcherTest, AWakeIsNotLostBehindAChange) {
  auto watcher = open();
  write("main.cf", "x\n");
  watcher->wake();
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kChanged);
  EXPECT_EQ(waitFor(*watcher, kEventWait), Event::kWoken);
  EXPECT_EQ(waitFor(*watcher, milliseconds(50)), Event::kTimeout);
}

TEST_F(FileWatcherTest, RemovingTheDirectoryIsAnError) {
  const std::string dir = temp_.file("postfix");
  std::filesystem::create_directory(dir);
  std::ofstream(dir + "/main.cf") << "x";
  Result<std::unique_ptr<FileWatcher>> watcher = FileWatcher::open(dir, {"main.cf"});
  ASSERT_TRUE(watcher.ok()) << watcher.status().toString();
  std::filesystem::remove_all(dir);
  Result<Event> event = (*watcher)->wait(kEventWait);
  // The deletion of main.cf may or may not be read in the same batch as the directory's.
  if (event.ok()) {
    EXPECT_EQ(*event, Event::kChanged);
    event = (*watcher)->wait(kEventWait);
  }
  ASSERT_FALSE(event.ok());
  EXPECT_EQ(event.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ((*watcher)->wait(milliseconds(0)).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FileWatcherTest, MovingTheDirectoryIsAnError) {
  const std::string dir = temp_.file("postfix");
  std::filesystem::create_directory(dir);
  Result<std::unique_ptr<FileWatcher>> watcher = FileWatcher::open(dir, {"main.cf"});
  ASSERT_TRUE(watcher.ok()) << watcher.status().toString();
  std::filesystem::rename(dir, temp_.file("postfix.old"));
  EXPECT_EQ((*watcher)->wait(kEventWait).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FileWatcherTest, OpenErrors) {
  EXPECT_EQ(FileWatcher::open(temp_.file("missing"), {"main.cf"}).status().code(),
            StatusCode::kNotFound);
  std::ofstream(temp_.file("plain")) << "x";
  EXPECT_EQ(FileWatcher::open(temp_.file("plain"), {"main.cf"}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(FileWatcher::open(temp_.path(), {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FileWatcher::open(temp_.path(), {"a/main.cf"}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace postwarden::os
