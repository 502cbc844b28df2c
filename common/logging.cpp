#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>

namespace postwarden {
namespace {

// spdlog keeps its registry process-wide; these are the settings new loggers are made with.
struct LogSettings {
  std::string program = "postwarden";
  spdlog::level::level_enum level = spdlog::level::warn;
};

// Guards the settings and makes moduleLogger's get-or-create one step: gRPC callback threads
// log for the first time concurrently, and spdlog::register_logger throws when two of them
// both miss in spdlog::get and register the same name.
std::mutex& loggingMutex() {
  static std::mutex* m = new std::mutex();
  return *m;
}

LogSettings& settings() {
  static LogSettings* s = new LogSettings();
  return *s;
}

}  // namespace

void setupLogging(const std::string& program, spdlog::level::level_enum level) {
  std::lock_guard<std::mutex> lock(loggingMutex());
  settings().program = program;
  settings().level = level;
  spdlog::set_level(level);
  spdlog::set_pattern(program + ": [%l] %n: %v");
}

std::shared_ptr<spdlog::logger> moduleLogger(const std::string& module) {
  std::lock_guard<std::mutex> lock(loggingMutex());
  if (auto existing = spdlog::get(module)) return existing;
  auto logger =
      std::make_shared<spdlog::logger>(module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(settings().level);
  logger->set_pattern(settings().program + ": [%l] %n: %v");
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace postwarden
