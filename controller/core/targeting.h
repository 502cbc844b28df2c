// Targeting: which baseline assignment applies to which agent. A selector is a set of label
// pairs and matches an agent whose labels include every pair (an empty one matches all); of
// the assignments whose selector matches, the newest (highest id) applies. This is the room
// for rollouts (waves, maintenance windows, approvals): they narrow which agents an
// assignment reaches, here, over plain store values. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::core {

// Every pair of `selector` is among `labels`.
bool selectorMatches(const store::Labels& selector, const store::Labels& labels);

// The assignment that applies to an agent with `labels`, or nullptr. `all` is ordered by id,
// oldest first (Store::listAssignments).
const store::AssignmentRecord* assignmentFor(const std::vector<store::AssignmentRecord>& all,
                                             const store::Labels& labels);

// The labels an agent is known by: its own (from its hello) under its token's. The token's
// win on conflicts, so an agent cannot move itself into another group.
store::Labels effectiveLabels(const store::Labels& token_labels, const store::Labels& agent_labels);

// How many of `agents` (revoked ones not counted) `selector` selects.
int countSelected(const store::Labels& selector, const std::vector<store::AgentRecord>& agents);

// An assignment's repair windows as the operator wrote them ("Sat,Sun 02:00-04:00
// Europe/Berlin"), checked and in their short form. InvalidArgument naming the window for one
// that does not parse (unknown zone, bad time) and for windows on a detect-only assignment
// (it never repairs); at most kMaxRepairWindows.
inline constexpr size_t kMaxRepairWindows = 16;
Result<std::vector<std::string>> repairWindows(const std::vector<std::string>& written,
                                               store::Mode mode);

// The ids of the assignments that go when `baseline` is deleted: those naming it that no
// agent can ever select again, because a newer assignment's selector is included in theirs
// (every agent they match, the newer one matches too, and wins). FailedPrecondition when an
// assignment naming it is still live. `all` is ordered by id, oldest first.
Result<std::vector<int64_t>> assignmentsDroppedWith(
    const store::BaselineRecord& baseline, const std::vector<store::AssignmentRecord>& all);

}  // namespace postwarden::controller::core
