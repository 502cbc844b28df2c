// Over 400 lines on purpose: each FileSystem call is a few lines of POSIX with its errno
// mapping; together they keep one way of naming paths in errors and of syncing.
#include "common/os/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <utility>

#include "common/os/stale_temp_files.h"

namespace postwarden::os {
namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// Closes a descriptor exactly once. close(2) errors are checked explicitly where they matter
// (the temp file); here only the descriptor leak is prevented.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Removes the temp file unless disarmed after a successful rename, so no early return can
// leave it behind.
class TempFileRemover {
 public:
  explicit TempFileRemover(std::string path) : path_(std::move(path)) {}
  TempFileRemover(const TempFileRemover&) = delete;
  TempFileRemover& operator=(const TempFileRemover&) = delete;
  ~TempFileRemover() {
    if (armed_) ::unlink(path_.c_str());
  }
  void disarm() { armed_ = false; }

 private:
  std::string path_;
  bool armed_ = true;
};

struct SplitPath {
  std::string dir;   // "." for a bare name
  std::string base;  // never empty
};

Result<SplitPath> splitPath(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  SplitPath split;
  if (slash == std::string::npos) {
    split.dir = ".";
    split.base = path;
  } else {
    split.dir = slash == 0 ? "/" : path.substr(0, slash);
    split.base = path.substr(slash + 1);
  }
  if (split.base.empty() || split.base == "." || split.base == "..") {
    return InvalidArgumentError("writeAtomic " + quoted(path) + ": not a file path");
  }
  return split;
}

std::uint64_t randomNonce() {
  std::uint64_t nonce = 0;
  if (::getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) == sizeof(nonce)) return nonce;
  // No entropy yet (early boot): uniqueness, not secrecy, is what matters, and O_EXCL
  // catches the rare collision.
  const auto ticks =
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return ticks ^ (static_cast<std::uint64_t>(::gettid()) << 40) ^
         reinterpret_cast<std::uintptr_t>(&nonce);
}

Status writeAll(int fd, const std::string& bytes, const std::string& context) {
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    // Linux caps a single write at about 2 GiB; smaller chunks also make short writes normal.
    const std::size_t chunk = std::min<std::size_t>(left, std::size_t{1} << 30);
    const ssize_t written = ::write(fd, data, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, context);
    }
    if (written == 0) return DataLossError(context + ": write returned 0");
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  return OkStatus();
}

std::chrono::system_clock::time_point toTimePoint(const struct timespec& ts) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

struct timespec toTimespec(std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(seconds.count());
  ts.tv_nsec = static_cast<long>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count());
  return ts;
}

FileInfo toFileInfo(const struct stat& st) {
  FileInfo info;
  info.is_directory = S_ISDIR(st.st_mode);
  info.mode = st.st_mode & 07777;
  info.owner = st.st_uid;
  info.group = st.st_gid;
  info.size = static_cast<std::uint64_t>(st.st_size);
  info.modified = toTimePoint(st.st_mtim);
  return info;
}

// Linux's limit on the links followed in one path resolution (MAXSYMLINKS).
constexpr int kMaxSymlinks = 40;

Result<std::string> readLink(const std::string& path, std::size_t size_hint,
                             const std::string& context) {
  std::string target(std::max<std::size_t>(size_hint, 64) + 1, '\0');
  while (true) {
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoToStatus(errno, context + ": readlink " + quoted(path));
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      if (target.empty()) return ErrnoToStatus(ENOENT, context + ": empty symlink " + quoted(path));
      return target;
    }
    target.resize(target.size() * 2);  // truncated: the link grew since lstat
  }
}

// The path writeAtomic replaces: `path` itself, or, when it is a symlink, its final target
// (every level followed; a relative target is relative to the link's directory). A link
// whose target is missing is an error: writing would create a file somewhere unexpected.
Result<std::string> finalLinkTarget(std::string path, const std::string& context) {
  for (int hops = 0; hops <= kMaxSymlinks; ++hops) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT && hops == 0) return path;  // a new file
      if (errno == ENOENT) {
        return NotFoundError(context + ": the symlink's target " + quoted(path) +
                             " does not exist; nothing written");
      }
      return ErrnoToStatus(errno, context + ": lstat " + quoted(path));
    }
    if (!S_ISLNK(st.st_mode)) return path;
    PW_ASSIGN_OR_RETURN(std::string target,
                        readLink(path, static_cast<std::size_t>(st.st_size), context));
    if (target.front() != '/') {
      const std::size_t slash = path.rfind('/');
      target = (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + target;
    }
    path = std::move(target);
  }
  return InvalidArgumentError(context + ": too many levels of symlinks");
}

}  // namespace

Result<std::string> PosixFileSystem::readFile(const std::string& path) {
  const std::string context = "reading " + quoted(path);
  FdCloser fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, context);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, context);
  if (S_ISDIR(st.st_mode)) return InvalidArgumentError(context + ": is a directory");

  std::string bytes;
  // st_size is only a hint: /proc files report 0, and the file may grow while we read.
  if (st.st_size > 0) bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, context);
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  return bytes;
}

Status PosixFileSystem::writeAtomic(const std::string& link_or_path, const std::string& bytes,
                                    const WriteOptions& options) {
  PW_RETURN_IF_ERROR(splitPath(link_or_path).status());
  std::string context = "writing " + quoted(link_or_path);
  // A symlink stays a symlink: the file it leads to is replaced, beside itself.
  PW_ASSIGN_OR_RETURN(const std::string path, finalLinkTarget(link_or_path, context));
  if (path != link_or_path) context += " (symlink to " + quoted(path) + ")";
  PW_ASSIGN_OR_RETURN(SplitPath split, splitPath(path));

  // What to keep: the replaced file's mode and owner, unless the caller chose.
  struct stat old_st {};
  bool replacing = false;
  if (::stat(path.c_str(), &old_st) == 0) {
    if (S_ISDIR(old_st.st_mode)) return InvalidArgumentError(context + ": is a directory");
    replacing = true;
  } else if (errno != ENOENT) {
    return ErrnoToStatus(errno, context);
  }
  const mode_t mode = options.mode.value_or(replacing ? (old_st.st_mode & 07777) : 0644);
  // -1 leaves that id as the kernel chose it for the new file (the caller's, or the
  // directory's group under set-group-ID).
  uid_t owner = static_cast<uid_t>(-1);
  gid_t group = static_cast<gid_t>(-1);
  if (options.owner) {
    owner = *options.owner;
  } else if (replacing) {
    owner = old_st.st_uid;
  }
  if (options.group) {
    group = *options.group;
  } else if (replacing) {
    group = old_st.st_gid;
  }

  // Open the directory before anything is written, so that failing to open it leaves `path`
  // untouched and no temp file behind. (Opened first, it also has the lower descriptor
  // number of the two, which the fault-injection test relies on.)
  FdCloser dir_fd(::open(split.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) {
    return ErrnoToStatus(errno, context + ": opening directory " + quoted(split.dir));
  }

  // O_EXCL: never reuse (or follow a planted symlink to) an existing file; retry the rare
  // name collision with a fresh nonce.
  std::string temp_path;
  int raw_fd = -1;
  for (int attempt = 0; attempt < 16 && raw_fd < 0; ++attempt) {
    temp_path = (split.dir == "/" ? "/" : split.dir + "/") +
                writeAtomicTempName(split.base, ::getpid(), randomNonce());
    raw_fd = ::open(temp_path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (raw_fd < 0 && errno != EEXIST && errno != EINTR) {
      return ErrnoToStatus(errno, context + ": creating temp file " + quoted(temp_path));
    }
  }
  if (raw_fd < 0) return ErrnoToStatus(EEXIST, context + ": creating temp file");
  FdCloser fd(raw_fd);
  TempFileRemover remover(temp_path);

  PW_RETURN_IF_ERROR(writeAll(fd.get(), bytes, context + ": writing temp file"));

  // Owner before mode: chown(2) clears the set-user-ID and set-group-ID bits.
  if (owner != static_cast<uid_t>(-1) || group != static_cast<gid_t>(-1)) {
    struct stat temp_st {};
    if (::fstat(fd.get(), &temp_st) != 0) {
      return ErrnoToStatus(errno, context + ": fstat temp file");
    }
    // Skipping a no-op fchown lets an unprivileged caller rewrite its own files.
    const bool change = (owner != static_cast<uid_t>(-1) && owner != temp_st.st_uid) ||
                        (group != static_cast<gid_t>(-1) && group != temp_st.st_gid);
    if (change && ::fchown(fd.get(), owner, group) != 0) {
      return ErrnoToStatus(errno, context + ": fchown temp file to " +
                                      std::to_string(static_cast<long>(owner)) + ":" +
                                      std::to_string(static_cast<long>(group)));
    }
  }
  if (::fchmod(fd.get(), mode) != 0) return ErrnoToStatus(errno, context + ": fchmod temp file");

  if (::fsync(fd.get()) != 0) return ErrnoToStatus(errno, context + ": fsync temp file");
  // close(2) can report a deferred write error (NFS); never retry it on Linux, even on EINTR.
  if (::close(fd.release()) != 0) return ErrnoToStatus(errno, context + ": closing temp file");

  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return ErrnoToStatus(errno, context + ": renaming " + quoted(temp_path));
  }
  remover.disarm();

  // The rename is durable only once the directory entry is. Some file systems cannot fsync
  // a directory (EINVAL): for them there is nothing more to make durable.
  if (::fsync(dir_fd.get()) != 0 && errno != EINVAL) {
    const int error = errno;
    return notDurableError(context, "fsync directory " + quoted(split.dir) +
                                        " after the rename: " + std::strerror(error));
  }
  return OkStatus();
}

Result<FileInfo> PosixFileSystem::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoToStatus(errno, "stat " + quoted(path));
  return toFileInfo(st);
}

Result<ResolvedPath> PosixFileSystem::resolvePath(const std::string& path) {
  const std::string context = "resolving " + quoted(path);
  if (path.empty()) return InvalidArgumentError(context + ": empty path");
  std::string current = "/";  // absolute, no symlink in it
  if (path.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return ErrnoToStatus(errno, context + ": getcwd");
    current = cwd;
  }
  auto components = [](const std::string& p) {
    std::deque<std::string> names;
    std::size_t start = 0;
    while (start <= p.size()) {
      std::size_t end = p.find('/', start);
      if (end == std::string::npos) end = p.size();
      if (end > start) names.push_back(p.substr(start, end - start));
      start = end + 1;
    }
    return names;
  };
  auto statInfo = [&](const std::string& p) -> Result<FileInfo> {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return ErrnoToStatus(errno, context + ": stat " + quoted(p));
    return toFileInfo(st);
  };
  std::deque<std::string> pending = components(path);
  std::map<std::string, FileInfo> directories;
  ResolvedPath resolved;
  int hops = 0;
  while (!pending.empty()) {
    const std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      const std::size_t slash = current.rfind('/');
      current = slash == 0 ? "/" : current.substr(0, slash);
      continue;
    }
    auto dir = directories.find(current);
    if (dir == directories.end()) {
      PW_ASSIGN_OR_RETURN(FileInfo info, statInfo(current));
      dir = directories.emplace(current, info).first;
    }
    if (!dir->second.is_directory) {
      return ErrnoToStatus(ENOTDIR, context + ": " + quoted(current) + " is not a directory");
    }
    const std::string entry = (current == "/" ? "/" : current + "/") + name;
    struct stat st {};
    if (::lstat(entry.c_str(), &st) != 0) {
      return ErrnoToStatus(errno, context + ": lstat " + quoted(entry));
    }
    FileInfo entry_info = toFileInfo(st);
    entry_info.is_symlink = S_ISLNK(st.st_mode);
    resolved.lookups.push_back({current, dir->second, entry, entry_info});
    if (!entry_info.is_symlink) {
      current = entry;
      continue;
    }
    if (++hops > kMaxSymlinks) {
      return InvalidArgumentError(context + ": too many levels of symlinks");
    }
    PW_ASSIGN_OR_RETURN(std::string target,
                        readLink(entry, static_cast<std::size_t>(st.st_size), context));
    if (target.front() == '/') current = "/";
    std::deque<std::string> names = components(target);
    pending.insert(pending.begin(), names.begin(), names.end());
  }
  resolved.target = current;
  PW_ASSIGN_OR_RETURN(resolved.target_info, statInfo(current));
  return resolved;
}

Status PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoToStatus(errno, "renaming " + quoted(from) + " to " + quoted(to));
  }
  return OkStatus();
}

Status PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return OkStatus();
  // Linux reports EISDIR for a directory, POSIX says EPERM: make both InvalidArgument.
  const int error = errno;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("removing " + quoted(path) + ": is a directory");
  }
  return ErrnoToStatus(error, "removing " + quoted(path));
}

Status PosixFileSystem::removeDirectory(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return OkStatus();
  if (errno == ENOTEMPTY || errno == EEXIST) {
    return FailedPreconditionError("removing " + quoted(path) + ": directory not empty");
  }
  return ErrnoToStatus(errno, "removing " + quoted(path));
}

Status PosixFileSystem::createDirectories(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgumentError("createDirectories: empty path");
  const std::string context = "creating directory " + quoted(path);
  std::string prefix = path.front() == '/' ? "/" : "";
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string component = path.substr(start, end - start);
    start = end + 1;
    if (component.empty() || component == ".") continue;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    prefix += component;

    if (::mkdir(prefix.c_str(), mode) == 0) {
      // mkdir(2) applies the umask; the contract is the exact mode.
      if (::chmod(prefix.c_str(), mode) != 0) {
        return ErrnoToStatus(errno, context + ": chmod " + quoted(prefix));
      }
      continue;
    }
    const int error = errno;
    struct stat st {};
    if (error == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) continue;
      return ErrnoToStatus(ENOTDIR, context + ": " + quoted(prefix) + " is not a directory");
    }
    return ErrnoToStatus(error, context + ": mkdir " + quoted(prefix));
  }
  return OkStatus();
}

Result<std::vector<std::string>> PosixFileSystem::listDirectory(const std::string& path) {
  const std::string context = "listing " + quoted(path);
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, context);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) {
      const int error = errno;
      ::closedir(dir);
      if (error != 0) return ErrnoToStatus(error, context);
      break;
    }
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Status PosixFileSystem::setModified(const std::string& path,
                                    std::chrono::system_clock::time_point when) {
  const struct timespec times[2] = {toTimespec(when), toTimespec(when)};
  if (::utimensat(AT_FDCWD, path.c_str(), times, 0) != 0) {
    return ErrnoToStatus(errno, "setting modification time of " + quoted(path));
  }
  return OkStatus();
}

}  // namespace postwarden::os
