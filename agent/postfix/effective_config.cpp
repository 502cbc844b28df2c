#include "agent/postfix/effective_config.h"

#include <utility>

namespace postwarden::agent::postfix {

EffectiveValue effectiveValue(const MainCfDocument& main_cf, const MasterCfDocument& master_cf,
                              const ServiceKey& service, std::string_view parameter,
                              const DefaultLookup& defaults) {
  // master(5): "-o name=value" overrides the main.cf parameter for that service only.
  if (std::optional<std::string> v = master_cf.option(service, parameter)) {
    return {std::move(v), ValueSource::kServiceOverride, master_cf.optionLine(service, parameter)};
  }
  if (std::optional<std::string> v = main_cf.get(parameter)) {
    return {std::move(v), ValueSource::kMainCf};
  }
  if (defaults) {
    if (std::optional<std::string> v = defaults(parameter)) {
      return {std::move(v), ValueSource::kDefault};
    }
  }
  return {};
}

std::string_view valueSourceName(ValueSource source) {
  switch (source) {
    case ValueSource::kServiceOverride:
      return "service override";
    case ValueSource::kMainCf:
      return "main.cf";
    case ValueSource::kDefault:
      return "default";
    case ValueSource::kUnset:
      return "unset";
  }
  return "unset";
}

}  // namespace postwarden::agent::postfix
