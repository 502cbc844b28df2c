#include "controller/ctl/ctl.h"

#include <ostream>

#include "controller/ctl/arguments.h"
#include "controller/ctl/channel.h"

namespace postwarden::controller::ctl {
namespace {

// Color only for a person at a terminal: not in JSON, not when asked not to (--no-color,
// NO_COLOR set to anything, see no-color.org), not into a pipe or file.
bool useColor(const GlobalOptions& global, const Environment& env) {
  return !global.json && !global.no_color && env.out_is_terminal && !env.getenv("NO_COLOR");
}

Result<ConnectionSettings> resolveSettings(const GlobalOptions& global, const Environment& env) {
  std::optional<ConfigLocation> location = configLocation(global.config_file, env.getenv);
  ConnectionSettings from_file;
  std::string source = "no config file: $HOME is not set";
  if (location) {
    PW_ASSIGN_OR_RETURN(from_file, loadCtlConfig(*location, env.read_file));
    source = "config file " + location->path;
  }
  ConnectionSettings settings = mergeSettings(from_file, global.flags);
  PW_RETURN_IF_ERROR(validateSettings(settings, source));
  return settings;
}

}  // namespace

int run(const std::vector<std::string>& args, const Environment& env) {
  Result<Invocation> invocation = parseArguments(args);
  if (!invocation.ok()) {
    printError(env.err, invocation.status().message());
    env.err << usageLine(args);
    return kExitUsage;
  }
  if (const auto* help = std::get_if<HelpCommand>(&invocation->command)) {
    (help->usage_error ? env.err : env.out) << help->text;
    return help->usage_error ? kExitUsage : kExitOk;
  }
  const GlobalOptions& global = invocation->global;
  Result<ConnectionSettings> settings = resolveSettings(global, env);
  if (!settings.ok()) {
    printError(env.err, settings.status().message());
    return kExitError;
  }
  Result<std::unique_ptr<v1::OperatorService::StubInterface>> stub = env.connect(*settings);
  if (!stub.ok()) {
    printError(env.err, stub.status().message());
    return kExitError;
  }
  CommandContext ctx{.out = env.out,
                     .err = env.err,
                     .json = global.json,
                     .color = useColor(global, env),
                     .timeout = global.timeout,
                     .now_unix_ms = env.now_unix_ms,
                     .read_file = env.read_file,
                     .terminal = env.out_is_terminal};
  return runCommand(invocation->command, **stub, ctx);
}

StubFactory tlsStubFactory(FileReader read_file) {
  return [read_file = std::move(read_file)](const ConnectionSettings& settings)
             -> Result<std::unique_ptr<v1::OperatorService::StubInterface>> {
    PW_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                        makeControllerChannel(settings, read_file));
    return std::unique_ptr<v1::OperatorService::StubInterface>(
        v1::OperatorService::NewStub(channel));
  };
}

}  // namespace postwarden::controller::ctl
