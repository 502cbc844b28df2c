// fleetsim: a simulated fleet of agents against a real controller (docs/fleetsim.md).
// Composition root: parses the options, runs the Simulator, prints the summary. SIGINT and
// SIGTERM end the run early, still with a summary.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <optional>
#include <thread>

#include "bench/fleetsim/options.h"
#include "bench/fleetsim/rollout.h"
#include "bench/fleetsim/simulator.h"
#include "bench/fleetsim/summary.h"

int main(int argc, char** argv) {
  using namespace postwarden::fleetsim;
  signal(SIGPIPE, SIG_IGN);
  // Blocked before any thread starts, so only the waiter below takes them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  postwarden::Result<Options> options =
      parseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!options.ok()) {
    if (options.status().message().empty()) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "fleetsim: error: " << options.status().message() << "\n" << kUsage;
    return 1;
  }
  Simulator simulator(*options);
  postwarden::Status status = simulator.setUp();
  if (!status.ok()) {
    std::cerr << "fleetsim: error: " << status.message() << "\n";
    return 1;
  }
  std::optional<RolloutDriver> driver;
  if (options->rollout) {
    driver.emplace(*options);
    status = driver->setUp();
    if (!status.ok()) {
      std::cerr << "fleetsim: error: " << status.message() << "\n";
      return 1;
    }
    simulator.setRolloutDriver(&*driver);
  }
  std::thread([&simulator, stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    simulator.requestStop();
  }).detach();
  Summary summary = simulator.run();
  std::cout << (options->json ? renderJson(summary) : renderText(summary)) << std::flush;
  if (driver) {
    std::cout << renderRolloutText(driver->figures()) << std::flush;
    if (!driver->figures().error.empty()) return 1;
  }
  return 0;
}
