#include "controller/store/report_sequence.h"

#include <string>

namespace postwarden::controller::store {

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
