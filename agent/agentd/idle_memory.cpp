#include "agent/agentd/idle_memory.h"

#include <malloc.h>
#include <sys/mman.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace postwarden::agent::agentd {
namespace {

std::string_view nextLine(std::string_view& text) {
  size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

std::string_view nextField(std::string_view& line) {
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  size_t end = line.find(' ');
  std::string_view field = line.substr(0, end);
  line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  return field;
}

uint64_t number(std::string_view text, int base = 10) {
  uint64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, base);
  return value;
}

// One mapping's header line: "BEGIN-END PERMS OFFSET DEV INODE [PATH]".
struct Mapping {
  AddressRange range;
  bool candidate = false;  // file-backed and not writable
  uint64_t anonymous_kib = 0;
  uint64_t rss_kib = 0;
};

bool parseHeader(std::string_view line, Mapping& mapping) {
  std::string_view range = nextField(line);
  size_t dash = range.find('-');
  if (dash == std::string_view::npos) return false;
  std::string_view perms = nextField(line);
  nextField(line);  // offset
  nextField(line);  // device
  std::string_view inode = nextField(line);
  std::string_view path = nextField(line);
  if (perms.size() < 4 || inode.empty()) return false;
  mapping = {};
  mapping.range = {number(range.substr(0, dash), 16), number(range.substr(dash + 1), 16)};
  mapping.candidate =
      perms[0] == 'r' && perms[1] != 'w' && number(inode) != 0 && path.starts_with('/');
  return true;
}

// "Key:   123 kB" -> 123 when the line's key is `key`.
bool field(std::string_view line, std::string_view key, uint64_t& value) {
  if (!line.starts_with(key) || line.size() <= key.size() || line[key.size()] != ':') {
    return false;
  }
  line.remove_prefix(key.size() + 1);
  value = number(nextField(line));
  return true;
}

std::vector<Mapping> parseSmaps(std::string_view smaps) {
  std::vector<Mapping> mappings;
  while (!smaps.empty()) {
    std::string_view line = nextLine(smaps);
    uint64_t value = 0;
    Mapping header;
    if (field(line, "Rss", value)) {
      if (!mappings.empty()) mappings.back().rss_kib = value;
    } else if (field(line, "Anonymous", value)) {
      if (!mappings.empty()) mappings.back().anonymous_kib = value;
    } else if (!line.empty() && line.find(':') > line.find(' ') && parseHeader(line, header)) {
      mappings.push_back(header);  // a header: its range comes before any colon
    }
  }
  return mappings;
}

}  // namespace

std::vector<AddressRange> droppableMappings(std::string_view smaps) {
  std::vector<AddressRange> ranges;
  for (const Mapping& m : parseSmaps(smaps)) {
    if (m.candidate && m.anonymous_kib == 0 && m.rss_kib > 0 && m.range.end > m.range.begin) {
      ranges.push_back(m.range);
    }
  }
  return ranges;
}

namespace {

Released dropFilePages() {
  std::ifstream file("/proc/self/smaps");
  std::string smaps(std::istreambuf_iterator<char>(file), {});
  Released released;
  if (!file.is_open() || smaps.empty()) return released;
  released.ok = true;
  for (const Mapping& m : parseSmaps(smaps)) {
    if (!m.candidate || m.anonymous_kib != 0 || m.rss_kib == 0) continue;
    // A file mapping never written: dropping its pages only drops page-table entries; the
    // next access maps the page-cache page again.
    if (madvise(reinterpret_cast<void*>(m.range.begin), m.range.end - m.range.begin,
                MADV_DONTNEED) == 0) {
      released.file_kib += m.rss_kib;
    }
  }
  return released;
}

}  // namespace

Released releaseIdleMemory() {
  Released released = dropFilePages();
  // After the smaps text (a few hundred KiB) is freed: it would otherwise stay in the heap.
  malloc_trim(0);
  return released;
}

}  // namespace postwarden::agent::agentd
