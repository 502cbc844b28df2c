// The sticky needs-human state of a host. STATE/needs-human holds the reason; while it exists
// apply changes nothing. clearNeedsHuman() ends that state for good: the transaction that led
// there is retired first (its journal moved out of the active place, kept for the audit), so
// that no later apply resumes it and writes a backup over the operator's fix; then the marker
// goes. On any error the marker stays, so a failed clear never lets a half-cleared host
// change. Not thread-safe; callers hold the state directory's lock (os::FileLock).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/applier/journal.h"
#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::applier {

// "STATE/needs-human" and "STATE/journal".
std::string needsHumanPath(const std::string& state_dir);
std::string journalPath(const std::string& state_dir);

// What clearNeedsHuman() ended.
struct ClearedState {
  std::optional<std::string> reason;  // the marker's text, when the host needed a human
  // The transaction in flight that was ended, when its journal could be read.
  std::optional<JournalEntry> ended;
  bool unreadable_journal = false;  // a journal was there but could not be understood
  std::string journal_kept_at;      // where that journal is now; empty when there was none
};

// Ends the needs-human state and any transaction still in the journal (whether or not the
// marker is set: the operator asked for the host to be left alone). The journal is moved to
// BACKUP_DIR/journal.cleared (its own backup directory, when that is under
// STATE/backups/), else to STATE/journal.cleared-<id> (or -<UTC time> when unreadable);
// then the marker is removed. Nothing to clear is OK with an empty ClearedState.
// Errors: those of the file system (the marker is then kept).
Result<ClearedState> clearNeedsHuman(os::FileSystem& fs, const std::string& state_dir,
                                     std::chrono::system_clock::time_point now);

}  // namespace postwarden::agent::applier
