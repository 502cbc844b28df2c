// FakeServiceControl: a service::ServiceControl that runs nothing. It counts reload() and
// restart() calls, records them in order, and answers each from a per-verb queue of
// statuses (OK once the queue is empty). An optional hook runs on every call, e.g. to record
// what main.cf held when Postfix was told to pick it up. Not thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "agent/service/service_control.h"
#include "common/status.h"

namespace postwarden::fakes {

class FakeServiceControl final : public agent::service::ServiceControl {
 public:
  Status reload() override { return answer("reload", reload_results_); }
  Status restart() override { return answer("restart", restart_results_); }
  std::string describe() const override { return "fake service"; }
  // Not recorded in calls(): it changes nothing.
  Result<bool> running() override { return running_; }
  void setRunning(Result<bool> running) { running_ = std::move(running); }

  // The next reload()/restart() calls return these, in order; later ones return OK.
  void scriptReload(std::vector<Status> results) {
    reload_results_.insert(reload_results_.end(), results.begin(), results.end());
  }
  void scriptRestart(std::vector<Status> results) {
    restart_results_.insert(restart_results_.end(), results.begin(), results.end());
  }
  // Every later restart() returns `status` (e.g. Unimplemented for a strategy without one).
  void alwaysFailRestartWith(Status status) { restart_always_ = std::move(status); }
  // Runs with the verb ("reload" / "restart") before each call answers.
  void onCall(std::function<void(const std::string&)> hook) { hook_ = std::move(hook); }

  int reloads() const { return count("reload"); }
  int restarts() const { return count("restart"); }
  // "reload" / "restart", in call order.
  const std::vector<std::string>& calls() const { return calls_; }

 private:
  Status answer(const std::string& verb, std::deque<Status>& queue) {
    calls_.push_back(verb);
    if (hook_) hook_(verb);
    if (verb == "restart" && !restart_always_.ok()) return restart_always_;
    if (queue.empty()) return OkStatus();
    Status next = queue.front();
    queue.pop_front();
    return next;
  }
  int count(const std::string& verb) const {
    int n = 0;
    for (const std::string& call : calls_) n += call == verb ? 1 : 0;
    return n;
  }

  Result<bool> running_ = true;
  std::deque<Status> reload_results_;
  std::deque<Status> restart_results_;
  Status restart_always_;
  std::function<void(const std::string&)> hook_;
  std::vector<std::string> calls_;
};

}  // namespace postwarden::fakes
