#include "controller/core/enrollment_policy.h"

#include <string>

namespace postwarden::controller::core {

bool constantTimeHexEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    auto x = static_cast<unsigned char>(a[i]);
    auto y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'F') x = static_cast<unsigned char>(x + ('a' - 'A'));
    if (y >= 'A' && y <= 'F') y = static_cast<unsigned char>(y + ('a' - 'A'));
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Status checkEnrollment(const store::EnrollmentRequest& request,
                       const std::optional<store::TokenRecord>& token,
                       const std::optional<store::AgentRecord>& existing) {
  if (!token.has_value() || !constantTimeHexEquals(token->secret_sha256, request.secret_sha256)) {
    return Status(StatusCode::kUnauthenticated, "invalid bootstrap token");
  }
  if (token->revoked) return PermissionDeniedError("token '" + token->id + "' is revoked");
  if (request.now >= token->expires_at) {
    return PermissionDeniedError("token '" + token->id + "' has expired");
  }
  if (token->uses_left <= 0) return PermissionDeniedError("token '" + token->id + "' is used up");
  const bool bound = !token->bound_agent_id.empty();
  if (bound && token->bound_agent_id != request.agent_id) {
    return PermissionDeniedError("token '" + token->id + "' is bound to another identity");
  }
  if (!existing.has_value()) return OkStatus();
  if (existing->revoked) {
    return AlreadyExistsError("agent '" + request.agent_id +
                              "' is revoked and can never enroll again");
  }
  if (!bound && !existing->reenroll_approved) {
    return AlreadyExistsError("agent '" + request.agent_id +
                              "' is already enrolled and not approved for re-enrollment");
  }
  return OkStatus();
}

}  // namespace postwarden::controller::core
