#include "tests/fakes/in_memory_file_system.h"

#include <cerrno>
#include <utility>

#include "common/check.h"
#include "common/os/stale_temp_files.h"

namespace postwarden::fakes {
namespace {

using os::FileInfo;
using os::WriteOptions;

// Temp files carry this pid, so names are deterministic within a test.
constexpr pid_t kFakePid = 4242;

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// "/a//b/" -> "/a/b". Relative paths and "."/".." components are rejected rather than
// interpreted: tests should name files plainly.
Result<std::string> normalize(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError("InMemoryFileSystem: not an absolute path: " + quoted(path));
  }
  std::string out;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string component = path.substr(start, end - start);
    start = end + 1;
    if (component.empty()) continue;
    if (component == "." || component == "..") {
      return InvalidArgumentError("InMemoryFileSystem: '.' or '..' in " + quoted(path));
    }
    out += '/';
    out += component;
  }
  return out.empty() ? std::string("/") : out;
}

std::string parentOf(const std::string& normalized) {
  const std::size_t slash = normalized.rfind('/');
  return slash == 0 ? std::string("/") : normalized.substr(0, slash);
}

std::string baseOf(const std::string& normalized) {
  return normalized.substr(normalized.rfind('/') + 1);
}

// "/a" -> "/a/", "/" -> "/": the prefix shared by everything below a directory.
std::string childPrefix(const std::string& dir) { return dir == "/" ? dir : dir + "/"; }

}  // namespace

InMemoryFileSystem::InMemoryFileSystem() {
  nodes_["/"].info.is_directory = true;
  nodes_["/"].info.mode = 0755;
}

InMemoryFileSystem::InMemoryFileSystem(const os::Clock& clock) : InMemoryFileSystem() {
  clock_ = &clock;
}

std::chrono::system_clock::time_point InMemoryFileSystem::nowLocked() const {
  return clock_ != nullptr ? clock_->now() : std::chrono::system_clock::time_point();
}

void InMemoryFileSystem::recordLocked(std::string operation) {
  operations_.push_back(std::move(operation));
}

Status InMemoryFileSystem::checkParentLocked(const std::string& path) const {
  const std::string parent = parentOf(path);
  auto it = nodes_.find(parent);
  if (it == nodes_.end()) {
    return ErrnoToStatus(ENOENT, "InMemoryFileSystem: parent of " + quoted(path));
  }
  if (!it->second.info.is_directory) {
    return ErrnoToStatus(ENOTDIR, "InMemoryFileSystem: parent of " + quoted(path));
  }
  return OkStatus();
}

void InMemoryFileSystem::addDirectoriesLocked(const std::string& path, mode_t mode) {
  std::size_t slash = 0;
  while (slash != std::string::npos) {
    slash = path.find('/', slash + 1);
    const std::string prefix = path.substr(0, slash);
    auto [it, inserted] = nodes_.try_emplace(prefix);
    if (!inserted) {
      PW_CHECK(it->second.info.is_directory);  // test setup put a file in the way: a bug
      continue;
    }
    it->second.info.is_directory = true;
    it->second.info.mode = mode;
    it->second.info.modified = nowLocked();
  }
}

Result<std::string> InMemoryFileSystem::readFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("readFile " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end()) return ErrnoToStatus(ENOENT, "reading " + quoted(path));
  if (it->second.info.is_directory) {
    return InvalidArgumentError("reading " + quoted(path) + ": is a directory");
  }
  return it->second.bytes;
}

Status InMemoryFileSystem::writeAtomic(const std::string& path, const std::string& bytes,
                                       const WriteOptions& options) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("writeAtomic " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  const std::string context = "writing " + quoted(path);
  if (p == "/") return InvalidArgumentError(context + ": not a file path");
  if (!write_failure_.ok()) return write_failure_.withContext(context);
  PW_RETURN_IF_ERROR(checkParentLocked(p).withContext(context));

  Node fresh;
  fresh.bytes = bytes;
  fresh.info.size = bytes.size();
  fresh.info.modified = nowLocked();
  fresh.info.mode = 0644;
  auto existing = nodes_.find(p);
  if (existing != nodes_.end()) {
    if (existing->second.info.is_directory) {
      return InvalidArgumentError(context + ": is a directory");
    }
    fresh.info.mode = existing->second.info.mode;
    fresh.info.owner = existing->second.info.owner;
    fresh.info.group = existing->second.info.group;
  }
  if (options.mode) fresh.info.mode = *options.mode;
  if (options.owner) fresh.info.owner = *options.owner;
  if (options.group) fresh.info.group = *options.group;

  const std::string temp_path =
      childPrefix(parentOf(p)) + os::writeAtomicTempName(baseOf(p), kFakePid, ++temp_counter_);
  nodes_[temp_path] = fresh;

  if (crash_after_next_write_) {
    Status crash = std::move(*crash_after_next_write_);
    crash_after_next_write_.reset();
    return crash;  // the temp file stays, as after a real crash
  }
  if (next_rename_failure_) {
    Status failure = std::move(*next_rename_failure_);
    next_rename_failure_.reset();
    nodes_.erase(temp_path);
    return failure.withContext(context + ": renaming " + quoted(temp_path));
  }
  nodes_[p] = std::move(fresh);
  nodes_.erase(temp_path);
  if (sync_failure_after_rename_ && (sync_failure_path_.empty() || sync_failure_path_ == p)) {
    Status cause = std::move(*sync_failure_after_rename_);
    sync_failure_after_rename_.reset();
    return os::notDurableError(context, "fsync directory " + quoted(parentOf(p)) +
                                            " after the rename: " + cause.message());
  }
  return OkStatus();
}

Result<FileInfo> InMemoryFileSystem::stat(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("stat " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end()) return ErrnoToStatus(ENOENT, "stat " + quoted(path));
  return it->second.info;
}

Result<os::ResolvedPath> InMemoryFileSystem::resolvePath(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("resolvePath " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  os::ResolvedPath resolved;
  std::string current = "/";
  std::size_t start = 1;
  while (start < p.size()) {
    std::size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    const std::string entry = childPrefix(current) + p.substr(start, end - start);
    start = end + 1;
    auto it = nodes_.find(entry);
    if (it == nodes_.end()) return ErrnoToStatus(ENOENT, "resolving " + quoted(path));
    resolved.lookups.push_back({current, nodes_.at(current).info, entry, it->second.info});
    current = entry;
  }
  resolved.target = current;
  resolved.target_info = nodes_.at(current).info;
  return resolved;
}

Status InMemoryFileSystem::rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("rename " + from + " " + to);
  const std::string context = "renaming " + quoted(from) + " to " + quoted(to);
  PW_ASSIGN_OR_RETURN(const std::string src, normalize(from));
  PW_ASSIGN_OR_RETURN(const std::string dst, normalize(to));
  if (next_rename_failure_) {
    Status failure = std::move(*next_rename_failure_);
    next_rename_failure_.reset();
    return failure.withContext(context);
  }
  auto it = nodes_.find(src);
  if (it == nodes_.end() || src == "/") return ErrnoToStatus(ENOENT, context);
  PW_RETURN_IF_ERROR(checkParentLocked(dst).withContext(context));
  if (src == dst) return OkStatus();
  auto target = nodes_.find(dst);

  if (!it->second.info.is_directory) {
    if (target != nodes_.end() && target->second.info.is_directory) {
      return ErrnoToStatus(EISDIR, context);
    }
    Node moved = std::move(it->second);
    nodes_.erase(it);
    nodes_[dst] = std::move(moved);
    return OkStatus();
  }

  // A directory moves with everything below it; like rename(2) it may not move into
  // itself, and (simplified) it never replaces an existing path.
  if (dst.rfind(childPrefix(src), 0) == 0) return ErrnoToStatus(EINVAL, context);
  if (target != nodes_.end()) {
    return ErrnoToStatus(target->second.info.is_directory ? ENOTEMPTY : ENOTDIR, context);
  }
  const std::string prefix = childPrefix(src);
  std::vector<std::string> below;
  for (auto child = nodes_.lower_bound(prefix);
       child != nodes_.end() && child->first.rfind(prefix, 0) == 0; ++child) {
    below.push_back(child->first);
  }
  auto moved = nodes_.extract(src);
  moved.key() = dst;
  nodes_.insert(std::move(moved));
  for (const std::string& old_path : below) {
    auto child = nodes_.extract(old_path);
    child.key() = dst + "/" + old_path.substr(prefix.size());
    nodes_.insert(std::move(child));
  }
  return OkStatus();
}

Status InMemoryFileSystem::remove(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("remove " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end()) return OkStatus();
  if (it->second.info.is_directory) {
    return InvalidArgumentError("removing " + quoted(path) + ": is a directory");
  }
  nodes_.erase(it);
  return OkStatus();
}

Status InMemoryFileSystem::removeDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("removeDirectory " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end()) return OkStatus();
  if (!it->second.info.is_directory) return InvalidArgumentError(quoted(path) + " is a file");
  auto child = nodes_.upper_bound(p + "/");
  if (child != nodes_.end() && child->first.starts_with(p + "/")) {
    return FailedPreconditionError("removing " + quoted(path) + ": directory not empty");
  }
  nodes_.erase(it);
  return OkStatus();
}

Status InMemoryFileSystem::createDirectories(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("createDirectories " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  // Check first, so a file in the way leaves nothing half-created.
  std::size_t slash = 0;
  while (slash != std::string::npos) {
    slash = p.find('/', slash + 1);
    const std::string prefix = p.substr(0, slash);
    auto it = nodes_.find(prefix);
    if (it != nodes_.end() && !it->second.info.is_directory) {
      return ErrnoToStatus(ENOTDIR, "creating directory " + quoted(path) + ": " + quoted(prefix) +
                                        " is not a directory");
    }
  }
  if (p != "/") addDirectoriesLocked(p, mode);
  return OkStatus();
}

Result<std::vector<std::string>> InMemoryFileSystem::listDirectory(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("listDirectory " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end()) return ErrnoToStatus(ENOENT, "listing " + quoted(path));
  if (!it->second.info.is_directory) return ErrnoToStatus(ENOTDIR, "listing " + quoted(path));
  // The map is sorted by path, so direct children come out sorted by name.
  std::vector<std::string> names;
  const std::string prefix = childPrefix(p);
  for (auto child = nodes_.lower_bound(prefix);
       child != nodes_.end() && child->first.rfind(prefix, 0) == 0; ++child) {
    const std::string rest = child->first.substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string::npos) names.push_back(rest);
  }
  return names;
}

Status InMemoryFileSystem::setModified(const std::string& path,
                                       std::chrono::system_clock::time_point when) {
  std::lock_guard<std::mutex> lock(mutex_);
  recordLocked("setModified " + path);
  PW_ASSIGN_OR_RETURN(const std::string p, normalize(path));
  auto it = nodes_.find(p);
  if (it == nodes_.end())
    return ErrnoToStatus(ENOENT, "setting modification time of " + quoted(path));
  it->second.info.modified = when;
  return OkStatus();
}

void InMemoryFileSystem::addFile(const std::string& path, std::string bytes, mode_t mode,
                                 uid_t owner, gid_t group) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<std::string> p = normalize(path);
  PW_CHECK(p.ok() && *p != "/");
  addDirectoriesLocked(parentOf(*p), 0755);
  Node& node = nodes_[*p];
  PW_CHECK(!node.info.is_directory);
  node.info.size = bytes.size();
  node.bytes = std::move(bytes);
  node.info.mode = mode;
  node.info.owner = owner;
  node.info.group = group;
  node.info.modified = nowLocked();
}

void InMemoryFileSystem::addDirectory(const std::string& path, mode_t mode) {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<std::string> p = normalize(path);
  PW_CHECK(p.ok());
  addDirectoriesLocked(*p, mode);
}

std::optional<std::string> InMemoryFileSystem::contents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<std::string> p = normalize(path);
  if (!p.ok()) return std::nullopt;
  auto it = nodes_.find(*p);
  if (it == nodes_.end() || it->second.info.is_directory) return std::nullopt;
  return it->second.bytes;
}

bool InMemoryFileSystem::exists(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Result<std::string> p = normalize(path);
  return p.ok() && nodes_.count(*p) > 0;
}

std::vector<std::string> InMemoryFileSystem::allPaths() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> paths;
  for (const auto& [path, node] : nodes_) {
    if (path != "/") paths.push_back(path);
  }
  return paths;
}

std::vector<std::string> InMemoryFileSystem::operations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return operations_;
}

void InMemoryFileSystem::clearOperations() {
  std::lock_guard<std::mutex> lock(mutex_);
  operations_.clear();
}

void InMemoryFileSystem::failNextRename(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (status.ok()) {
    next_rename_failure_.reset();
  } else {
    next_rename_failure_ = std::move(status);
  }
}

void InMemoryFileSystem::failWritesWith(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  write_failure_ = std::move(status);
}

void InMemoryFileSystem::failSyncAfterNextRename(Status cause, std::string path) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cause.ok()) {
    sync_failure_after_rename_.reset();
    return;
  }
  Result<std::string> p = path.empty() ? Result<std::string>(std::string()) : normalize(path);
  PW_CHECK(p.ok());
  sync_failure_after_rename_ = std::move(cause);
  sync_failure_path_ = *p;
}

void InMemoryFileSystem::crashAfterNextWrite(Status crash_status) {
  PW_CHECK(!crash_status.ok());  // a crash that reports success would hide the lost write
  std::lock_guard<std::mutex> lock(mutex_);
  crash_after_next_write_ = std::move(crash_status);
}

}  // namespace postwarden::fakes
