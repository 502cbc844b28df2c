// postwardenctl: the composition root. Builds the real streams, clock, file reader and mTLS
// connection and hands them to ctl::run. Nothing else lives here.
#include <grpc/support/log.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "controller/ctl/ctl.h"
#include "controller/ctl/local_file.h"

int main(int argc, char** argv) {
  using namespace postwarden::controller::ctl;
  std::vector<std::string> args(argv + 1, argv + argc);
  // gRPC's own log lines (e.g. "Handshake failed ...") would interleave with ours; the call's
  // status already carries the reason. GRPC_VERBOSITY=debug brings them back for debugging.
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});
  Environment env{
      .out = std::cout,
      .err = std::cerr,
      .out_is_terminal = isatty(STDOUT_FILENO) == 1,
      .getenv = [](const char* name) -> std::optional<std::string> {
        const char* value = std::getenv(name);
        if (value == nullptr) return std::nullopt;
        return std::string(value);
      },
      .now_unix_ms =
          [] {
            return std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                .count();
          },
      .read_file = readLocalFile,
      .connect = tlsStubFactory(readLocalFile),
  };
  int status = run(args, env);
  std::cout.flush();
  return status;
}
