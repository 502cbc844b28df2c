#include "common/os/posix_file_system.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/os/stale_temp_files.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::os {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr long kSysfsMagic = 0x62656572;

// Test setup and checks go around the code under test, straight to the kernel.
void writeRaw(const std::string& path, const std::string& bytes, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << bytes;
  PW_CHECK(::chmod(path.c_str(), mode) == 0);
}

std::string readRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct stat statRaw(const std::string& path) {
  struct stat st {};
  PW_CHECK(::stat(path.c_str(), &st) == 0);
  return st;
}

std::vector<std::string> listRaw(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class PosixFileSystemTest : public ::testing::Test {
 protected:
  TempDir dir_;
  PosixFileSystem fs_;
};

TEST_F(PosixFileSystemTest, WriteAtomicCreatesNewFileWithMode0644) {
  const std::string path = dir_.file("main.cf");
  const mode_t old_umask = ::umask(077);  // the contract is the exact mode, whatever the umask
  const Status status = fs_.writeAtomic(path, "myhostname = mx.example.com\n");
  ::umask(old_umask);

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(readRaw(path), "myhostname = mx.example.com\n");
  EXPECT_EQ(statRaw(path).st_mode & 07777, 0644u);
}

TEST_F(PosixFileSystemTest, WriteAtomicReplacesContent) {
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old content that is longer than the new one\n");

  ASSERT_TRUE(fs_.writeAtomic(path, "new\n").ok());

  EXPECT_EQ(readRaw(path), "new\n");
}

TEST_F(PosixFileSystemTest, WriteAtomicWritesEmptyFile) {
  const std::string path = dir_.file("empty");
  writeRaw(path, "something");

  ASSERT_TRUE(fs_.writeAtomic(path, "").ok());

  EXPECT_EQ(readRaw(path), "");
}

TEST_F(PosixFileSystemTest, WriteAtomicKeepsModeOfReplacedFile) {
  const std::string path = dir_.file("sasl_passwd");
  writeRaw(path, "old", 0640);

  ASSERT_TRUE(fs_.writeAtomic(path, "new").ok());

  EXPECT_EQ(statRaw(path).st_mode & 07777, 0640u);
}

TEST_F(PosixFileSystemTest, WriteAtomicKeepsOwnerOfReplacedFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown the file under test";
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old", 0640);
  ASSERT_EQ(::chown(path.c_str(), 1234, 5678), 0);

  ASSERT_TRUE(fs_.writeAtomic(path, "new").ok());

  const struct stat st = statRaw(path);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(readRaw(path), "new");
}

TEST_F(PosixFileSystemTest, WriteAtomicAppliesExplicitOptions) {
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old", 0644);
  WriteOptions options;
  options.mode = 0600;
  if (::geteuid() == 0) {
    options.owner = 4321;
    options.group = 8765;
  }

  ASSERT_TRUE(fs_.writeAtomic(path, "new", options).ok());

  const struct stat st = statRaw(path);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 8765u);
  }
}

TEST_F(PosixFileSystemTest, WriteAtomicLeavesNoTempFile) {
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old");

  ASSERT_TRUE(fs_.writeAtomic(path, "new").ok());
  ASSERT_TRUE(fs_.writeAtomic(dir_.file("master.cf"), "new").ok());

  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf", "master.cf"));
}

TEST_F(PosixFileSystemTest, WriteAtomicWritesLargeContent) {
  const std::string path = dir_.file("big");
  std::string bytes(3 * 1024 * 1024 + 17, 'x');
  for (std::size_t i = 0; i < bytes.size(); i += 4096) bytes[i] = static_cast<char>('a' + i % 26);

  ASSERT_TRUE(fs_.writeAtomic(path, bytes).ok());

  EXPECT_EQ(readRaw(path), bytes);
}

TEST_F(PosixFileSystemTest, WriteAtomicFailsWithNotFoundForMissingDirectory) {
  const Status status = fs_.writeAtomic(dir_.file("no-such-dir/main.cf"), "x");

  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("no-such-dir/main.cf"));
  EXPECT_TRUE(listRaw(dir_.path()).empty());
}

TEST_F(PosixFileSystemTest, WriteAtomicFailsWithNotFoundWhenParentIsAFile) {
  writeRaw(dir_.file("postfix"), "a file where a directory is expected");

  const Status status = fs_.writeAtomic(dir_.file("postfix/main.cf"), "x");

  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("postfix"));
}

TEST_F(PosixFileSystemTest, WriteAtomicFailsWithPermissionDeniedInReadOnlySysfs) {
  // chmod cannot stop root, but sysfs refuses to create files for everyone.
  struct statfs sys {};
  if (::statfs("/sys", &sys) != 0 || static_cast<long>(sys.f_type) != kSysfsMagic) {
    GTEST_SKIP() << "/sys is not sysfs here";
  }

  const Status status = fs_.writeAtomic("/sys/postwarden-test", "x");

  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(status.message(), HasSubstr("/sys/postwarden-test"));
}

TEST_F(PosixFileSystemTest, WriteAtomicRejectsDirectoryTargetAndLeavesItAlone) {
  ASSERT_EQ(::mkdir(dir_.file("main.cf").c_str(), 0755), 0);
  writeRaw(dir_.file("main.cf/inside"), "keep");

  const Status status = fs_.writeAtomic(dir_.file("main.cf"), "x");

  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(readRaw(dir_.file("main.cf/inside")), "keep");
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf"));
}

TEST_F(PosixFileSystemTest, WriteAtomicRejectsPathWithoutFileName) {
  EXPECT_EQ(fs_.writeAtomic(dir_.path() + "/", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs_.writeAtomic(dir_.path() + "/..", "x").code(), StatusCode::kInvalidArgument);
}

// Restores a resource limit and the SIGXFSZ disposition on scope exit.
class ScopedFileSizeLimit {
 public:
  explicit ScopedFileSizeLimit(rlim_t bytes) {
    PW_CHECK(::getrlimit(RLIMIT_FSIZE, &old_limit_) == 0);
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    PW_CHECK(::sigaction(SIGXFSZ, &ignore, &old_action_) == 0);
    struct rlimit limit = old_limit_;
    limit.rlim_cur = bytes;
    PW_CHECK(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~ScopedFileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_limit_);
    ::sigaction(SIGXFSZ, &old_action_, nullptr);
  }

 private:
  struct rlimit old_limit_ {};
  struct sigaction old_action_ {};
};

TEST_F(PosixFileSystemTest, WriteAtomicFailingMidWriteLeavesTargetAndNoTempFile) {
  // RLIMIT_FSIZE makes the kernel accept a short write and then fail with EFBIG: a real
  // failure in the middle of the write loop, like a disk filling up.
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old content\n", 0640);
  Status status;
  {
    ScopedFileSizeLimit limit(4096);
    status = fs_.writeAtomic(path, std::string(1 << 20, 'n'));
  }

  EXPECT_EQ(status.code(), ErrnoToStatus(EFBIG, "").code());
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_EQ(readRaw(path), "old content\n");
  EXPECT_EQ(statRaw(path).st_mode & 07777, 0640u);
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf"));
}

// Makes fsync(fd) of one descriptor number fail with `error` in this process, through a
// seccomp filter (the kernel answers the system call itself). Irreversible: call it only in
// a forked child. False when the kernel refuses the filter.
bool failFsyncOf(int fd, int error) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fsync, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(fd), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<uint32_t>(error) & 0xffff)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program {};
  program.len = sizeof(filter) / sizeof(filter[0]);
  program.filter = filter;
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

#if defined(__x86_64__)
TEST_F(PosixFileSystemTest, DirectoryFsyncFailingAfterRenameIsReportedAsNotDurable) {
  // A real kernel-level fault: in a child, fsync of the directory descriptor fails with EIO
  // (writeAtomic opens the directory first, so it gets the lowest free descriptor number;
  // the temp file's fsync, on another descriptor, still works).
  const std::string path = dir_.file("main.cf");
  writeRaw(path, "old content\n", 0640);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const int lowest = ::open("/dev/null", O_RDONLY);
    ::close(lowest);
    if (!failFsyncOf(lowest, EIO)) ::_exit(10);
    PosixFileSystem fs;
    const Status status = fs.writeAtomic(path, "new content\n");
    if (status.ok()) ::_exit(11);
    if (!isNotDurable(status)) ::_exit(12);
    if (status.message().find("Input/output error") == std::string::npos) ::_exit(13);
    if (status.message().find(path) == std::string::npos) ::_exit(14);
    ::_exit(0);
  }
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status)) << wait_status;
  if (WEXITSTATUS(wait_status) == 10) GTEST_SKIP() << "seccomp filters are not available";
  // 11: reported OK; 12: not told apart from "nothing written"; 13/14: cause or path missing.
  EXPECT_EQ(WEXITSTATUS(wait_status), 0);
  // The rename happened: the new bytes are in place, with the old mode, and no temp file.
  EXPECT_EQ(readRaw(path), "new content\n");
  EXPECT_EQ(statRaw(path).st_mode & 07777, 0640u);
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf"));
}
#endif

std::string readLinkRaw(const std::string& path) {
  char buffer[4096];
  const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  PW_CHECK(n >= 0);
  return std::string(buffer, static_cast<std::size_t>(n));
}

bool isSymlinkRaw(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// Config managed elsewhere and linked in: the link stays, its target gets the new bytes,
// in place (same directory), with its own mode.
TEST_F(PosixFileSystemTest, WriteAtomicThroughSymlinkKeepsTheLinkAndReplacesItsTarget) {
  ASSERT_EQ(::mkdir(dir_.file("config").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir_.file("postfix").c_str(), 0755), 0);
  writeRaw(dir_.file("config/main.cf"), "old", 0640);
  ASSERT_EQ(::symlink("../config/main.cf", dir_.file("postfix/main.cf").c_str()), 0);

  Status written = fs_.writeAtomic(dir_.file("postfix/main.cf"), "new");

  ASSERT_TRUE(written.ok()) << written.toString();
  EXPECT_TRUE(isSymlinkRaw(dir_.file("postfix/main.cf")));
  EXPECT_EQ(readLinkRaw(dir_.file("postfix/main.cf")), "../config/main.cf");
  EXPECT_EQ(readRaw(dir_.file("config/main.cf")), "new");
  EXPECT_EQ(statRaw(dir_.file("config/main.cf")).st_mode & 07777, 0640u);
  // No temp file left in either directory.
  EXPECT_THAT(listRaw(dir_.file("postfix")), ElementsAre("main.cf"));
  EXPECT_THAT(listRaw(dir_.file("config")), ElementsAre("main.cf"));
}

TEST_F(PosixFileSystemTest, WriteAtomicFollowsEveryLevelOfLinks) {
  writeRaw(dir_.file("real.cf"), "old", 0600);
  ASSERT_EQ(::symlink(dir_.file("real.cf").c_str(), dir_.file("middle.cf").c_str()), 0);
  ASSERT_EQ(::symlink("middle.cf", dir_.file("main.cf").c_str()), 0);

  ASSERT_TRUE(fs_.writeAtomic(dir_.file("main.cf"), "new").ok());

  EXPECT_EQ(readLinkRaw(dir_.file("main.cf")), "middle.cf");
  EXPECT_EQ(readLinkRaw(dir_.file("middle.cf")), dir_.file("real.cf"));
  EXPECT_EQ(readRaw(dir_.file("real.cf")), "new");
  EXPECT_EQ(statRaw(dir_.file("real.cf")).st_mode & 07777, 0600u);
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf", "middle.cf", "real.cf"));
}

TEST_F(PosixFileSystemTest, WriteAtomicThroughSymlinkKeepsTheTargetsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  writeRaw(dir_.file("real.cf"), "old", 0644);
  ASSERT_EQ(::chown(dir_.file("real.cf").c_str(), 65534, 65534), 0);
  ASSERT_EQ(::symlink("real.cf", dir_.file("main.cf").c_str()), 0);

  ASSERT_TRUE(fs_.writeAtomic(dir_.file("main.cf"), "new").ok());

  EXPECT_TRUE(isSymlinkRaw(dir_.file("main.cf")));
  EXPECT_EQ(statRaw(dir_.file("real.cf")).st_uid, 65534u);
  EXPECT_EQ(statRaw(dir_.file("real.cf")).st_gid, 65534u);
}

TEST_F(PosixFileSystemTest, WriteAtomicThroughDanglingSymlinkIsNotFoundAndWritesNothing) {
  ASSERT_EQ(::symlink("missing.cf", dir_.file("main.cf").c_str()), 0);

  Status written = fs_.writeAtomic(dir_.file("main.cf"), "new");

  EXPECT_EQ(written.code(), StatusCode::kNotFound) << written.toString();
  EXPECT_THAT(written.message(), HasSubstr(dir_.file("main.cf")));
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("main.cf"));
  EXPECT_TRUE(isSymlinkRaw(dir_.file("main.cf")));
}

TEST_F(PosixFileSystemTest, WriteAtomicThroughALoopOfLinksFailsAndWritesNothing) {
  ASSERT_EQ(::symlink("b", dir_.file("a").c_str()), 0);
  ASSERT_EQ(::symlink("a", dir_.file("b").c_str()), 0);

  EXPECT_FALSE(fs_.writeAtomic(dir_.file("a"), "new").ok());
  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("a", "b"));
}

TEST_F(PosixFileSystemTest, ResolvePathFollowsLinksAtEveryLevelLikeTheKernel) {
  ASSERT_EQ(::mkdir(dir_.file("srv").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(dir_.file("srv/config").c_str(), 0755), 0);
  writeRaw(dir_.file("srv/config/main.cf"), "x");
  ASSERT_EQ(::mkdir(dir_.file("etc").c_str(), 0755), 0);
  // A directory link, a relative link with "..", and a link to a link.
  ASSERT_EQ(::symlink(dir_.file("srv").c_str(), dir_.file("etc/srv-link").c_str()), 0);
  ASSERT_EQ(::symlink("srv-link/config/../config/main.cf", dir_.file("etc/mid.cf").c_str()), 0);
  ASSERT_EQ(::mkdir(dir_.file("etc/postfix").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("../mid.cf", dir_.file("etc/postfix/main.cf").c_str()), 0);

  Result<ResolvedPath> resolved = fs_.resolvePath(dir_.file("etc/postfix/main.cf"));

  ASSERT_TRUE(resolved.ok()) << resolved.status().toString();
  char real[PATH_MAX];
  ASSERT_NE(::realpath(dir_.file("etc/postfix/main.cf").c_str(), real), nullptr);
  EXPECT_EQ(resolved->target, real);
  EXPECT_FALSE(resolved->target_info.is_directory);
  std::vector<std::string> links, directories;
  for (const PathLookup& lookup : resolved->lookups) {
    if (lookup.entry_info.is_symlink) links.push_back(lookup.entry);
    directories.push_back(lookup.directory);
  }
  EXPECT_THAT(links, ElementsAre(dir_.file("etc/postfix/main.cf"), dir_.file("etc/mid.cf"),
                                 dir_.file("etc/srv-link")));
  // The directories holding each link were looked up in, as was the target's.
  EXPECT_NE(std::find(directories.begin(), directories.end(), dir_.file("etc/postfix")),
            directories.end());
  EXPECT_NE(std::find(directories.begin(), directories.end(), dir_.file("etc")), directories.end());
  EXPECT_EQ(directories.back(), dir_.file("srv/config"));
  EXPECT_EQ(directories.front(), "/");
}

TEST_F(PosixFileSystemTest, ResolvePathOfALoopOfLinksIsInvalidArgument) {
  ASSERT_EQ(::symlink("b", dir_.file("a").c_str()), 0);
  ASSERT_EQ(::symlink("a", dir_.file("b").c_str()), 0);

  EXPECT_EQ(fs_.resolvePath(dir_.file("a")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fs_.resolvePath(dir_.file("missing")).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, ReadFileReturnsWholeContent) {
  const std::string bytes(200 * 1024, 'r');
  writeRaw(dir_.file("f"), bytes);

  Result<std::string> read = fs_.readFile(dir_.file("f"));

  ASSERT_TRUE(read.ok()) << read.status().toString();
  EXPECT_EQ(*read, bytes);
}

TEST_F(PosixFileSystemTest, ReadFileReadsProcFilesThatReportSizeZero) {
  Result<std::string> read = fs_.readFile("/proc/self/status");

  ASSERT_TRUE(read.ok()) << read.status().toString();
  EXPECT_THAT(*read, HasSubstr("Pid:"));
}

TEST_F(PosixFileSystemTest, ReadFileReturnsNotFoundForMissingFile) {
  EXPECT_EQ(fs_.readFile(dir_.file("missing")).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, ReadFileReturnsInvalidArgumentForDirectory) {
  EXPECT_EQ(fs_.readFile(dir_.path()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PosixFileSystemTest, StatReportsFileInfo) {
  writeRaw(dir_.file("f"), "12345", 0640);

  Result<FileInfo> info = fs_.stat(dir_.file("f"));

  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_directory);
  EXPECT_EQ(info->mode, 0640u);
  EXPECT_EQ(info->size, 5u);
  EXPECT_EQ(info->owner, ::geteuid());
  Result<FileInfo> dir_info = fs_.stat(dir_.path());
  ASSERT_TRUE(dir_info.ok());
  EXPECT_TRUE(dir_info->is_directory);
}

TEST_F(PosixFileSystemTest, StatReturnsNotFoundForMissingFile) {
  EXPECT_EQ(fs_.stat(dir_.file("missing")).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, SetModifiedSetsNanosecondTime) {
  writeRaw(dir_.file("f"), "x");
  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1577934245)) +
                    std::chrono::nanoseconds(123456789);

  ASSERT_TRUE(fs_.setModified(dir_.file("f"), when).ok());

  Result<FileInfo> info = fs_.stat(dir_.file("f"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->modified, when);
  EXPECT_EQ(statRaw(dir_.file("f")).st_atim.tv_sec, 1577934245);
}

TEST_F(PosixFileSystemTest, SetModifiedReturnsNotFoundForMissingFile) {
  EXPECT_EQ(fs_.setModified(dir_.file("missing"), std::chrono::system_clock::now()).code(),
            StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, RenameMovesFile) {
  writeRaw(dir_.file("a"), "content");

  ASSERT_TRUE(fs_.rename(dir_.file("a"), dir_.file("b")).ok());

  EXPECT_THAT(listRaw(dir_.path()), ElementsAre("b"));
  EXPECT_EQ(readRaw(dir_.file("b")), "content");
}

TEST_F(PosixFileSystemTest, RenameReturnsNotFoundForMissingSource) {
  EXPECT_EQ(fs_.rename(dir_.file("a"), dir_.file("b")).code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, RemoveDeletesFileAndAcceptsMissingOne) {
  writeRaw(dir_.file("f"), "x");

  EXPECT_TRUE(fs_.remove(dir_.file("f")).ok());
  EXPECT_TRUE(fs_.remove(dir_.file("f")).ok());
  EXPECT_TRUE(listRaw(dir_.path()).empty());
}

TEST_F(PosixFileSystemTest, RemoveReturnsInvalidArgumentForDirectory) {
  ASSERT_EQ(::mkdir(dir_.file("d").c_str(), 0755), 0);

  EXPECT_EQ(fs_.remove(dir_.file("d")).code(), StatusCode::kInvalidArgument);
}

TEST_F(PosixFileSystemTest, CreateDirectoriesCreatesNestedDirectoriesWithExactMode) {
  const mode_t old_umask = ::umask(022);
  const Status status = fs_.createDirectories(dir_.file("a/b/c"), 0777);
  ::umask(old_umask);

  ASSERT_TRUE(status.ok()) << status.toString();
  EXPECT_EQ(statRaw(dir_.file("a")).st_mode & 07777, 0777u);
  EXPECT_EQ(statRaw(dir_.file("a/b/c")).st_mode & 07777, 0777u);
}

TEST_F(PosixFileSystemTest, CreateDirectoriesLeavesExistingDirectoriesAlone) {
  ASSERT_EQ(::mkdir(dir_.file("a").c_str(), 0700), 0);

  ASSERT_TRUE(fs_.createDirectories(dir_.file("a//b/"), 0750).ok());
  ASSERT_TRUE(fs_.createDirectories(dir_.file("a/b"), 0750).ok());

  EXPECT_EQ(statRaw(dir_.file("a")).st_mode & 07777, 0700u);
  EXPECT_EQ(statRaw(dir_.file("a/b")).st_mode & 07777, 0750u);
}

TEST_F(PosixFileSystemTest, CreateDirectoriesReturnsNotFoundWhenAComponentIsAFile) {
  writeRaw(dir_.file("a"), "file");

  EXPECT_EQ(fs_.createDirectories(dir_.file("a/b")).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.createDirectories(dir_.file("a")).code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, ListDirectoryReturnsSortedNamesWithoutDots) {
  writeRaw(dir_.file("b"), "");
  writeRaw(dir_.file(".hidden"), "");
  writeRaw(dir_.file("a"), "");
  ASSERT_EQ(::mkdir(dir_.file("c").c_str(), 0755), 0);

  Result<std::vector<std::string>> names = fs_.listDirectory(dir_.path());

  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre(".hidden", "a", "b", "c"));
}

TEST_F(PosixFileSystemTest, ListDirectoryReturnsNotFoundForMissingDirectory) {
  EXPECT_EQ(fs_.listDirectory(dir_.file("missing")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace postwarden::os
