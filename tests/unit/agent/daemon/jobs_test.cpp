#include "agent/daemon/jobs.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <gtest/gtest.h>

namespace postwarden::agent::daemon {
namespace {

using std::chrono::milliseconds;
using TimePoint = std::chrono::system_clock::time_point;

// An instant given as UTC civil time, so each test says the wall time it means.
TimePoint utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::ToChronoTime(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

JobTerms inWindows(std::vector<std::string> windows, bool rollback = false) {
  return {.rollback = rollback, .windows = std::move(windows)};
}

TEST(MayStartJobTest, AChangeStartsOnlyWhileItsWindowIsOpenByTheAgentsClock) {
  const JobTerms terms = inWindows({"Sat 02:00-04:00 Europe/Berlin"});
  // 2026-12-05 is a Saturday; Berlin is UTC+1 in December.
  EXPECT_FALSE(mayStartJob(terms, false, utc(2026, 12, 5, 0, 59, 59)).start);
  EXPECT_TRUE(mayStartJob(terms, false, utc(2026, 12, 5, 1, 0, 0)).start) << "open at its start";
  EXPECT_TRUE(mayStartJob(terms, false, utc(2026, 12, 5, 1, 40, 0)).start);
  EXPECT_TRUE(mayStartJob(terms, true, utc(2026, 12, 5, 2, 59, 59)).start)
      << "a restart may run inside a window";
  EXPECT_FALSE(mayStartJob(terms, false, utc(2026, 12, 5, 3, 0, 0)).start) << "closed at its end";
  EXPECT_FALSE(mayStartJob(terms, false, utc(2026, 12, 6, 1, 30, 0)).start) << "Sunday";
}

TEST(MayStartJobTest, TheRefusalNamesTheWindowsAndTheAgentsOwnInstant) {
  JobVerdict v =
      mayStartJob(inWindows({"Sat 02:00-04:00 Europe/Berlin"}), false, utc(2026, 12, 5, 0, 40, 0));
  EXPECT_FALSE(v.start);
  EXPECT_EQ(v.why,
            "outside its maintenance window Sat 02:00-04:00 Europe/Berlin by its own clock at "
            "2026-12-05T00:40:00Z");
  v = mayStartJob(inWindows({"Sat 02:00-04:00 Europe/Berlin", "Sun 03:00-05:00 UTC"}), false,
                  utc(2026, 12, 5, 0, 40, 0));
  EXPECT_EQ(v.why,
            "outside its maintenance windows Sat 02:00-04:00 Europe/Berlin, Sun 03:00-05:00 UTC "
            "by its own clock at 2026-12-05T00:40:00Z");
}

TEST(MayStartJobTest, TheSameInstantIsJudgedInEachWindowsOwnZone) {
  const TimePoint t = utc(2026, 12, 5, 1, 40, 0);  // Fri 20:40 EST, Sat 07:10 IST, Sat 02:40 CET
  EXPECT_TRUE(mayStartJob(inWindows({"Fri 20:00-21:00 America/New_York"}), false, t).start);
  EXPECT_FALSE(mayStartJob(inWindows({"Sat 20:00-21:00 America/New_York"}), false, t).start);
  EXPECT_TRUE(mayStartJob(inWindows({"Sat 07:00-07:30 Asia/Kolkata"}), false, t).start);
  EXPECT_FALSE(mayStartJob(inWindows({"Sat 07:15-08:00 Asia/Kolkata"}), false, t).start);
  EXPECT_TRUE(mayStartJob(inWindows({"Sat 02:00-04:00 Europe/Berlin"}), false, t).start);
  // Several windows: one open is enough.
  EXPECT_TRUE(
      mayStartJob(inWindows({"Mon 02:00-04:00 UTC", "Fri 20:00-21:00 America/New_York"}), false, t)
          .start);
}

TEST(MayStartJobTest, SummerTimeMovesTheWindowWithTheLocalClock) {
  const JobTerms terms = inWindows({"Sat 02:00-04:00 Europe/Berlin"});
  // 00:30 UTC is 02:30 CEST on Saturday 2026-07-04 (open), but 01:30 CET in December (closed).
  EXPECT_TRUE(mayStartJob(terms, false, utc(2026, 7, 4, 0, 30, 0)).start);
  EXPECT_FALSE(mayStartJob(terms, false, utc(2026, 12, 5, 0, 30, 0)).start);
}

TEST(MayStartJobTest, DstEdges) {
  // Clocks fall back on Sunday 2026-10-25 at 03:00 CEST -> 02:00 CET: 02:00-03:00 lasts two
  // hours (00:00Z to 02:00Z), so the second 02:30 (CET, 01:30Z) is still inside.
  const JobTerms autumn = inWindows({"Sun 02:00-03:00 Europe/Berlin"});
  EXPECT_FALSE(mayStartJob(autumn, false, utc(2026, 10, 24, 23, 59, 59)).start);
  EXPECT_TRUE(mayStartJob(autumn, false, utc(2026, 10, 25, 0, 30, 0)).start);
  EXPECT_TRUE(mayStartJob(autumn, false, utc(2026, 10, 25, 1, 30, 0)).start);
  EXPECT_FALSE(mayStartJob(autumn, false, utc(2026, 10, 25, 2, 0, 0)).start);
  // Clocks spring forward on Sunday 2026-03-29 at 02:00 CET -> 03:00 CEST: a window wholly in
  // the skipped hour never opens that day.
  const JobTerms spring = inWindows({"Sun 02:15-02:45 Europe/Berlin"});
  for (int minute = 0; minute < 24 * 60; ++minute) {
    EXPECT_FALSE(mayStartJob(spring, false, utc(2026, 3, 29, minute / 60, minute % 60)).start)
        << "minute " << minute;
  }
}

TEST(MayStartJobTest, WithoutWindowsOnlyAnytimeChangesThatNeedNoRestart) {
  const TimePoint t = utc(2026, 12, 5, 12, 0, 0);
  EXPECT_TRUE(mayStartJob({.anytime = true}, /*needs_restart=*/false, t).start);
  JobVerdict restart = mayStartJob({.anytime = true}, /*needs_restart=*/true, t);
  EXPECT_FALSE(restart.start);
  EXPECT_NE(restart.why.find("needs a Postfix restart"), std::string::npos) << restart.why;
  EXPECT_NE(restart.why.find("2026-12-05T12:00:00Z"), std::string::npos) << restart.why;
  JobVerdict none = mayStartJob({}, false, t);
  EXPECT_FALSE(none.start);
  EXPECT_NE(none.why.find("no maintenance window and is not marked anytime"), std::string::npos);
}

TEST(MayStartJobTest, ARollbackRunsAnyTimeUnlessItHasWindows) {
  const TimePoint t = utc(2026, 12, 5, 12, 0, 0);
  EXPECT_TRUE(mayStartJob({.rollback = true}, /*needs_restart=*/true, t).start);
  EXPECT_FALSE(
      mayStartJob(inWindows({"Sat 02:00-04:00 Europe/Berlin"}, /*rollback=*/true), false, t).start);
  EXPECT_TRUE(mayStartJob(inWindows({"Sat 12:00-13:00 UTC"}, /*rollback=*/true), false, t).start);
}

TEST(MayStartJobTest, AnUnreadableWindowNeverOpens) {
  const TimePoint t = utc(2026, 12, 5, 12, 0, 0);
  JobVerdict v =
      mayStartJob(inWindows({"Sat 12:00-13:00 UTC", "Sat 02:00-04:00 Mars/Olympus"}), false, t);
  EXPECT_FALSE(v.start);
  EXPECT_NE(v.why.find("'Sat 02:00-04:00 Mars/Olympus' unreadable"), std::string::npos) << v.why;
}

TEST(JobRecordTest, RoundTripsWithABinaryReport) {
  JobRecord r{.job_id = "ro-1/mx1/1",
              .report = std::string("\x0a\x03\nab\0\xff", 7),
              .soak_start_ms = 1796434800000,
              .soak_end_ms = 1796435400000,
              .last_health_ms = 1796434860000,
              .soak_done = false,
              .deferred_known = true,
              .deferred_at_change = -3,
              .log_path = "/var/log/mail.log",
              .log_known = true,
              .log_offset = 123456789012,
              .log_inode = 42};
  Result<JobRecord> back = decodeJobRecord(encodeJobRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, r);
  r.soak_done = true;
  r.report.clear();
  back = decodeJobRecord(encodeJobRecord(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, r);
}

TEST(JobRecordTest, RoundTripsTheValuesARollbackPutsBack) {
  JobRecord r{.job_id = "ro-1/mx1/change/1",
              .rollout_id = "ro-1",
              .prior = {{.name = "defer_transports", .value = std::nullopt},
                        {.name = "smtpd_banner", .value = "$myhostname ESMTP \\ back\nslash"},
                        {.name = "empty", .value = ""}},
              .report = "r"};
  Result<JobRecord> back = decodeJobRecord(encodeJobRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, r);
}

TEST(JobRecordTest, RoundTripsThePeriodBeforeTheChange) {
  JobRecord r{.job_id = "ro-1/mx1/change/1", .report = "r"};
  r.before = {.known = true,
              .bucket_ms = 1000,
              .connections = {3, 0, 12},
              .deliveries = {0, 0, 1},
              .sasl = {}};
  Result<JobRecord> back = decodeJobRecord(encodeJobRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, r);
}

TEST(JobRecordTest, ARecordWithoutThePeriodBeforeHasItUnknown) {
  JobRecord r{.job_id = "j", .report = "r"};
  r.before.known = true;
  std::string bytes = encodeJobRecord(r);
  // An older agent's record: no before_* lines.
  for (const char* key : {"before_known", "before_bucket_ms", "before_connections",
                          "before_deliveries", "before_sasl"}) {
    const size_t at = bytes.find(std::string(key) + " ");
    ASSERT_NE(at, std::string::npos) << key;
    bytes.erase(at, bytes.find('\n', at) + 1 - at);
  }
  Result<JobRecord> back = decodeJobRecord(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_FALSE(back->before.known);
  std::string bad = encodeJobRecord(r);
  bad.replace(bad.find("before_sasl -"), 13, "before_sasl x");
  EXPECT_EQ(decodeJobRecord(bad).status().code(), StatusCode::kDataLoss);
}

TEST(JobRecordTest, ATruncatedOrForeignRecordIsDataLoss) {
  JobRecord r{.job_id = "j", .report = "0123456789"};
  const std::string bytes = encodeJobRecord(r);
  for (size_t cut : {size_t{0}, size_t{5}, bytes.size() / 2, bytes.size() - 1}) {
    Result<JobRecord> back = decodeJobRecord(bytes.substr(0, cut));
    EXPECT_EQ(back.status().code(), StatusCode::kDataLoss) << "cut at " << cut;
  }
  EXPECT_EQ(decodeJobRecord("hello\n").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(decodeJobRecord(bytes + "x").status().code(), StatusCode::kDataLoss);
}

TEST(SoakStepTest, AReportEveryIntervalAndAFinalOneAtTheEnd) {
  const milliseconds interval(60000);
  JobRecord r{.job_id = "j", .soak_start_ms = 1000000, .soak_end_ms = 1000000 + 150000};
  auto at = [](int64_t ms) { return TimePoint(milliseconds(ms)); };
  EXPECT_EQ(soakStep(r, at(1000000 + 59999), interval), SoakStep::kNothing);
  EXPECT_EQ(nextSoakStep(r, interval), at(1060000));
  EXPECT_EQ(soakStep(r, at(1060000), interval), SoakStep::kReport);
  r.last_health_ms = 1060000;
  EXPECT_EQ(soakStep(r, at(1100000), interval), SoakStep::kNothing);
  EXPECT_EQ(nextSoakStep(r, interval), at(1120000));
  r.last_health_ms = 1120000;
  EXPECT_EQ(nextSoakStep(r, interval), at(1150000)) << "the end comes before the next interval";
  EXPECT_EQ(soakStep(r, at(1149999), interval), SoakStep::kNothing);
  EXPECT_EQ(soakStep(r, at(1150000), interval), SoakStep::kFinal);
  EXPECT_EQ(soakStep(r, at(9999999), interval), SoakStep::kFinal) << "a daemon down past the end";
  r.soak_done = true;
  EXPECT_EQ(soakStep(r, at(9999999), interval), SoakStep::kNothing);
  EXPECT_EQ(nextSoakStep(r, interval), TimePoint::max());
}

TEST(SoakStepTest, NoSoakNoReports) {
  JobRecord r{.job_id = "j"};
  EXPECT_EQ(soakStep(r, TimePoint(milliseconds(5000000)), milliseconds(1)), SoakStep::kNothing);
  EXPECT_EQ(nextSoakStep(r, milliseconds(1)), TimePoint::max());
}

}  // namespace
}  // namespace postwarden::agent::daemon

namespace postwarden::agent::daemon {
namespace {

TEST(JobRecordTest, RoundTripsMasterCfOverridesARollbackPutsBack) {
  JobRecord r{.job_id = "ro-1/mx1/change/1",
              .rollout_id = "ro-1",
              .prior = {{.name = "smtpd_tls_security_level", .value = "may"},
                        {.name = "smtpd_tls_security_level",
                         .value = "encrypt",
                         .service = "submission/inet"},
                        {.name = "smtpd_sasl_auth_enable",
                         .value = std::nullopt,
                         .service = "127.0.0.1:2525/inet"},
                        {.name = "smtpd_client_restrictions",
                         .value = "permit_sasl_authenticated, reject",
                         .service = "submission/inet"}},
              .report = "r"};
  Result<JobRecord> back = decodeJobRecord(encodeJobRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, r);
}

TEST(AddPriorValuesTest, PutsBackMainCfAndMasterCfValuesThePreviousVersionDoesNotGovern) {
  policy::Baseline previous;
  previous.main_cf_set.push_back({.name = "smtpd_tls_security_level", .value = "may"});
  previous.master_cf.push_back({.service = "submission",
                                .type = "inet",
                                .options = {{.name = "smtpd_tls_wrappermode", .value = "no"}}});
  const std::vector<PriorValue> prior = {
      {.name = "smtpd_tls_security_level", .value = "none"},  // governed: left alone
      {.name = "smtpd_helo_required", .value = std::nullopt},
      {.name = "smtpd_tls_wrappermode", .value = "yes", .service = "submission/inet"},  // governed
      {.name = "smtpd_tls_auth_only", .value = "no", .service = "submission/inet"},
      {.name = "smtpd_sasl_auth_enable", .value = std::nullopt, .service = "smtp/inet"},
  };
  auto governed = [](const PriorValue& p) {
    return p.name == "smtpd_tls_security_level" ||
           (p.service == "submission/inet" && p.name == "smtpd_tls_wrappermode");
  };
  const std::string restored = addPriorValues(prior, governed, previous);
  EXPECT_EQ(restored,
            "smtpd_helo_required unset, submission/inet -o smtpd_tls_auth_only = no, smtp/inet "
            "-o smtpd_sasl_auth_enable unset");
  ASSERT_EQ(previous.main_cf_set.size(), 1u);
  ASSERT_EQ(previous.main_cf_remove.size(), 1u);
  EXPECT_EQ(previous.main_cf_remove[0].name, "smtpd_helo_required");
  ASSERT_EQ(previous.master_cf.size(), 2u);
  // Added to the previous version's own entry for the service...
  ASSERT_EQ(previous.master_cf[0].options.size(), 2u);
  EXPECT_EQ(previous.master_cf[0].options[1].name, "smtpd_tls_auth_only");
  EXPECT_EQ(previous.master_cf[0].options[1].value, "no");
  // ...or as a new one that only applies where the entry exists (never creates a service).
  EXPECT_EQ(previous.master_cf[1].service, "smtp");
  EXPECT_EQ(previous.master_cf[1].type, "inet");
  EXPECT_TRUE(previous.master_cf[1].only_if_exists);
  EXPECT_FALSE(previous.master_cf[1].command.has_value());
  ASSERT_EQ(previous.master_cf[1].remove_options.size(), 1u);
  EXPECT_EQ(previous.master_cf[1].remove_options[0].name, "smtpd_sasl_auth_enable");
}

}  // namespace
}  // namespace postwarden::agent::daemon
