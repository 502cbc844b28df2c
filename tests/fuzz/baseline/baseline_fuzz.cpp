// libFuzzer target for the baseline loader and validator: any input must come back as a
// Baseline or as InvalidArgument "fuzz.yaml:LINE:COL: ...", never as a crash, a hang or an
// escaped exception. Run e.g.
//   build-fuzz/tests/fuzz/baseline/baseline_fuzz -max_total_time=60 tests/data/policies policies
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/params/parameter_catalog.h"
#include "agent/policy/baseline_loader.h"
#include "agent/policy/baseline_validator.h"
#include "common/check.h"

namespace {

using postwarden::StatusCode;
using postwarden::agent::params::ParameterCatalog;
using postwarden::agent::policy::Baseline;
using postwarden::agent::policy::Finding;

void checkLocation(const postwarden::agent::policy::SourceLocation& where) {
  PW_CHECK(where.file == "fuzz.yaml");
  PW_CHECK(where.line >= 1);
  PW_CHECK(where.column >= 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ParameterCatalog catalog = ParameterCatalog::builtin();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto loaded = postwarden::agent::policy::loadBaseline(text, "fuzz.yaml");
  if (!loaded.ok()) {
    PW_CHECK(loaded.status().code() == StatusCode::kInvalidArgument);
    PW_CHECK(loaded.status().message().starts_with("fuzz.yaml:"));
    return 0;
  }
  const Baseline& baseline = *loaded;
  PW_CHECK(!baseline.name.empty());
  PW_CHECK(!baseline.version.empty());
  for (const auto& s : baseline.main_cf_set) {
    checkLocation(s.where);
    // Every value means the same as itself, whatever the parameter's grammar.
    PW_CHECK(catalog.equivalent(s.name, s.value, s.value));
  }
  for (const auto& svc : baseline.master_cf) checkLocation(svc.where);
  for (const auto& e : baseline.verify) checkLocation(e.where);

  for (const Finding& f : postwarden::agent::policy::validateBaseline(baseline, catalog)) {
    PW_CHECK(!f.message.empty());
    PW_CHECK(!f.toString().empty());
  }
  return 0;
}
