#include "agent/tls/openssl_handles.h"

#include <openssl/err.h>

#include <climits>

namespace postwarden::agent::tls {

BioPtr readOnlyMemoryBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string memoryBioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(size));
}

std::string takeOpensslErrors(std::string_view fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    // The reason string ("no start line") reads better in a message than the packed code.
    const char* reason = ERR_reason_error_string(code);
    char buffer[256];
    if (reason == nullptr) {
      ERR_error_string_n(code, buffer, sizeof(buffer));
      reason = buffer;
    }
    if (!text.empty()) text += "; ";
    text += reason;
  }
  return text.empty() ? std::string(fallback) : text;
}

}  // namespace postwarden::agent::tls
