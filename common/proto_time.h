// Times as fleet.proto carries them (google.protobuf.Timestamp) and as Postwarden keeps them
// (milliseconds since the epoch in the stores, system_clock in the agent). Header-only, for
// code that already speaks protobuf: the agent's plan and apply never include it, so they do
// not load libprotobuf.
#pragma once

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <cstdint>

namespace postwarden {

inline google::protobuf::Timestamp timestampFromUnixMs(int64_t unix_ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(unix_ms);
}

inline google::protobuf::Timestamp toTimestamp(std::chrono::system_clock::time_point t) {
  return timestampFromUnixMs(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// 0 for an unset Timestamp, as the stores write "never".
inline int64_t unixMs(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::TimestampToMilliseconds(t);
}

}  // namespace postwarden
