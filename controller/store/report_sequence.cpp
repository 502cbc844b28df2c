#include "controller/store/report_sequence.h"

#include <limits>
#include <string>

#include "controller/store/text.h"

namespace postwarden::controller::store {

Status checkReportWrites(std::span<const ReportWrite> writes) {
  for (const ReportWrite& write : writes) {
    PW_RETURN_IF_ERROR(checkText(write));
    if (write.seq > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return InvalidArgumentError("report seq " + std::to_string(write.seq) + " of agent '" +
                                  write.agent_id + "' is out of range");
    }
  }
  return OkStatus();
}

Result<bool> admitReport(const ReportWrite& write, SequenceCounter& counter) {
  if (write.epoch != counter.epoch) counter = SequenceCounter{write.epoch, 0};
  if (write.seq <= counter.last_seq) return false;
  if (counter.last_seq > 0 && write.seq - counter.last_seq > kMaxSeqJump) {
    return InvalidArgumentError("report seq " + std::to_string(write.seq) + " of agent '" +
                                write.agent_id + "' jumps more than 2^32 above the last stored (" +
                                std::to_string(counter.last_seq) + "); refused");
  }
  counter.last_seq = write.seq;
  return true;
}

}  // namespace postwarden::controller::store
