#include "agent/cli/host_commands.h"

#include <cstdio>
#include <ctime>
#include <optional>
#include <ostream>

#include "agent/applier/backups.h"
#include "agent/applier/journal.h"
#include "agent/applier/needs_human.h"
#include "agent/daemon/status_file.h"
#include "agent/report/json_writer.h"

namespace postwarden::agent::cli {
namespace {

using daemon::StatusFields;

// Everything `status` shows, gathered once, printed as text or JSON.
struct HostStatus {
  bool enrolled = false;
  StatusFields daemon;  // STATE/daemon.status; empty: the daemon never ran here
  StatusFields link;    // STATE/link.status
  bool daemon_running = false;
  int64_t pending_reports = 0;
  std::optional<std::string> interrupted_change;  // the journal's change id
  std::optional<std::string> needs_human;         // the marker's reason
};

std::string field(const StatusFields& fields, const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? "" : it->second;
}

// "COMPLIANCE_DRIFTED" -> "drifted", "OUTCOME_ROLLED_BACK" -> "rolled_back".
std::string plainWord(std::string enum_name) {
  const size_t underscore = enum_name.find('_');
  if (underscore != std::string::npos) enum_name = enum_name.substr(underscore + 1);
  for (char& c : enum_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return enum_name == "unspecified" ? "" : enum_name;
}

Result<HostStatus> gather(const std::string& state_dir, Environment& env) {
  os::FileSystem& fs = env.os.fs;
  HostStatus s;
  s.enrolled = fs.stat(state_dir + "/agent.pem").ok();
  PW_ASSIGN_OR_RETURN(s.daemon, daemon::readStatusFile(fs, daemon::daemonStatusPath(state_dir)));
  PW_ASSIGN_OR_RETURN(s.link, daemon::readStatusFile(fs, daemon::linkStatusPath(state_dir)));
  const int64_t pid = daemon::unixMsOf(s.daemon, "pid");
  s.daemon_running = pid > 0 && env.os.processes.stat(static_cast<int>(pid)).has_value();
  if (Result<std::vector<std::string>> names = fs.listDirectory(state_dir + "/outbox");
      names.ok()) {
    for (const std::string& name : *names) s.pending_reports += name.ends_with(".entry") ? 1 : 0;
  }
  Result<std::optional<applier::JournalEntry>> journal =
      applier::Journal(fs, applier::journalPath(state_dir)).load();
  if (!journal.ok()) {
    s.interrupted_change = "(unreadable journal: " + journal.status().message() + ")";
  } else if (journal->has_value()) {
    s.interrupted_change = (*journal)->id;
  }
  if (Result<std::string> reason = fs.readFile(applier::needsHumanPath(state_dir)); reason.ok()) {
    std::string text = *reason;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    s.needs_human = text;
  }
  return s;
}

void printStatusText(const std::string& state_dir, const HostStatus& s, Environment& env) {
  const StatusFields& d = s.daemon;
  const StatusFields& l = s.link;
  std::ostream& out = env.out;
  out << "state directory: " << state_dir << "\n";
  out << "enrolled:        "
      << (s.enrolled ? "yes" + (field(d, "agent_id").empty() ? "" : " as " + field(d, "agent_id"))
                     : "no (postwarden-agent enroll)")
      << "\n";
  if (d.empty()) {
    out << "daemon:          never ran with this state directory (postwarden-agent run)\n";
  } else {
    out << "daemon:          "
        << (s.daemon_running ? "running (pid " + field(d, "pid") + ")" : "not running")
        << "; last wrote its status " << utcText(daemon::unixMsOf(d, "updated_unix_ms")) << "\n";
    out << "controller:      " << field(d, "controller");
    if (field(l, "revoked") == "yes") {
      out << ": REVOKED (this identity is refused for good; see docs/agent.md)";
    } else if (!l.empty()) {
      out << (field(l, "connected") == "yes" ? ": connected" : ": not connected");
    }
    out << "\n";
    out << "  last connected " << utcText(daemon::unixMsOf(l, "last_connected_unix_ms")) << "\n";
    if (!field(l, "last_error").empty()) {
      out << "  last error     " << utcText(daemon::unixMsOf(l, "last_error_unix_ms")) << ": "
          << field(l, "last_error") << "\n";
    }
    const std::string baseline = field(d, "baseline_name");
    out << "baseline:        "
        << (baseline.empty()
                ? "none assigned"
                : baseline + "@" + field(d, "baseline_digest") + ", mode " + field(d, "mode"))
        << "\n";
    const std::string outcome = plainWord(field(d, "last_outcome"));
    out << "last check:      " << plainWord(field(d, "compliance"))
        << (outcome.empty() ? "" : ", last change " + outcome) << " (reported "
        << utcText(daemon::unixMsOf(d, "last_report_unix_ms")) << ")"
        << (field(d, "last_detail").empty() ? "" : ": " + field(d, "last_detail")) << "\n";
  }
  out << "outbox:          " << s.pending_reports << " report(s) waiting for the controller\n";
  if (s.interrupted_change) {
    out << "in flight:       change " << *s.interrupted_change
        << " (a running apply, or an interrupted one the next run finishes or undoes)\n";
  }
  out << "needs human:     "
      << (s.needs_human ? "YES: " + *s.needs_human + " ('postwarden-agent clear' once fixed)"
                        : "no")
      << "\n";
}

// A time as the JSON dialect writes it (docs/vocabulary.md): RFC 3339 in UTC, null when unset.
void timeField(report::JsonWriter& w, std::string_view key, int64_t unix_ms) {
  w.key(key);
  if (unix_ms <= 0) {
    w.null();
    return;
  }
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + n, sizeof text - n, ".%03lldZ", static_cast<long long>(unix_ms % 1000));
  w.value(std::string_view(text));
}

void printStatusJson(const std::string& state_dir, const HostStatus& s, Environment& env) {
  const StatusFields& d = s.daemon;
  const StatusFields& l = s.link;
  report::JsonWriter w;
  w.beginObject();
  w.field("state_dir", state_dir);
  w.field("enrolled", s.enrolled);
  w.field("agent_id", field(d, "agent_id"));
  w.field("daemon_running", s.daemon_running);
  w.field("daemon_pid", daemon::unixMsOf(d, "pid"));
  timeField(w, "status_updated_at", daemon::unixMsOf(d, "updated_unix_ms"));
  w.field("controller", field(d, "controller"));
  w.field("connected", field(l, "connected") == "yes");
  w.field("revoked", field(l, "revoked") == "yes");
  timeField(w, "last_connected_at", daemon::unixMsOf(l, "last_connected_unix_ms"));
  w.field("last_error", field(l, "last_error"));
  timeField(w, "last_error_at", daemon::unixMsOf(l, "last_error_unix_ms"));
  w.field("baseline_name", field(d, "baseline_name"));
  w.field("baseline_digest", field(d, "baseline_digest"));
  w.field("mode", field(d, "mode"));
  w.field("compliance", plainWord(field(d, "compliance")));
  w.field("last_outcome", plainWord(field(d, "last_outcome")));
  w.field("last_detail", field(d, "last_detail"));
  timeField(w, "last_report_at", daemon::unixMsOf(d, "last_report_unix_ms"));
  w.field("pending_reports", s.pending_reports);
  w.field("interrupted_change", s.interrupted_change.value_or(""));
  w.field("needs_human", s.needs_human.has_value());
  w.field("needs_human_reason", s.needs_human.value_or(""));
  w.endObject();
  env.out << w.text() << "\n";
}

void printError(Environment& env, const Status& status) {
  env.err << "postwarden-agent: error: " << status.message() << "\n";
}

}  // namespace

std::string utcText(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

int runStatus(const StatusArgs& args, Environment& env) {
  Result<HostStatus> status = gather(args.state_dir, env);
  if (!status.ok()) {
    printError(env, status.status().withContext("reading " + args.state_dir));
    return kExitError;
  }
  if (args.format == OutputFormat::kJson) {
    printStatusJson(args.state_dir, *status, env);
  } else {
    printStatusText(args.state_dir, *status, env);
  }
  return kExitOk;
}

int runBackups(const BackupsArgs& args, Environment& env) {
  Result<std::vector<applier::BackupInfo>> backups =
      applier::listBackups(env.os.fs, args.state_dir);
  if (!backups.ok()) {
    printError(env, backups.status().withContext("listing backups"));
    return kExitError;
  }
  auto millis = [](const applier::BackupInfo& b) -> int64_t {
    if (!b.taken_at) return 0;
    return std::chrono::duration_cast<std::chrono::milliseconds>(b.taken_at->time_since_epoch())
        .count();
  };
  if (args.format == OutputFormat::kJson) {
    report::JsonWriter w;
    w.beginObject();
    w.key("backups");
    w.beginArray();
    for (const applier::BackupInfo& b : *backups) {
      w.beginObject();
      w.field("id", b.id);
      timeField(w, "taken_at", millis(b));
      w.field("dir", b.dir);
      w.key("files");
      w.beginArray();
      for (const std::string& f : b.files) w.value(f);
      w.endArray();
      w.endObject();
    }
    w.endArray();
    w.endObject();
    env.out << w.text() << "\n";
    return kExitOk;
  }
  if (backups->empty()) {
    env.out << "no backups in " << applier::backupsDir(args.state_dir) << "\n";
    return kExitOk;
  }
  for (const applier::BackupInfo& b : *backups) {
    std::string files;
    for (const std::string& f : b.files) files += (files.empty() ? "" : " ") + f;
    env.out << b.id << "  " << utcText(millis(b)) << "  " << files << "\n";
  }
  env.out << "put one back: 'postwarden-agent restore ID'\n";
  return kExitOk;
}

}  // namespace postwarden::agent::cli
