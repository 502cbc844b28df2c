// The value a Postfix daemon of one master.cf service actually runs with, and where it comes
// from: a "-o" override on that service beats main.cf, which beats the built-in default.
// So a main.cf that says smtpd_tls_auth_only = yes is NOT what the smtp service runs with when
// master.cf gives it "-o smtpd_tls_auth_only=no". Pure functions; no $name expansion.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agent/postfix/main_cf_document.h"
#include "agent/postfix/master_cf_document.h"

namespace postwarden::agent::postfix {

enum class ValueSource { kServiceOverride, kMainCf, kDefault, kUnset };

struct EffectiveValue {
  std::optional<std::string> value;  // raw, as written ("$myhostname" is not expanded)
  ValueSource source = ValueSource::kUnset;
  int master_cf_line = 0;  // kServiceOverride: physical line of the "-o" in effect, else 0
};

// The built-in default of a parameter (as `postconf -d` shows it), or nullopt if unknown.
using DefaultLookup = std::function<std::optional<std::string>(std::string_view parameter)>;

// The value of `parameter` for the daemon of `service`: the service's last "-o parameter=..."
// in master.cf, else main.cf's effective definition, else defaults(parameter) (an empty
// DefaultLookup means no defaults), else unset. A service missing from master.cf simply has
// no overrides.
EffectiveValue effectiveValue(const MainCfDocument& main_cf, const MasterCfDocument& master_cf,
                              const ServiceKey& service, std::string_view parameter,
                              const DefaultLookup& defaults);

// "service override", "main.cf", "default" or "unset", for messages.
std::string_view valueSourceName(ValueSource source);

}  // namespace postwarden::agent::postfix
