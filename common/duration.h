// Durations as operators write them in config files and on command lines ("500ms", "30s").
#pragma once

#include <chrono>
#include <string_view>

#include "common/status.h"

namespace postwarden {

// "500ms", "30s", "5m", "1h", "7d", or a whole number of seconds ("90"): decimal digits and at
// most one unit, nothing else (no sign, space, fraction or compound such as "1h30m"). "0" is a
// duration; callers that need more say so. InvalidArgument "expected a duration such as ...,
// not 'TEXT'", or "'TEXT' is longer than the limit of 7 days" beyond `max`. Pure.
Result<std::chrono::milliseconds> parseDuration(
    std::string_view text, std::chrono::milliseconds max = std::chrono::milliseconds::max());

}  // namespace postwarden
