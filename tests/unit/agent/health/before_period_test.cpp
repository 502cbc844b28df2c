#include "agent/health/before_period.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace postwarden::agent::health {
namespace {

// The change at 2026-12-05 07:20:00 UTC, a 10-minute soak: the period before is 07:10-07:20.
const absl::Time kSince =
    absl::FromCivil(absl::CivilSecond(2026, 12, 5, 7, 20, 0), absl::UTCTimeZone());

std::string connect(const char* time) {
  return std::string("Dec  5 ") + time + " mx1 postfix/smtpd[7]: connect from a[192.0.2.1]\n";
}
std::string sent(const char* time) {
  return std::string("Dec  5 ") + time +
         " mx1 postfix/local[8]: 4A1: to=<u@x>, relay=local, status=sent (delivered)\n";
}
std::string sasl(const char* time) {
  return std::string("2026-12-05T") + time +
         ".5+00:00 mx1 postfix/submission/smtpd[9]: warning: b[192.0.2.2]: SASL LOGIN "
         "authentication failed: authentication failure\n";
}

TEST(BeforePeriodTest, CountsTheEventsOfTheSameLengthJustBefore) {
  const std::string log = connect("07:00:00") +  // before the period: reaches back
                          connect("07:09:59") + connect("07:10:00") + sent("07:15:00") +
                          sasl("07:19:00") + connect("07:19:59") +
                          connect("07:20:00");  // at the change: the soak's
  const BeforePeriod p = countBefore(log, true, kSince, absl::Minutes(10), absl::UTCTimeZone());
  EXPECT_TRUE(p.known);
  EXPECT_EQ(p.bucket_ms, 1000);
  EXPECT_EQ(p.connections.size(), 600u);
  EXPECT_EQ(countWithin(p, absl::Minutes(10)),
            (TrafficCounts{.connections = 2, .deliveries = 1, .sasl = 1}));
  // Two minutes into the soak: 07:18-07:20 before the change.
  EXPECT_EQ(countWithin(p, absl::Minutes(2)),
            (TrafficCounts{.connections = 1, .deliveries = 0, .sasl = 1}));
  EXPECT_EQ(countWithin(p, absl::Hours(5)), countWithin(p, absl::Minutes(10)));  // capped
  EXPECT_EQ(countWithin(p, absl::ZeroDuration()), TrafficCounts{});
}

TEST(BeforePeriodTest, ALogThatStartsAfterThePeriodBeganIsUnknown) {
  const std::string log = connect("07:12:00") + sent("07:15:00");  // rotated at 07:11
  EXPECT_FALSE(countBefore(log, true, kSince, absl::Minutes(10), absl::UTCTimeZone()).known);
  EXPECT_FALSE(countBefore("", true, kSince, absl::Minutes(10), absl::UTCTimeZone()).known);
}

TEST(BeforePeriodTest, ACutFirstLineIsSkippedAndGarbageIgnored) {
  const std::string log = "om[192.0.2.1]\n" + connect("07:05:00") + "not a log line\n" +
                          sent("07:11:00") + connect("07:19:30");  // and one being written:
  const BeforePeriod p = countBefore(log + "Dec  5 07:19:40 mx1 postfix/smtpd[7]: connect fr",
                                     false, kSince, absl::Minutes(10), absl::UTCTimeZone());
  EXPECT_TRUE(p.known);
  EXPECT_EQ(countWithin(p, absl::Minutes(10)),
            (TrafficCounts{.connections = 1, .deliveries = 1, .sasl = 0}));
}

TEST(BeforePeriodTest, LongSoaksUseWiderBuckets) {
  const BeforePeriod p =
      countBefore(connect("06:00:00"), true, kSince, absl::Hours(24), absl::UTCTimeZone());
  EXPECT_LE(static_cast<int64_t>(p.connections.size()), kMaxBeforeBuckets);
  EXPECT_EQ(p.bucket_ms, 84375);  // 24 h / 1024
  EXPECT_FALSE(p.known);          // the log begins at 06:00, not yesterday
}

class BeforePeriodFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pw-before-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/mail.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text, std::ios::openmode mode) {
    std::ofstream(path_, std::ios::binary | mode) << text;
  }
  std::string dir_;
  std::string path_;
};

TEST_F(BeforePeriodFileTest, ReadsTheFileUpToTheMarkOnly) {
  write(connect("07:00:00") + connect("07:15:00") + sent("07:16:00"), std::ios::trunc);
  PosixLogFiles files;
  Result<LogMark> mark = files.end(path_);
  ASSERT_TRUE(mark.ok());
  write(sent("07:19:00"), std::ios::app);  // after the mark: the soak's, whatever its time
  Result<BeforePeriod> p =
      readBeforePeriod(files, path_, *mark, kSince, absl::Minutes(10), absl::UTCTimeZone());
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE(p->known);
  EXPECT_EQ(countWithin(*p, absl::Minutes(10)),
            (TrafficCounts{.connections = 1, .deliveries = 1, .sasl = 0}));
}

// Rotated at 07:12, before the change: the period's start is in mail.log.1.
TEST_F(BeforePeriodFileTest, ALogRotatedInsideThePeriodIsReadOnFromItsPredecessor) {
  write(connect("07:00:00") + connect("07:11:00") + sent("07:11:30"), std::ios::trunc);
  std::filesystem::rename(path_, path_ + ".1");
  write(connect("07:12:00") + connect("07:19:00"), std::ios::trunc);
  PosixLogFiles files;
  Result<LogMark> mark = files.end(path_);
  ASSERT_TRUE(mark.ok());
  Result<BeforePeriod> p =
      readBeforePeriod(files, path_, *mark, kSince, absl::Minutes(10), absl::UTCTimeZone());
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE(p->known);
  EXPECT_EQ(countWithin(*p, absl::Minutes(10)),
            (TrafficCounts{.connections = 3, .deliveries = 1, .sasl = 0}));
}

TEST_F(BeforePeriodFileTest, APredecessorThatDoesNotReachBackEitherLeavesItUnknown) {
  write(connect("07:11:00"), std::ios::trunc);
  std::filesystem::rename(path_, path_ + ".1");
  write(connect("07:12:00"), std::ios::trunc);
  PosixLogFiles files;
  Result<LogMark> mark = files.end(path_);
  ASSERT_TRUE(mark.ok());
  Result<BeforePeriod> p =
      readBeforePeriod(files, path_, *mark, kSince, absl::Minutes(10), absl::UTCTimeZone());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->known);
  std::filesystem::remove(path_ + ".1");  // and no predecessor at all
  p = readBeforePeriod(files, path_, *mark, kSince, absl::Minutes(10), absl::UTCTimeZone());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->known);
}

TEST_F(BeforePeriodFileTest, AFileReplacedSinceTheMarkIsRefused) {
  write(connect("07:00:00"), std::ios::trunc);
  PosixLogFiles files;
  Result<LogMark> mark = files.end(path_);
  ASSERT_TRUE(mark.ok());
  std::filesystem::rename(path_, path_ + ".1");
  write(connect("07:00:00") + connect("07:15:00"), std::ios::trunc);
  Result<BeforePeriod> p =
      readBeforePeriod(files, path_, *mark, kSince, absl::Minutes(10), absl::UTCTimeZone());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace postwarden::agent::health
