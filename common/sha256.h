// SHA-256 as lowercase hex, the one digest Postwarden writes: the agent's journal (file
// hashes), the controller's baseline versions and bootstrap-token secrets. OpenSSL EVP.
// Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace postwarden {

// The SHA-256 of `bytes` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view bytes);

}  // namespace postwarden
