// What the agent daemon keeps resident while it idles (docs/performance.md, "Agent daemon at
// idle"). Almost all of its RSS is clean, file-backed pages: the code and read-only data of
// gRPC, OpenSSL, protobuf, libstdc++ and the daemon, which the kernel maps in large chunks
// around every page the start-up touched (enrollment check, YAML, the TLS handshake, the
// first plan). The idle loop needs a small part of them. Dropping the page-table entries of
// those mappings gives the rest back to the page cache (shared, reclaimable); what the loop
// uses is faulted in again from the page cache, without I/O. Anonymous memory (the heap,
// stacks, relocated library data) is never touched here except through malloc_trim.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace postwarden::agent::agentd {

struct AddressRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;
};

// The mappings of a /proc/PID/smaps text whose resident pages can be dropped safely:
// backed by a file, not writable and without anonymous (copied-on-write) pages, so dropping
// them loses nothing (the file has the same bytes). Relocated data (RELRO: read-only after
// the loader wrote it) has anonymous pages and is left alone, as is everything writable.
// Pure.
std::vector<AddressRange> droppableMappings(std::string_view smaps);

struct Released {
  size_t file_kib = 0;  // resident file-backed KiB whose page-table entries were dropped
  bool ok = false;      // false: /proc/self/smaps unreadable (nothing dropped)
};

// Gives back what the idle loop does not use: free heap pages (malloc_trim) and the resident
// pages of droppableMappings() of this process. A few milliseconds; the daemon calls it after each
// wake of its loop.
Released releaseIdleMemory();

}  // namespace postwarden::agent::agentd
