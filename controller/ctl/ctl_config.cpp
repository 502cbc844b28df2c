#include "controller/ctl/ctl_config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <variant>
#include <vector>

#include "common/spelling.h"
#include "common/yaml/single_document.h"
#include "common/yaml/strict_map.h"
#include "controller/ctl/values.h"

namespace postwarden::controller::ctl {
namespace {

constexpr size_t kMaxConfigBytes = 64 * 1024;
constexpr const char* kKnownKeys = "controller, controller_name, ca_file, cert_file, key_file";

std::string directoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string resolveAgainst(const std::string& dir, const std::string& file) {
  if (file.empty() || file.starts_with('/') || dir.empty()) return file;
  return dir.ends_with('/') ? dir + file : dir + "/" + file;
}

}  // namespace

std::optional<ConfigLocation> configLocation(const std::optional<std::string>& flag,
                                             const EnvLookup& env) {
  if (flag) return ConfigLocation{*flag, true};
  if (std::optional<std::string> path = env("POSTWARDENCTL_CONFIG"); path && !path->empty()) {
    return ConfigLocation{*path, true};
  }
  if (std::optional<std::string> home = env("HOME"); home && !home->empty()) {
    return ConfigLocation{resolveAgainst(*home, ".config/postwarden/postwardenctl.yaml"), false};
  }
  return std::nullopt;
}

Result<ConnectionSettings> parseCtlConfig(std::string_view yaml_text, const std::string& path) {
  // loadSingleDocument catches yaml-cpp's exceptions and, unlike YAML::Load, refuses a second
  // document (without YAML::LoadAll, which hangs on some input in yaml-cpp 0.7).
  std::variant<YAML::Node, yaml::DocumentError> loaded =
      yaml::loadSingleDocument(std::string(yaml_text));
  if (const auto* error = std::get_if<yaml::DocumentError>(&loaded)) {
    const std::string where = yaml::toString(yaml::positionOf(error->mark));
    if (error->message == "found a second document") {
      return InvalidArgumentError(
          path + ": a config file holds one YAML document; found another at " + where);
    }
    std::string_view detail = error->message;  // "invalid YAML: ..."
    if (detail.starts_with("invalid YAML: ")) detail.remove_prefix(14);
    return InvalidArgumentError(path + ": not valid YAML at " + where + ": " + std::string(detail));
  }
  const YAML::Node root = std::get<YAML::Node>(loaded);
  ConnectionSettings settings;
  if (root.IsNull()) return settings;  // an empty file sets nothing
  if (!root.IsMap()) {
    return InvalidArgumentError(path + ": expected a mapping of keys (" + std::string(kKnownKeys) +
                                ")");
  }
  const std::string dir = directoryOf(path);
  const std::array<std::pair<const char*, std::string*>, 5> fields = {{
      {"controller", &settings.controller},
      {"controller_name", &settings.controller_name},
      {"ca_file", &settings.ca_file},
      {"cert_file", &settings.cert_file},
      {"key_file", &settings.key_file},
  }};
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) {
      return InvalidArgumentError(path + ": keys must be plain words");
    }
    const std::string key = entry.first.Scalar();
    std::string* target = nullptr;
    for (const auto& [name, field] : fields) {
      if (key == name) target = field;
    }
    if (target == nullptr) {
      std::vector<std::string> names;
      for (const auto& field : fields) names.emplace_back(field.first);
      return InvalidArgumentError(path + ": unknown key '" + key + "'" + didYouMean(key, names) +
                                  " (known keys: " + std::string(kKnownKeys) + ")");
    }
    if (!entry.second.IsScalar()) {
      return InvalidArgumentError(path + ": '" + key + "' must be a string");
    }
    *target = entry.second.Scalar();
  }
  settings.ca_file = resolveAgainst(dir, settings.ca_file);
  settings.cert_file = resolveAgainst(dir, settings.cert_file);
  settings.key_file = resolveAgainst(dir, settings.key_file);
  return settings;
}

Result<ConnectionSettings> loadCtlConfig(const ConfigLocation& location, const FileReader& read) {
  Result<std::string> text = read(location.path, kMaxConfigBytes);
  if (!text.ok()) {
    if (!location.required && text.status().code() == StatusCode::kNotFound) {
      return ConnectionSettings{};
    }
    return text.status().withContext("config file");
  }
  return parseCtlConfig(*text, location.path);
}

ConnectionSettings mergeSettings(ConnectionSettings base, const ConnectionSettings& overrides) {
  auto take = [](std::string& into, const std::string& value) {
    if (!value.empty()) into = value;
  };
  take(base.controller, overrides.controller);
  take(base.controller_name, overrides.controller_name);
  take(base.ca_file, overrides.ca_file);
  take(base.cert_file, overrides.cert_file);
  take(base.key_file, overrides.key_file);
  return base;
}

Status validateSettings(const ConnectionSettings& settings, std::string_view source) {
  const std::string where = " (" + std::string(source) + ")";
  if (settings.controller.empty()) {
    return InvalidArgumentError(
        "no controller address: pass --controller HOST:PORT or set 'controller' in the config "
        "file" +
        where);
  }
  size_t colon = settings.controller.rfind(':');
  std::string_view host =
      colon == std::string::npos ? "" : std::string_view(settings.controller).substr(0, colon);
  if (host.empty() || host.find_first_of(" \t\r\n/") != std::string_view::npos ||
      !parseInteger(std::string_view(settings.controller).substr(colon + 1), 1, 65535, "port")
           .ok()) {
    return InvalidArgumentError("controller address '" + settings.controller +
                                "' is not HOST:PORT (e.g. controller.example.org:8443)");
  }
  const std::array<std::pair<const std::string*, const char*>, 3> files = {{
      {&settings.ca_file, "no CA file: pass --ca FILE or set 'ca_file' in the config file"},
      {&settings.cert_file,
       "no operator certificate: pass --cert FILE or set 'cert_file' in the config file"},
      {&settings.key_file, "no operator key: pass --key FILE or set 'key_file' in the config file"},
  }};
  for (const auto& [value, message] : files) {
    if (value->empty()) return InvalidArgumentError(message + where);
  }
  return OkStatus();
}

}  // namespace postwarden::controller::ctl
