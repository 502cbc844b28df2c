#include "common/os/command_runner.h"

#include <string_view>

namespace postwarden::os {
namespace {

// Characters that a POSIX shell never treats specially, so an argument made only of them
// reads the same unquoted.
bool isShellSafe(std::string_view arg) {
  if (arg.empty()) return false;
  for (char c : arg) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || c == '/' || c == ',' || c == ':' ||
                      c == '=' || c == '+' || c == '@' || c == '%';
    if (!safe) return false;
  }
  return true;
}

}  // namespace

std::string describeCommand(const std::vector<std::string>& argv) {
  // For display only (logs, error messages): nothing ever passes this string to a shell.
  std::string out;
  for (const std::string& arg : argv) {
    if (!out.empty()) out += ' ';
    if (isShellSafe(arg)) {
      out += arg;
      continue;
    }
    // Single quotes make everything literal; a quote itself becomes '\''.
    out += '\'';
    for (char c : arg) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

}  // namespace postwarden::os
