// Exactly-once for durable reports, the one rule both backends apply: per agent and outbox
// epoch, a report is stored when its seq is above the last stored one, acknowledged again
// (not stored) when it is not, and refused when it jumps more than kMaxSeqJump ahead. Pure.
#pragma once

#include <cstdint>
#include <span>

#include "common/status.h"
#include "controller/store/store.h"

namespace postwarden::controller::store {

// (epoch, last_seq) of one agent as a batch advances it, so later writes of the same agent
// see the earlier ones.
struct SequenceCounter {
  uint64_t epoch = 0;
  uint64_t last_seq = 0;
};

// A batch both stores refuse whole before touching anything: text that is not UTF-8, or a
// seq that does not fit the stores' signed 64-bit column.
Status checkReportWrites(std::span<const ReportWrite> writes);

// True: store `write` (the counter is advanced); false: a redelivery, already stored;
// InvalidArgument: a seq too far ahead. A new epoch (a reinstalled agent, a wiped state
// directory) counts from its own start.
Result<bool> admitReport(const ReportWrite& write, SequenceCounter& counter);

}  // namespace postwarden::controller::store
