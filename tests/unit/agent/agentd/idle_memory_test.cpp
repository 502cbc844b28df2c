#include "agent/agentd/idle_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace postwarden::agent::agentd {
namespace {

// A trimmed /proc/PID/smaps: library text, its RELRO (anonymous pages), its data, the heap,
// an anonymous mapping, a read-only file mapping never touched, and the vdso.
constexpr char kSmaps[] =
    R"(55d0c8e00000-55d0c8f00000 r-xp 00010000 fe:01 1234   /usr/sbin/postwarden-agentd
Size:               1024 kB
Rss:                 512 kB
Pss:                 512 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me
7f0000000000-7f0000010000 r--p 00200000 fe:01 1234   /usr/lib/x86_64-linux-gnu/libgrpc.so.29.0.0
Size:                 64 kB
Rss:                  64 kB
Anonymous:            64 kB
VmFlags: rd mr mw me ac
7f0000010000-7f0000020000 rw-p 00210000 fe:01 1234   /usr/lib/x86_64-linux-gnu/libgrpc.so.29.0.0
Size:                 64 kB
Rss:                  16 kB
Anonymous:            16 kB
7f0000020000-7f0000030000 r--p 00000000 fe:01 99   /usr/lib/x86_64-linux-gnu/libm.so.6
Size:                 64 kB
Rss:                   0 kB
Anonymous:             0 kB
7f0000030000-7f0000050000 r--p 00000000 fe:01 98   /usr/lib/x86_64-linux-gnu/libc.so.6
Size:                128 kB
Rss:                 100 kB
Anonymous:             0 kB
55d0ca000000-55d0ca100000 rw-p 00000000 00:00 0      [heap]
Size:               1024 kB
Rss:                 300 kB
Anonymous:           300 kB
7f0000060000-7f0000070000 r--p 00000000 00:00 0 
Rss:                   8 kB
Anonymous:             0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0      [vdso]
Rss:                   8 kB
Anonymous:             0 kB
)";

TEST(IdleMemoryTest, OnlyCleanReadOnlyFileMappingsWithResidentPagesAreDroppable) {
  std::vector<AddressRange> ranges = droppableMappings(kSmaps);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].begin, 0x55d0c8e00000u);
  EXPECT_EQ(ranges[0].end, 0x55d0c8f00000u);
  EXPECT_EQ(ranges[1].begin, 0x7f0000030000u);
  EXPECT_EQ(ranges[1].end, 0x7f0000050000u);
}

TEST(IdleMemoryTest, NothingIsDroppableInAnEmptyOrMalformedText) {
  EXPECT_TRUE(droppableMappings("").empty());
  EXPECT_TRUE(droppableMappings("Rss: 12 kB\nnot a mapping\n").empty());
}

TEST(IdleMemoryTest, EveryDroppableMappingOfThisProcessIsAReadOnlyFileMapping) {
  std::ifstream file("/proc/self/smaps");
  std::string smaps(std::istreambuf_iterator<char>(file), {});
  ASSERT_FALSE(smaps.empty());
  std::vector<AddressRange> ranges = droppableMappings(smaps);
  EXPECT_FALSE(ranges.empty());  // this test's own text at least
  for (const AddressRange& r : ranges) EXPECT_LT(r.begin, r.end);
}

// Resident file-backed KiB of this process (smaps_rollup: Rss - Anonymous).
long fileBackedKib() {
  std::ifstream file("/proc/self/smaps_rollup");
  std::string key;
  std::getline(file, key);  // the header: "START-END ---p ... [rollup]"
  long value = 0, rss = 0, anonymous = 0;
  while (file >> key >> value) {
    if (key == "Rss:") rss = value;
    if (key == "Anonymous:") anonymous = value;
    file.ignore(64, '\n');
  }
  return rss - anonymous;
}

// What the daemon does between checks, on a live process: the file-backed pages go, the
// text it then runs is faulted in again and works, and data it wrote is untouched.
TEST(IdleMemoryTest, ReleasingDropsFilePagesAndKeepsTheProcessWorking) {
  std::string written(1 << 20, 'x');
  const long before = fileBackedKib();
  Released released = releaseIdleMemory();
  const long after = fileBackedKib();
  EXPECT_TRUE(released.ok);
  EXPECT_GT(released.file_kib, 0u);
  EXPECT_LT(after, before) << "file-backed KiB before " << before << ", after " << after;
  EXPECT_EQ(written, std::string(1 << 20, 'x'));
  EXPECT_EQ(std::strlen("still runs"), 10u);
  EXPECT_FALSE(droppableMappings(kSmaps).empty());  // code and relocated data still sound
}

}  // namespace
}  // namespace postwarden::agent::agentd
