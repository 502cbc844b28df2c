#include "controller/ctl/format.h"

#include <cstdio>
#include <ctime>

namespace postwarden::controller::ctl {

std::string rfc3339(int64_t unix_ms, bool with_millis) {
  // Floor division, so times before 1970 still land on the right second.
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[96];
  if (with_millis) {
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
  } else {
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buffer;
}

std::string relativeTime(int64_t unix_ms, int64_t now_ms) {
  const bool future = unix_ms > now_ms;
  const int64_t seconds = (future ? unix_ms - now_ms : now_ms - unix_ms) / 1000;
  if (seconds < 1) return "just now";
  std::string amount;
  if (seconds < 60) {
    amount = std::to_string(seconds) + "s";
  } else if (seconds < 3600) {
    amount = std::to_string(seconds / 60) + "m";
  } else if (seconds < 48 * 3600) {
    amount = std::to_string(seconds / 3600) + "h";
  } else {
    amount = std::to_string(seconds / 86400) + "d";
  }
  return future ? "in " + amount : amount + " ago";
}

std::string joinLabels(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [key, value] : labels) out += (out.empty() ? "" : ",") + key + "=" + value;
  return out.empty() ? "-" : out;
}

std::string humanSize(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  char buffer[32];
  if (bytes < 1024 * 1024) {
    std::snprintf(buffer, sizeof buffer, "%.1f KiB", static_cast<double>(bytes) / 1024);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
  }
  return buffer;
}

std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace postwarden::controller::ctl
