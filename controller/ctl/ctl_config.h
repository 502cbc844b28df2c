// postwardenctl's connection settings: where the controller is and which certificates prove
// who the operator is. They come from a YAML file (the one `postwarden-controller operator add`
// writes) and from flags, which override the file. Loading validates strictly: an unknown key
// is an error, so a typo never silently falls back to a default.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "controller/ctl/local_file.h"

namespace postwarden::controller::ctl {

// Every field may be empty until the file and the flags are merged.
struct ConnectionSettings {
  std::string controller;       // HOST:PORT of the controller's mTLS listener
  std::string controller_name;  // name the controller certificate must carry; empty: the host
  std::string ca_file;          // the controller CA (the only trusted root)
  std::string cert_file;        // the operator certificate
  std::string key_file;         // its private key
};

// Which file to read, and whether it must exist (named by --config or $POSTWARDENCTL_CONFIG)
// or is the optional per-user default.
struct ConfigLocation {
  std::string path;
  bool required = false;
};

using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// --config FILE, else $POSTWARDENCTL_CONFIG, else $HOME/.config/postwarden/postwardenctl.yaml;
// nullopt when none applies (no flag, no variable, no HOME).
std::optional<ConfigLocation> configLocation(const std::optional<std::string>& flag,
                                             const EnvLookup& env);

// Parses the YAML text of the config file at `path`. Keys: controller, controller_name,
// ca_file, cert_file, key_file (all strings). Relative file paths are resolved against the
// directory of `path`. InvalidArgument ("PATH: ...") for malformed YAML, a top level that is
// not a mapping, a value that is not a string, or an unknown key. Pure.
Result<ConnectionSettings> parseCtlConfig(std::string_view yaml_text, const std::string& path);

// Reads and parses the file at `location`. A missing optional default yields empty settings;
// a missing required file is NotFound naming it.
Result<ConnectionSettings> loadCtlConfig(const ConfigLocation& location, const FileReader& read);

// `base` with every non-empty field of `overrides` taking precedence.
ConnectionSettings mergeSettings(ConnectionSettings base, const ConnectionSettings& overrides);

// InvalidArgument naming the first missing setting (with the flag and key that set it) or a
// controller address that is not HOST:PORT. `source` describes where settings were looked for.
Status validateSettings(const ConnectionSettings& settings, std::string_view source);

}  // namespace postwarden::controller::ctl
