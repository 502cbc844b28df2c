#include "agent/applier/journal.h"

#include <array>
#include <map>

namespace postwarden::agent::applier {
namespace {

constexpr std::string_view kMagic = "postwarden-journal 1";

constexpr std::array<std::pair<JournalStep, std::string_view>, 6> kStepNames = {{
    {JournalStep::kStaged, "staged"},
    {JournalStep::kSwapping, "swapping"},
    {JournalStep::kSwapped, "swapped"},
    {JournalStep::kActivated, "activated"},
    {JournalStep::kVerified, "verified"},
    {JournalStep::kRollingBack, "rolling_back"},
}};

std::optional<JournalStep> stepFromName(std::string_view name) {
  for (const auto& [step, step_name] : kStepNames) {
    if (step_name == name) return step;
  }
  return std::nullopt;
}

}  // namespace

std::string_view journalStepName(JournalStep step) {
  for (const auto& [s, name] : kStepNames) {
    if (s == step) return name;
  }
  return "unknown";
}

Result<std::optional<JournalEntry>> Journal::load() const {
  Result<std::string> text = fs_.readFile(path_);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<JournalEntry>();
    return text.status().withContext("reading journal");
  }
  std::map<std::string, std::string, std::less<>> fields;
  size_t start = 0;
  bool first = true;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string_view line(text->data() + start, end - start);
    start = end + 1;
    if (first) {
      if (line != kMagic) return DataLossError("journal " + path_ + " has an unknown format");
      first = false;
      continue;
    }
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    fields.emplace(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
  }
  auto field = [&](std::string_view key) -> std::string {
    auto it = fields.find(key);
    return it == fields.end() ? "" : it->second;
  };
  JournalEntry entry;
  entry.id = field("id");
  std::optional<JournalStep> step = stepFromName(field("step"));
  entry.postfix_dir = field("postfix_dir");
  entry.backup_dir = field("backup_dir");
  entry.restart = field("restart") == "yes";
  entry.old_main_sha256 = field("old_main_sha256");
  entry.new_main_sha256 = field("new_main_sha256");
  entry.old_master_sha256 = field("old_master_sha256");
  entry.new_master_sha256 = field("new_master_sha256");
  if (first || !step || entry.id.empty() || entry.postfix_dir.empty() || entry.backup_dir.empty()) {
    return DataLossError("journal " + path_ + " is incomplete");
  }
  entry.step = *step;
  return std::optional<JournalEntry>(std::move(entry));
}

Status Journal::record(const JournalEntry& entry) {
  std::string text = std::string(kMagic) + "\n";
  auto add = [&](std::string_view key, std::string_view value) {
    text.append(key).append(" ").append(value).append("\n");
  };
  add("id", entry.id);
  add("step", journalStepName(entry.step));
  add("postfix_dir", entry.postfix_dir);
  add("backup_dir", entry.backup_dir);
  add("restart", entry.restart ? "yes" : "no");
  add("old_main_sha256", entry.old_main_sha256);
  add("new_main_sha256", entry.new_main_sha256);
  add("old_master_sha256", entry.old_master_sha256);
  add("new_master_sha256", entry.new_master_sha256);
  os::WriteOptions private_file;
  private_file.mode = 0600;
  return fs_.writeAtomic(path_, text, private_file).withContext("recording journal");
}

Status Journal::clear() { return fs_.remove(path_).withContext("clearing journal"); }

}  // namespace postwarden::agent::applier
