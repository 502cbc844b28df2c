#include "controller/credentials/tokens.h"

#include <openssl/rand.h>

#include <algorithm>

#include "common/sha256.h"

namespace postwarden::controller::credentials {
namespace {

constexpr std::string_view kPrefix = "pwt.";

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

Result<std::string> randomHex(size_t bytes) {
  std::string buffer(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(buffer.data()), static_cast<int>(bytes)) != 1) {
    return InternalError("random generator failed");
  }
  return hex(reinterpret_cast<const unsigned char*>(buffer.data()), bytes);
}

bool isHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

Result<NewToken> newToken() {
  PW_ASSIGN_OR_RETURN(std::string id, randomHex(8));
  PW_ASSIGN_OR_RETURN(std::string secret, randomHex(32));
  id = "tk" + id;
  return NewToken{.id = id,
                  .secret_sha256 = sha256Hex(secret),
                  .text = std::string(kPrefix) + id + "." + secret};
}

Result<ParsedToken> parseToken(std::string_view text) {
  Status malformed(StatusCode::kUnauthenticated, "malformed enrollment token");
  if (!text.starts_with(kPrefix)) return malformed;
  text.remove_prefix(kPrefix.size());
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return malformed;
  std::string_view id = text.substr(0, dot);
  std::string_view secret = text.substr(dot + 1);
  if (id.size() != 18 || !id.starts_with("tk") || !isHex(id.substr(2)) || secret.size() != 64 ||
      !isHex(secret)) {
    return malformed;
  }
  return ParsedToken{.id = std::string(id), .secret_sha256 = sha256Hex(secret)};
}

}  // namespace postwarden::controller::credentials
