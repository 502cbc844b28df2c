// Processes: this process's identity and what the kernel says about others (/proc), behind
// one seam so that the logic using them (waiting for Postfix's old daemons to exit, naming
// backup directories) can be tested without real processes. ProcfsProcesses is the real one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace postwarden::os {

struct ProcessStat {
  std::string name;  // the command name the kernel keeps (at most 15 bytes): "master"
  char state = '?';  // R, S, D, Z (zombie), X (dead), ...
  int parent = 0;
};

class Processes {
 public:
  virtual ~Processes() = default;
  virtual int selfPid() const = 0;
  // nullopt when there is no such process (any more).
  virtual std::optional<ProcessStat> stat(int pid) const = 0;
  // Every live process whose parent is `parent`.
  virtual std::vector<int> childrenOf(int parent) const = 0;
  // The path of this program (/proc/self/exe).
  virtual Result<std::string> selfExecutable() const = 0;
};

class ProcfsProcesses final : public Processes {
 public:
  int selfPid() const override;
  std::optional<ProcessStat> stat(int pid) const override;
  std::vector<int> childrenOf(int parent) const override;
  Result<std::string> selfExecutable() const override;
};

}  // namespace postwarden::os
