// One agent run: a baseline against this host's Postfix, from the plan through the safe-apply
// transaction and the probe. `postwarden-agent plan/apply/verify` and the daemon both go
// through it, so a host is judged alike whoever asks; they only choose what to do with the
// result (print it, or report it to the controller).
//
//   baseline + HostSettings -> plan() -> Planned -> refusal()? -> prepare() -> apply()
//                                                                             -> report
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/applier/transaction.h"
#include "agent/params/parameter_catalog.h"
#include "agent/planner/planner.h"
#include "agent/policy/baseline.h"
#include "agent/run/host.h"
#include "agent/run/probe_targets.h"
#include "agent/service/service_control.h"
#include "agent/verify/smtp_prober.h"
#include "common/os/env.h"
#include "common/status.h"

namespace postwarden::agent::run {

struct RunEnvironment {
  os::Env os;
  verify::SmtpProber& prober;
  // Test-only: called after each journaled step (TransactionOptions::crash_point).
  std::function<void(std::string_view)> crash_point;
};

// A plan and what the host says about it besides the changes.
struct Planned {
  planner::Plan plan;
  // Ways a non-root user could change main.cf/master.cf (also in plan.warnings): a change is
  // never written over them.
  std::vector<std::string> non_root_writers;
  // What the baseline's verify would fail on the configuration the change produces
  // (predictedProbeFailures): such a change is refused, not applied and rolled back.
  std::vector<std::string> predicted_probe_failures;
};

// Why `planned` must not be applied, FailedPrecondition with one finding per line; OK when it
// may be. The probe prediction counts only where a probe runs (not --offline); the writers
// only where something would be written (a compliant host just has the warnings).
Status predictedVerifyRefusal(const Planned& planned);
Status nonRootWriterRefusal(const Planned& planned);

// A transaction ready to run on this host: how Postfix is reloaded, and the options
// (probes of the changed configuration, health checks for a rollback, timeouts).
struct PreparedChange {
  std::unique_ptr<service::ServiceControl> service;
  applier::TransactionOptions options;
};

using StepObserver = std::function<void(const applier::StepRecord&)>;

class AgentRun {
 public:
  // The environment's collaborators are borrowed and must outlive the run.
  AgentRun(RunEnvironment env, HostSettings host);

  const HostSettings& host() const { return host_; }

  // main.cf and master.cf as they are on disk.
  Result<planner::PostfixConfig> readConfig() const;

  // Plans `baseline` against `config`. A parameter the built-in catalog (Postfix 3.7) does
  // not know is looked up in the installed Postfix's `postconf -d`, which may know it.
  Result<Planned> plan(const policy::Baseline& baseline,
                       const planner::PostfixConfig& config) const;

  // Creates the state directory and takes the host's lock: one transaction per host at a
  // time (apply and the daemon alike); the kernel drops the lock of a dead holder.
  Result<os::FileLock> lock() const;

  // The probe's timeout and login (the password read now: it may have been rotated).
  // InvalidArgument/NotFound when a login is configured and its password file unusable.
  Result<ProbeSettings> probeSettings() const;

  // A change an earlier run left half-done is finished or undone (apply.md); nullopt when
  // there is none. Call with the lock held. `live` is the configuration on disk.
  std::optional<applier::TransactionReport> recover(const planner::PostfixConfig& live,
                                                    const ProbeSettings& settings, bool offline,
                                                    const StepObserver& on_step = {}) const;

  // The transaction for `planned` on top of `live`: the probes of `baseline`'s expectations
  // on the configuration after the change (none when `offline`). FailedPrecondition when an
  // expectation names a service that has no listener.
  Result<PreparedChange> prepare(const policy::Baseline& baseline, const Planned& planned,
                                 const planner::PostfixConfig& live, const ProbeSettings& settings,
                                 bool offline) const;

  // Runs the prepared transaction (call with the lock held).
  applier::TransactionReport apply(PreparedChange& change, const planner::Plan& plan,
                                   const StepObserver& on_step = {}) const;

  // Probes `baseline`'s expectations on `config`'s listeners (or the configured address).
  Result<std::vector<applier::ProbeRecord>> verify(const policy::Baseline& baseline,
                                                   const planner::PostfixConfig& config,
                                                   const ProbeSettings& settings) const;

 private:
  planner::PlanOptions planOptions() const;
  // The installed Postfix's parameters (`postconf -d`), or nullptr when it cannot tell.
  const params::ParameterCatalog* installedCatalog() const;
  applier::TransactionOptions transactionOptions(const planner::PostfixConfig& live,
                                                 const ProbeSettings& settings, bool offline) const;

  RunEnvironment env_;
  HostSettings host_;
  // Outer: asked yet; inner: what it answered.
  mutable std::optional<std::optional<params::ParameterCatalog>> installed_catalog_;
};

}  // namespace postwarden::agent::run
