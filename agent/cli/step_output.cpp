#include "agent/cli/step_output.h"

#include <cstdio>
#include <ostream>

namespace postwarden::agent::cli {

void printError(Environment& env, const Status& status) {
  const std::string& message = status.message();
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    env.err << "postwarden-agent: error: " << message.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

void printStep(const applier::StepRecord& step, bool with_detail, Environment& env) {
  char timing[32];
  std::snprintf(timing, sizeof timing, "%6lld ms", static_cast<long long>(step.elapsed.count()));
  env.out << "  [" << timing << "] " << step.name << ": " << (step.ok ? "ok" : "FAILED")
          << (step.detail.empty() || !with_detail ? "" : " - " + step.detail) << "\n";
  env.out.flush();
}

int exitFor(applier::Outcome outcome) {
  switch (outcome) {
    case applier::Outcome::kKept:
    case applier::Outcome::kRepaired:
      return kExitOk;
    case applier::Outcome::kRefused:
      return kExitError;
    case applier::Outcome::kRolledBack:
      return kExitRolledBack;
    case applier::Outcome::kNeedsHuman:
      return kExitNeedsHuman;
  }
  return kExitError;
}

}  // namespace postwarden::agent::cli
