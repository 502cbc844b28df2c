#include "agent/link/outbox.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string_view>
#include <utility>

#include "common/os/stale_temp_files.h"

namespace postwarden::agent::link {
namespace {

constexpr std::string_view kSeqFile = "seq";
constexpr std::string_view kEpochFile = "epoch";
constexpr std::string_view kEntrySuffix = ".entry";
constexpr std::string_view kCorruptSuffix = ".corrupt";
constexpr std::string_view kMagic = "PWOUTBOX1";
constexpr size_t kSeqDigits = 20;  // UINT64_MAX has 20 digits, so names sort by seq
constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;  // reports may describe the server's configuration

bool isKind(std::string_view kind) {
  if (kind.empty() || kind.size() > 32) return false;
  if (kind.front() < 'a' || kind.front() > 'z') return false;
  return std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::optional<uint64_t> parseU64(std::string_view s) {
  if (s.empty() || s.size() > kSeqDigits) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// FNV-1a, 64 bits: catches a torn or bit-flipped file, which is all this needs to do
// (writeAtomic already rules out partial writes by this process).
uint64_t checksum(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex16(uint64_t v) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(v));
  return buffer;
}

std::string entryName(uint64_t seq) {
  char buffer[kSeqDigits + 1];
  std::snprintf(buffer, sizeof(buffer), "%020llu", static_cast<unsigned long long>(seq));
  return std::string(buffer) + std::string(kEntrySuffix);
}

// The seq of "<20 digits>.entry", or nullopt.
std::optional<uint64_t> entrySeq(std::string_view name) {
  if (name.size() != kSeqDigits + kEntrySuffix.size() || !name.ends_with(kEntrySuffix)) {
    return std::nullopt;
  }
  return parseU64(name.substr(0, kSeqDigits));
}

// "PWOUTBOX1 <seq> <kind> <payload size> <checksum of payload, 16 hex>\n<payload>".
std::string encode(const OutboxEntry& e) {
  return std::string(kMagic) + " " + std::to_string(e.seq) + " " + e.kind + " " +
         std::to_string(e.payload.size()) + " " + hex16(checksum(e.payload)) + "\n" + e.payload;
}

// The entry in `bytes`, or why it is not one.
Result<OutboxEntry> decode(std::string_view bytes, uint64_t expected_seq) {
  const size_t newline = bytes.find('\n');
  if (newline == std::string_view::npos || newline > 256) {
    return DataLossError("no header line");
  }
  std::string_view header = bytes.substr(0, newline);
  std::vector<std::string_view> fields;
  while (!header.empty()) {
    const size_t space = header.find(' ');
    fields.push_back(header.substr(0, space));
    if (space == std::string_view::npos) break;
    header.remove_prefix(space + 1);
  }
  if (fields.size() != 5 || fields[0] != kMagic) return DataLossError("bad header line");
  OutboxEntry e;
  std::optional<uint64_t> seq = parseU64(fields[1]);
  if (!seq || *seq != expected_seq) return DataLossError("seq in the header does not match");
  e.seq = *seq;
  if (!isKind(fields[2])) return DataLossError("bad kind in the header");
  e.kind = std::string(fields[2]);
  std::optional<uint64_t> size = parseU64(fields[3]);
  const std::string_view payload = bytes.substr(newline + 1);
  if (!size || *size != payload.size()) {
    return DataLossError("payload is " + std::to_string(payload.size()) + " bytes, header says " +
                         std::string(fields[3]));
  }
  if (fields[4] != hex16(checksum(payload))) return DataLossError("checksum mismatch");
  e.payload = std::string(payload);
  return e;
}

}  // namespace

Outbox::Outbox(os::FileSystem& fs, std::string dir, size_t limit)
    : fs_(fs), dir_(std::move(dir)), limit_(limit) {}

Result<std::unique_ptr<Outbox>> Outbox::open(os::FileSystem& fs, std::string dir, size_t limit,
                                             uint64_t first_seq_floor, uint64_t new_epoch) {
  if (limit == 0) return InvalidArgumentError("outbox limit must be at least 1");
  if (dir.empty()) return InvalidArgumentError("outbox directory must not be empty");
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::unique_ptr<Outbox> outbox(new Outbox(fs, std::move(dir), limit));
  // The wall clock is read only here, and used only to recover from a corrupt `seq` file.
  const auto now_micros =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count());
  PW_RETURN_IF_ERROR(outbox->load(now_micros, first_seq_floor, new_epoch)
                         .withContext("opening outbox '" + outbox->dir_ + "'"));
  return outbox;
}

std::string Outbox::entryPath(uint64_t seq) const { return dir_ + "/" + entryName(seq); }

Status Outbox::load(uint64_t now_micros, uint64_t first_seq_floor, uint64_t new_epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  PW_RETURN_IF_ERROR(fs_.createDirectories(dir_, kDirMode));
  PW_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_.listDirectory(dir_));
  uint64_t high = 0;
  bool seq_corrupt = false;
  bool seq_found = false;
  for (const std::string& name : names) {
    const std::string path = dir_ + "/" + name;
    if (name == kEpochFile) {
      Result<std::string> text = fs_.readFile(path);
      std::optional<uint64_t> value;
      if (text.ok()) {
        std::string_view v = *text;
        if (v.ends_with('\n')) v.remove_suffix(1);
        value = parseU64(v);
      }
      if (value && *value != 0) {
        epoch_ = *value;
      } else {
        warnings_.push_back("'" + path + "' is unreadable or corrupt; a new epoch is made");
      }
    } else if (name == kSeqFile) {
      seq_found = true;
      Result<std::string> text = fs_.readFile(path);
      std::optional<uint64_t> value;
      if (text.ok()) {
        std::string_view v = *text;
        if (v.ends_with('\n')) v.remove_suffix(1);
        value = parseU64(v);
      }
      if (value) {
        high = std::max(high, *value);
      } else {
        seq_corrupt = true;
        warnings_.push_back("'" + path + "' is unreadable or corrupt (" +
                            (text.ok() ? std::string("not a number") : text.status().message()) +
                            "); sequence numbers continue from the current time");
      }
    } else if (os::isWriteAtomicTempName(name)) {
      // A write interrupted by a crash; the caller owns the directory, so it is no one's.
      PW_RETURN_IF_ERROR(fs_.remove(path));
      warnings_.push_back("removed '" + path + "', left by an interrupted write");
    } else if (std::optional<uint64_t> seq = entrySeq(name)) {
      high = std::max(high, *seq);
      Result<std::string> bytes = fs_.readFile(path);
      Result<OutboxEntry> entry =
          bytes.ok() ? decode(*bytes, *seq) : Result<OutboxEntry>(bytes.status());
      if (entry.ok()) {
        entries_.push_back(std::move(entry).value());
        continue;
      }
      // Kept for inspection under a name that is not loaded again.
      const std::string kept = path + std::string(kCorruptSuffix);
      const Status renamed = fs_.rename(path, kept);
      warnings_.push_back("skipped entry '" + path + "': " + entry.status().message() +
                          (renamed.ok() ? "; kept as '" + kept + "'"
                                        : "; renaming it failed: " + renamed.message()));
    } else if (name.ends_with(kCorruptSuffix)) {
      // Reported when it was found; nothing more to say.
    } else {
      warnings_.push_back("ignored unexpected file '" + path + "'");
    }
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const OutboxEntry& a, const OutboxEntry& b) { return a.seq < b.seq; });
  last_seq_ = high;
  if (seq_corrupt || (!seq_found && first_seq_floor > high)) {
    last_seq_ = std::max(high, seq_corrupt ? now_micros : first_seq_floor);
    PW_RETURN_IF_ERROR(fs_.writeAtomic(dir_ + "/" + std::string(kSeqFile),
                                       std::to_string(last_seq_) + "\n", {.mode = kFileMode}));
  }
  // Numbering that jumps to the current time (a corrupt `seq`) starts a new epoch too: the
  // controller refuses a jump of more than 2^32 within one epoch.
  if (epoch_ == 0 || seq_corrupt) {
    uint64_t fresh = new_epoch != 0 ? new_epoch : std::max<uint64_t>(now_micros, 1);
    if (fresh == epoch_) fresh ^= now_micros | 1;
    epoch_ = fresh;
    PW_RETURN_IF_ERROR(fs_.writeAtomic(dir_ + "/" + std::string(kEpochFile),
                                       std::to_string(epoch_) + "\n", {.mode = kFileMode}));
  }
  while (entries_.size() > limit_) PW_RETURN_IF_ERROR(dropLocked(victimLocked()));
  return OkStatus();
}

size_t Outbox::victimLocked() const {
  // A state report describes the whole host, so a newer one makes an older one redundant;
  // drift reports are events and each one counts. Only without a superseded state report
  // does the oldest entry go.
  bool seen_state = false;
  size_t first_state = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].kind != "state") continue;
    if (seen_state) return first_state;
    seen_state = true;
    first_state = i;
  }
  return 0;
}

Status Outbox::dropLocked(size_t index) {
  PW_RETURN_IF_ERROR(fs_.remove(entryPath(entries_[index].seq)));
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
  ++dropped_;
  return OkStatus();
}

Result<uint64_t> Outbox::append(std::string kind, std::string payload) {
  if (!isKind(kind)) {
    return InvalidArgumentError("outbox entry kind '" + kind +
                                "' must match [a-z][a-z0-9_-]{0,31}");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= limit_) {
    PW_RETURN_IF_ERROR(dropLocked(victimLocked()).withContext("dropping an outbox entry"));
  }
  OutboxEntry entry{last_seq_ + 1, std::move(kind), std::move(payload)};
  // The high-water mark is durable before the entry, so after any crash the next number
  // handed out is above every entry that may exist, and above every acknowledged one.
  PW_RETURN_IF_ERROR(fs_.writeAtomic(dir_ + "/" + std::string(kSeqFile),
                                     std::to_string(entry.seq) + "\n", {.mode = kFileMode})
                         .withContext("writing the outbox sequence number"));
  last_seq_ = entry.seq;
  PW_RETURN_IF_ERROR(fs_.writeAtomic(entryPath(entry.seq), encode(entry), {.mode = kFileMode})
                         .withContext("writing outbox entry " + std::to_string(entry.seq)));
  const uint64_t seq = entry.seq;
  entries_.push_back(std::move(entry));
  return seq;
}

std::vector<OutboxEntry> Outbox::pending(size_t max_entries) const {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t n = std::min(max_entries, entries_.size());
  return std::vector<OutboxEntry>(entries_.begin(),
                                  entries_.begin() + static_cast<std::ptrdiff_t>(n));
}

Status Outbox::acknowledge(uint64_t up_to_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!entries_.empty() && entries_.front().seq <= up_to_seq) {
    PW_RETURN_IF_ERROR(fs_.remove(entryPath(entries_.front().seq))
                           .withContext("deleting acknowledged outbox entry"));
    entries_.pop_front();
  }
  return OkStatus();
}

uint64_t Outbox::lastSeq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_seq_;
}

size_t Outbox::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t Outbox::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

std::vector<std::string> Outbox::warnings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return warnings_;
}

}  // namespace postwarden::agent::link
