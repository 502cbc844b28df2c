// Enrollment policy: whether a new agent may enroll with a bootstrap token. The store runs
// it inside its write transaction (Store::enrollAgent) on what it read there, so the decision
// and the write are one atomic step; the rules themselves live here, over plain records.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::core {

// May `request` enroll? `token` is the token the request names (nullopt: no such id),
// `existing` the agent record of the requested id (nullopt: a new identity). Errors:
//   Unauthenticated: unknown token id or wrong secret (the same message for both: no
//     probing for token ids);
//   PermissionDenied: token revoked, expired (at expires_at), used up, or bound to another
//     identity;
//   AlreadyExists: the identity is revoked (never enrolls again), or enrolled and neither
//     approved for re-enrollment nor named by the token.
Status checkEnrollment(const store::EnrollmentRequest& request,
                       const std::optional<store::TokenRecord>& token,
                       const std::optional<store::AgentRecord>& existing);

// Compares two hex digests case-insensitively without an early exit, so response time does
// not reveal how many leading characters of a guessed secret were right. The length is not
// secret.
bool constantTimeHexEquals(std::string_view a, std::string_view b);

}  // namespace postwarden::controller::core
