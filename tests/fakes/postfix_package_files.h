// Debian's own main.cf and master.cf templates, read at test time from the installed postfix
// package (script/bootstrap installs it): real files nobody here wrote, never copied into the
// repository. main.cf.dist is the full commented sample (Debian's main.cf.proto is the same
// bytes), main.cf.debian what postinst writes, master.cf.dist the default master.cf.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace postwarden::testing {

inline const char kPostfixPackageDir[] = "/usr/share/postfix";

// The file's bytes; "" when it is missing (the caller's assertions then fail visibly).
inline std::string postfixPackageFile(const std::string& name) {
  std::ifstream in(std::string(kPostfixPackageDir) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace postwarden::testing
