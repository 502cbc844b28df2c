#include "common/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "common/json_quote.h"

namespace postwarden {
namespace {

// spdlog keeps its registry process-wide; these are the settings new loggers are made with.
struct LogSettings {
  std::string program = "postwarden";
  spdlog::level::level_enum level = spdlog::level::warn;
  LogFormat format = LogFormat::kText;  // as effective (journal already decided)
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

// Level names as syslog and journalctl spell them ("warning", not spdlog's "warn").
std::string_view levelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// "2026-12-05T04:50:00.123Z".
std::string utcMillis(spdlog::log_clock::time_point time) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return text;
}

class LineFormatter final : public spdlog::formatter {
 public:
  LineFormatter(LogFormat format, std::string program)
      : format_(format), program_(std::move(program)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    const std::string_view message(msg.payload.data(), msg.payload.size());
    switch (format_) {
      case LogFormat::kText:
        append(dest, program_ + ": [" + std::string(levelName(msg.level)) + "] ");
        break;
      case LogFormat::kJournal:
        append(dest, "<" + std::to_string(syslogPriority(msg.level)) + ">");
        break;
      case LogFormat::kJson:
        append(dest, "{\"time\":\"" + utcMillis(msg.time) + "\",\"level\":\"" +
                         std::string(levelName(msg.level)) + "\",\"program\":" +
                         jsonQuote(program_) + ",\"logger\":" + jsonQuote(logger) +
                         ",\"message\":" + jsonQuote(message) + "}\n");
        return;
    }
    append(dest, logger);
    append(dest, ": ");
    append(dest, message);
    append(dest, "\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_, program_);
  }

 private:
  LogFormat format_;
  std::string program_;
};

}  // namespace

Result<LogFormat> parseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return InvalidArgumentError("--log-format takes text or json, not '" + std::string(name) + "'");
}

Result<std::optional<LogFormat>> takeLogFormatOption(std::vector<std::string>& args) {
  std::optional<LogFormat> format;
  for (size_t i = 0; i < args.size();) {
    if (args[i] != "--log-format") {
      ++i;
      continue;
    }
    if (i + 1 >= args.size()) return InvalidArgumentError("--log-format needs a value");
    if (format) return InvalidArgumentError("--log-format is given twice");
    PW_ASSIGN_OR_RETURN(format, parseLogFormat(args[i + 1]));
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i + 2));
  }
  return format;
}

bool isJournalStream(const char* journal_stream, int fd) {
  if (journal_stream == nullptr) return false;
  uintmax_t device = 0;
  uintmax_t inode = 0;
  if (std::sscanf(journal_stream, "%" SCNuMAX ":%" SCNuMAX, &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return static_cast<uintmax_t>(st.st_dev) == device && static_cast<uintmax_t>(st.st_ino) == inode;
}

LogFormat effectiveLogFormat(LogFormat requested) {
  if (requested == LogFormat::kText && isJournalStream(std::getenv("JOURNAL_STREAM"), 2)) {
    return LogFormat::kJournal;
  }
  return requested;
}

std::unique_ptr<spdlog::formatter> makeLogFormatter(LogFormat format, const std::string& program) {
  return std::make_unique<LineFormatter>(format, program);
}

int syslogPriority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return 2;  // SD_CRIT
    case spdlog::level::err:
      return 3;  // SD_ERR
    case spdlog::level::warn:
      return 4;  // SD_WARNING
    case spdlog::level::info:
      return 6;  // SD_INFO
    default:
      return 7;  // SD_DEBUG
  }
}

void setupLogging(const std::string& program, spdlog::level::level_enum level,
                  std::optional<LogFormat> format) {
  std::lock_guard<std::mutex> lock(loggingMutex());
  settings().program = program;
  settings().level = level;
  if (format) settings().format = effectiveLogFormat(*format);
  if (!format && settings().format == LogFormat::kText) {
    settings().format = effectiveLogFormat(LogFormat::kText);
  }
  spdlog::set_level(level);
  spdlog::set_formatter(makeLogFormatter(settings().format, program));
}

std::shared_ptr<spdlog::logger> moduleLogger(const std::string& module) {
  std::lock_guard<std::mutex> lock(loggingMutex());
  if (auto existing = spdlog::get(module)) return existing;
  auto logger =
      std::make_shared<spdlog::logger>(module, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_level(settings().level);
  logger->set_formatter(makeLogFormatter(settings().format, settings().program));
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace postwarden
