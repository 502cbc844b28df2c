#include "agent/applier/needs_human.h"

#include <ctime>

namespace postwarden::agent::applier {
namespace {

std::string utcStamp(std::chrono::system_clock::time_point now) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return stamp;
}

// A name beside nothing: rename(2) would silently replace an earlier record.
Result<std::string> freePath(os::FileSystem& fs, const std::string& wanted) {
  std::string candidate = wanted;
  for (int n = 2; n < 100; ++n) {
    Result<os::FileInfo> info = fs.stat(candidate);
    if (!info.ok()) {
      if (info.status().code() == StatusCode::kNotFound) return candidate;
      return info.status();
    }
    candidate = wanted + "-" + std::to_string(n);
  }
  return AlreadyExistsError("no free name for the cleared journal near '" + wanted + "'");
}

// Where the journal of `entry` is kept once ended: inside its own backup directory, beside
// the bytes it describes, when that directory is really one of ours.
Result<std::string> archivePath(os::FileSystem& fs, const std::string& state_dir,
                                const std::optional<JournalEntry>& entry,
                                std::chrono::system_clock::time_point now) {
  if (entry) {
    const std::string backups = state_dir + "/backups/";
    const std::string& dir = entry->backup_dir;
    Result<os::FileInfo> info = fs.stat(dir);
    if (dir.starts_with(backups) && dir.size() > backups.size() &&
        dir.find("/..") == std::string::npos && info.ok() && info->is_directory) {
      return freePath(fs, dir + "/journal.cleared");
    }
    return freePath(fs, state_dir + "/journal.cleared-" + entry->id);
  }
  return freePath(fs, state_dir + "/journal.cleared-" + utcStamp(now));
}

}  // namespace

std::string needsHumanPath(const std::string& state_dir) { return state_dir + "/needs-human"; }
std::string journalPath(const std::string& state_dir) { return state_dir + "/journal"; }

Result<ClearedState> clearNeedsHuman(os::FileSystem& fs, const std::string& state_dir,
                                     std::chrono::system_clock::time_point now) {
  ClearedState cleared;
  Result<std::string> reason = fs.readFile(needsHumanPath(state_dir));
  if (reason.ok()) {
    cleared.reason = *reason;
  } else if (reason.status().code() != StatusCode::kNotFound) {
    return reason.status().withContext("reading the needs-human marker");
  }

  // The journal first: a crash between the two steps leaves the host needing a human (the
  // marker is still there) with nothing left to resume, and a second clear finishes.
  Journal journal(fs, journalPath(state_dir));
  Result<os::FileInfo> present = fs.stat(journal.path());
  if (present.ok()) {
    Result<std::optional<JournalEntry>> loaded = journal.load();
    if (loaded.ok()) {
      cleared.ended = *loaded;
    } else {
      cleared.unreadable_journal = true;
    }
    PW_ASSIGN_OR_RETURN(cleared.journal_kept_at, archivePath(fs, state_dir, cleared.ended, now));
    PW_RETURN_IF_ERROR(fs.rename(journal.path(), cleared.journal_kept_at)
                           .withContext("ending the interrupted change"));
  } else if (present.status().code() != StatusCode::kNotFound) {
    return present.status().withContext("looking for the journal");
  }

  if (cleared.reason) {
    PW_RETURN_IF_ERROR(
        fs.remove(needsHumanPath(state_dir)).withContext("removing the needs-human marker"));
  }
  return cleared;
}

}  // namespace postwarden::agent::applier
