#include "agent/applier/config_files.h"

#include <ctime>

#include "common/os/path_trust.h"

namespace postwarden::agent::applier {

ConfigFiles::ConfigFiles(os::FileSystem& fs, std::string postfix_dir)
    : fs_(fs), postfix_dir_(std::move(postfix_dir)) {}

Result<planner::PostfixConfig> ConfigFiles::read() const {
  planner::PostfixConfig config;
  PW_ASSIGN_OR_RETURN(config.main_cf, fs_.readFile(mainCfPath()));
  PW_ASSIGN_OR_RETURN(config.master_cf, fs_.readFile(masterCfPath()));
  return config;
}

Result<std::vector<std::string>> ConfigFiles::nonRootWriters() const {
  std::vector<std::string> findings;
  for (const std::string& path : {mainCfPath(), masterCfPath()}) {
    PW_ASSIGN_OR_RETURN(os::ResolvedPath resolved, fs_.resolvePath(path));
    std::string prefix = "'" + path + "'";
    if (resolved.target != path) prefix += " (symlink to '" + resolved.target + "')";
    for (const std::string& finding : os::nonRootWriters(resolved)) {
      findings.push_back(prefix + ": " + finding);
    }
  }
  return findings;
}

Status ConfigFiles::checkOnlyRootWrites() const {
  PW_ASSIGN_OR_RETURN(std::vector<std::string> findings, nonRootWriters());
  if (findings.empty()) return OkStatus();
  std::string message =
      "refusing to write the configuration in " + postfix_dir_ +
      ": a user other than root could change main.cf or master.cf, which Postfix reads as "
      "root; nothing written. Make them, their symlink targets and every directory on the "
      "way owned by root and writable only by root:";
  for (const std::string& finding : findings) message += "\n" + finding;
  return FailedPreconditionError(message);
}

Result<std::vector<std::string>> ConfigFiles::backup(const planner::PostfixConfig& bytes,
                                                     const std::string& backup_dir) const {
  PW_RETURN_IF_ERROR(checkOnlyRootWrites());
  PW_RETURN_IF_ERROR(fs_.createDirectories(backup_dir, 0700).withContext("creating backup dir"));
  os::WriteOptions private_file;
  private_file.mode = 0600;
  std::vector<std::string> written;
  for (const auto& [name, content] :
       {std::pair{"main.cf", &bytes.main_cf}, std::pair{"master.cf", &bytes.master_cf}}) {
    std::string path = backup_dir + "/" + name;
    PW_RETURN_IF_ERROR(fs_.writeAtomic(path, *content, private_file).withContext("backing up"));
    written.push_back(path);
  }
  return written;
}

Status ConfigFiles::swap(const planner::PostfixConfig& before,
                         const planner::PostfixConfig& after) const {
  PW_RETURN_IF_ERROR(checkOnlyRootWrites());
  PW_ASSIGN_OR_RETURN(planner::PostfixConfig now, read());
  if (now.main_cf != before.main_cf || now.master_cf != before.master_cf) {
    return AbortedError("the configuration in " + postfix_dir_ +
                        " changed since it was planned; nothing written, plan again");
  }
  const bool main_changes = after.main_cf != before.main_cf;
  const bool master_changes = after.master_cf != before.master_cf;
  // The first write whose bytes are in place but not yet durable: reported at the end, once
  // every write reached its file.
  Status not_durable;
  auto written = [&](Status status) {
    if (os::isNotDurable(status)) {
      if (not_durable.ok()) not_durable = status;
      return OkStatus();
    }
    return status;
  };
  if (master_changes) {
    PW_RETURN_IF_ERROR(
        written(fs_.writeAtomic(masterCfPath(), after.master_cf)).withContext("writing"));
  }
  if (main_changes) {
    Status main_written = written(fs_.writeAtomic(mainCfPath(), after.main_cf));
    if (!main_written.ok()) {
      if (master_changes) {
        Status restored = fs_.writeAtomic(masterCfPath(), before.master_cf);
        if (!restored.ok() && !os::isNotDurable(restored)) {
          return InternalError("writing main.cf failed (" + main_written.message() +
                               ") and master.cf could not be restored (" + restored.message() +
                               "); restore it from the backup");
        }
      }
      return main_written.withContext("writing");
    }
  }
  return not_durable;
}

std::string backupDirName(const std::string& state_dir, std::chrono::system_clock::time_point now,
                          long pid) {
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  return state_dir + "/backups/" + stamp + "-" + std::to_string(pid);
}

}  // namespace postwarden::agent::applier
