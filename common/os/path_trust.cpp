#include "common/os/path_trust.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace postwarden::os {
namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

std::string octal(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

bool groupOrOtherWritable(const FileInfo& info) { return (info.mode & 022) != 0; }
bool sticky(const FileInfo& info) { return (info.mode & 01000) != 0; }

}  // namespace

std::vector<std::string> nonRootWriters(const ResolvedPath& resolved) {
  std::vector<std::string> findings;
  auto add = [&](std::string finding) {
    if (std::find(findings.begin(), findings.end(), finding) == findings.end()) {
      findings.push_back(std::move(finding));
    }
  };
  std::set<std::string> judged;
  for (const PathLookup& lookup : resolved.lookups) {
    const FileInfo& dir = lookup.directory_info;
    if (judged.insert(lookup.directory).second) {
      if (dir.owner != 0) {
        add("not owned by root: directory " + quoted(lookup.directory) + " (uid " +
            std::to_string(dir.owner) + ")");
      }
      if (groupOrOtherWritable(dir) && !sticky(dir)) {
        add("group or other writable: directory " + quoted(lookup.directory) + " (mode " +
            octal(dir.mode) + ")");
      }
    }
    // In a sticky writable directory the owner of an entry may still rename or remove it.
    if (groupOrOtherWritable(dir) && sticky(dir) && lookup.entry_info.owner != 0) {
      add("not owned by root in the sticky directory " + quoted(lookup.directory) + ": " +
          quoted(lookup.entry) + " (uid " + std::to_string(lookup.entry_info.owner) + ")");
    }
  }
  const FileInfo& target = resolved.target_info;
  const std::string what = target.is_directory ? "directory " : "";
  if (target.owner != 0) {
    add("not owned by root: " + what + quoted(resolved.target) + " (uid " +
        std::to_string(target.owner) + ")");
  }
  if (groupOrOtherWritable(target) && !(target.is_directory && sticky(target))) {
    add("group or other writable: " + what + quoted(resolved.target) + " (mode " +
        octal(target.mode) + ")");
  }
  return findings;
}

Result<ResolvedPath> resolvePathWithoutSymlinks(FileSystem& fs, const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return InvalidArgumentError("resolving " + quoted(path) + ": not an absolute path");
  }
  ResolvedPath resolved;
  std::string current = "/";
  PW_ASSIGN_OR_RETURN(FileInfo current_info, fs.stat(current));
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string name = path.substr(start, end - start);
    start = end + 1;
    if (name.empty() || name == ".") continue;
    if (name == "..") {
      return InvalidArgumentError("resolving " + quoted(path) + ": '..' is not supported");
    }
    const std::string entry = (current == "/" ? "/" : current + "/") + name;
    PW_ASSIGN_OR_RETURN(FileInfo entry_info, fs.stat(entry));
    resolved.lookups.push_back({current, current_info, entry, entry_info});
    current = entry;
    current_info = entry_info;
  }
  resolved.target = current;
  resolved.target_info = current_info;
  return resolved;
}

}  // namespace postwarden::os
