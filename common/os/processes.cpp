#include "common/os/processes.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace postwarden::os {

int ProcfsProcesses::selfPid() const { return static_cast<int>(::getpid()); }

// "pid (comm) S ppid ...": the command name may hold spaces and parentheses, so the fields
// are read after the last ')'.
std::optional<ProcessStat> ProcfsProcesses::stat(int pid) const {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return std::nullopt;
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return std::nullopt;
  }
  std::istringstream rest(text.substr(close + 1));
  ProcessStat stat;
  stat.name = text.substr(open + 1, close - open - 1);
  if (!(rest >> stat.state >> stat.parent)) return std::nullopt;
  return stat;
}

std::vector<int> ProcfsProcesses::childrenOf(int parent) const {
  std::vector<int> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    std::optional<ProcessStat> s = stat(static_cast<int>(pid));
    if (s && s->parent == parent) children.push_back(static_cast<int>(pid));
  }
  ::closedir(proc);
  return children;
}

Result<std::string> ProcfsProcesses::selfExecutable() const {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ErrnoToStatus(errno, "/proc/self/exe");
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace postwarden::os
