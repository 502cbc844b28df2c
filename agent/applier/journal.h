// The transaction journal: one small file in the state directory that says which change is
// in flight and how far it got, so that an agent killed at any step (kill -9, power loss)
// finishes or undoes it deterministically at its next start. Written with
// FileSystem::writeAtomic (temp, fsync, rename, fsync dir): it is always whole.
#pragma once

#include <optional>
#include <string>

#include "common/os/file_system.h"
#include "common/sha256.h"
#include "common/status.h"

namespace postwarden::agent::applier {

// How far a transaction got. The order matters: recovery compares steps.
enum class JournalStep {
  kStaged,       // candidate checked by Postfix; live files untouched
  kSwapping,     // live files may be old or new (each whole), service not yet told
  kSwapped,      // new files in place
  kActivated,    // reload/restart done; probing
  kVerified,     // probe passed: the change is final
  kRollingBack,  // probe failed; old bytes being restored
};

std::string_view journalStepName(JournalStep step);

struct JournalEntry {
  std::string id;  // unique per transaction (backup directory name)
  JournalStep step = JournalStep::kStaged;
  std::string postfix_dir;  // the live configuration directory
  std::string backup_dir;   // holds main.cf and master.cf: the exact previous bytes
  bool restart = false;     // the change needs stop/start rather than reload
  std::string old_main_sha256, new_main_sha256;
  std::string old_master_sha256, new_master_sha256;
};

class Journal {
 public:
  Journal(os::FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {}

  // The entry in flight, if any. DataLoss when the file exists but cannot be understood.
  Result<std::optional<JournalEntry>> load() const;

  // Records `entry` durably (the whole file is replaced atomically).
  Status record(const JournalEntry& entry);

  // Removes the journal: no transaction in flight.
  Status clear();

  const std::string& path() const { return path_; }

 private:
  os::FileSystem& fs_;
  std::string path_;
};

// Lowercase hex SHA-256 of `bytes` (common/sha256.h).
using postwarden::sha256Hex;

}  // namespace postwarden::agent::applier
