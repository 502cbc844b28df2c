// Test helper: reads policy files from the source tree (tests/data/policies, policies/).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace postwarden::agent::policy::test {

inline std::filesystem::path sourcePath(std::string_view relative) {
  return std::filesystem::path(POSTWARDEN_SOURCE_DIR) / relative;
}

// The whole file, or "" when it cannot be read (tests assert on the content anyway).
inline std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace postwarden::agent::policy::test
