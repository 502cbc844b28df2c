#include "common/yaml/single_document.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>
#include <vector>

namespace postwarden::yaml {
namespace {

// Records where documents start; everything else in the event stream is ignored.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  std::vector<YAML::Mark> marks;
};

}  // namespace

std::variant<YAML::Node, DocumentError> loadSingleDocument(const std::string& text) {
  try {
    YAML::Node root = YAML::Load(text);
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    if (parser.HandleNextDocument(starts) && parser.HandleNextDocument(starts) &&
        starts.marks.size() >= 2) {
      return DocumentError{"found a second document", starts.marks[1]};
    }
    return root;
  } catch (const YAML::Exception& e) {
    return DocumentError{"invalid YAML: " + e.msg, e.mark};
  }
}

}  // namespace postwarden::yaml
