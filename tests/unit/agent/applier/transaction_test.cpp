#include "agent/applier/transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/applier/backups.h"
#include "agent/params/parameter_catalog.h"
#include "agent/planner/planner.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/in_memory_file_system.h"
#include "tests/fakes/scripted_command_runner.h"
#include "tests/unit/agent/applier/fake_service_control.h"
#include "tests/unit/agent/applier/fake_smtp_prober.h"
#include "tests/unit/agent/applier/faulty_file_system.h"

namespace postwarden::agent::applier {
namespace {

using fakes::FakeClock;
using fakes::FakeServiceControl;
using fakes::FakeSmtpProber;
using fakes::FaultyFileSystem;
using fakes::InMemoryFileSystem;
using fakes::ScriptedCommandRunner;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

const std::string kPostfixDir = "/etc/postfix";
const std::string kStateDir = "/var/lib/postwarden";
const std::string kMainCf = "/etc/postfix/main.cf";
const std::string kMasterCf = "/etc/postfix/master.cf";
const std::string kStage = "/var/lib/postwarden/stage";
const std::string kJournal = "/var/lib/postwarden/journal";
const std::string kNeedsHuman = "/var/lib/postwarden/needs-human";
const std::string kMailLog = "/var/log/mail.log";

// The staged candidate's checks: postconf parses main.cf and master.cf, postmap runs
// Postfix's global parameter checks, and postfix check runs only for the changes it validates.
const std::vector<std::string> kPostconf = {"postconf", "-c", kStage, "-n"};
const std::vector<std::string> kPostmap = {"postmap", "-c",         kStage,
                                           "-q",      "postwarden", "static:ok"};
const std::vector<std::string> kPostfixCheck = {"postfix", "-c", kStage, "check"};

const std::string kOldMain =
    "# Debian main.cf\n"
    "myhostname = mail.example.org\n"
    "smtpd_helo_required = no\n";

const std::string kOldMaster =
    "# service type private unpriv chroot wakeup maxproc command\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "smtp      unix  -       -       y       -       -       smtp\n";

// Two main.cf settings that a reload applies.
policy::Baseline heloBaseline() {
  policy::Baseline b;
  b.name = "helo";
  b.version = "1";
  b.main_cf_set = {{"smtpd_helo_required", "yes", {}}, {"disable_vrfy_command", "yes", {}}};
  return b;
}

// heloBaseline() plus an override on the smtp service: main.cf and master.cf both change.
policy::Baseline heloAndServiceBaseline() {
  policy::Baseline b = heloBaseline();
  b.master_cf.push_back({.service = "smtp", .options = {{"syslog_name", "postfix/mx", {}}}});
  return b;
}

// inet_interfaces: only a stop/start applies it (postconf(5)).
policy::Baseline loopbackOnlyBaseline() {
  policy::Baseline b;
  b.name = "loopback";
  b.version = "1";
  b.main_cf_set = {{"inet_interfaces", "loopback-only", {}}};
  return b;
}

// mail_owner: `postfix check` creates and checks the queue directories as that user, so
// only the full check validates it.
policy::Baseline mailOwnerBaseline() {
  policy::Baseline b;
  b.name = "owner";
  b.version = "1";
  b.main_cf_set = {{"mail_owner", "nosuchuser", {}}};
  return b;
}

// STARTTLS on port 25: the planned configuration makes smtpd load a certificate and key.
policy::Baseline tlsBaseline() {
  policy::Baseline b;
  b.name = "tls";
  b.version = "1";
  b.main_cf_set = {{"smtpd_tls_security_level", "may", {}},
                   {"smtpd_tls_cert_file", "/etc/ssl/mail.pem", {}},
                   {"smtpd_tls_key_file", "/etc/ssl/mail.key", {}}};
  return b;
}

planner::Plan planFor(const policy::Baseline& baseline, const std::string& main_cf = kOldMain,
                      const std::string& master_cf = kOldMaster) {
  Result<planner::Plan> plan =
      planner::makePlan(baseline, {main_cf, master_cf}, params::ParameterCatalog::builtin());
  if (!plan.ok()) {
    ADD_FAILURE() << "makePlan: " << plan.status().toString();
    return {};
  }
  return *plan;
}

ProbeCheck smtpCheck(std::string host = "127.0.0.1", uint16_t port = 25) {
  ProbeCheck check;
  check.target.host = std::move(host);
  check.target.port = port;
  check.expectation.service = "smtp";
  check.expectation.starttls = policy::StartTls::kRequired;
  return check;
}

std::vector<std::string> stepNames(const TransactionReport& report) {
  std::vector<std::string> names;
  for (const StepRecord& step : report.steps) names.push_back(step.name);
  return names;
}

const StepRecord* findStep(const TransactionReport& report, const std::string& name) {
  for (const StepRecord& step : report.steps) {
    if (step.name == name) return &step;
  }
  return nullptr;
}

// How many times `operation` ("writeAtomic /etc/postfix/main.cf") was called.
int countOps(const InMemoryFileSystem& fs, const std::string& operation) {
  int n = 0;
  for (const std::string& op : fs.operations()) n += op == operation ? 1 : 0;
  return n;
}

// The disk exactly as an agent killed at this moment would leave it (modes are not copied).
std::unique_ptr<InMemoryFileSystem> snapshot(InMemoryFileSystem& fs, const FakeClock& clock) {
  auto copy = std::make_unique<InMemoryFileSystem>(clock);
  for (const std::string& path : fs.allPaths()) {
    if (std::optional<std::string> bytes = fs.contents(path)) {
      copy->addFile(path, *bytes);
    } else {
      copy->addDirectory(path);
    }
  }
  return copy;
}

// A Postfix host in memory: main.cf and master.cf with the old bytes, an empty state
// directory, and a Postfix that accepts every candidate.
struct Host {
  FakeClock clock;
  InMemoryFileSystem fs{clock};
  ScriptedCommandRunner commands;
  FakeServiceControl service;
  FakeSmtpProber prober;
  TransactionOptions options;

  Host() {
    fs.addFile(kMainCf, kOldMain);
    fs.addFile(kMasterCf, kOldMaster);
    settleLiveFiles();
    fs.addDirectory(kStateDir, 0700);
    options.postfix_dir = kPostfixDir;
    options.state_dir = kStateDir;
    options.probes = {smtpCheck()};
    options.pid = 4242;
  }

  // Last modified an hour ago: nobody is editing them (see the "settle" step).
  void settleLiveFiles() {
    for (const std::string& path : {kMainCf, kMasterCf}) {
      EXPECT_TRUE(fs.setModified(path, clock.now() - std::chrono::hours(1)).ok());
    }
  }

  void postfixAccepts() {
    commands.expectRepeatedly(kPostconf,
                              ScriptedCommandRunner::exited(0, "smtpd_helo_required = yes\n"));
    commands.expectRepeatedly(kPostmap, ScriptedCommandRunner::exited(0, "ok\n"));
    commands.expectRepeatedly(kPostfixCheck, ScriptedCommandRunner::exited(0));
  }

  Transaction transaction() { return Transaction(fs, commands, service, prober, clock, options); }
  Transaction transaction(os::FileSystem& file_system) {
    return Transaction(file_system, commands, service, prober, clock, options);
  }
};

// A journal entry for a change from old to new bytes, with the old bytes backed up, as
// apply() leaves it when the agent dies at `step`.
JournalEntry journalFor(InMemoryFileSystem& fs, JournalStep step, const std::string& new_main,
                        const std::string& new_master = kOldMaster) {
  JournalEntry entry;
  entry.id = "20240101T000000Z-7";
  entry.step = step;
  entry.postfix_dir = kPostfixDir;
  entry.backup_dir = kStateDir + "/backups/20240101T000000Z-7";
  entry.old_main_sha256 = sha256Hex(kOldMain);
  entry.new_main_sha256 = sha256Hex(new_main);
  entry.old_master_sha256 = sha256Hex(kOldMaster);
  entry.new_master_sha256 = sha256Hex(new_master);
  fs.addFile(entry.backup_dir + "/main.cf", kOldMain, 0600);
  fs.addFile(entry.backup_dir + "/master.cf", kOldMaster, 0600);
  Journal journal(fs, kJournal);
  EXPECT_TRUE(journal.record(entry).ok());
  return entry;
}

// --- apply(): nothing to change ---------------------------------------------------------

TEST(TransactionTest, CompliantHostWithPassingProbeIsKeptWithoutWriting) {
  Host host;
  planner::Plan plan = planFor(heloBaseline());
  host.fs.addFile(kMainCf, plan.main_cf_after);
  planner::Plan compliant = planFor(heloBaseline(), plan.main_cf_after);
  ASSERT_TRUE(compliant.compliant());
  host.fs.clearOperations();

  TransactionReport report = host.transaction().apply(compliant);

  EXPECT_EQ(report.outcome, Outcome::kKept);
  EXPECT_EQ(report.reason, "");
  EXPECT_THAT(stepNames(report), ElementsAre("verify"));
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 0);
  EXPECT_THAT(host.fs.operations(), ElementsAre("readFile " + kNeedsHuman));
  EXPECT_EQ(host.service.reloads(), 0);
  EXPECT_EQ(host.service.restarts(), 0);
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 1);
  ASSERT_THAT(report.probes, SizeIs(1));
  EXPECT_EQ(report.probes[0].target, "127.0.0.1:25");
  EXPECT_TRUE(report.probes[0].verdict.passed);
}

TEST(TransactionTest, CompliantHostWithFailingProbeIsRefusedWithoutWriting) {
  Host host;
  host.prober.script({FakeSmtpProber::withoutStarttls()});
  planner::Plan plan = planFor(heloBaseline());
  host.fs.addFile(kMainCf, plan.main_cf_after);
  planner::Plan compliant = planFor(heloBaseline(), plan.main_cf_after);
  ASSERT_TRUE(compliant.compliant());
  host.fs.clearOperations();

  TransactionReport report = host.transaction().apply(compliant);

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason, HasSubstr("compliant but the live service fails verification"));
  EXPECT_THAT(report.reason, HasSubstr("127.0.0.1:25: STARTTLS not offered"));
  EXPECT_THAT(host.fs.operations(), ElementsAre("readFile " + kNeedsHuman));
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_THAT(host.service.calls(), IsEmpty());
  // Nothing was reloaded: retried only for one probe's timeout (5 s), not the 20 s verify
  // deadline of a change: every 200 ms, 25 probes, 24 waits.
  EXPECT_EQ(host.prober.probes(), 25);
  EXPECT_THAT(host.clock.sleeps(), SizeIs(24));
}

TEST(TransactionTest, CompliantHostWithFailingProbeWaitsNoLongerThanTheProbeTimeout) {
  Host host;
  host.options.probes[0].target.timeout = std::chrono::seconds(2);  // --probe-timeout 2
  host.prober.script({FakeSmtpProber::withoutStarttls()});
  planner::Plan plan = planFor(heloBaseline());
  host.fs.addFile(kMainCf, plan.main_cf_after);
  planner::Plan compliant = planFor(heloBaseline(), plan.main_cf_after);
  const auto started = host.clock.steadyNow();

  TransactionReport report = host.transaction().apply(compliant);

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_LE(host.clock.steadyNow() - started, std::chrono::seconds(2));
  EXPECT_EQ(compliantProbeWindow(host.options), std::chrono::seconds(2));
}

// --- apply(): the happy paths ------------------------------------------------------------

TEST(TransactionTest, VerifiedChangePrunesOldBackupsToBackupKeep) {
  Host host;
  host.postfixAccepts();
  host.options.backup_keep = 2;
  for (const char* id : {"20200101T000000Z-1", "20200102T000000Z-1", "20200103T000000Z-1"}) {
    host.fs.addFile(kStateDir + "/backups/" + id + "/main.cf", kOldMain);
  }
  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));
  ASSERT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  Result<std::vector<BackupInfo>> left = listBackups(host.fs, kStateDir);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].dir, report.backup_dir) << "this change's backup is the newest";
  EXPECT_EQ((*left)[1].id, "20200103T000000Z-1");
  EXPECT_THAT(report.warnings, IsEmpty());
}

TEST(TransactionTest, NonCompliantHostIsRepairedInStepOrder) {
  Host host;
  host.postfixAccepts();
  planner::Plan plan = planFor(heloBaseline());
  ASSERT_EQ(plan.changes.size(), 2u);
  ASSERT_NE(plan.main_cf_after, kOldMain);
  std::string main_cf_at_reload;
  host.service.onCall([&](const std::string&) { main_cf_at_reload = *host.fs.contents(kMainCf); });

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight", "check", "journal",
                                             "swap", "reload", "verify"));
  for (const StepRecord& step : report.steps) EXPECT_TRUE(step.ok) << step.name << step.detail;
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(main_cf_at_reload, plan.main_cf_after);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_EQ(report.backup_dir, kStateDir + "/backups/20240101T000000Z-4242")
      << "named by the time and the pid the options give";
  EXPECT_EQ(host.fs.contents(report.backup_dir + "/main.cf"), kOldMain);
  EXPECT_EQ(host.fs.contents(report.backup_dir + "/master.cf"), kOldMaster);
  EXPECT_EQ(host.service.reloads(), 1);
  EXPECT_EQ(host.service.restarts(), 0);
  // Nothing that `postfix check` validates changed: postconf and postmap only.
  EXPECT_THAT(host.commands.describedCalls(),
              UnorderedElementsAre("postconf -c " + kStage + " -n",
                                   "postmap -c " + kStage + " -q postwarden static:ok"));
  // master.cf did not change, so it was not rewritten.
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 0);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 1);
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, PostfixChecksTheStagedCandidateWhileLiveFilesAreOld) {
  Host host;
  planner::Plan plan = planFor(heloAndServiceBaseline());
  ASSERT_NE(plan.master_cf_after, kOldMaster);
  std::optional<std::string> staged_main, staged_master, live_main;
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0), [&](const os::Command&) {
    staged_main = host.fs.contents(kStage + "/main.cf");
    staged_master = host.fs.contents(kStage + "/master.cf");
    live_main = host.fs.contents(kMainCf);
  });
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_EQ(staged_main, plan.main_cf_after);
  EXPECT_EQ(staged_master, plan.master_cf_after);
  EXPECT_EQ(live_main, kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), plan.master_cf_after);
  EXPECT_THAT(host.commands.unmetExpectations(), IsEmpty());
  // The check commands get the configured timeout.
  ASSERT_THAT(host.commands.calls(), SizeIs(2));
  EXPECT_EQ(host.commands.calls()[0].timeout, std::chrono::milliseconds(30000));
  EXPECT_EQ(host.commands.calls()[1].timeout, std::chrono::milliseconds(30000));
}

TEST(TransactionTest, PostconfWarningsAreShownOnceInTheCheckStep) {
  Host host;
  const std::string overriding = "warning: " + kStage +
                                 "/main.cf, line 4: overriding earlier entry: "
                                 "smtpd_helo_required=no\n";
  host.commands.expect(kPostconf,
                       ScriptedCommandRunner::exited(0, "smtpd_helo_required = yes\n",
                                                     "postconf: warning: unused parameter: x\n"
                                                     "postconf: warning: unused parameter: x\n"
                                                     "postconf: " +
                                                         overriding));
  // postmap reports the same main.cf problem under its own name: shown once.
  host.commands.expect(kPostmap,
                       ScriptedCommandRunner::exited(0, "ok\n", "postmap: " + overriding));

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  const StepRecord* check = findStep(report, "check");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->detail,
            "postconf and postmap accept the candidate (postfix check not needed); "
            "postconf: warning: unused parameter: x; postconf: " +
                overriding.substr(0, overriding.size() - 1));
}

TEST(TransactionTest, ProbePassingOnThirdAttemptIsRepaired) {
  Host host;
  host.postfixAccepts();
  host.prober.script(
      {FakeSmtpProber::refused(), FakeSmtpProber::withoutStarttls(), FakeSmtpProber::passing()});

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_EQ(host.prober.probes(), 3);
  EXPECT_THAT(host.clock.sleeps(),
              ElementsAre(std::chrono::milliseconds(200), std::chrono::milliseconds(200)));
  EXPECT_EQ(host.service.restarts(), 0);
  ASSERT_THAT(report.probes, SizeIs(1));
  EXPECT_TRUE(report.probes[0].verdict.passed);
}

TEST(TransactionTest, RestartOnlyPlanRestartsInsteadOfReloading) {
  Host host;
  host.postfixAccepts();
  planner::Plan plan = planFor(loopbackOnlyBaseline());
  ASSERT_EQ(plan.applyMode(), params::ApplyMode::kRestart);

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight", "check", "journal",
                                             "swap", "restart", "verify"));
  EXPECT_EQ(host.service.restarts(), 1);
  EXPECT_EQ(host.service.reloads(), 0);
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
}

// --- apply(): refused before anything live changed --------------------------------------

TEST(TransactionTest, PostconfRefusalIsRefusedAndLeavesLiveFilesUntouched) {
  Host host;
  host.commands.expect(kPostconf,
                       ScriptedCommandRunner::exited(1, "",
                                                     "postconf: fatal: file master.cf: line 3: bad "
                                                     "field count\n"));

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_EQ(report.reason, "check: Postfix refused the candidate configuration: postconf -c " +
                               kStage +
                               " -n: postconf: fatal: file master.cf: line 3: bad "
                               "field count");
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight", "check"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
  // postmap ran beside postconf (unscripted here: an error), but postconf's refusal is the
  // one reported.
  EXPECT_THAT(host.commands.describedCalls(),
              UnorderedElementsAre("postconf -c " + kStage + " -n",
                                   "postmap -c " + kStage + " -q postwarden static:ok"));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
}

// postconf does not run Postfix's global parameter checks (mail_params_init()); postmap, like
// the `postfix` command, does, and refuses what every Postfix program would die on.
TEST(TransactionTest, GlobalParameterRefusedByPostmapIsRefusedWithoutPostfixCheck) {
  Host host;
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0));
  host.commands.expect(
      kPostmap, ScriptedCommandRunner::exited(1, "",
                                              "postmap: fatal: file " + kStage +
                                                  "/main.cf: parameter default_privs: unknown "
                                                  "user name value: nosuchuser\n"));

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason, HasSubstr("postmap -c " + kStage +
                                       " -q postwarden static:ok: "
                                       "postmap: fatal: file " +
                                       kStage + "/main.cf: parameter default_privs"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.commands.unmetExpectations(), IsEmpty());
  EXPECT_THAT(host.commands.calls(), SizeIs(2));
}

// postconf and postmap only read the stage: they run side by side, not one after the other.
TEST(TransactionTest, PostconfAndPostmapRunSideBySide) {
  Host host;
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int met = 0;  // checks that saw the other one running
  // Each check waits (up to 2 s) until the other one has started too.
  auto meet = [&](const os::Command&) {
    std::unique_lock<std::mutex> lock(mutex);
    ++running;
    changed.notify_all();
    if (changed.wait_for(lock, std::chrono::seconds(2), [&] { return running == 2; })) ++met;
  };
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0), meet);
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0), meet);

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_EQ(met, 2) << "postconf and postmap ran one after the other";
}

TEST(TransactionTest, ChangeThatPostfixCheckValidatesRunsItAndItsRefusalRefuses) {
  Host host;
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(
      kPostfixCheck, ScriptedCommandRunner::exited(1, "", "postfix: fatal: unknown mail_owner\n"));

  TransactionReport report = host.transaction().apply(planFor(mailOwnerBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_EQ(report.reason, "check: Postfix refused the candidate configuration: postfix -c " +
                               kStage + " check: postfix: fatal: unknown mail_owner");
  // postfix check runs last, once postconf and postmap (side by side) accepted the candidate.
  std::vector<std::string> calls = host.commands.describedCalls();
  ASSERT_THAT(calls, SizeIs(3));
  EXPECT_EQ(calls[2], "postfix -c " + kStage + " check");
  calls.pop_back();
  EXPECT_THAT(calls, UnorderedElementsAre("postconf -c " + kStage + " -n",
                                          "postmap -c " + kStage + " -q postwarden static:ok"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_FALSE(host.fs.exists(kJournal));
}

TEST(TransactionTest, ChangeThatPostfixCheckAcceptsNamesWhyItRan) {
  Host host;
  host.postfixAccepts();

  TransactionReport report = host.transaction().apply(planFor(mailOwnerBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  const StepRecord* check = findStep(report, "check");
  ASSERT_NE(check, nullptr);
  EXPECT_EQ(check->detail,
            "postconf, postmap and postfix check (main.cf: mail_owner changes) accept the "
            "candidate");
  EXPECT_THAT(host.commands.describedCalls(), SizeIs(3));
}

TEST(TransactionTest, PostfixCheckWithoutOutputPointsAtSyslog) {
  Host host;
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostfixCheck, ScriptedCommandRunner::exited(1));

  TransactionReport report = host.transaction().apply(planFor(mailOwnerBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason,
              HasSubstr("exit status 1, no output (Postfix logged the reason to syslog)"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

TEST(TransactionTest, StoppedPostfixIsRefusedBeforeAnythingIsTouched) {
  Host host;
  host.service.setRunning(false);

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status"));
  EXPECT_THAT(report.reason, HasSubstr("is not running"));
  EXPECT_THAT(report.reason, HasSubstr("--offline"));
  EXPECT_THAT(host.service.calls(), IsEmpty()) << "a rollback must not start a stopped Postfix";
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

TEST(TransactionTest, UnknownRunningStateProceeds) {
  Host host;
  host.postfixAccepts();
  host.service.setRunning(Status(StatusCode::kUnimplemented, "no status command"));

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired);
  const StepRecord* status = findStep(report, "status");
  ASSERT_NE(status, nullptr);
  EXPECT_THAT(status->detail, HasSubstr("not known"));
}

TEST(TransactionTest, PreflightRefusesMissingCertificateBeforeStaging) {
  Host host;
  planner::Plan plan = planFor(tlsBaseline());
  ASSERT_THAT(plan.tls_material, SizeIs(1));

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight"));
  EXPECT_THAT(report.reason, HasSubstr("cannot read certificate"));
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_FALSE(host.fs.exists(kStage));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

TEST(TransactionTest, FileEditedBetweenPlanAndSwapIsRefusedAndLeftAlone) {
  Host host;
  const std::string edited = kOldMain + "# an operator's edit\nmessage_size_limit = 1\n";
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0),
                       [&](const os::Command&) { host.fs.addFile(kMainCf, edited); });

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason, HasSubstr("changed since it was planned"));
  EXPECT_EQ(host.fs.contents(kMainCf), edited);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, MasterCfEditedBetweenPlanAndSwapIsRefusedAndLeftAlone) {
  Host host;
  const std::string edited = kOldMaster + "# an operator's edit\n";
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0),
                       [&](const os::Command&) { host.fs.addFile(kMasterCf, edited); });

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_EQ(host.fs.contents(kMasterCf), edited);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, FullDiskDuringBackupIsRefusedBeforeAnyLiveWrite) {
  Host host;
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0), [&](const os::Command&) {
    host.fs.failWritesWith(ResourceExhaustedError("No space left on device"));
  });

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight", "check", "journal"));
  EXPECT_THAT(report.reason, HasSubstr("No space left on device"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, FullDiskOnSwapIsRefusedWithLiveFilesStillOld) {
  Host host;
  host.postfixAccepts();
  host.options.crash_point = [&](std::string_view step) {
    if (step == "journaled") host.fs.failWritesWith(ResourceExhaustedError("ENOSPC"));
  };
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(stepNames(report),
              ElementsAre("settle", "status", "preflight", "check", "journal", "swap"));
  EXPECT_THAT(report.reason, HasSubstr("swap: "));
  EXPECT_THAT(report.reason, HasSubstr("ENOSPC"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
}

TEST(TransactionTest, IoErrorOnMainCfAfterMasterCfPutsMasterCfBack) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.failWrite(kMainCf, DataLossError("Input/output error"));
  planner::Plan plan = planFor(heloAndServiceBaseline());
  ASSERT_NE(plan.master_cf_after, kOldMaster);

  TransactionReport report = host.transaction(faulty).apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRefused) << report.reason;
  EXPECT_THAT(report.reason, HasSubstr("Input/output error"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  // master.cf got the new bytes, then the old ones back.
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 2);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(faulty.pending(), 0u);
}

TEST(TransactionTest, FailedRenameOfMainCfAfterMasterCfPutsMasterCfBack) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.beforeWrite(kMainCf,
                     [&] { host.fs.failNextRename(ErrnoToStatus(EIO, "rename main.cf")); });
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction(faulty).apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRefused) << report.reason;
  EXPECT_THAT(report.reason, HasSubstr("rename main.cf"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 2);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  // No temp file of the failed write is left beside main.cf.
  Result<std::vector<std::string>> names = host.fs.listDirectory(kPostfixDir);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("main.cf", "master.cf"));
}

TEST(TransactionTest, SwapThatCannotPutMasterCfBackIsRolledBackFromTheBackup) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.failWrite(kMainCf, DataLossError("EIO on main.cf"));
  faulty.passWrite(kMasterCf);                                     // the new master.cf
  faulty.failWrite(kMasterCf, DataLossError("EIO on master.cf"));  // swap's put-back
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction(faulty).apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRolledBack) << report.reason;
  EXPECT_THAT(report.reason, HasSubstr("swap failed"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_EQ(host.service.restarts(), 1);
  EXPECT_EQ(host.service.reloads(), 0);
}

// --- apply(): rolled back after the swap ------------------------------------------------

TEST(TransactionTest, ProbeFailingUntilDeadlineRollsBackToOldBytes) {
  Host host;
  host.postfixAccepts();
  // STARTTLS missing: fails the expectation, but the service is healthy after the rollback.
  host.prober.script({FakeSmtpProber::withoutStarttls()});
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRolledBack);
  EXPECT_EQ(report.reason, "the change failed verification: 127.0.0.1:25: STARTTLS not offered");
  EXPECT_THAT(stepNames(report),
              ElementsAre("settle", "status", "preflight", "check", "journal", "swap", "reload",
                          "verify", "restore", "restart", "verify rollback"));
  const StepRecord* verify = findStep(report, "verify");
  ASSERT_NE(verify, nullptr);
  EXPECT_FALSE(verify->ok);
  EXPECT_EQ(verify->elapsed, std::chrono::milliseconds(19800));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
  EXPECT_THAT(host.service.calls(), ElementsAre("reload", "restart"));
  // 100 probes until the deadline, then one health probe after the rollback.
  EXPECT_EQ(host.prober.probes(), 101);
  // The backup still holds the old bytes for the operator.
  EXPECT_EQ(host.fs.contents(report.backup_dir + "/main.cf"), kOldMain);
}

TEST(TransactionTest, RollbackThatCannotWriteNeedsHumanAndRecoverFinishesIt) {
  Host host;
  host.postfixAccepts();
  host.prober.script({FakeSmtpProber::withoutStarttls()});
  host.options.crash_point = [&](std::string_view step) {
    if (step == "rolling_back") host.fs.failWritesWith(DataLossError("Input/output error"));
  };
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report.reason, HasSubstr("rollback could not restore the previous files"));
  EXPECT_THAT(report.reason, HasSubstr("Input/output error"));
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_THAT(host.service.calls(), ElementsAre("reload"));
  // The marker could not be written either; the journal says where the agent stopped.
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
  Result<std::optional<JournalEntry>> journal = Journal(host.fs, kJournal).load();
  ASSERT_TRUE(journal.ok() && journal->has_value());
  EXPECT_EQ((*journal)->step, JournalStep::kRollingBack);

  // The disk works again: the next agent run finishes the rollback.
  host.fs.failWritesWith(OkStatus());
  host.options.crash_point = nullptr;
  host.prober.script({FakeSmtpProber::passing()});
  std::optional<TransactionReport> recovered = host.transaction().recover();

  ASSERT_TRUE(recovered.has_value());
  EXPECT_EQ(recovered->outcome, Outcome::kRolledBack);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), ElementsAre("reload", "restart"));
}

TEST(TransactionTest, ReloadFailureRollsBackAndQuotesTheNewLogLines) {
  Host host;
  host.postfixAccepts();
  host.options.log_file = kMailLog;
  host.fs.addFile(kMailLog, "old: postfix/smtpd[1]: warning: from an earlier day\n");
  host.service.scriptReload({FailedPreconditionError("postfix reload exited with status 1")});
  host.service.onCall([&](const std::string& verb) {
    if (verb != "reload") return;
    host.fs.addFile(kMailLog, *host.fs.contents(kMailLog) +
                                  "postfix/master[9]: fatal: bind 0.0.0.0 port 25\n"
                                  "postfix/master[9]: daemon started\n");
  });

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRolledBack);
  EXPECT_EQ(report.reason, "reload failed: postfix reload exited with status 1");
  EXPECT_THAT(report.log_lines, ElementsAre("postfix/master[9]: fatal: bind 0.0.0.0 port 25"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_THAT(host.service.calls(), ElementsAre("reload", "restart"));
  EXPECT_FALSE(host.fs.exists(kJournal));
  // Only the health probe after the rollback ran.
  EXPECT_EQ(host.prober.probes(), 1);
}

TEST(TransactionTest, RollbackWithoutRestartCommandReloads) {
  Host host;
  host.postfixAccepts();
  host.prober.script({FakeSmtpProber::withoutStarttls()});
  host.service.alwaysFailRestartWith(Status(StatusCode::kUnimplemented, "no restart"));

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRolledBack);
  EXPECT_THAT(host.service.calls(), ElementsAre("reload", "restart", "reload"));
  const StepRecord* restart = findStep(report, "restart");
  ASSERT_NE(restart, nullptr);
  EXPECT_TRUE(restart->ok);
  EXPECT_EQ(restart->detail, "no restart command; reloaded");
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

TEST(TransactionTest, RollbackProbesTheListenersOfTheRestoredConfiguration) {
  Host host;
  host.postfixAccepts();
  std::vector<std::string> restored_main_cfs;
  host.options.health_checks = [&](const planner::PostfixConfig& config) {
    restored_main_cfs.push_back(config.main_cf);
    return std::vector<ProbeCheck>{smtpCheck("127.0.0.1", 2525)};
  };
  host.prober.script({FakeSmtpProber::withoutStarttls()});

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRolledBack);
  ASSERT_EQ(host.prober.probes(), 101);
  EXPECT_EQ(host.prober.targets().front(), "127.0.0.1:25");
  EXPECT_EQ(host.prober.targets().back(), "127.0.0.1:2525");
  ASSERT_THAT(report.probes, SizeIs(1));
  EXPECT_EQ(report.probes[0].target, "127.0.0.1:2525");
  EXPECT_THAT(restored_main_cfs, ElementsAre(kOldMain));
}

TEST(TransactionTest, RollbackThatStaysBrokenNeedsHumanAndBlocksLaterApplies) {
  Host host;
  host.postfixAccepts();
  host.prober.script({FakeSmtpProber::refused()});
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport first = host.transaction().apply(plan);

  EXPECT_EQ(first.outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(first.reason,
              HasSubstr("rollback restored the previous files but Postfix does not work"));
  EXPECT_THAT(first.reason, HasSubstr("no connection: connect: Connection refused"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kNeedsHuman), first.reason + "\n");
  EXPECT_EQ(host.fs.stat(kNeedsHuman)->mode, 0600u);
  Transaction transaction = host.transaction();
  EXPECT_EQ(transaction.needsHumanReason(), first.reason + "\n");

  host.fs.clearOperations();
  const size_t commands_before = host.commands.calls().size();
  const size_t service_before = host.service.calls().size();
  const int probes_before = host.prober.probes();
  TransactionReport second = transaction.apply(plan);

  EXPECT_EQ(second.outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(second.reason, HasSubstr("no changes until an operator clears"));
  EXPECT_THAT(second.steps, IsEmpty());
  EXPECT_THAT(host.fs.operations(), ElementsAre("readFile " + kNeedsHuman));
  EXPECT_EQ(host.commands.calls().size(), commands_before);
  EXPECT_EQ(host.service.calls().size(), service_before);
  EXPECT_EQ(host.prober.probes(), probes_before);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

TEST(TransactionTest, ClearingNeedsHumanAllowsTheNextApply) {
  Host host;
  host.postfixAccepts();
  host.fs.addFile(kNeedsHuman, "rollback failed\n", 0600);
  Transaction transaction = host.transaction();
  ASSERT_EQ(transaction.apply(planFor(heloBaseline())).outcome, Outcome::kNeedsHuman);

  ASSERT_TRUE(transaction.clearNeedsHuman().ok());

  EXPECT_EQ(transaction.needsHumanReason(), std::nullopt);
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
  TransactionReport report = transaction.apply(planFor(heloBaseline()));
  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
}

TEST(TransactionTest, StepsAreReportedLiveInOrder) {
  Host host;
  host.postfixAccepts();
  std::vector<std::string> seen;
  Transaction transaction(host.fs, host.commands, host.service, host.prober, host.clock,
                          host.options, [&](const StepRecord& step) { seen.push_back(step.name); });

  TransactionReport report = transaction.apply(planFor(heloBaseline()));

  EXPECT_EQ(seen, stepNames(report));
  EXPECT_THAT(seen, ElementsAre("settle", "status", "preflight", "check", "journal", "swap",
                                "reload", "verify"));
}

// --- an agent killed mid-transaction, and recover() -------------------------------------

TEST(TransactionTest, AgentKilledAfterSwapIsRolledBackByRecover) {
  Host host;
  host.postfixAccepts();
  std::unique_ptr<InMemoryFileSystem> disk;
  host.options.crash_point = [&](std::string_view step) {
    if (step == "swapped") disk = snapshot(host.fs, host.clock);
  };
  planner::Plan plan = planFor(heloAndServiceBaseline());
  (void)host.transaction().apply(plan);
  ASSERT_NE(disk, nullptr);
  ASSERT_EQ(disk->contents(kMainCf), plan.main_cf_after);

  ScriptedCommandRunner commands;
  FakeServiceControl service;
  FakeSmtpProber prober;
  TransactionOptions options = host.options;
  options.crash_point = nullptr;
  Transaction restarted(*disk, commands, service, prober, host.clock, options);
  std::optional<TransactionReport> report = restarted.recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack);
  EXPECT_EQ(disk->contents(kMainCf), kOldMain);
  EXPECT_EQ(disk->contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(disk->exists(kJournal));
  EXPECT_THAT(service.calls(), ElementsAre("restart"));
  EXPECT_THAT(commands.calls(), IsEmpty());
}

TEST(TransactionTest, AgentKilledAfterJournalIsUndoneByRecoverWithoutWrites) {
  Host host;
  host.postfixAccepts();
  std::unique_ptr<InMemoryFileSystem> disk;
  host.options.crash_point = [&](std::string_view step) {
    if (step == "journaled") disk = snapshot(host.fs, host.clock);
  };
  (void)host.transaction().apply(planFor(heloBaseline()));
  ASSERT_NE(disk, nullptr);
  disk->clearOperations();

  FakeServiceControl service;
  FakeSmtpProber prober;
  TransactionOptions options = host.options;
  options.crash_point = nullptr;
  std::optional<TransactionReport> report =
      Transaction(*disk, host.commands, service, prober, host.clock, options).recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack);
  EXPECT_EQ(disk->contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(*disk, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(disk->exists(kJournal));
}

TEST(TransactionTest, AgentKilledAfterVerifyKeepsTheChangeOnRecover) {
  Host host;
  host.postfixAccepts();
  std::unique_ptr<InMemoryFileSystem> disk;
  host.options.crash_point = [&](std::string_view step) {
    if (step == "verified") disk = snapshot(host.fs, host.clock);
  };
  planner::Plan plan = planFor(heloBaseline());
  (void)host.transaction().apply(plan);
  ASSERT_NE(disk, nullptr);

  FakeServiceControl service;
  TransactionOptions options = host.options;
  options.crash_point = nullptr;
  std::optional<TransactionReport> report =
      Transaction(*disk, host.commands, service, host.prober, host.clock, options).recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRepaired);
  EXPECT_EQ(disk->contents(kMainCf), plan.main_cf_after);
  EXPECT_FALSE(disk->exists(kJournal));
  EXPECT_THAT(service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverWithoutJournalReturnsNothing) {
  Host host;

  std::optional<TransactionReport> report = host.transaction().recover();

  EXPECT_FALSE(report.has_value());
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, RecoverAtStagedClearsJournalAndLeavesFilesUntouched) {
  Host host;
  journalFor(host.fs, JournalStep::kStaged, "new main\n");
  host.fs.clearOperations();

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kKept);
  ASSERT_THAT(report->steps, SizeIs(1));
  EXPECT_EQ(report->steps[0].detail,
            "found an interrupted change 20240101T000000Z-7 at step 'staged'");
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverAtVerifiedClearsJournalAndKeepsNewFiles) {
  Host host;
  const std::string new_main = kOldMain + "smtpd_helo_required = yes\n";
  host.fs.addFile(kMainCf, new_main);
  journalFor(host.fs, JournalStep::kVerified, new_main);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRepaired);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_EQ(host.fs.contents(kMainCf), new_main);
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverAtSwappedRollsNewFilesBackToOld) {
  Host host;
  const std::string new_main = "smtpd_helo_required = yes\n";
  const std::string new_master = kOldMaster + "  -o syslog_name=postfix/mx\n";
  host.fs.addFile(kMainCf, new_main);
  host.fs.addFile(kMasterCf, new_master);
  JournalEntry entry = journalFor(host.fs, JournalStep::kSwapped, new_main, new_master);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack);
  EXPECT_EQ(report->reason, "an interrupted change was undone");
  EXPECT_EQ(report->backup_dir, entry.backup_dir);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), ElementsAre("restart"));
  EXPECT_EQ(host.prober.probes(), 1);
}

TEST(TransactionTest, RecoverOfHalfDoneSwapRestoresMasterCf) {
  Host host;
  const std::string new_main = "smtpd_helo_required = yes\n";
  const std::string new_master = kOldMaster + "  -o syslog_name=postfix/mx\n";
  host.fs.addFile(kMasterCf, new_master);  // swap writes master.cf first, then main.cf
  journalFor(host.fs, JournalStep::kSwapping, new_main, new_master);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
}

TEST(TransactionTest, RecoverWithoutBackupNeedsHumanAndKeepsTheJournal) {
  Host host;
  const std::string new_main = "smtpd_helo_required = yes\n";
  host.fs.addFile(kMainCf, new_main);
  JournalEntry entry = journalFor(host.fs, JournalStep::kActivated, new_main);
  ASSERT_TRUE(host.fs.remove(entry.backup_dir + "/main.cf").ok());

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report->reason, HasSubstr("rollback could not restore the previous files"));
  EXPECT_EQ(host.fs.contents(kMainCf), new_main);
  EXPECT_TRUE(host.fs.exists(kJournal));
  EXPECT_EQ(host.fs.contents(kNeedsHuman), report->reason + "\n");
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverLeavesFilesEditedByOthersAndNeedsHuman) {
  Host host;
  const std::string someone_elses = "myhostname = edited.example.org\n";
  host.fs.addFile(kMainCf, someone_elses);
  journalFor(host.fs, JournalStep::kSwapped, "smtpd_helo_required = yes\n");
  host.fs.clearOperations();

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report->reason, HasSubstr("changed during the interrupted change "
                                        "20240101T000000Z-7; not overwriting it"));
  EXPECT_EQ(host.fs.contents(kMainCf), someone_elses);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_TRUE(host.fs.exists(kJournal));
  EXPECT_EQ(host.fs.contents(kNeedsHuman), report->reason + "\n");
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverWithCorruptJournalNeedsHuman) {
  Host host;
  host.fs.addFile(kJournal, "\x7f garbage from a broken disk\n", 0600);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report->reason, HasSubstr("unknown format"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kNeedsHuman), report->reason + "\n");
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverRemovesTempFilesACrashLeftBehind) {
  Host host;
  host.fs.crashAfterNextWrite();
  ASSERT_EQ(host.fs.writeAtomic(kMainCf, "half-done\n").code(), StatusCode::kAborted);
  ASSERT_THAT(*host.fs.listDirectory(kPostfixDir), SizeIs(3));

  std::optional<TransactionReport> report = host.transaction().recover();

  EXPECT_FALSE(report.has_value());
  EXPECT_THAT(*host.fs.listDirectory(kPostfixDir), ElementsAre("main.cf", "master.cf"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
}

// --- apply(): main.cf or master.cf being edited by someone else ------------------------

TEST(TransactionTest, FileEditedAgainDuringTheCoolDownIsRefusedBeforeAnythingIsWritten) {
  // An admin's `postconf -e` loop: main.cf was modified 300 ms ago, and again while the agent
  // waited for Postfix's 2 s cool-down. Every postfix command would stall on it.
  Host host;
  host.postfixAccepts();
  ASSERT_TRUE(host.fs.setModified(kMainCf, host.clock.now() - std::chrono::milliseconds(300)).ok());
  FaultyFileSystem faulty(host.fs);
  faulty.beforeStat(kMainCf, [] {});
  faulty.beforeStat(kMainCf, [&] {
    host.fs.addFile(kMainCf, kOldMain + "message_size_limit = 2\n");  // modified "now"
    host.clock.advance(std::chrono::milliseconds(40));
  });
  host.fs.clearOperations();

  TransactionReport report = host.transaction(faulty).apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(stepNames(report), ElementsAre("settle"));
  EXPECT_EQ(report.reason,
            "settle: main.cf is being edited (modified 40 ms ago), retry later; nothing written");
  EXPECT_THAT(host.clock.sleeps(), ElementsAre(std::chrono::milliseconds(1700)));
  for (const std::string& op : host.fs.operations()) {
    EXPECT_THAT(op, ::testing::Not(::testing::StartsWith("writeAtomic"))) << op;
  }
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_FALSE(host.fs.exists(kStage));
  EXPECT_EQ(faulty.pending(), 0u);
}

TEST(TransactionTest, MasterCfModifiedDuringTheCoolDownIsRefusedToo) {
  Host host;
  ASSERT_TRUE(
      host.fs.setModified(kMasterCf, host.clock.now() - std::chrono::milliseconds(1500)).ok());
  FaultyFileSystem faulty(host.fs);
  faulty.beforeStat(kMasterCf, [] {});
  faulty.beforeStat(kMasterCf, [&] { host.fs.addFile(kMasterCf, kOldMaster + "# edited\n"); });

  TransactionReport report = host.transaction(faulty).apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason, HasSubstr("master.cf is being edited (modified 0 ms ago)"));
  EXPECT_THAT(host.clock.sleeps(), ElementsAre(std::chrono::milliseconds(500)));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_THAT(host.commands.calls(), IsEmpty());
}

TEST(TransactionTest, FreshEditThatStaysPutIsAppliedAfterOneCoolDownWait) {
  Host host;
  host.postfixAccepts();
  ASSERT_TRUE(host.fs.setModified(kMainCf, host.clock.now() - std::chrono::milliseconds(500)).ok());

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  const StepRecord* settle = findStep(report, "settle");
  ASSERT_NE(settle, nullptr);
  EXPECT_EQ(settle->detail, "waited 1500 ms for main.cf (modified 500 ms before) to settle");
  ASSERT_FALSE(host.clock.sleeps().empty());
  EXPECT_EQ(host.clock.sleeps().front(), std::chrono::milliseconds(1500));
}

TEST(TransactionTest, SettledFilesCostNoWait) {
  Host host;
  host.postfixAccepts();

  TransactionReport report = host.transaction().apply(planFor(heloBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(host.clock.sleeps(), IsEmpty());
  EXPECT_EQ(findStep(report, "settle")->detail,
            "main.cf and master.cf not modified in the last 2000 ms");
}

// --- rollback: only verified bytes are restored -----------------------------------------

TEST(TransactionTest, BackupCorruptedDuringTheChangeIsNotRestored) {
  // The fault-injection repro: the reload command appends a line to the backup of main.cf,
  // then fails. The rollback must not write that line into the live main.cf.
  Host host;
  host.postfixAccepts();
  std::string backup_main;
  host.service.scriptReload({FailedPreconditionError("reload failed")});
  host.service.onCall([&](const std::string& verb) {
    if (verb != "reload") return;
    Result<std::vector<std::string>> dirs = host.fs.listDirectory(kStateDir + "/backups");
    ASSERT_TRUE(dirs.ok() && dirs->size() == 1);
    backup_main = kStateDir + "/backups/" + dirs->front() + "/main.cf";
    host.fs.addFile(backup_main, kOldMain + "corrupt = line\n", 0600);
  });
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport report = host.transaction().apply(plan);

  // This run still holds the previous bytes it read (and hashed): those are restored.
  EXPECT_EQ(report.outcome, Outcome::kRolledBack) << report.reason;
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  const std::string expected = sha256Hex(kOldMain).substr(0, 12);
  const std::string actual = sha256Hex(kOldMain + "corrupt = line\n").substr(0, 12);
  const std::string problem = "backup " + backup_main + " failed its check: expected SHA-256 " +
                              expected + "..., found " + actual + "...";
  const StepRecord* restore = findStep(report, "restore");
  ASSERT_NE(restore, nullptr);
  EXPECT_TRUE(restore->ok);
  EXPECT_THAT(restore->detail, HasSubstr(problem));
  EXPECT_THAT(report.warnings, ::testing::Contains(HasSubstr(problem)));
}

TEST(TransactionTest, RecoverWithACorruptBackupWritesNothingAndNeedsHuman) {
  Host host;
  const std::string new_main = kOldMain + "smtpd_helo_required = yes\n";
  host.fs.addFile(kMainCf, new_main);
  JournalEntry entry = journalFor(host.fs, JournalStep::kActivated, new_main);
  const std::string corrupt = kOldMain + "corrupt = line\n";
  host.fs.addFile(entry.backup_dir + "/main.cf", corrupt, 0600);
  host.fs.clearOperations();

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kNeedsHuman);
  EXPECT_EQ(report->reason, "rollback could not restore the previous files: backup " +
                                entry.backup_dir + "/main.cf failed its check: expected SHA-256 " +
                                sha256Hex(kOldMain).substr(0, 12) + "..., found " +
                                sha256Hex(corrupt).substr(0, 12) + "...; nothing written");
  EXPECT_EQ(host.fs.contents(kMainCf), new_main);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 0);
  EXPECT_EQ(host.fs.contents(kNeedsHuman), report->reason + "\n");
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, RecoverChecksBothBackupsBeforeWritingEither) {
  // master.cf's backup is fine and needed, main.cf's is corrupt: not even master.cf is
  // written, so the host is not left half old, half new by the rollback.
  Host host;
  const std::string new_main = "smtpd_helo_required = yes\n";
  const std::string new_master = kOldMaster + "  -o syslog_name=postfix/mx\n";
  host.fs.addFile(kMainCf, new_main);
  host.fs.addFile(kMasterCf, new_master);
  JournalEntry entry = journalFor(host.fs, JournalStep::kSwapped, new_main, new_master);
  host.fs.addFile(entry.backup_dir + "/main.cf", "", 0600);  // truncated
  host.fs.clearOperations();

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report->reason, HasSubstr(entry.backup_dir + "/main.cf failed its check"));
  EXPECT_EQ(host.fs.contents(kMasterCf), new_master);
  EXPECT_EQ(host.fs.contents(kMainCf), new_main);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMasterCf), 0);
}

TEST(TransactionTest, CorruptBackupOfAFileThatIsAlreadyPreviousIsOnlyAWarning) {
  // Only master.cf changed; main.cf's backup is damaged but main.cf needs no restore.
  Host host;
  const std::string new_master = kOldMaster + "  -o syslog_name=postfix/mx\n";
  host.fs.addFile(kMasterCf, new_master);
  JournalEntry entry = journalFor(host.fs, JournalStep::kSwapped, kOldMain, new_master);
  host.fs.addFile(entry.backup_dir + "/main.cf", "garbage", 0600);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack) << report->reason;
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_THAT(report->warnings,
              ::testing::Contains(HasSubstr("not needed, the live main.cf is the previous")));
}

// --- clear: the way out of needs-human ----------------------------------------------------

TEST(TransactionTest, ClearEndsTheFailedChangeSoTheNextRunKeepsTheOperatorsFix) {
  Host host;
  host.postfixAccepts();
  host.prober.script({FakeSmtpProber::refused()});
  TransactionReport failed = host.transaction().apply(planFor(heloBaseline()));
  ASSERT_EQ(failed.outcome, Outcome::kNeedsHuman);
  Result<std::optional<JournalEntry>> left = Journal(host.fs, kJournal).load();
  ASSERT_TRUE(left.ok() && left->has_value());
  ASSERT_EQ((*left)->step, JournalStep::kRollingBack);
  const std::string journal_bytes = *host.fs.contents(kJournal);
  // The operator repairs the host by hand.
  const std::string fixed = kOldMain + "# fixed by hand\n";
  host.fs.addFile(kMainCf, fixed);
  host.settleLiveFiles();

  Result<ClearedState> cleared = host.transaction().clearNeedsHuman();

  ASSERT_TRUE(cleared.ok()) << cleared.status().toString();
  EXPECT_EQ(cleared->reason, failed.reason + "\n");
  ASSERT_TRUE(cleared->ended.has_value());
  EXPECT_EQ(cleared->ended->id, (*left)->id);
  EXPECT_EQ(cleared->ended->step, JournalStep::kRollingBack);
  EXPECT_EQ(cleared->journal_kept_at, failed.backup_dir + "/journal.cleared");
  EXPECT_EQ(host.fs.contents(cleared->journal_kept_at), journal_bytes);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));

  // The next run has nothing to resume, and changes the fixed host like any other.
  host.prober.script({FakeSmtpProber::passing()});
  const size_t service_before = host.service.calls().size();
  EXPECT_FALSE(host.transaction().recover().has_value());
  EXPECT_EQ(host.fs.contents(kMainCf), fixed);
  EXPECT_EQ(host.service.calls().size(), service_before);
  TransactionReport next = host.transaction().apply(planFor(heloBaseline(), fixed));
  EXPECT_EQ(next.outcome, Outcome::kRepaired) << next.reason;
}

TEST(TransactionTest, ClearKeepsAnUnreadableJournalBesideTheState) {
  Host host;
  host.fs.addFile(kJournal, "\x7f garbage\n", 0600);
  host.fs.addFile(kNeedsHuman, "journal has an unknown format\n", 0600);

  Result<ClearedState> cleared = host.transaction().clearNeedsHuman();

  ASSERT_TRUE(cleared.ok()) << cleared.status().toString();
  EXPECT_TRUE(cleared->unreadable_journal);
  EXPECT_FALSE(cleared->ended.has_value());
  EXPECT_EQ(cleared->journal_kept_at, kStateDir + "/journal.cleared-20240101T000000Z");
  EXPECT_EQ(host.fs.contents(cleared->journal_kept_at), "\x7f garbage\n");
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
  EXPECT_FALSE(host.transaction().recover().has_value());
}

TEST(TransactionTest, ClearThatCannotMoveTheJournalKeepsTheHostNeedingAHuman) {
  Host host;
  journalFor(host.fs, JournalStep::kRollingBack, "new main\n");
  host.fs.addFile(kNeedsHuman, "rollback failed\n", 0600);
  host.fs.failNextRename(PermissionDeniedError("read-only file system"));

  Result<ClearedState> cleared = host.transaction().clearNeedsHuman();

  EXPECT_EQ(cleared.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(host.fs.exists(kJournal));
  EXPECT_TRUE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, ClearWithNothingToClearChangesNothing) {
  Host host;
  host.fs.clearOperations();

  Result<ClearedState> cleared = host.transaction().clearNeedsHuman();

  ASSERT_TRUE(cleared.ok());
  EXPECT_FALSE(cleared->reason.has_value());
  EXPECT_FALSE(cleared->ended.has_value());
  EXPECT_EQ(cleared->journal_kept_at, "");
  for (const std::string& op : host.fs.operations()) {
    EXPECT_THAT(op, ::testing::Not(::testing::StartsWith("writeAtomic"))) << op;
    EXPECT_THAT(op, ::testing::Not(::testing::StartsWith("rename"))) << op;
  }
}

// --- faults after the swap: durability and the journal ----------------------------------

TEST(TransactionTest, DirectoryFsyncFailingAfterTheSwapGoesOnAndWarns) {
  Host host;
  host.postfixAccepts();
  host.fs.failSyncAfterNextRename(DataLossError("Input/output error"), kMainCf);
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport report = host.transaction().apply(plan);

  // The new bytes reached main.cf: reload and probe them rather than rewrite the failing
  // disk with a rollback and restart Postfix.
  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_THAT(host.service.calls(), ElementsAre("reload"));
  const StepRecord* swap = findStep(report, "swap");
  ASSERT_NE(swap, nullptr);
  EXPECT_TRUE(swap->ok);
  EXPECT_THAT(swap->detail, HasSubstr("warning: "));
  EXPECT_THAT(swap->detail, HasSubstr(std::string(os::kNotDurableMarker)));
  ASSERT_THAT(report.warnings, SizeIs(1));
  EXPECT_THAT(report.warnings[0], HasSubstr("Input/output error"));
  EXPECT_FALSE(host.fs.exists(kJournal));
}

TEST(TransactionTest, NotDurableMasterCfStillGetsMainCfWrittenAndReloaded) {
  Host host;
  host.postfixAccepts();
  host.fs.failSyncAfterNextRename(DataLossError("Input/output error"), kMasterCf);
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_EQ(host.fs.contents(kMasterCf), plan.master_cf_after);
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_EQ(host.service.restarts(), 0);
  EXPECT_THAT(report.warnings, SizeIs(1));
}

TEST(TransactionTest, JournalRecordFailingAfterTheSwapIsReportedNotSilent) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.passWrite(kJournal);                                     // swapping
  faulty.failWrite(kJournal, DataLossError("journal disk EIO"));  // swapped
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport report = host.transaction(faulty).apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "status", "preflight", "check", "journal",
                                             "swap", "journal", "reload", "verify"));
  const StepRecord& failed = report.steps[6];
  EXPECT_FALSE(failed.ok);
  EXPECT_THAT(failed.detail, HasSubstr("recording step 'swapped'"));
  EXPECT_THAT(failed.detail, HasSubstr("journal disk EIO"));
  ASSERT_THAT(report.warnings, SizeIs(1));
  EXPECT_THAT(report.warnings[0], HasSubstr("journal disk EIO"));
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_FALSE(host.fs.exists(kJournal));
}

TEST(TransactionTest, VerifiedChangeWhoseJournalCanNeitherRecordNorBeRemovedNeedsHuman) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.passWrite(kJournal);                        // swapping
  faulty.passWrite(kJournal);                        // swapped
  faulty.passWrite(kJournal);                        // activated
  faulty.failWrite(kJournal, DataLossError("EIO"));  // verified
  faulty.failRemove(kJournal, DataLossError("EIO"));
  planner::Plan plan = planFor(heloBaseline());

  TransactionReport report = host.transaction(faulty).apply(plan);

  // Otherwise the next run would find 'activated' and roll back a change that works.
  EXPECT_EQ(report.outcome, Outcome::kNeedsHuman);
  EXPECT_THAT(report.reason, HasSubstr("was verified, but the journal could neither record"));
  EXPECT_THAT(report.reason, HasSubstr("postwarden-agent clear"));
  EXPECT_EQ(host.fs.contents(kNeedsHuman), report.reason + "\n");
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_THAT(host.service.calls(), ElementsAre("reload"));
  EXPECT_EQ(faulty.pending(), 0u);
}

TEST(TransactionTest, VerifiedChangeWhoseJournalIsOnlyNotRemovedIsRepairedWithAWarning) {
  Host host;
  host.postfixAccepts();
  FaultyFileSystem faulty(host.fs);
  faulty.failRemove(kJournal, DataLossError("EIO"));

  TransactionReport report = host.transaction(faulty).apply(planFor(heloBaseline()));

  // The journal says 'verified': the next run keeps the change.
  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(report.warnings, ::testing::Contains(HasSubstr("removing the journal")));
  Result<std::optional<JournalEntry>> journal = Journal(host.fs, kJournal).load();
  ASSERT_TRUE(journal.ok() && journal->has_value());
  EXPECT_EQ((*journal)->step, JournalStep::kVerified);
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

// --- which changes need the full `postfix check` ---------------------------------------

planner::Plan textPlan(std::string main_before, std::string main_after,
                       std::string master_before = kOldMaster,
                       std::string master_after = kOldMaster) {
  planner::Plan plan;
  plan.main_cf_before = std::move(main_before);
  plan.main_cf_after = std::move(main_after);
  plan.master_cf_before = std::move(master_before);
  plan.master_cf_after = std::move(master_after);
  return plan;
}

TEST(FullCheckReasonTest, SmtpdSettingsAndServiceOptionsNeedNoPostfixCheck) {
  EXPECT_EQ(fullCheckReason(planFor(heloBaseline())), std::nullopt);
  EXPECT_EQ(fullCheckReason(planFor(heloAndServiceBaseline())), std::nullopt);
  EXPECT_EQ(fullCheckReason(planFor(tlsBaseline())), std::nullopt);
  EXPECT_EQ(fullCheckReason(planFor(loopbackOnlyBaseline())), std::nullopt);
}

TEST(FullCheckReasonTest, WhatPostfixScriptValidatesNeedsIt) {
  for (const std::string name :
       {"mail_owner", "setgid_group", "queue_directory", "data_directory", "meta_directory",
        "daemon_directory", "command_directory", "shlib_directory", "process_id_directory",
        "html_directory", "maillog_file", "maillog_file_prefixes", "import_environment",
        "sendmail_path", "mailq_path", "newaliases_path", "hash_queue_depth", "hash_queue_names"}) {
    EXPECT_EQ(fullCheckReason(textPlan(kOldMain, kOldMain + name + " = x\n")),
              "main.cf: " + name + " changes")
        << name;
    // Removed (back to the default) counts too.
    EXPECT_EQ(fullCheckReason(textPlan(kOldMain + name + " = x\n", kOldMain)),
              "main.cf: " + name + " changes")
        << name;
  }
  // Defined the same way in both: no change.
  EXPECT_EQ(fullCheckReason(
                textPlan(kOldMain + "mail_owner = postfix\n", "mail_owner = postfix\n" + kOldMain)),
            std::nullopt);
}

TEST(FullCheckReasonTest, CheckedParameterThatNamesAChangedOneNeedsIt) {
  const std::string main_cf = kOldMain + "queue_directory = ${spool_base}/postfix\n";
  EXPECT_EQ(fullCheckReason(textPlan(main_cf + "spool_base = /var/spool\n",
                                     main_cf + "spool_base = /srv/spool\n")),
            "main.cf: queue_directory refers to spool_base, which changes");
  EXPECT_EQ(fullCheckReason(textPlan(main_cf + "spool_base = /var/spool\n",
                                     main_cf + "spool_base = /var/spool\nsmtpd_banner = x\n")),
            std::nullopt);
}

TEST(FullCheckReasonTest, MasterCfServicesAddedOrRemovedNeedIt) {
  const std::string added = kOldMaster + "submission inet n - y - - smtpd\n";
  EXPECT_EQ(fullCheckReason(textPlan(kOldMain, kOldMain, kOldMaster, added)),
            "master.cf: service submission/inet (smtpd) added");
  const std::string without_pickup =
      "smtp      inet  n       -       y       -       -       smtpd\n"
      "smtp      unix  -       -       y       -       -       smtp\n";
  EXPECT_EQ(fullCheckReason(textPlan(kOldMain, kOldMain, kOldMaster, without_pickup)),
            "master.cf: service pickup/unix (pickup) removed");
  const std::string with_option =
      kOldMaster + "  -o syslog_name=postfix/out\n";  // an option of the last service
  EXPECT_EQ(fullCheckReason(textPlan(kOldMain, kOldMain, kOldMaster, with_option)), std::nullopt);
}

// --- --offline: every safety step but status, reload/restart and probe --------------------

TEST(TransactionTest, OfflineChangeIsCheckedJournaledAndSwappedWithoutTouchingPostfix) {
  Host host;
  host.postfixAccepts();
  host.service.setRunning(false);  // a stopped Postfix: the status step would refuse
  host.options.offline = true;
  std::vector<std::string> journaled;
  host.options.crash_point = [&](std::string_view step) {
    Result<std::optional<JournalEntry>> entry = Journal(host.fs, kJournal).load();
    journaled.push_back(std::string(step) + ":" +
                        (entry.ok() && entry->has_value()
                             ? std::string(journalStepName((*entry)->step))
                             : std::string("none")));
  };
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction().apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRepaired) << report.reason;
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "preflight", "check", "journal", "swap"));
  EXPECT_THAT(host.commands.describedCalls(),
              UnorderedElementsAre("postconf -c " + kStage + " -n",
                                   "postmap -c " + kStage + " -q postwarden static:ok"));
  EXPECT_THAT(journaled, ElementsAre("journaled:swapping", "swapped:swapped", "verified:verified"));
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_EQ(host.fs.contents(kMainCf), plan.main_cf_after);
  EXPECT_EQ(host.fs.contents(kMasterCf), plan.master_cf_after);
  EXPECT_EQ(host.fs.contents(report.backup_dir + "/main.cf"), kOldMain);
  EXPECT_EQ(host.fs.contents(report.backup_dir + "/master.cf"), kOldMaster);
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
  ASSERT_THAT(report.warnings, SizeIs(1));
  EXPECT_THAT(report.warnings[0], HasSubstr("Postfix was not reloaded"));
  EXPECT_THAT(report.warnings[0], HasSubstr("not verified on the wire"));
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, OfflineChangeThatPostfixRefusesWritesNothing) {
  Host host;
  host.options.offline = true;
  host.service.setRunning(false);
  host.commands.expect(kPostconf, ScriptedCommandRunner::exited(0));
  host.commands.expect(kPostmap, ScriptedCommandRunner::exited(0));
  host.commands.expect(
      kPostfixCheck, ScriptedCommandRunner::exited(1, "", "postfix: fatal: unknown mail_owner\n"));

  TransactionReport report = host.transaction().apply(planFor(mailOwnerBaseline()));

  EXPECT_EQ(report.outcome, Outcome::kRefused);
  EXPECT_THAT(report.reason, HasSubstr("unknown mail_owner"));
  EXPECT_THAT(stepNames(report), ElementsAre("settle", "preflight", "check"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(countOps(host.fs, "writeAtomic " + kMainCf), 0);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_FALSE(host.fs.exists(kStateDir + "/backups"));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
}

TEST(TransactionTest, OfflineCompliantHostIsKeptWithoutProbing) {
  Host host;
  host.options.offline = true;
  planner::Plan plan = planFor(heloBaseline());
  planner::Plan compliant = planFor(heloBaseline(), plan.main_cf_after);
  ASSERT_TRUE(compliant.compliant());

  TransactionReport report = host.transaction().apply(compliant);

  EXPECT_EQ(report.outcome, Outcome::kKept);
  EXPECT_THAT(report.steps, IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_THAT(host.service.calls(), IsEmpty());
}

TEST(TransactionTest, OfflineSwapFailureRestoresTheBackupWithoutStartingPostfix) {
  Host host;
  host.postfixAccepts();
  host.options.offline = true;
  FaultyFileSystem faulty(host.fs);
  faulty.failWrite(kMainCf, DataLossError("EIO on main.cf"));
  faulty.passWrite(kMasterCf);                                     // the new master.cf
  faulty.failWrite(kMasterCf, DataLossError("EIO on master.cf"));  // swap's put-back
  planner::Plan plan = planFor(heloAndServiceBaseline());

  TransactionReport report = host.transaction(faulty).apply(plan);

  EXPECT_EQ(report.outcome, Outcome::kRolledBack) << report.reason;
  EXPECT_THAT(report.reason, HasSubstr("swap failed"));
  EXPECT_THAT(stepNames(report),
              ElementsAre("settle", "preflight", "check", "journal", "swap", "restore"));
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_EQ(host.fs.contents(kMasterCf), kOldMaster);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
  EXPECT_THAT(report.warnings, Contains(HasSubstr("Postfix was not restarted")));
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, OfflineRecoverRestoresAnInterruptedChangeWithoutStartingPostfix) {
  Host host;
  host.options.offline = true;
  const std::string new_main = kOldMain + "smtpd_tls_auth_only = yes\n";
  journalFor(host.fs, JournalStep::kSwapped, new_main);
  host.fs.addFile(kMainCf, new_main);

  std::optional<TransactionReport> report = host.transaction().recover();

  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->outcome, Outcome::kRolledBack) << report->reason;
  EXPECT_EQ(host.fs.contents(kMainCf), kOldMain);
  EXPECT_FALSE(host.fs.exists(kJournal));
  EXPECT_THAT(host.service.calls(), IsEmpty());
  EXPECT_EQ(host.prober.probes(), 0);
  EXPECT_THAT(host.commands.calls(), IsEmpty());
  EXPECT_FALSE(host.fs.exists(kNeedsHuman));
}

TEST(TransactionTest, OutcomeNamesAreStable) {
  EXPECT_EQ(outcomeName(Outcome::kKept), "kept");
  EXPECT_EQ(outcomeName(Outcome::kRepaired), "repaired");
  EXPECT_EQ(outcomeName(Outcome::kRefused), "refused");
  EXPECT_EQ(outcomeName(Outcome::kRolledBack), "rolled_back");
  EXPECT_EQ(outcomeName(Outcome::kNeedsHuman), "needs_human");
}

}  // namespace
}  // namespace postwarden::agent::applier
