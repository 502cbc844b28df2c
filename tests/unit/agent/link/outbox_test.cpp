#include "agent/link/outbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/os/posix_file_system.h"
#include "tests/unit/common/os/temp_dir.h"

namespace postwarden::agent::link {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class OutboxTest : public ::testing::Test {
 protected:
  std::unique_ptr<Outbox> open(size_t limit = 100) {
    Result<std::unique_ptr<Outbox>> outbox = Outbox::open(fs_, dir(), limit);
    EXPECT_TRUE(outbox.ok()) << outbox.status().toString();
    return outbox.ok() ? std::move(outbox).value() : nullptr;
  }
  std::string dir() const { return temp_.file("outbox"); }

  static std::vector<uint64_t> seqs(const Outbox& outbox) {
    std::vector<uint64_t> out;
    for (const OutboxEntry& e : outbox.pending()) out.push_back(e.seq);
    return out;
  }
  static std::vector<std::string> files(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static void writeRaw(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  os::TempDir temp_;
  os::PosixFileSystem fs_;
};

TEST_F(OutboxTest, AppendPendingAcknowledge) {
  auto outbox = open();
  EXPECT_EQ(outbox->lastSeq(), 0u);
  EXPECT_EQ(outbox->size(), 0u);
  EXPECT_THAT(outbox->warnings(), IsEmpty());

  EXPECT_EQ(outbox->append("state", "s1").value(), 1u);
  EXPECT_EQ(outbox->append("drift", "d1").value(), 2u);
  EXPECT_EQ(outbox->append("state", "s2").value(), 3u);
  EXPECT_THAT(outbox->pending(),
              ElementsAre(OutboxEntry{1, "state", "s1"}, OutboxEntry{2, "drift", "d1"},
                          OutboxEntry{3, "state", "s2"}));
  EXPECT_THAT(outbox->pending(2),
              ElementsAre(OutboxEntry{1, "state", "s1"}, OutboxEntry{2, "drift", "d1"}));
  EXPECT_EQ(outbox->lastSeq(), 3u);
  EXPECT_THAT(files(dir()), ElementsAre("00000000000000000001.entry", "00000000000000000002.entry",
                                        "00000000000000000003.entry", "epoch", "seq"));

  ASSERT_TRUE(outbox->acknowledge(2).ok());
  EXPECT_EQ(outbox->size(), 1u);
  EXPECT_THAT(seqs(*outbox), ElementsAre(3));
  EXPECT_THAT(files(dir()), ElementsAre("00000000000000000003.entry", "epoch", "seq"));

  ASSERT_TRUE(outbox->acknowledge(1).ok());  // already gone: nothing to do
  EXPECT_EQ(outbox->size(), 1u);
  ASSERT_TRUE(outbox->acknowledge(100).ok());
  EXPECT_EQ(outbox->size(), 0u);
  EXPECT_EQ(outbox->lastSeq(), 3u);
}

TEST_F(OutboxTest, SurvivesReopen) {
  {
    auto outbox = open();
    ASSERT_TRUE(outbox->append("state", "one").ok());
    ASSERT_TRUE(outbox->append("drift", "two").ok());
    ASSERT_TRUE(outbox->acknowledge(1).ok());
  }
  auto outbox = open();
  EXPECT_THAT(outbox->pending(), ElementsAre(OutboxEntry{2, "drift", "two"}));
  EXPECT_EQ(outbox->lastSeq(), 2u);
  EXPECT_EQ(outbox->append("state", "three").value(), 3u);
  EXPECT_THAT(outbox->warnings(), IsEmpty());
}

TEST_F(OutboxTest, SequenceNumbersAreNeverReusedAfterAcknowledgingEverything) {
  {
    auto outbox = open();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(outbox->append("state", "x").ok());
    ASSERT_TRUE(outbox->acknowledge(5).ok());
    EXPECT_EQ(outbox->size(), 0u);
    EXPECT_EQ(outbox->append("drift", "y").value(), 6u);
    ASSERT_TRUE(outbox->acknowledge(6).ok());
  }
  auto outbox = open();
  EXPECT_EQ(outbox->size(), 0u);
  EXPECT_EQ(outbox->lastSeq(), 6u);
  EXPECT_EQ(outbox->append("state", "z").value(), 7u);
  outbox.reset();
  EXPECT_EQ(open()->lastSeq(), 7u);
}

TEST_F(OutboxTest, EntriesBeyondTheSeqFileStillRaiseTheHighWaterMark) {
  {
    auto outbox = open();
    ASSERT_TRUE(outbox->append("state", "x").ok());
  }
  // As if the seq file were lost: the entry's own number still counts.
  std::filesystem::remove(dir() + "/seq");
  auto outbox = open();
  EXPECT_EQ(outbox->lastSeq(), 1u);
  EXPECT_EQ(outbox->append("state", "y").value(), 2u);
}

TEST_F(OutboxTest, CorruptSeqFileJumpsAheadInsteadOfReusingNumbers) {
  {
    auto outbox = open();
    ASSERT_TRUE(outbox->append("state", "x").ok());
    ASSERT_TRUE(outbox->acknowledge(1).ok());
  }
  writeRaw(dir() + "/seq", "garbage");
  auto outbox = open();
  ASSERT_EQ(outbox->warnings().size(), 1u);
  EXPECT_THAT(outbox->warnings()[0], HasSubstr("seq"));
  const uint64_t last = outbox->lastSeq();
  EXPECT_GT(last, 1000000000000000u);  // microseconds since 1970, well past 2001
  EXPECT_EQ(outbox->append("state", "y").value(), last + 1);
  outbox.reset();
  auto again = open();
  EXPECT_THAT(again->warnings(), IsEmpty());
  EXPECT_EQ(again->lastSeq(), last + 1);
}

TEST_F(OutboxTest, CorruptAndTempFilesAreSkippedWithAWarning) {
  {
    auto outbox = open();
    ASSERT_TRUE(outbox->append("state", "good1").ok());
    ASSERT_TRUE(outbox->append("state", "bad").ok());
    ASSERT_TRUE(outbox->append("drift", "good3").ok());
    ASSERT_TRUE(outbox->append("drift", "truncated").ok());
  }
  // Flip the payload of entry 2, truncate entry 4, add garbage, a temp file and a stranger.
  const std::string e2 = dir() + "/00000000000000000002.entry";
  std::ifstream in(e2, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  bytes.back() = 'X';
  writeRaw(e2, bytes);
  const std::string e4 = dir() + "/00000000000000000004.entry";
  std::filesystem::resize_file(e4, std::filesystem::file_size(e4) - 3);
  writeRaw(dir() + "/00000000000000000009.entry", "not an entry at all");
  writeRaw(dir() + "/.00000000000000000010.entry.pw-tmp-123-0123456789abcdef", "half");
  writeRaw(dir() + "/notes.txt", "hello");

  auto outbox = open();
  EXPECT_THAT(outbox->pending(),
              ElementsAre(OutboxEntry{1, "state", "good1"}, OutboxEntry{3, "drift", "good3"}));
  const std::vector<std::string> warnings = outbox->warnings();
  ASSERT_EQ(warnings.size(), 5u);
  EXPECT_THAT(warnings[0], HasSubstr("interrupted write"));
  EXPECT_THAT(warnings[1], HasSubstr("checksum mismatch"));
  EXPECT_THAT(warnings[2], HasSubstr("payload is"));
  EXPECT_THAT(warnings[3], HasSubstr("no header line"));
  EXPECT_THAT(warnings[4], HasSubstr("notes.txt"));
  // The high-water mark covers the broken files too.
  EXPECT_EQ(outbox->append("state", "next").value(), 10u);
  EXPECT_TRUE(std::filesystem::exists(e2 + ".corrupt"));
  EXPECT_FALSE(std::filesystem::exists(e2));
  outbox.reset();

  // Corrupt files were set aside: only the stranger is reported again.
  auto again = open();
  EXPECT_THAT(again->warnings(), ElementsAre(HasSubstr("notes.txt")));
  EXPECT_THAT(seqs(*again), ElementsAre(1, 3, 10));
}

TEST_F(OutboxTest, PayloadIsBinarySafe) {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  payload += std::string("\0\n\r\nPWOUTBOX1 1 state 0 0\n", 26);
  {
    auto outbox = open();
    ASSERT_TRUE(outbox->append("state", payload).ok());
    ASSERT_TRUE(outbox->append("drift", "").ok());
  }
  auto outbox = open();
  EXPECT_THAT(outbox->pending(),
              ElementsAre(OutboxEntry{1, "state", payload}, OutboxEntry{2, "drift", ""}));
  EXPECT_THAT(outbox->warnings(), IsEmpty());
}

TEST_F(OutboxTest, LimitDropsASupersededStateFirst) {
  auto outbox = open(4);
  ASSERT_TRUE(outbox->append("drift", "d1").ok());  // 1
  ASSERT_TRUE(outbox->append("state", "s2").ok());  // 2
  ASSERT_TRUE(outbox->append("drift", "d3").ok());  // 3
  ASSERT_TRUE(outbox->append("state", "s4").ok());  // 4
  ASSERT_TRUE(outbox->append("drift", "d5").ok());  // 5: state 2 is superseded by 4
  EXPECT_THAT(seqs(*outbox), ElementsAre(1, 3, 4, 5));
  EXPECT_EQ(outbox->dropped(), 1u);
  ASSERT_TRUE(outbox->append("drift", "d6").ok());  // one state left: the oldest goes
  EXPECT_THAT(seqs(*outbox), ElementsAre(3, 4, 5, 6));
  ASSERT_TRUE(outbox->append("state", "s7").ok());  // one state left (4), so 3 goes
  EXPECT_THAT(seqs(*outbox), ElementsAre(4, 5, 6, 7));
  ASSERT_TRUE(outbox->append("drift", "d8").ok());  // 4 is superseded by 7
  EXPECT_THAT(seqs(*outbox), ElementsAre(5, 6, 7, 8));
  EXPECT_EQ(outbox->dropped(), 4u);
  EXPECT_EQ(outbox->size(), 4u);
  EXPECT_THAT(files(dir()), ElementsAre("00000000000000000005.entry", "00000000000000000006.entry",
                                        "00000000000000000007.entry", "00000000000000000008.entry",
                                        "epoch", "seq"));
}

TEST_F(OutboxTest, LimitWithOnlyStatesKeepsTheNewest) {
  auto outbox = open(3);
  for (int i = 1; i <= 10; ++i) ASSERT_TRUE(outbox->append("state", std::to_string(i)).ok());
  EXPECT_THAT(seqs(*outbox), ElementsAre(8, 9, 10));
  EXPECT_EQ(outbox->dropped(), 7u);
}

TEST_F(OutboxTest, ReopeningWithASmallerLimitDropsTheExcess) {
  {
    auto outbox = open(10);
    ASSERT_TRUE(outbox->append("state", "a").ok());
    ASSERT_TRUE(outbox->append("drift", "b").ok());
    ASSERT_TRUE(outbox->append("state", "c").ok());
    ASSERT_TRUE(outbox->append("drift", "d").ok());
  }
  auto outbox = open(2);
  EXPECT_THAT(seqs(*outbox), ElementsAre(3, 4));  // state 1 superseded, then the oldest (2)
  EXPECT_EQ(outbox->dropped(), 2u);
}

TEST_F(OutboxTest, RejectsBadArguments) {
  EXPECT_EQ(Outbox::open(fs_, dir(), 0).status().code(), StatusCode::kInvalidArgument);
  auto outbox = open();
  EXPECT_EQ(outbox->append("", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->append("State", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->append("a b", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->append("state\n", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(outbox->lastSeq(), 0u);
}

TEST_F(OutboxTest, CreatesTheDirectoryPrivate) {
  auto outbox = open();
  ASSERT_TRUE(outbox->append("state", "x").ok());
  EXPECT_EQ(std::filesystem::status(dir()).permissions(), std::filesystem::perms::owner_all);
  EXPECT_EQ(std::filesystem::status(dir() + "/00000000000000000001.entry").permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(OutboxTest, OpenFailsWhenTheDirectoryCannotBeCreated) {
  writeRaw(temp_.file("file"), "x");
  Result<std::unique_ptr<Outbox>> outbox = Outbox::open(fs_, temp_.file("file") + "/outbox", 5);
  EXPECT_FALSE(outbox.ok());
}

TEST_F(OutboxTest, LoadsTenThousandEntries) {
  // Written directly in the on-disk format (appending 10,000 entries with two fsyncs each
  // would dominate the test's run time).
  std::filesystem::create_directories(dir());
  {
    auto outbox = open(20000);
    ASSERT_TRUE(outbox->append("state", "first").ok());
    const std::string entry = std::filesystem::path(dir()) / "00000000000000000001.entry";
    std::ifstream in(entry, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Same payload "first" for every seq: only the header's seq differs.
    const std::string tail = bytes.substr(bytes.find(" state "));
    for (int seq = 2; seq <= 10000; ++seq) {
      char name[32];
      std::snprintf(name, sizeof(name), "%020d.entry", seq);
      writeRaw(dir() + "/" + name, "PWOUTBOX1 " + std::to_string(seq) + tail);
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto outbox = open(20000);
  const auto took = std::chrono::steady_clock::now() - start;
  std::printf(
      "opened 10000 entries in %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  EXPECT_THAT(outbox->warnings(), IsEmpty());
  ASSERT_EQ(outbox->size(), 10000u);
  EXPECT_EQ(outbox->lastSeq(), 10000u);
  const std::vector<OutboxEntry> pending = outbox->pending();
  for (size_t i = 0; i < pending.size(); ++i) ASSERT_EQ(pending[i].seq, i + 1);
  EXPECT_EQ(outbox->append("drift", "x").value(), 10001u);
  ASSERT_TRUE(outbox->acknowledge(9990).ok());
  EXPECT_EQ(outbox->size(), 11u);
}

TEST_F(OutboxTest, ANewOutboxNumbersFromTheFloorAndAnExistingOneIgnoresIt) {
  auto fresh = Outbox::open(fs_, dir(), 10, 5000);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ((*fresh)->lastSeq(), 5000u);
  EXPECT_EQ((*fresh)->append("state", "s").value(), 5001u);
  fresh->reset();
  // Reopened: the persisted high-water mark wins over any floor.
  auto again = Outbox::open(fs_, dir(), 10, 9000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->lastSeq(), 5001u);
}

TEST_F(OutboxTest, ANewOutboxGetsItsEpochAndKeepsItAcrossRestarts) {
  auto fresh = Outbox::open(fs_, dir(), 10, 0, 0xfeedfacecafebeefULL);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ((*fresh)->epoch(), 0xfeedfacecafebeefULL);
  EXPECT_THAT((*fresh)->warnings(), IsEmpty());
  fresh->reset();
  // Reopened: the stored epoch wins over the one offered for a new outbox.
  auto again = Outbox::open(fs_, dir(), 10, 0, 42);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->epoch(), 0xfeedfacecafebeefULL);
  // Without an offered epoch a new outbox still gets one (the time), never 0.
  auto other = Outbox::open(fs_, temp_.file("other"), 10);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->epoch(), 0u);
}

TEST_F(OutboxTest, AnOutboxWithoutEpochFileOrACorruptOneGetsANewEpoch) {
  {
    auto outbox = open();
    ASSERT_EQ(outbox->append("state", "s").value(), 1u);
  }
  // An outbox of an agent from before epochs: its entries stay, it gets an epoch.
  std::filesystem::remove(dir() + "/epoch");
  auto upgraded = Outbox::open(fs_, dir(), 10, 0, 7);
  ASSERT_TRUE(upgraded.ok());
  EXPECT_EQ((*upgraded)->epoch(), 7u);
  EXPECT_THAT(seqs(**upgraded), ElementsAre(1u));
  upgraded->reset();
  writeRaw(dir() + "/epoch", "0\n");
  auto repaired = Outbox::open(fs_, dir(), 10, 0, 9);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ((*repaired)->epoch(), 9u);
  EXPECT_THAT((*repaired)->warnings(), ElementsAre(HasSubstr("a new epoch is made")));
  EXPECT_EQ(fs_.readFile(dir() + "/epoch").value(), "9\n");
}

TEST_F(OutboxTest, ACorruptSeqFileJumpsToTheTimeAndStartsANewEpoch) {
  auto outbox = Outbox::open(fs_, dir(), 10, 0, 5);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ((*outbox)->append("state", "s").value(), 1u);
  outbox->reset();
  writeRaw(dir() + "/seq", "garbage");
  auto reopened = Outbox::open(fs_, dir(), 10, 0, 6);
  ASSERT_TRUE(reopened.ok());
  // Far above 1: the controller would refuse that jump within the old epoch.
  EXPECT_GT((*reopened)->lastSeq(), uint64_t{1} << 40);
  EXPECT_EQ((*reopened)->epoch(), 6u);
  EXPECT_THAT(seqs(**reopened), ElementsAre(1u));  // the pending entry is still sent
}

}  // namespace
}  // namespace postwarden::agent::link
