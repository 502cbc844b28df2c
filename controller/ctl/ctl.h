// postwardenctl end to end: parse the command line, load the config file, merge the flags,
// connect, run the command. Everything the outside world provides (streams, environment
// variables, clock, files, the connection) comes in through Environment, so main() is only
// wiring and tests run the whole program against a mock stub.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/ctl/commands.h"
#include "controller/ctl/ctl_config.h"
#include "controller/ctl/local_file.h"
#include "postwarden/v1/fleet.grpc.pb.h"

namespace postwarden::controller::ctl {

using StubFactory = std::function<Result<std::unique_ptr<v1::OperatorService::StubInterface>>(
    const ConnectionSettings& settings)>;

struct Environment {
  std::ostream& out;
  std::ostream& err;
  bool out_is_terminal = false;
  EnvLookup getenv;                      // POSTWARDENCTL_CONFIG, HOME, NO_COLOR
  std::function<int64_t()> now_unix_ms;  // wall clock
  FileReader read_file;                  // config, baselines (and certificates, in connect)
  StubFactory connect;                   // called once, with complete, validated settings
};

// Runs postwardenctl with `args` (argv without the program name) and returns the exit status
// (kExitOk, kExitError, kExitDrift). Never throws. Help and version need no config; every
// other command needs the controller address, CA, certificate and key from the config file
// or flags, checked before `connect` is called.
int run(const std::vector<std::string>& args, const Environment& env);

// The production StubFactory: an mTLS channel (channel.h) and OperatorService::NewStub.
StubFactory tlsStubFactory(FileReader read_file);

}  // namespace postwarden::controller::ctl
