// JSON string quoting, shared by the agent's reports and postwardenctl's --json output.
#pragma once

#include <string>
#include <string_view>

namespace postwarden {

// `text` as a JSON string literal: quotes, backslashes and control characters (and DEL)
// escaped; other bytes, UTF-8 included, pass through unchanged.
std::string jsonQuote(std::string_view text);

}  // namespace postwarden
