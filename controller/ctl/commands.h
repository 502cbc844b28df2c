// Runs one postwardenctl command against the controller's OperatorService: builds the
// request, makes the call with a deadline, prints the reply (text or JSON) and returns the
// exit status. The stub, output streams, clock and file reader are injected, so tests drive
// it with MockOperatorServiceStub and string streams.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>

#include "controller/ctl/arguments.h"
#include "controller/ctl/local_file.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::ctl {

// Exit statuses (documented in --help and docs/postwardenctl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;      // config, or the call failed
inline constexpr int kExitDrift = 2;      // `drift` found drift
inline constexpr int kExitUnhealthy = 2;  // `status` found an agent that is not healthy
inline constexpr int kExitUsage = 2;      // usage error (error and usage line on stderr)

inline constexpr size_t kMaxBaselineBytes = 1024 * 1024;
inline constexpr size_t kMaxSpecBytes = 256 * 1024;

struct CommandContext {
  std::ostream& out;  // results only: a table, a summary or one JSON document
  std::ostream& err;  // "postwardenctl: error: ..." and hints
  bool json = false;
  bool color = false;
  std::chrono::seconds timeout{10};      // deadline of each call
  std::function<int64_t()> now_unix_ms;  // for relative times
  FileReader read_file;                  // for `baseline push FILE`
  bool terminal = false;                 // stdout is a terminal (`rollout show --watch` redraws)
  int width = 80;                        // its columns
  std::function<void(std::chrono::milliseconds)> sleep;  // default: this thread sleeps
};

// Prints "postwardenctl: error: <line>" for each line of `message` to `err`.
void printError(std::ostream& err, const std::string& message);

// Runs `command` (anything but HelpCommand, which the caller prints). Never throws. On a
// failed call prints the error line and a hint (see rpc_error.h) to ctx.err and returns
// kExitError; nothing is printed to ctx.out then.
int runCommand(const Command& command, v1::OperatorService::StubInterface& stub,
               const CommandContext& ctx);

}  // namespace postwarden::controller::ctl
