// Bootstrap tokens: "pwt.<id>.<secret>". The id finds the record; only the SHA-256 of the
// secret is stored (common/sha256.h), so a copy of the database enrolls nobody.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace postwarden::controller::credentials {

struct NewToken {
  std::string id;             // "tk" + 16 hex digits
  std::string secret_sha256;  // hex
  std::string text;           // what the operator hands to the agent; shown once
};

struct ParsedToken {
  std::string id;
  std::string secret_sha256;
};

// A fresh token from OpenSSL's random generator (128-bit id, 256-bit secret).
Result<NewToken> newToken();
// Unauthenticated for anything that is not a well-formed token.
Result<ParsedToken> parseToken(std::string_view text);

}  // namespace postwarden::controller::credentials
