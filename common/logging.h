// Operational logs (spdlog) on stderr: one named logger per module ("agent.applier",
// "agent.os"), configured once by a binary's composition root. Results go to stdout and to
// reports, never through these loggers. Never log secrets: passwords, keys, AUTH payloads.
//
// Three line formats (packaging/README.md, "Logs"):
//   text     "postwarden-agent: [warning] agent.os: message" (no timestamp: a terminal or
//            a file the operator redirects to; the default)
//   journal  "<4>agent.os: message": text started by systemd (JOURNAL_STREAM names our
//            stderr); the syslog priority prefix lets `journalctl -p warning` filter, and
//            the journal adds the time and the program name itself
//   json     one object per line for log shippers:
//            {"time":"2026-12-05T04:50:00.123Z","level":"warning","program":"postwarden-agent",
//             "logger":"agent.os","message":"..."}
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace postwarden {

// What --log-format takes; text turns into journal when stderr is the journal's stream.
enum class LogFormat { kText, kJson, kJournal };

// "text" or "json" (what --log-format accepts); InvalidArgument otherwise.
Result<LogFormat> parseLogFormat(std::string_view name);

// Removes "--log-format VALUE" from `args` (anywhere) and returns its format; nullopt when
// absent. InvalidArgument for a missing or unknown value or a second --log-format.
Result<std::optional<LogFormat>> takeLogFormatOption(std::vector<std::string>& args);

// True when JOURNAL_STREAM (systemd's "DEVICE:INODE" of the stream it connected) names the
// file `fd` is open on: a service's stderr, not a child's redirected one that inherited the
// variable. `journal_stream` is the variable's value (nullptr: unset).
bool isJournalStream(const char* journal_stream, int fd);

// The format the binaries use: `requested`, except that text becomes journal when stderr is
// the journal's stream (JOURNAL_STREAM of this process).
LogFormat effectiveLogFormat(LogFormat requested);

// The formatter that writes `format`'s lines for `program`.
std::unique_ptr<spdlog::formatter> makeLogFormatter(LogFormat format, const std::string& program);

// The syslog priority of a level (<sd-daemon.h>'s SD_ERR etc.): error 3, warning 4, info 6,
// debug and trace 7, critical 2.
int syslogPriority(spdlog::level::level_enum level);

// Sets the level of every logger (warn by default; debug with --verbose) and the format:
// `format` when given (--log-format), else the one set before (text at first), turned into
// journal lines when stderr is the journal (effectiveLogFormat).
void setupLogging(const std::string& program, spdlog::level::level_enum level,
                  std::optional<LogFormat> format = std::nullopt);

// The logger for `module`, created on first use with the configured level and format.
std::shared_ptr<spdlog::logger> moduleLogger(const std::string& module);

}  // namespace postwarden
