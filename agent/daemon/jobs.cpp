#include "agent/daemon/jobs.h"

#include <absl/time/clock.h>
#include <absl/time/time.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <map>

#include "common/schedule/maintenance_window.h"

namespace postwarden::agent::daemon {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

std::string formatUtc(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

JobVerdict mayStartJob(const JobTerms& terms, bool needs_restart,
                       std::chrono::system_clock::time_point now) {
  const std::string at = " by its own clock at " + formatUtc(now);
  if (terms.windows.empty()) {
    if (terms.rollback) return {.start = true};
    if (!terms.anytime) {
      return {.why = "the job has no maintenance window and is not marked anytime" + at};
    }
    if (needs_restart) {
      return {.why =
                  "the change needs a Postfix restart, which only runs inside a maintenance "
                  "window, and the job has none" +
                  at};
    }
    return {.start = true};
  }
  const absl::Time instant = absl::FromChrono(now);
  for (const std::string& text : terms.windows) {
    Result<schedule::Window> window = schedule::parseWindow(text);
    if (!window.ok()) {
      return {.why = "maintenance window '" + text + "' unreadable (" + window.status().message() +
                     "); not started" + at};
    }
  }
  for (const std::string& text : terms.windows) {
    if (schedule::isOpen(*schedule::parseWindow(text), instant)) return {.start = true};
  }
  return {.why = std::string(terms.windows.size() == 1 ? "outside its maintenance window "
                                                       : "outside its maintenance windows ") +
                 joined(terms.windows) + at};
}

// Lines "key value", then "report N" and the N bytes of the report.
int64_t toUnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

namespace {

// "3,0,12" ("-" for none: a record line needs a value).
std::string joinCounts(const std::vector<int64_t>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (int64_t n : counts) out += (out.empty() ? "" : ",") + std::to_string(n);
  return out;
}

bool splitCounts(std::string_view text, std::vector<int64_t>& out) {
  out.clear();
  if (text == "-") return true;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
    if (ec != std::errc() || end != item.data() + item.size() || n < 0) return false;
    out.push_back(n);
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

// The before-period's lines; absent in records of older agents (the period is then unknown).
bool decodeBefore(const std::map<std::string, std::string, std::less<>>& fields,
                  health::BeforePeriod& before) {
  auto it = fields.find("before_known");
  if (it == fields.end()) return true;
  before.known = it->second == "1";
  auto field = [&](std::string_view key) -> std::string_view {
    auto f = fields.find(key);
    return f == fields.end() ? std::string_view() : std::string_view(f->second);
  };
  const std::string_view bucket = field("before_bucket_ms");
  auto [end, ec] = std::from_chars(bucket.data(), bucket.data() + bucket.size(), before.bucket_ms);
  return ec == std::errc() && end == bucket.data() + bucket.size() && before.bucket_ms > 0 &&
         splitCounts(field("before_connections"), before.connections) &&
         splitCounts(field("before_deliveries"), before.deliveries) &&
         splitCounts(field("before_sasl"), before.sasl);
}

}  // namespace

std::string encodeJobRecord(const JobRecord& r) {
  std::string out = "postwarden-job 1\n";
  auto line = [&](std::string_view key, const std::string& value) {
    out.append(key).append(" ").append(value).append("\n");
  };
  line("job_id", r.job_id);
  line("rollout_id", r.rollout_id);
  for (const PriorValue& p : r.prior) {
    // Values are one line in main.cf, but escaped anyway: a newline must not end the record.
    std::string value;
    for (char c : p.value.value_or("")) {
      if (c == '\\')
        value += "\\\\";
      else if (c == '\n')
        value += "\\n";
      else
        value += c;
    }
    const std::string text = p.name + (p.value ? " " + value : "");
    if (p.service.empty()) {
      line(p.value ? "prior" : "prior_unset", text);
    } else {  // master.cf service names and types have no spaces
      line(p.value ? "prior_o" : "prior_o_unset", p.service + " " + text);
    }
  }
  line("soak_start_ms", std::to_string(r.soak_start_ms));
  line("soak_end_ms", std::to_string(r.soak_end_ms));
  line("last_health_ms", std::to_string(r.last_health_ms));
  line("soak_done", r.soak_done ? "1" : "0");
  line("deferred_known", r.deferred_known ? "1" : "0");
  line("deferred_at_change", std::to_string(r.deferred_at_change));
  line("log_path", r.log_path);
  line("log_known", r.log_known ? "1" : "0");
  line("log_offset", std::to_string(r.log_offset));
  line("log_inode", std::to_string(r.log_inode));
  line("before_known", r.before.known ? "1" : "0");
  line("before_bucket_ms", std::to_string(r.before.bucket_ms));
  line("before_connections", joinCounts(r.before.connections));
  line("before_deliveries", joinCounts(r.before.deliveries));
  line("before_sasl", joinCounts(r.before.sasl));
  line("report", std::to_string(r.report.size()));
  out += r.report;
  return out;
}

namespace {

// "NAME VALUE" (escaped as encodeJobRecord writes it) or "NAME" for an unset one.
PriorValue priorFrom(bool set, std::string_view text) {
  if (!set) return PriorValue{.name = std::string(text), .value = std::nullopt};
  const size_t space = text.find(' ');
  PriorValue p{.name = std::string(text.substr(0, space)), .value = std::string()};
  if (space == std::string_view::npos) return p;
  std::string_view escaped = text.substr(space + 1);
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 1 < escaped.size()) {
      *p.value += escaped[++i] == 'n' ? '\n' : escaped[i];
    } else {
      *p.value += escaped[i];
    }
  }
  return p;
}

}  // namespace

Result<JobRecord> decodeJobRecord(std::string_view bytes) {
  auto bad = [](std::string_view why) {
    return DataLossError("unreadable job record: " + std::string(why));
  };
  std::map<std::string, std::string, std::less<>> fields;
  std::vector<PriorValue> prior;
  bool first = true;
  while (true) {
    const size_t eol = bytes.find('\n');
    if (eol == std::string_view::npos) return bad("truncated");
    std::string_view line = bytes.substr(0, eol);
    bytes.remove_prefix(eol + 1);
    if (first) {
      if (line != "postwarden-job 1") return bad("not a job record");
      first = false;
      continue;
    }
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return bad("a line without a value");
    std::string key(line.substr(0, space));
    std::string value(line.substr(space + 1));
    if (key == "prior" || key == "prior_unset") {
      prior.push_back(priorFrom(key == "prior", value));
      continue;
    }
    if (key == "prior_o" || key == "prior_o_unset") {
      const size_t space = value.find(' ');
      if (space == std::string::npos) return bad("a master.cf prior value without a service");
      PriorValue p = priorFrom(key == "prior_o", std::string_view(value).substr(space + 1));
      p.service = value.substr(0, space);
      prior.push_back(std::move(p));
      continue;
    }
    if (key == "report") {
      fields[key] = value;
      break;
    }
    fields[key] = value;
  }
  auto integer = [&](std::string_view key, auto& out) -> bool {
    auto it = fields.find(key);
    if (it == fields.end()) return false;
    const std::string& v = it->second;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    return ec == std::errc() && end == v.data() + v.size();
  };
  JobRecord r;
  uint64_t report_size = 0;
  int flags[3] = {};
  if (!fields.contains("job_id") || !fields.contains("log_path") ||
      !integer("soak_start_ms", r.soak_start_ms) || !integer("soak_end_ms", r.soak_end_ms) ||
      !integer("last_health_ms", r.last_health_ms) || !integer("soak_done", flags[0]) ||
      !integer("deferred_known", flags[1]) ||
      !integer("deferred_at_change", r.deferred_at_change) || !integer("log_known", flags[2]) ||
      !integer("log_offset", r.log_offset) || !integer("log_inode", r.log_inode) ||
      !integer("report", report_size)) {
    return bad("a field is missing or malformed");
  }
  if (bytes.size() != report_size) return bad("report size mismatch");
  if (!decodeBefore(fields, r.before)) return bad("the period before the change is malformed");
  r.job_id = fields["job_id"];
  r.rollout_id = fields["rollout_id"];  // absent in records of older agents
  r.prior = std::move(prior);
  r.log_path = fields["log_path"];
  r.soak_done = flags[0] != 0;
  r.deferred_known = flags[1] != 0;
  r.log_known = flags[2] != 0;
  r.report = std::string(bytes);
  return r;
}

SoakStep soakStep(const JobRecord& record, std::chrono::system_clock::time_point now,
                  std::chrono::milliseconds interval) {
  if (record.soak_end_ms == 0 || record.soak_done) return SoakStep::kNothing;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (now_ms >= record.soak_end_ms) return SoakStep::kFinal;
  const int64_t from = record.last_health_ms != 0 ? record.last_health_ms : record.soak_start_ms;
  return now_ms - from >= interval.count() ? SoakStep::kReport : SoakStep::kNothing;
}

std::chrono::system_clock::time_point nextSoakStep(const JobRecord& record,
                                                   std::chrono::milliseconds interval) {
  if (record.soak_end_ms == 0 || record.soak_done) {
    return std::chrono::system_clock::time_point::max();
  }
  const int64_t from = record.last_health_ms != 0 ? record.last_health_ms : record.soak_start_ms;
  const int64_t at = std::min(record.soak_end_ms, from + interval.count());
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(at));
}

std::string addPriorValues(const std::vector<PriorValue>& prior,
                           const std::function<bool(const PriorValue&)>& governed,
                           policy::Baseline& previous) {
  std::string restored;
  for (const PriorValue& p : prior) {
    if (governed(p)) continue;
    if (p.service.empty()) {
      if (p.value) {
        previous.main_cf_set.push_back({.name = p.name, .value = *p.value});
      } else {
        previous.main_cf_remove.push_back({.name = p.name});
      }
    } else {
      const size_t slash = p.service.rfind('/');
      const std::string name = p.service.substr(0, slash);
      const std::string type = slash == std::string::npos ? "inet" : p.service.substr(slash + 1);
      auto entry = std::find_if(previous.master_cf.begin(), previous.master_cf.end(),
                                [&](const policy::ServiceOverride& o) {
                                  return o.service == name && o.type == type && !o.command;
                                });
      if (entry == previous.master_cf.end()) {
        previous.master_cf.push_back({.service = name, .type = type, .only_if_exists = true});
        entry = std::prev(previous.master_cf.end());
      }
      if (p.value) {
        entry->options.push_back({.name = p.name, .value = *p.value});
      } else {
        entry->remove_options.push_back({.name = p.name});
      }
    }
    restored += (restored.empty() ? "" : ", ") + (p.service.empty() ? "" : p.service + " -o ") +
                p.name + (p.value ? " = " + *p.value : " unset");
  }
  return restored;
}

}  // namespace postwarden::agent::daemon
