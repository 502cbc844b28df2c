#include "controller/rollout/wave_plan.h"

#include <algorithm>
#include <map>
#include <set>

namespace postwarden::controller::rollout {
namespace {

std::string listSome(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size() && i < 10; ++i) out += (i ? ", " : "") + ids[i];
  if (ids.size() > 10) out += " and " + std::to_string(ids.size() - 10) + " more";
  return out;
}

std::string describe(const WaveSpec& wave) {
  switch (wave.kind) {
    case WaveSpec::Kind::kCanaryCount:
      return "canary " + std::to_string(wave.count);
    case WaveSpec::Kind::kCanaryHosts:
      return "canary [" + listSome(wave.hosts) + "]";
    case WaveSpec::Kind::kPercent:
      return "percent " + std::to_string(wave.percent);
    case WaveSpec::Kind::kLabels:
      return "labels " + toString(wave.labels);
  }
  return "";
}

// The hosts the selector matches, by id, or an error for a duplicate id.
Result<std::map<std::string, const FleetHost*>> selectHosts(const RolloutSpec& spec,
                                                            const std::vector<FleetHost>& fleet) {
  std::map<std::string, const FleetHost*> selected;
  std::set<std::string> ids;
  for (const FleetHost& host : fleet) {
    if (!ids.insert(host.id).second) {
      return InvalidArgumentError("host '" + host.id + "' is listed twice in the fleet");
    }
    if (matches(spec.selector, host.labels)) selected.emplace(host.id, &host);
  }
  return selected;
}

Status checkWindows(const RolloutSpec& spec, const std::map<std::string, const FleetHost*>& hosts) {
  if (spec.anytime) return OkStatus();
  std::vector<std::string> without;
  for (const auto& [id, host] : hosts) {
    if (windowsFor(spec, host->labels).empty()) without.push_back(id);
  }
  if (without.empty()) return OkStatus();
  return FailedPreconditionError(
      std::to_string(without.size()) + " selected host(s) have no maintenance window: " +
      listSome(without) + " (add a window whose selector matches them, or 'anytime: true')");
}

}  // namespace

std::vector<size_t> windowsFor(const RolloutSpec& spec, const Labels& labels) {
  std::vector<size_t> out;
  for (size_t i = 0; i < spec.windows.size(); ++i) {
    if (matches(spec.windows[i].selector, labels)) out.push_back(i);
  }
  return out;
}

Result<WavePlan> planWaves(const RolloutSpec& spec, const std::vector<FleetHost>& fleet) {
  PW_ASSIGN_OR_RETURN(auto selected, selectHosts(spec, fleet));
  PW_RETURN_IF_ERROR(checkWindows(spec, selected));
  WavePlan plan;
  std::vector<std::string> open;  // need the change, not yet in a wave, not a named canary
  std::set<std::string> named;
  for (const WaveSpec& wave : spec.waves) {
    for (const std::string& id : wave.hosts) {
      if (!selected.contains(id)) {
        return FailedPreconditionError("canary host '" + id + "' is not selected by '" +
                                       toString(spec.selector) + "' (or is not enrolled)");
      }
      named.insert(id);
    }
  }
  for (const auto& [id, host] : selected) {
    if (host->version == spec.baseline.version) {
      plan.already_done.push_back(id);
    } else if (!named.contains(id)) {
      open.push_back(id);
    }
  }
  const size_t need = selected.size() - plan.already_done.size();
  for (const WaveSpec& wave : spec.waves) {
    PlannedWave planned{
        .description = describe(wave), .canary = wave.isCanary(), .soak = wave.soak};
    size_t take = 0;
    if (wave.kind == WaveSpec::Kind::kCanaryHosts) {
      for (const std::string& id : wave.hosts) {
        if (selected.at(id)->version != spec.baseline.version) planned.hosts.push_back(id);
      }
      std::sort(planned.hosts.begin(), planned.hosts.end());
    } else if (wave.kind == WaveSpec::Kind::kLabels) {
      auto keep = std::stable_partition(open.begin(), open.end(), [&](const std::string& id) {
        return !matches(wave.labels, selected.at(id)->labels);
      });
      planned.hosts.assign(keep, open.end());
      open.erase(keep, open.end());
    } else {
      take = wave.kind == WaveSpec::Kind::kCanaryCount
                 ? static_cast<size_t>(wave.count)
                 : (need * static_cast<size_t>(wave.percent) + 99) / 100;
      take = std::min(take, open.size());
      planned.hosts.assign(open.begin(), open.begin() + static_cast<ptrdiff_t>(take));
      open.erase(open.begin(), open.begin() + static_cast<ptrdiff_t>(take));
    }
    plan.waves.push_back(std::move(planned));
  }
  if (!open.empty()) {
    return FailedPreconditionError(std::to_string(open.size()) +
                                   " selected host(s) are in no wave: " + listSome(open) +
                                   " (end the waves with 'percent: 100' to take the rest)");
  }
  return plan;
}

}  // namespace postwarden::controller::rollout
