// Operational logs (spdlog) on stderr: one named logger per module ("agent.applier",
// "agent.os"), configured once by a binary's composition root. Results go to stdout and to
// reports, never through these loggers. Never log secrets: passwords, keys, AUTH payloads.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace postwarden {

// Sets the level of every logger (warn by default; debug with --verbose) and the format
// "postwarden-agent: [debug] agent.os: message".
void setupLogging(const std::string& program, spdlog::level::level_enum level);

// The logger for `module`, created on first use with the configured level and format.
std::shared_ptr<spdlog::logger> moduleLogger(const std::string& module);

}  // namespace postwarden
