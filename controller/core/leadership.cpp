#include "controller/core/leadership.h"

#include <utility>

#include "common/logging.h"

namespace postwarden::controller::core {
namespace {

std::shared_ptr<spdlog::logger> log() { return moduleLogger("controller.leadership"); }

}  // namespace

LeadershipDecision leadershipStep(bool leading, const Result<bool>& answer) {
  const bool yes = answer.ok() && *answer;
  if (leading) return {.leader = yes, .release = !yes};
  // Not leading: a failed try leaves nothing held; a refused one keeps the connection for the
  // next try.
  return {.leader = yes, .release = !answer.ok()};
}

Leadership::Leadership(store::Lease* lease, LeadershipOptions options)
    : lease_(lease), options_(std::move(options)), leader_(lease == nullptr) {}

Leadership::~Leadership() { stop(); }

void Leadership::start() {
  if (lease_ == nullptr) return;
  thread_ = std::thread([this] { loop(); });
}

void Leadership::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lease_ != nullptr) {
    leader_ = false;
    lease_->release();
  }
}

void Leadership::check() {
  if (lease_ == nullptr) return;
  const bool leading = leader_;
  const Result<bool> answer = leading ? lease_->stillHeld() : lease_->tryAcquire();
  const LeadershipDecision next = leadershipStep(leading, answer);
  if (next.release) lease_->release();
  if (next.leader == leading) return;
  leader_ = next.leader;
  if (next.leader) {
    log()->info("this replica now leads (runs the rollout engine)");
  } else {
    log()->warn("this replica lost the lead: {}",
                answer.ok() ? "lease no longer held" : answer.status().message());
  }
  if (options_.on_change) options_.on_change(next.leader);
}

void Leadership::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    check();
    lock.lock();
    cv_.wait_for(lock, options_.check_interval, [this] { return stopping_; });
  }
}

}  // namespace postwarden::controller::core
