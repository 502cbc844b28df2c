// End-to-end corpus of real-world Postfix layouts: for each pattern that public mail-server
// projects ship (mailcow, docker-mailserver, Mailu, iRedMail, Mail-in-a-Box, YunoHost; only
// their patterns were studied, every fixture below is our own and minimal), the real
// postwarden-agent plans and applies a shipped baseline, and the real `postconf -c DIR -n` /
// `-P` read back what every governed service effectively runs with. Per layout:
//   - plan exits as expected and says what it will do (named listener, master.cf line, ...);
//   - apply succeeds: live (reload and loopback probe) on a sandbox where the layout can run,
//     with --offline (files written and checked by Postfix, nothing running) where it cannot
//     (a listener on port 25 itself);
//   - `postconf -n`, and `postconf -P -x` / `-x` per governed service, show the baseline's
//     values, and the overrides of services the baseline does not govern are still there;
//   - a second plan is clean.
// Every layout starts from Debian's own main.cf and master.cf templates, read at test time from
// the installed postfix package (never copied into the repository), made runnable in the
// sandbox (its isolation settings, no chroot), with the layout's pattern on top.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/os/process_command_runner.h"
#include "tests/e2e/postfix_sandbox.h"
#include "tests/fakes/certificate_generator.h"
#include "tests/fakes/postfix_package_files.h"

namespace postwarden::testing {
namespace {

namespace fs = std::filesystem;
using os::CommandResult;

const std::string kSource = POSTWARDEN_SOURCE_DIR;
const std::string kAgent = POSTWARDEN_AGENT_PATH;
const std::string kHardening = "smtp-auth-hardening.yaml";
const std::string kSubmission = "submission-587.yaml";

// What policies/smtp-auth-hardening.yaml sets in main.cf, as `postconf -x` prints it.
const std::map<std::string, std::string> kHardeningValues = {
    {"smtpd_tls_security_level", "may"},
    {"smtpd_tls_auth_only", "yes"},
    {"smtpd_sasl_security_options", "noanonymous, noplaintext"},
    {"smtpd_sasl_tls_security_options", "noanonymous"}};

std::vector<std::string> splitFields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> fields;
  for (std::string f; in >> f;) fields.push_back(f);
  return fields;
}

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The name of a "name = value" line, "" for comments, blanks and continuation lines.
std::string definedName(const std::string& line) {
  if (line.empty() || line[0] == '#' || line[0] == ' ' || line[0] == '\t') return "";
  const size_t end = line.find_first_of(" \t=");
  return line.substr(0, end);
}

// A layout under construction: main.cf and master.cf text with placeholders, the files it
// needs, and the listeners it names. Placeholders, replaced before writing:
//   {MX}        the port-25 listener: 127.0.0.1:<sandbox port> live, Layout::mx_name offline
//   {SUB}       a submission listener (127.0.0.1:<free port>, --role submission=PORT)
//   {SMTPS}     a submissions/smtps listener (127.0.0.1:<free port>, --role submissions=PORT)
//   {REINJECT}  a content-filter re-injection listener (127.0.0.1:<free port>, no role)
//   {TLS}       the sandbox's certificate directory (key.pem, cert.pem)
struct Build {
  std::string main_cf;    // Debian's main.cf + the sandbox's isolation settings
  std::string master_cf;  // the layout's listeners, put where Debian has "smtp inet"
  std::map<std::string, std::string> files;  // extra files: path (placeholders allowed) -> text
  bool symlinked_main_cf = false;

  // Replaces the definition of `name` (single-line definitions only), or appends one.
  void set(const std::string& name, const std::string& value) {
    std::istringstream in(main_cf);
    std::string out;
    bool done = false;
    for (std::string line; std::getline(in, line);) {
      if (!done && definedName(line) == name) {
        out += name + " = " + value + "\n";
        done = true;
      } else {
        out += line + "\n";
      }
    }
    if (!done) out += name + " = " + value + "\n";
    main_cf = out;
  }
  void drop(const std::string& name) {
    std::istringstream in(main_cf);
    std::string out;
    for (std::string line; std::getline(in, line);) {
      if (definedName(line) != name) out += line + "\n";
    }
    main_cf = out;
  }
  void append(const std::string& text) { main_cf += text; }
};

// One pattern. Strings may hold the placeholders of Build.
struct Layout {
  std::string name;    // the test's name
  std::string origin;  // which projects use the pattern, and how
  std::string policy = kHardening;
  // Empty: the port-25 listener is the sandbox's loopback port. Otherwise its name in master.cf,
  // and the layout is applied --offline (the sandbox never listens on port 25).
  std::string mx_name;
  // Applied --offline although it could run here; the reason, when set.
  std::string offline_because;
  std::function<void(Build&)> build;
  int plan_exit = 2;
  std::vector<std::string> plan_says;  // substrings of plan's stdout
  std::vector<std::string> governed;   // "service/type" that get the baseline's main.cf values
  std::map<std::string, std::string> expect_effective;  // "service/type/param" -> value after
  std::map<std::string, std::string> expect_kept;       // `postconf -P` entries still there
  std::vector<std::string> expect_gone;                 // `postconf -P` entries gone after apply
  std::vector<std::string> still_duplicated;            // main.cf names postconf still warns about
};

// gtest prints the parameter of a failing test: its name, not its bytes.
void PrintTo(const Layout& layout, std::ostream* os) { *os << layout.name; }

std::string debianMainCf() {
  const std::string text = postfixPackageFile("main.cf.debian");
  EXPECT_NE(text.find("compatibility_level"), std::string::npos)
      << "no main.cf.debian in " << kPostfixPackageDir << "; run script/bootstrap";
  return text;
}

// Debian's master.cf made runnable here: no chroot (the sandbox has no chroot tree), and its
// "smtp inet" entry replaced by `listeners`.
std::string debianMasterCf(const std::string& listeners) {
  const std::string dist = postfixPackageFile("master.cf.dist");
  EXPECT_NE(dist.find("smtp      inet"), std::string::npos)
      << "no master.cf.dist in " << kPostfixPackageDir << "; run script/bootstrap";
  std::istringstream in(dist);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = splitFields(line);
    const bool entry =
        !line.empty() && line[0] != '#' && line[0] != ' ' && line[0] != '\t' && f.size() >= 8;
    if (!entry) {
      out += line + "\n";
    } else if (f[0] == "smtp" && f[1] == "inet") {
      out += listeners;
    } else {
      f[4] = "n";
      std::string rebuilt;
      for (const std::string& field : f) rebuilt += (rebuilt.empty() ? "" : " ") + field;
      out += rebuilt + "\n";
    }
  }
  return out;
}

// `postconf` output "name = value" lines as a map ("name =" for empty values).
std::map<std::string, std::string> parseAssignments(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find(" = ");
    if (eq != std::string::npos) {
      out[line.substr(0, eq)] = line.substr(eq + 3);
    } else if (line.size() > 2 && line.compare(line.size() - 2, 2, " =") == 0) {
      out[line.substr(0, line.size() - 2)] = "";
    }
  }
  return out;
}

std::vector<Layout> corpus();

class LayoutCorpusTest : public PostfixSandboxFixture,
                         public ::testing::WithParamInterface<Layout> {
 protected:
  void SetUp() override {
    PostfixSandboxFixture::SetUp();
    if (HasFatalFailure()) return;
    const Layout& layout = GetParam();
    live_ = layout.mx_name.empty() && layout.offline_because.empty();
    names_["{MX}"] =
        layout.mx_name.empty() ? "127.0.0.1:" + std::to_string(sandbox().port()) : layout.mx_name;
    names_["{TLS}"] = sandbox().configDir() + "/tls";
    roles_ = {"smtp=" + std::to_string(sandbox().port())};
    // Free loopback ports for the other listeners: sandboxes take theirs from 20000-31999,
    // these come from the ephemeral range and were free a moment ago.
    auto listener = [&](const std::string& placeholder, const std::string& role,
                        const std::string& offline_name) {
      if (!live_) {
        names_[placeholder] = offline_name;
        return;
      }
      const int port = freeLoopbackPort();
      ASSERT_GT(port, 0);
      names_[placeholder] = "127.0.0.1:" + std::to_string(port);
      if (!role.empty()) roles_.push_back(role + "=" + std::to_string(port));
    };
    listener("{SUB}", "submission", "submission");
    listener("{SMTPS}", "submissions", "smtps");
    listener("{REINJECT}", "", "127.0.0.1:10025");
  }

  std::string expand(const std::string& text) const {
    std::string out = text;
    for (const auto& [placeholder, value] : names_) out = replaceAll(out, placeholder, value);
    return out;
  }

  std::string masterCfPath() { return sandbox().configDir() + "/master.cf"; }

  // Debian's main.cf with the sandbox's own settings (queue, log, certificate, SASL, loopback)
  // added, except those Debian's template already defines.
  std::string sandboxedDebianMainCf() {
    std::string main_cf = debianMainCf();
    std::map<std::string, bool> defined;
    std::istringstream debian(main_cf);
    for (std::string line; std::getline(debian, line);) defined[definedName(line)] = true;
    main_cf += "\n# The sandbox's isolation (script/postfix-sandbox).\n";
    std::istringstream sandbox_main(readFileText(sandbox().mainCfPath()));
    for (std::string line; std::getline(sandbox_main, line);) {
      const std::string name = definedName(line);
      if (!name.empty() && !defined[name]) main_cf += line + "\n";
    }
    return main_cf;
  }

  // Writes the layout's files; live layouts run them (the master.cf listeners need a restart).
  void install(const Build& build) {
    Status stopped = sandbox().stop();
    ASSERT_TRUE(stopped.ok()) << stopped.toString();
    for (const auto& [path, text] : build.files) writeFileText(expand(path), text, 0600);
    const std::string main_cf = expand(build.main_cf);
    if (build.symlinked_main_cf) {
      // Managed elsewhere (a mounted volume, a configuration repository) and linked in.
      const std::string managed = sandbox().dir() + "/managed";
      fs::create_directories(managed);
      fs::permissions(managed, fs::perms::owner_all | fs::perms::group_read |
                                   fs::perms::group_exec | fs::perms::others_read |
                                   fs::perms::others_exec);
      writeFileText(managed + "/main.cf", main_cf);
      fs::remove(sandbox().mainCfPath());
      ASSERT_EQ(::symlink((managed + "/main.cf").c_str(), sandbox().mainCfPath().c_str()), 0);
    } else {
      writeFileText(sandbox().mainCfPath(), main_cf);
    }
    writeFileText(masterCfPath(), expand(debianMasterCf(build.master_cf)));
    if (live_) {
      Status restarted = sandbox().restart();
      ASSERT_TRUE(restarted.ok()) << restarted.toString() << "\n"
                                  << sandbox().readLog() << "\n"
                                  << readFileText(masterCfPath());
    }
  }

  CommandResult agent(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kAgent};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--postfix-dir", sandbox().configDir()});
    for (const std::string& role : roles_) argv.insert(argv.end(), {"--role", role});
    CommandResult r = runProgram(argv, std::chrono::seconds(90));
    last_output_ = r.stdout_data + r.stderr_data;
    return r;
  }
  std::string policy() const { return kSource + "/policies/" + GetParam().policy; }
  CommandResult plan() { return agent({"plan", "--policy", policy()}); }
  CommandResult apply() {
    std::vector<std::string> args = {"apply", "--policy", policy(), "--state-dir",
                                     sandbox().dir() + "/agent-state"};
    if (live_) {
      args.insert(args.end(), {"--verify-deadline", "8"});
    } else {
      args.push_back("--offline");
    }
    return agent(args);
  }

  // The real postconf: stdout as a map, stderr kept for its warnings.
  std::map<std::string, std::string> postconf(const std::vector<std::string>& flags,
                                              std::string* warnings = nullptr) {
    std::vector<std::string> argv = {internal::findProgram("postconf"), "-c",
                                     sandbox().configDir()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    CommandResult r = runProgram(argv, std::chrono::seconds(30));
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    if (warnings) *warnings = r.stderr_data;
    return parseAssignments(r.stdout_data);
  }

  bool live_ = true;
  std::map<std::string, std::string> names_;
  std::vector<std::string> roles_;
  std::string last_output_;
};

TEST_P(LayoutCorpusTest, PlanApplyReadBackAndSecondPlanClean) {
  const Layout& layout = GetParam();
  SCOPED_TRACE(layout.origin);
  SCOPED_TRACE(layout.offline_because.empty() ? "" : "offline: " + layout.offline_because);
  Build build;
  build.main_cf = sandboxedDebianMainCf();
  layout.build(build);
  ASSERT_NO_FATAL_FAILURE(install(build));

  // plan
  CommandResult planned = plan();
  EXPECT_EQ(planned.exit_code, layout.plan_exit) << last_output_;
  for (const std::string& says : layout.plan_says) {
    EXPECT_NE(planned.stdout_data.find(expand(says)), std::string::npos)
        << "plan does not say: " << expand(says) << "\n"
        << last_output_;
  }

  // apply
  CommandResult applied = apply();
  ASSERT_EQ(applied.exit_code, 0) << last_output_ << "\n" << sandbox().readLog();
  EXPECT_NE(applied.stdout_data.find(layout.plan_exit == 2 ? "result: repaired" : "result: kept"),
            std::string::npos)
      << last_output_;
  if (build.symlinked_main_cf) {
    EXPECT_TRUE(fs::is_symlink(sandbox().mainCfPath()));
  }

  // read back: postconf -n, -x and -P -x
  std::string n_warnings;
  const std::map<std::string, std::string> n = postconf({"-n"}, &n_warnings);
  const std::map<std::string, std::string> all = postconf({"-x"});
  const std::map<std::string, std::string> per_service = postconf({"-P", "-x"});
  const std::map<std::string, std::string> raw_per_service = postconf({"-P"});
  auto effective = [&](const std::string& service, const std::string& parameter) {
    auto it = per_service.find(service + "/" + parameter);
    if (it != per_service.end()) return it->second;
    auto main_value = all.find(parameter);
    return main_value == all.end() ? std::string("(undefined)") : main_value->second;
  };
  const std::string master_after = readFileText(masterCfPath());
  if (layout.policy == kHardening) {
    for (const auto& [parameter, value] : kHardeningValues) {
      auto it = n.find(parameter);
      EXPECT_TRUE(it != n.end() && it->second == value)
          << "postconf -n " << parameter << ": " << (it == n.end() ? "(not set)" : it->second);
      for (const std::string& service : layout.governed) {
        EXPECT_EQ(effective(expand(service), parameter), value)
            << expand(service) << " " << parameter << "\n"
            << master_after;
      }
    }
  }
  for (const auto& [key, value] : layout.expect_effective) {
    const std::string k = expand(key);
    const size_t slash = k.rfind('/');
    EXPECT_EQ(effective(k.substr(0, slash), k.substr(slash + 1)), value) << k << "\n"
                                                                         << master_after;
  }
  for (const auto& [key, value] : layout.expect_kept) {
    auto it = raw_per_service.find(expand(key));
    EXPECT_TRUE(it != raw_per_service.end() && it->second == expand(value))
        << expand(key) << " should still be '" << expand(value) << "'\n"
        << master_after;
  }
  for (const std::string& key : layout.expect_gone) {
    EXPECT_EQ(raw_per_service.count(expand(key)), 0u) << expand(key) << "\n" << master_after;
  }
  // No governed parameter is left with several main.cf entries: Postfix would warn
  // "overriding earlier entry" for it each time it reads main.cf.
  for (const auto& [parameter, value] : kHardeningValues) {
    EXPECT_EQ(n_warnings.find("overriding earlier entry: " + parameter), std::string::npos)
        << n_warnings;
  }
  for (const std::string& name : layout.still_duplicated) {
    EXPECT_NE(n_warnings.find("overriding earlier entry: " + name), std::string::npos)
        << n_warnings;
  }

  // on the wire (live): STARTTLS offered, no AUTH before it
  if (live_ && layout.policy == kHardening) {
    const std::string ehlo = sandbox().ehlo();
    EXPECT_NE(ehlo.find("STARTTLS"), std::string::npos) << ehlo;
    EXPECT_EQ(ehlo.find("AUTH"), std::string::npos) << ehlo;
  }

  // a second plan is clean
  CommandResult again = plan();
  EXPECT_EQ(again.exit_code, 0) << last_output_;
  EXPECT_NE(again.stdout_data.find("compliant: no changes"), std::string::npos) << last_output_;
}

std::string layoutName(const ::testing::TestParamInfo<Layout>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Corpus, LayoutCorpusTest, ::testing::ValuesIn(corpus()), layoutName);

// A plain port-25 smtpd, for layouts whose pattern is elsewhere.
const char kPlainMx[] = "{MX} inet n - n - - smtpd\n";

std::vector<Layout> corpus() {
  std::vector<Layout> layouts;

  layouts.push_back({
      .name = "SmtpOverrideContradictsTheBaseline",
      .origin = "layout as many hand-made and installer-made hosts have it: the port-25 smtpd "
                "entry carries its own -o TLS settings, which beat main.cf for that service",
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o smtpd_tls_security_level=none\n"
                "  -o smtpd_tls_auth_only=no\n";
          },
      .plan_says = {"master.cf {MX}/inet: -o smtpd_tls_security_level: none -> (removed) "
                    "(master.cf line ",
                    "master.cf {MX}/inet: -o smtpd_tls_auth_only: no -> (removed) (master.cf "
                    "line "},
      .governed = {"{MX}/inet"},
      .expect_gone = {"{MX}/inet/smtpd_tls_security_level", "{MX}/inet/smtpd_tls_auth_only"},
  });

  layouts.push_back({
      .name = "PostscreenInFront",
      .origin = "layout as mailcow, docker-mailserver, Mailu and Mail-in-a-Box run port 25: "
                "postscreen on the listener, the smtpd pass service behind it with its own -o",
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - 1 postscreen\n"
                "smtpd pass - - n - - smtpd\n"
                "  -o syslog_name=postfix/smtpd\n"
                "  -o smtpd_tls_security_level=none\n"
                "dnsblog unix - - n - 0 dnsblog\n"
                "tlsproxy unix - - n - 0 tlsproxy\n";
          },
      .plan_says = {"master.cf smtpd/pass: -o smtpd_tls_security_level: none -> (removed) "
                    "(master.cf line "},
      .governed = {"smtpd/pass"},
      .expect_kept = {{"smtpd/pass/syslog_name", "postfix/smtpd"}},
      .expect_gone = {"smtpd/pass/smtpd_tls_security_level"},
  });

  layouts.push_back({
      .name = "PostscreenInFrontWithoutSaslBehindIt",
      .origin = "layout as Mailu runs port 25: postscreen, and the smtpd pass service behind it "
                "with -o smtpd_sasl_auth_enable=no (AUTH only on submission)",
      // Live: "require_auth_after_tls_where: sasl_enabled" is judged on the smtpd pass service
      // the client ends up talking to (SASL off), not on the postscreen listener (main.cf: on).
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - 1 postscreen\n"
                "smtpd pass - - n - - smtpd\n"
                "  -o smtpd_sasl_auth_enable=no\n"
                "  -o smtpd_tls_security_level=none\n"
                "dnsblog unix - - n - 0 dnsblog\n"
                "tlsproxy unix - - n - 0 tlsproxy\n";
          },
      .plan_says = {"master.cf smtpd/pass: -o smtpd_tls_security_level: none -> (removed) "
                    "(master.cf line "},
      .governed = {"smtpd/pass"},
      .expect_kept = {{"smtpd/pass/smtpd_sasl_auth_enable", "no"}},
      .expect_gone = {"smtpd/pass/smtpd_tls_security_level"},
  });

  for (const auto& [test_name, mx] : std::vector<std::pair<std::string, std::string>>{
           {"AllAddressesPort25", "0.0.0.0:25"}, {"WildcardSmtpName", "*:smtp"}}) {
    layouts.push_back({
        .name = test_name,
        .origin = "layout as containers and multi-homed hosts name the port-25 listener: '" + mx +
                  "' is port 25 too (applied --offline: the sandbox never binds port 25)",
        .mx_name = mx,
        .build =
            [](Build& b) {
              b.master_cf =
                  "{MX} inet n - n - - smtpd\n"
                  "  -o smtpd_tls_auth_only=no\n";
            },
        .plan_says = {"master.cf " + mx + "/inet: -o smtpd_tls_auth_only: no -> (removed)"},
        .governed = {mx + "/inet"},
        .expect_gone = {mx + "/inet/smtpd_tls_auth_only"},
    });
  }

  layouts.push_back({
      .name = "BracedOverride",
      .origin = "layout with Postfix 3.0+ braced -o values, as docker-mailserver and Mailu "
                "write options whose value has blanks",
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o { smtpd_tls_security_level = none }\n"
                "  -o { smtpd_helo_restrictions = permit_mynetworks, reject_invalid_helo_hostname "
                "}\n";
          },
      .plan_says = {"master.cf {MX}/inet: -o smtpd_tls_security_level: none -> (removed)"},
      .governed = {"{MX}/inet"},
      .expect_kept = {{"{MX}/inet/smtpd_helo_restrictions",
                       "permit_mynetworks, reject_invalid_helo_hostname"}},
      .expect_gone = {"{MX}/inet/smtpd_tls_security_level"},
  });

  layouts.push_back({
      .name = "OverrideReferencesAnotherParameter",
      .origin = "layout as iRedMail and Debian's commented master.cf write -o name=$other "
                "($mua_client_restrictions style): judged by the expanded value",
      .build =
          [](Build& b) {
            b.append(
                "mx_tls_level = none\n"
                "mx_auth_only = no\n"
                "mx_sasl_options = noanonymous, noplaintext\n");
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o smtpd_tls_security_level=$mx_tls_level\n"
                "  -o smtpd_tls_auth_only=${mx_auth_only}\n"
                "  -o smtpd_sasl_security_options=$mx_sasl_options\n";
          },
      .plan_says = {"-o smtpd_tls_security_level: $mx_tls_level -> (removed)",
                    "-o smtpd_tls_auth_only: ${mx_auth_only} -> (removed)"},
      .governed = {"{MX}/inet"},
      // Agrees with the baseline once expanded: kept as written.
      .expect_kept = {{"{MX}/inet/smtpd_sasl_security_options", "$mx_sasl_options"}},
      .expect_gone = {"{MX}/inet/smtpd_tls_security_level", "{MX}/inet/smtpd_tls_auth_only"},
  });

  layouts.push_back({
      .name = "DuplicateOverride",
      .origin = "layout where a setup script appended an -o the entry already had: the daemon "
                "uses the last one",
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o smtpd_tls_auth_only=yes\n"
                "  -o syslog_name=postfix/mx\n"
                "  -o smtpd_tls_auth_only=no\n"
                "  -o smtpd_tls_security_level=none\n"
                "  -o smtpd_tls_security_level=may\n";
          },
      .plan_says = {"sets -o smtpd_tls_auth_only 2 times (lines ",
                    "sets -o smtpd_tls_security_level 2 times (lines ",
                    "master.cf {MX}/inet: -o smtpd_tls_auth_only: no -> (removed)"},
      .governed = {"{MX}/inet"},
      .expect_kept = {{"{MX}/inet/syslog_name", "postfix/mx"},
                      {"{MX}/inet/smtpd_tls_security_level", "may"}},
      .expect_gone = {"{MX}/inet/smtpd_tls_auth_only"},
  });

  layouts.push_back({
      .name = "SubmissionAndSmtpsWithOverrides",
      .origin = "layout as Mail-in-a-Box, iRedMail and docker-mailserver run submission on 587 "
                "and smtps on 465 with -o smtpd_sasl_auth_enable / smtpd_tls_wrappermode, "
                "against policies/submission-587.yaml",
      .policy = kSubmission,
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "{SUB} inet n - n - - smtpd\n"
                "  -o syslog_name=postfix/submission\n"
                "  -o smtpd_tls_security_level=may\n"
                "  -o smtpd_sasl_auth_enable=yes\n"
                "{SMTPS} inet n - n - - smtpd\n"
                "  -o syslog_name=postfix/smtps\n"
                "  -o smtpd_tls_wrappermode=yes\n"
                "  -o smtpd_sasl_auth_enable=yes\n";
          },
      .plan_says = {"main.cf: smtpd_sasl_auth_enable: yes -> no",
                    "master.cf {SUB}/inet: -o smtpd_tls_security_level: may -> encrypt"},
      .expect_effective = {{"{MX}/inet/smtpd_sasl_auth_enable", "no"},
                           {"{SUB}/inet/smtpd_sasl_auth_enable", "yes"},
                           {"{SUB}/inet/smtpd_tls_security_level", "encrypt"},
                           {"{SUB}/inet/smtpd_tls_auth_only", "yes"},
                           {"{SMTPS}/inet/smtpd_tls_wrappermode", "yes"}},
      .expect_kept = {{"{SMTPS}/inet/smtpd_sasl_auth_enable", "yes"},
                      {"{SMTPS}/inet/syslog_name", "postfix/smtps"}},
  });

  layouts.push_back({
      .name = "ContentFilterReinjection",
      .origin = "layout as amavis setups (iRedMail, Mail-in-a-Box era docker images) run it: a "
                "re-injection smtpd on 127.0.0.1:10025 with its own -o, not governed but listed",
      .build =
          [](Build& b) {
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o content_filter=smtp-amavis:[127.0.0.1]:10024\n"
                "smtp-amavis unix - - n - 2 smtp\n"
                "  -o smtp_data_done_timeout=1200\n"
                "{REINJECT} inet n - n - - smtpd\n"
                "  -o content_filter=\n"
                "  -o smtpd_tls_security_level=none\n"
                "  -o smtpd_sasl_auth_enable=no\n"
                "  -o smtpd_client_restrictions=permit_mynetworks,reject\n"
                "  -o receive_override_options=no_unknown_recipient_checks\n";
          },
      .plan_says = {"also affected (not governed by the baseline): {REINJECT}/inet: "
                    "smtpd_tls_auth_only: no -> yes"},
      .governed = {"{MX}/inet"},
      .expect_kept = {{"{REINJECT}/inet/smtpd_tls_security_level", "none"},
                      {"{REINJECT}/inet/smtpd_sasl_auth_enable", "no"},
                      {"{MX}/inet/content_filter", "smtp-amavis:[127.0.0.1]:10024"}},
  });

  layouts.push_back({
      .name = "SplitChainFiles",
      .origin = "layout as docker-mailserver and YunoHost load the certificate: "
                "smtpd_tls_chain_files = key.pem, cert.pem (postconf(5)'s form)",
      .build =
          [](Build& b) {
            b.drop("smtpd_tls_cert_file");
            b.drop("smtpd_tls_key_file");
            b.set("smtpd_tls_chain_files", "{TLS}/key.pem, {TLS}/cert.pem");
            b.master_cf = kPlainMx;
          },
      .plan_says = {"main.cf: smtpd_tls_security_level: none -> may"},
      .governed = {"{MX}/inet"},
  });

  layouts.push_back({
      .name = "EcdsaOnly",
      .origin = "layout of hosts with only an ECDSA certificate (smtpd_tls_eccert_file / "
                "smtpd_tls_eckey_file, no RSA pair), as ACME clients issue by default",
      .build =
          [](Build& b) {
            agent::tls::CertificateRequest request;
            request.common_name = "sandbox.postwarden.test";
            request.dns_names = {"sandbox.postwarden.test"};
            request.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
            request.not_after = std::chrono::system_clock::now() + std::chrono::hours(48);
            request.key_type = agent::tls::KeyType::kEcP256;
            Result<agent::tls::GeneratedCertificate> ec = agent::tls::generateCertificate(request);
            ASSERT_TRUE(ec.ok()) << ec.status().toString();
            b.files["{TLS}/ec-cert.pem"] = ec->certificate_pem;
            b.files["{TLS}/ec-key.pem"] = ec->private_key_pem;
            b.drop("smtpd_tls_cert_file");
            b.drop("smtpd_tls_key_file");
            b.set("smtpd_tls_eccert_file", "{TLS}/ec-cert.pem");
            b.set("smtpd_tls_eckey_file", "{TLS}/ec-key.pem");
            b.master_cf = kPlainMx;
          },
      .plan_says = {"main.cf: smtpd_tls_security_level: none -> may"},
      .governed = {"{MX}/inet"},
  });

  layouts.push_back({
      .name = "MainCfNameReferences",
      .origin = "layout where main.cf sets governed parameters through $name "
                "(smtpd_tls_auth_only = $flag), and an -o refers to the same name",
      .build =
          [](Build& b) {
            b.append("tls_flag = no\nmx_level = none\nsmtpd_tls_auth_only = $tls_flag\n");
            b.set("smtpd_tls_security_level", "$mx_level");
            b.master_cf =
                "{MX} inet n - n - - smtpd\n"
                "  -o smtpd_tls_auth_only=$tls_flag\n";
          },
      .plan_says = {"main.cf: smtpd_tls_auth_only: $tls_flag -> yes",
                    "main.cf: smtpd_tls_security_level: $mx_level -> may",
                    "master.cf {MX}/inet: -o smtpd_tls_auth_only: $tls_flag -> (removed)"},
      .governed = {"{MX}/inet"},
      .expect_gone = {"{MX}/inet/smtpd_tls_auth_only"},
  });

  layouts.push_back({
      .name = "ConfigDirectoryInCertificatePaths",
      .origin = "layout with certificate paths under ${config_directory} (Mailu, YunoHost): "
                "the instance's own directory, not /etc/postfix",
      .build =
          [](Build& b) {
            b.set("smtpd_tls_cert_file", "${config_directory}/tls/cert.pem");
            b.set("smtpd_tls_key_file", "$config_directory/tls/key.pem");
            b.master_cf = kPlainMx;
          },
      .plan_says = {"main.cf: smtpd_tls_auth_only: (unset) -> yes"},
      .governed = {"{MX}/inet"},
  });

  layouts.push_back({
      .name = "SymlinkedMainCf",
      .origin = "layout as docker-mailserver and Mailu keep configuration on a mounted volume "
                "or in a repository: main.cf is a symlink, which stays one",
      .build =
          [](Build& b) {
            b.symlinked_main_cf = true;
            b.master_cf = kPlainMx;
          },
      .plan_says = {"main.cf: smtpd_tls_security_level: none -> may"},
      .governed = {"{MX}/inet"},
  });

  layouts.push_back({
      .name = "DuplicateMainCfEntries",
      .origin = "layout where installers and scripts appended to main.cf (echo >> main.cf) "
                "instead of postconf -e: governed parameters collapse to one entry, others are "
                "warned about",
      .build =
          [](Build& b) {
            // Sandbox: smtpd_tls_security_level = none above; the appended "may" is in effect.
            b.append(
                "mynetworks = 127.0.0.0/8, [::1]/128\n"
                "smtpd_tls_auth_only = yes\n"
                "smtpd_tls_security_level = may\n"
                "smtpd_tls_auth_only = no\n");
            b.master_cf = kPlainMx;
          },
      .plan_says = {"main.cf: smtpd_tls_auth_only: no -> yes (defined 2 times: the last entry "
                    "rewritten, the earlier one at line ",
                    "main.cf: smtpd_tls_security_level: may (unchanged; defined 2 times: the "
                    "last entry kept, the earlier one at line ",
                    "'mynetworks' is defined 2 times"},
      .governed = {"{MX}/inet"},
      .still_duplicated = {"mynetworks"},
  });

  return layouts;
}

}  // namespace
}  // namespace postwarden::testing
