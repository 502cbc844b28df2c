#include "common/os/stale_temp_files.h"

#include <cstdio>

namespace postwarden::os {
namespace {

constexpr std::string_view kTempMarker = ".pw-tmp-";

}  // namespace

std::string writeAtomicTempName(std::string_view base, pid_t pid, std::uint64_t nonce) {
  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "%ld-%016llx", static_cast<long>(pid),
                static_cast<unsigned long long>(nonce));
  std::string name;
  name.reserve(base.size() + kTempMarker.size() + 32);
  name += '.';
  name += base;
  name += kTempMarker;
  name += suffix;
  return name;
}

bool isWriteAtomicTempName(std::string_view name) {
  // Exactly what writeAtomicTempName produces, so a hand-made ".notes.pw-tmp-old" survives.
  const std::size_t marker = name.rfind(kTempMarker);
  if (name.size() < 2 || name.front() != '.' || marker == std::string_view::npos || marker < 2) {
    return false;
  }
  std::string_view rest = name.substr(marker + kTempMarker.size());
  const std::size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos) return false;
  for (char c : rest.substr(0, dash)) {
    if (c < '0' || c > '9') return false;
  }
  std::string_view nonce = rest.substr(dash + 1);
  if (nonce.size() != 16) return false;
  for (char c : nonce) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::vector<std::string>> removeStaleTempFiles(FileSystem& fs, const std::string& dir) {
  PW_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.listDirectory(dir));
  std::vector<std::string> removed;
  const std::string prefix = (!dir.empty() && dir.back() == '/') ? dir : dir + "/";
  for (const std::string& name : names) {
    if (!isWriteAtomicTempName(name)) continue;
    const std::string path = prefix + name;
    Status status = fs.remove(path);
    if (!status.ok()) return status.withContext("removing stale temp file '" + path + "'");
    removed.push_back(path);
  }
  return removed;
}

}  // namespace postwarden::os
