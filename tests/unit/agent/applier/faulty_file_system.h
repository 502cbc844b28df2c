// FaultyFileSystem: a FileSystem that forwards to an InMemoryFileSystem, with faults aimed at
// one path and one write: "the first write of master.cf succeeds, the second fails with EIO",
// which the InMemoryFileSystem's global switches cannot express. Each writeAtomic of a path
// consumes the next scripted action for that path, if any; other calls pass straight through
// (and are recorded by the InMemoryFileSystem). remove() and stat() can be scripted the same
// way, per path. Not thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/os/file_system.h"
#include "tests/fakes/in_memory_file_system.h"

namespace postwarden::fakes {

class FaultyFileSystem final : public os::FileSystem {
 public:
  explicit FaultyFileSystem(InMemoryFileSystem& inner) : inner_(inner) {}

  // The next unscripted writeAtomic of `path` passes through.
  void passWrite(const std::string& path) {
    actions_[path].push_back([] { return OkStatus(); });
  }
  // The next unscripted writeAtomic of `path` fails with `status` and changes nothing.
  void failWrite(const std::string& path, Status status) {
    actions_[path].push_back([status] { return status; });
  }
  // Runs `hook` when the next unscripted writeAtomic of `path` starts, then passes it through
  // (so the hook can arm the InMemoryFileSystem's own faults for exactly that write).
  void beforeWrite(const std::string& path, std::function<void()> hook) {
    actions_[path].push_back([hook = std::move(hook)] {
      hook();
      return OkStatus();
    });
  }
  // The next unscripted remove() of `path` fails with `status` and removes nothing.
  void failRemove(const std::string& path, Status status) {
    removes_[path].push_back([status] { return status; });
  }
  // Runs `hook` when the next unscripted stat() of `path` starts (e.g. to edit the file
  // between two looks at it), then passes the stat through.
  void beforeStat(const std::string& path, std::function<void()> hook) {
    stats_[path].push_back([hook = std::move(hook)] {
      hook();
      return OkStatus();
    });
  }
  // Scripted actions not consumed yet.
  size_t pending() const {
    size_t n = 0;
    for (const auto* actions : {&actions_, &removes_, &stats_}) {
      for (const auto& [path, queue] : *actions) n += queue.size();
    }
    return n;
  }

  Result<std::string> readFile(const std::string& path) override { return inner_.readFile(path); }
  Status writeAtomic(const std::string& path, const std::string& bytes,
                     const os::WriteOptions& options = {}) override {
    auto it = actions_.find(path);
    if (it != actions_.end() && !it->second.empty()) {
      std::function<Status()> action = std::move(it->second.front());
      it->second.pop_front();
      Status status = action();
      if (!status.ok()) return status.withContext("writing '" + path + "'");
    }
    return inner_.writeAtomic(path, bytes, options);
  }
  Result<os::FileInfo> stat(const std::string& path) override {
    PW_RETURN_IF_ERROR(next(stats_, path));
    return inner_.stat(path);
  }
  Status rename(const std::string& from, const std::string& to) override {
    return inner_.rename(from, to);
  }
  Status remove(const std::string& path) override {
    PW_RETURN_IF_ERROR(next(removes_, path).withContext("removing '" + path + "'"));
    return inner_.remove(path);
  }
  Status createDirectories(const std::string& path, mode_t mode = 0755) override {
    return inner_.createDirectories(path, mode);
  }
  Result<std::vector<std::string>> listDirectory(const std::string& path) override {
    return inner_.listDirectory(path);
  }
  Status setModified(const std::string& path, std::chrono::system_clock::time_point when) override {
    return inner_.setModified(path, when);
  }
  // Passes through without consuming scripted stat() actions.
  Result<os::ResolvedPath> resolvePath(const std::string& path) override {
    return inner_.resolvePath(path);
  }

 private:
  using Actions = std::map<std::string, std::deque<std::function<Status()>>>;
  static Status next(Actions& actions, const std::string& path) {
    auto it = actions.find(path);
    if (it == actions.end() || it->second.empty()) return OkStatus();
    std::function<Status()> action = std::move(it->second.front());
    it->second.pop_front();
    return action();
  }

  InMemoryFileSystem& inner_;
  Actions actions_;
  Actions removes_;
  Actions stats_;
};

}  // namespace postwarden::fakes
