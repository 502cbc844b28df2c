#include "agent/cli/restore_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "agent/policy/baseline.h"
#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"

namespace postwarden::agent::cli {
namespace {

using planner::Change;
using planner::ChangeKind;
using postfix::MasterService;
using postfix::ServiceKey;

void addMainCfChanges(const std::string& live_text, const std::string& backup_text,
                      const params::ParameterCatalog& catalog, std::vector<Change>& changes) {
  const postfix::MainCfDocument live = postfix::MainCfDocument::parse(live_text);
  const postfix::MainCfDocument backup = postfix::MainCfDocument::parse(backup_text);
  std::set<std::string> names;
  for (const postfix::MainCfDocument* doc : {&live, &backup}) {
    for (const postfix::MainCfDefinition& d : doc->definitions()) names.insert(d.name);
  }
  for (const std::string& name : names) {
    std::optional<std::string> before = live.get(name), after = backup.get(name);
    if (before == after) continue;
    changes.push_back({.kind = after ? ChangeKind::kSetMain : ChangeKind::kRemoveMain,
                       .parameter = name,
                       .before = before,
                       .after = after,
                       .mode = catalog.applyMode(name)});
  }
}

// Everything of an entry but its arguments: a change there needs master to restart it.
bool sameFields(const MasterService& a, const MasterService& b) {
  return a.private_flag == b.private_flag && a.unprivileged == b.unprivileged &&
         a.chroot == b.chroot && a.wakeup == b.wakeup && a.max_process == b.max_process &&
         a.command == b.command;
}

void addMasterCfChanges(const std::string& live_text, const std::string& backup_text,
                        std::vector<Change>& changes) {
  std::map<ServiceKey, MasterService> live, backup;
  for (MasterService& s : postfix::MasterCfDocument::parse(live_text).services()) {
    live.emplace(s.key, std::move(s));
  }
  for (MasterService& s : postfix::MasterCfDocument::parse(backup_text).services()) {
    backup.emplace(s.key, std::move(s));
  }
  for (const auto& [key, after] : backup) {
    auto before = live.find(key);
    if (before == live.end()) {
      changes.push_back({.kind = ChangeKind::kAddService,
                         .service = key,
                         .parameter = after.command,
                         .after = after.command,
                         .mode = params::ApplyMode::kRestart});
    } else if (!sameFields(before->second, after) || before->second.args != after.args) {
      changes.push_back({.kind = ChangeKind::kSetServiceOption,
                         .service = key,
                         .parameter = "(entry)",
                         .before = before->second.command,
                         .after = after.command,
                         .mode = sameFields(before->second, after) ? params::ApplyMode::kReload
                                                                   : params::ApplyMode::kRestart});
    }
  }
  for (const auto& [key, before] : live) {
    if (backup.contains(key)) continue;
    changes.push_back({.kind = ChangeKind::kRemoveServiceOption,
                       .service = key,
                       .parameter = "(entry)",
                       .before = before.command,
                       .mode = params::ApplyMode::kRestart});
  }
}

}  // namespace

Result<planner::Plan> restorePlan(const std::string& backup_id, const planner::PostfixConfig& live,
                                  const planner::PostfixConfig& backup,
                                  const params::ParameterCatalog& catalog) {
  // A baseline that asks for nothing: the planner only reads the backup (its TLS material,
  // its warnings) and leaves its bytes as they are.
  policy::Baseline nothing;
  nothing.name = "backup " + backup_id;
  nothing.version = backup_id;
  PW_ASSIGN_OR_RETURN(planner::Plan plan, planner::makePlan(nothing, backup, catalog));
  plan.changes.clear();
  plan.also_affected.clear();
  plan.main_cf_before = live.main_cf;
  plan.master_cf_before = live.master_cf;
  plan.main_cf_after = backup.main_cf;
  plan.master_cf_after = backup.master_cf;
  addMainCfChanges(live.main_cf, backup.main_cf, catalog, plan.changes);
  addMasterCfChanges(live.master_cf, backup.master_cf, plan.changes);
  const bool bytes_differ = live.main_cf != backup.main_cf || live.master_cf != backup.master_cf;
  if (plan.changes.empty() && bytes_differ) {
    plan.changes.push_back({.kind = ChangeKind::kSetMain,
                            .parameter = "(comments and layout)",
                            .before = std::string("live"),
                            .after = std::string("backup"),
                            .mode = params::ApplyMode::kReload});
  }
  return plan;
}

}  // namespace postwarden::agent::cli
