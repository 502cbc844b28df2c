// Whether a reported parameter is out of line, for the agent that sends drift, the controller
// that stores it and postwardenctl that shows it. Header-only over the generated
// postwarden/v1/fleet.pb.h, so any target that links postwarden::proto can use it.
#pragma once

#include "postwarden/v1/fleet.pb.h"

namespace postwarden {

// True when the host's value differs from what the baseline expects: one of them absent and
// the other not, or both present with different text.
inline bool outOfLine(const v1::ParameterState& state) {
  if (state.expected_absent() || state.actual_absent()) {
    return state.expected_absent() != state.actual_absent();
  }
  return state.expected() != state.actual();
}

}  // namespace postwarden
