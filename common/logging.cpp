#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace postwarden {
namespace {

// spdlog keeps its registry process-wide; these are the settings new loggers are made with.
struct LogSettings {
  std::string program = "postwarden";
  spdlog::level::level_enum level = spdlog::level::warn;
};

LogSettings& settings() {
  static LogSettings* s = new LogSettings();
  return *s;
}

}  // namespace

void setupLogging(const std::string& program, spdlog::level::level_enum level) {
  settings().program = program;
  settings().level = level;
  spdlog::set_level(level);
  spdlog::set_pattern(program + ": [%l] %n: %v");
}

std::shared_ptr<spdlog::logger> moduleLogger(const std::string& module) {
  if (auto existing = spdlog::get(module)) return existing;
  auto logger =
      std::make_shared<spdlog::logger>(module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(settings().level);
  logger->set_pattern(settings().program + ": [%l] %n: %v");
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace postwarden
