// Outbox: a durable, bounded, ordered queue of reports for the controller, kept as one file
// per entry in a directory (state_dir/outbox). An entry appended is on disk (fsynced) before
// append() returns, so it survives kill -9 and power loss. Sequence numbers are strictly
// increasing and never reused, also after every entry was acknowledged and after a restart:
// the controller ignores any seq <= the last one it stored, so a reused seq would lose a report.
// Each outbox has an epoch, a 64-bit id made with it and sent with every report: the
// controller counts seqs per epoch, so a new outbox (a reinstalled agent) is never taken for
// a redelivery of an old one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/os/file_system.h"
#include "common/status.h"

namespace postwarden::agent::link {

struct OutboxEntry {
  uint64_t seq = 0;
  std::string kind;     // "state" or "drift" (any [a-z][a-z0-9_-]{0,31})
  std::string payload;  // opaque bytes, binary-safe

  friend bool operator==(const OutboxEntry&, const OutboxEntry&) = default;
};

// On disk, in `dir`:
//   seq                        the high-water mark: the largest seq ever assigned (decimal)
//   epoch                      the outbox's epoch (decimal, never 0), written when it is made
//   <seq, 20 digits>.entry     one entry: a header line, then the payload bytes
// Both are written with FileSystem::writeAtomic; `seq` before the entry it covers.
class Outbox {
 public:
  // Creates `dir` (0700) if needed and loads every entry. The caller must own `dir`
  // exclusively (the agent holds its state-dir lock): writeAtomic temp files found here are
  // leftovers of a crash and are removed. Entry files that cannot be read or fail their
  // checks are renamed to "<name>.corrupt" and skipped; unknown files are skipped; each such
  // case adds a line to warnings(). A corrupt `seq` file is a warning too, and numbering then
  // jumps to the current time in microseconds since the epoch (far above any count this
  // queue can reach), so no number is reused. If more than `limit` entries are found, the
  // excess is dropped by the rule of append(). A new outbox (no `seq` file) numbers from
  // `first_seq_floor` + 1: the daemon passes the current time in microseconds, so that an
  // agent reinstalled with an empty state directory never sends a seq its controller already
  // stored for the earlier install (it would be taken for a redelivery and dropped).
  // An outbox without an `epoch` file (new, or made by an older agent) gets `new_epoch` (the
  // daemon passes a random number; 0 means the current time in microseconds); an unreadable
  // one is a warning and is replaced the same way, since the controller then counts afresh;
  // so is the epoch of an outbox whose `seq` file was corrupt (its numbering jumps).
  // `fs` must outlive the Outbox.
  // Errors: InvalidArgument (limit 0); those of fs.createDirectories / listDirectory / remove.
  static Result<std::unique_ptr<Outbox>> open(os::FileSystem& fs, std::string dir, size_t limit,
                                              uint64_t first_seq_floor = 0, uint64_t new_epoch = 0);

  // Assigns the next seq, writes the high-water mark, then the entry, and returns the seq once
  // both are durable. When the queue already holds `limit` entries, one is dropped first (see
  // dropped()): the oldest "state" entry that a newer "state" entry supersedes, otherwise the
  // oldest entry. InvalidArgument for a bad kind; the errors of fs.writeAtomic / fs.remove
  // (then nothing was queued, although a seq may have been used up).
  Result<uint64_t> append(std::string kind, std::string payload);

  // Up to `max_entries` queued entries, oldest (lowest seq) first. Copies.
  std::vector<OutboxEntry> pending(size_t max_entries = std::numeric_limits<size_t>::max()) const;

  // Deletes the entries with seq <= up_to_seq (the controller stored them). An entry whose
  // deletion is lost in a crash is sent again and ignored by the controller. Errors: those of
  // fs.remove; the entries deleted before the failure stay deleted.
  Status acknowledge(uint64_t up_to_seq);

  // The largest seq ever assigned (0 when none yet), also across restarts.
  uint64_t lastSeq() const;
  // This outbox's epoch: never 0, the same across restarts. Immutable after open().
  uint64_t epoch() const { return epoch_; }
  size_t size() const;
  // Entries dropped by the limit since open() (not persisted).
  uint64_t dropped() const;
  // What open() skipped or repaired, one sentence each, for the caller to log.
  std::vector<std::string> warnings() const;

  // Thread-safe: every method takes an internal lock.

 private:
  Outbox(os::FileSystem& fs, std::string dir, size_t limit);

  Status load(uint64_t now_micros, uint64_t first_seq_floor, uint64_t new_epoch);
  std::string entryPath(uint64_t seq) const;
  // Index of the entry the limit drops next. Requires a non-empty queue.
  size_t victimLocked() const;
  Status dropLocked(size_t index);

  os::FileSystem& fs_;
  const std::string dir_;
  const size_t limit_;
  mutable std::mutex mu_;
  std::deque<OutboxEntry> entries_;  // by seq
  uint64_t last_seq_ = 0;
  uint64_t epoch_ = 0;
  uint64_t dropped_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace postwarden::agent::link
