// Loads a file that must hold exactly one YAML document. YAML::LoadAll() would tell how many
// there are, but yaml-cpp 0.7 loops forever (allocating as it goes) on input such as ","
// (jbeder/yaml-cpp#1040, fixed after 0.8 by PR #1319); so the event stream is walked by hand,
// stopping after the second document start.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <variant>

namespace postwarden::yaml {

struct DocumentError {
  std::string message;  // "invalid YAML: ..." or "found a second document"
  YAML::Mark mark;      // where (0-based line and column)
};

// The root node of the only document (a Null node for an empty text), or why not.
std::variant<YAML::Node, DocumentError> loadSingleDocument(const std::string& text);

}  // namespace postwarden::yaml
